"""torchlike.utils.data against torch.utils.data: datasets, samplers, collation, loaders.

Shuffled orders come from torchlike's own generator (not PyTorch's Mersenne Twister), so
they are checked for being permutations that repeat with the same seed; everything else
is compared with torch exactly."""
import collections

import numpy as np
import pytest

import torchlike
import torchlike.utils.data as data


def _data_module(lib):
    return data if lib is torchlike else lib.utils.data


def _plain(x):
    """Nested structure with tensors replaced by (dtype name, shape, values)."""
    if hasattr(x, "dtype") and hasattr(x, "shape") and not isinstance(x, np.ndarray):
        values = x.detach()
        values = values.float() if "bfloat16" in str(x.dtype) else values
        return ("tensor", str(x.dtype).replace("torch.", ""), tuple(x.shape),
                np.asarray(values).tolist())
    if isinstance(x, dict):
        return (type(x).__name__, {k: _plain(v) for k, v in x.items()})
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, [_plain(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_plain(v) for v in x])
    return x


Point = collections.namedtuple("Point", "x y")

COLLATE_BATCHES = {
    "floats": [1.5, 2.0, -3.25],
    "ints": [1, 2, 3],
    "bools": [True, False],
    "strings": ["a", "bc"],
    "tuples": [(1, 2.0), (3, 4.0)],
    "lists": [[1, 2], [3, 4]],
    "dicts": [{"a": 1.0, "b": [1, 2]}, {"a": 2.0, "b": [3, 4]}],
    "ordered": [collections.OrderedDict(z=1, a=2.5)] * 3,
    "namedtuple": [Point(1, 2.0), Point(3, 4.0)],
    "numpy_f32": [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
    "numpy_f64": [np.arange(3.0), np.arange(3.0) * 2],
    "numpy_i32": [np.arange(4, dtype=np.int32)] * 2,
    "numpy_scalars": [np.float64(1.5), np.float64(2.5)],
    "numpy_f32_scalars": [np.float32(1.5), np.float32(2.5)],
    "numpy_0d": [np.array(1.5), np.array(2.5)],
    "nested": [({"img": np.ones((2,), np.float32), "label": 3}, "name")] * 2,
}


@pytest.mark.parametrize("name", list(COLLATE_BATCHES))
def test_default_collate_matches_torch(oracle, name):
    batch = COLLATE_BATCHES[name]
    ours = data.default_collate(batch)
    theirs = oracle.utils.data.default_collate(batch)
    assert _plain(ours) == _plain(theirs)


@pytest.mark.parametrize("make", [
    lambda lib: [lib.ones(2, 3), lib.zeros(2, 3)],
    lambda lib: [(lib.tensor(1.5), lib.tensor([1, 2])), (lib.tensor(2.5), lib.tensor([3, 4]))],
    lambda lib: [{"x": lib.arange(3, dtype=lib.bfloat16)}] * 2,
])
def test_default_collate_tensors_matches_torch(oracle, make):
    assert _plain(data.default_collate(make(torchlike))) == \
        _plain(oracle.utils.data.default_collate(make(oracle)))


def test_default_collate_errors_match_torch(oracle):
    from helpers import assert_raises_same
    for batch in ([object(), object()], [np.array(["a", "b"])] * 2, [[1, 2], [3]],
                  [np.ones(3), np.ones(2)], [np.ones(2, ">f4")] * 2,
                  [np.ones(2, np.float32), np.arange(2.0)[::-1]],
                  [np.ones(2), np.arange(2.0)[::-1]]):
        assert_raises_same(lambda lib: _data_module(lib).default_collate(batch))


@pytest.mark.parametrize("batch", [
    [np.ones(2, np.float32), np.arange(2)],              # dtypes differ: promoted
    [np.ones(2, np.float32), np.arange(4.0)[::2]],       # a positive stride
    [np.ones((2, 2), np.uint8), np.zeros((2, 2), np.bool_)],
    [np.arange(6, dtype=np.int16).reshape(2, 3)] * 3])
def test_numpy_samples_collate_as_torch_stacks_them(oracle, batch):
    """Same-shaped, same-dtype arrays are stacked by numpy at once (_stacked_on_host);
    the others take the general path: both as torch collates them."""
    assert _plain(data.default_collate(batch)) == \
        _plain(oracle.utils.data.default_collate(batch))


def test_default_convert_matches_torch(oracle):
    sample = {"a": np.ones(3, np.float32), "b": (np.int64(4), "s", [np.zeros(2)]), "c": 1.5}
    assert _plain(data.default_convert(sample)) == \
        _plain(oracle.utils.data.default_convert(sample))


def _tensor_dataset(lib, n=10):
    return _data_module(lib).TensorDataset(lib.arange(n, dtype=lib.float32).reshape(n, 1) * 1.5,
                                           lib.arange(n))


@pytest.mark.parametrize("kw", [dict(batch_size=3), dict(batch_size=3, drop_last=True),
                                dict(batch_size=1), dict(batch_size=None),
                                dict(batch_size=4, num_workers=2)])
def test_sequential_loader_matches_torch(oracle, kw):
    def run(lib):
        # torch's workers would fork this JAX-threaded process: compare with in-process torch
        args = kw if lib is torchlike else {k: v for k, v in kw.items() if k != "num_workers"}
        loader = _data_module(lib).DataLoader(_tensor_dataset(lib), **args)
        return len(loader), [_plain(b) for b in loader]
    assert run(torchlike) == run(oracle)


def test_loader_of_python_samples_matches_torch(oracle):
    samples = [{"x": [float(i), i * 0.5], "y": i, "name": f"s{i}"} for i in range(7)]

    def run(lib):
        return [_plain(b) for b in _data_module(lib).DataLoader(samples, batch_size=3)]
    assert run(torchlike) == run(oracle)


def _epoch_order(loader):
    return [int(i) for batch in loader for i in batch[1]]


def test_shuffle_is_a_reproducible_permutation():
    ds = _tensor_dataset(torchlike, 50)

    def orders(seed):
        g = torchlike.Generator().manual_seed(seed)
        loader = data.DataLoader(ds, batch_size=8, shuffle=True, generator=g)
        return [_epoch_order(loader) for _ in range(3)]
    first = orders(7)
    assert first == orders(7)
    assert first != orders(8)
    for order in first:
        assert sorted(order) == list(range(50)) and order != list(range(50))
    assert first[0] != first[1]                     # a new permutation every epoch


def test_shuffle_without_generator_follows_manual_seed():
    ds = _tensor_dataset(torchlike, 30)
    loader = data.DataLoader(ds, batch_size=5, shuffle=True)
    torchlike.manual_seed(3)
    a = _epoch_order(loader)
    torchlike.manual_seed(3)
    assert _epoch_order(loader) == a


def test_samplers_and_batch_sampler_arguments(oracle):
    def run(lib):
        d = _data_module(lib)
        ds = _tensor_dataset(lib)
        seq = d.SequentialSampler(ds)
        batches = d.BatchSampler(seq, 4, drop_last=False)
        out = [list(seq), list(batches), len(batches), len(d.BatchSampler(seq, 4, True))]
        loader = d.DataLoader(ds, batch_sampler=d.BatchSampler(range(7, -1, -2), 2, False))
        out.append([_plain(b) for b in loader])
        loader = d.DataLoader(ds, sampler=[9, 0, 4], batch_size=2)
        out.append((len(loader), [_plain(b) for b in loader]))
        return out
    assert run(torchlike) == run(oracle)


def test_random_samplers():
    g = torchlike.Generator().manual_seed(0)
    ds = list(range(20))
    s = data.RandomSampler(ds, generator=g)
    assert sorted(s) == ds and len(s) == 20
    s = data.RandomSampler(ds, replacement=True, num_samples=70, generator=g)
    drawn = list(s)
    assert len(drawn) == 70 and all(0 <= i < 20 for i in drawn) and len(set(drawn)) < 70
    s = data.RandomSampler(ds, num_samples=45, generator=g)
    drawn = list(s)
    assert len(drawn) == 45 and sorted(drawn[:40]) == sorted(ds * 2)
    sub = data.SubsetRandomSampler([3, 5, 7], generator=g)
    assert sorted(sub) == [3, 5, 7]
    w = data.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200, generator=g)
    drawn = list(w)
    assert set(drawn) <= {1, 3} and 100 < drawn.count(3) < 190
    w = data.WeightedRandomSampler([0.0, 1.0, 2.0, 3.0], 3, replacement=False, generator=g)
    assert sorted(w) == [1, 2, 3]


def test_random_split(oracle):
    g = torchlike.Generator().manual_seed(1)
    parts = data.random_split(range(10), [0.33, 0.33, 0.34], generator=g)
    expected = [len(p) for p in oracle.utils.data.random_split(range(10), [0.33, 0.33, 0.34])]
    assert [len(p) for p in parts] == expected == [4, 3, 3]
    assert sorted(i for p in parts for i in p) == list(range(10))
    g2 = torchlike.Generator().manual_seed(1)
    again = data.random_split(range(10), [0.33, 0.33, 0.34], generator=g2)
    assert [list(p) for p in parts] == [list(p) for p in again]
    assert [len(p) for p in data.random_split(range(10), [3, 7])] == [3, 7]
    from helpers import assert_raises_same
    assert_raises_same(lambda lib: _data_module(lib).random_split(range(10), [3, 3]))
    assert_raises_same(lambda lib: _data_module(lib).random_split(range(10), [1.5, -0.5]))


def test_dataset_combinators(oracle):
    def run(lib):
        d = _data_module(lib)
        a, b = _tensor_dataset(lib, 4), _tensor_dataset(lib, 3)
        cat = d.ConcatDataset([a, b])
        both = a + b
        sub = d.Subset(cat, [6, 0, 3])
        stacked = d.StackDataset(a, a)
        named = d.StackDataset(x=a, y=list(range(4)))
        return (len(cat), _plain(cat[5]), _plain(cat[-1]), _plain(both[4]), len(sub),
                _plain(sub[0]), _plain([sub[i] for i in range(3)]), _plain(stacked[1]),
                _plain(named[2]))
    assert run(torchlike) == run(oracle)


class _Stream(data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = data.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))

    def __len__(self):
        return self.n


@pytest.mark.parametrize("kw", [dict(batch_size=4), dict(batch_size=4, drop_last=True),
                                dict(batch_size=None), dict(batch_size=3, num_workers=3)])
def test_iterable_dataset_loader(kw):
    loader = data.DataLoader(_Stream(10), **kw)
    batches = [b.tolist() if hasattr(b, "tolist") else b for b in loader]
    flat = [x for b in batches for x in (b if isinstance(b, list) else [b])]
    size = kw.get("batch_size")
    expected_len = 10 if size is None else (10 // size if kw.get("drop_last") else -(-10 // size))
    assert len(loader) == expected_len == len(batches)
    assert flat == list(range(10 if not kw.get("drop_last") else 8))


def test_chain_dataset():
    chained = data.ChainDataset([_Stream(3), _Stream(2)])
    assert list(chained) == [0, 1, 2, 0, 1] and len(chained) == 5
    assert [b.tolist() for b in data.DataLoader(_Stream(3) + _Stream(2), batch_size=2)] == \
        [[0, 1], [2, 0], [1]]


def test_custom_collate_and_getitems():
    class Batched(data.Dataset):
        calls = 0

        def __len__(self):
            return 6

        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, indices):
            Batched.calls += 1
            return [i * 10 for i in indices]
    loader = data.DataLoader(Batched(), batch_size=4, collate_fn=lambda xs: sum(xs))
    assert list(loader) == [60, 90] and Batched.calls == 2


def test_worker_emulation_calls_worker_init_fn():
    seen = []
    def init(worker_id):
        seen.append((worker_id, data.get_worker_info().num_workers))
    loader = data.DataLoader(list(range(5)), batch_size=2, num_workers=2, worker_init_fn=init)
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    assert seen == [(0, 1)] and data.get_worker_info() is None


def test_loader_errors_match_torch(oracle):
    from helpers import assert_raises_same
    checks = [
        lambda d, ds: d.DataLoader(ds, num_workers=-1),
        lambda d, ds: d.DataLoader(ds, sampler=[0, 1], shuffle=True),
        lambda d, ds: d.DataLoader(ds, batch_sampler=[[0]], batch_size=2),
        lambda d, ds: d.DataLoader(ds, batch_size=None, drop_last=True),
        lambda d, ds: d.DataLoader(ds, prefetch_factor=2),
        lambda d, ds: d.DataLoader(ds, persistent_workers=True),
        lambda d, ds: d.BatchSampler(range(3), 0, False),
        lambda d, ds: d.RandomSampler(ds, num_samples=0),
    ]
    for check in checks:
        assert_raises_same(lambda lib: check(_data_module(lib), _tensor_dataset(lib)))
    assert_raises_same(lambda lib: setattr(
        _data_module(lib).DataLoader(_tensor_dataset(lib)), "batch_size", 3))


def test_iterable_dataset_rejects_shuffle(oracle):
    class Stream(oracle.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(3))
    with pytest.raises(ValueError) as theirs:
        oracle.utils.data.DataLoader(Stream(), shuffle=True)
    with pytest.raises(ValueError) as ours:
        data.DataLoader(_Stream(3), shuffle=True)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float64", "bfloat16"])
def test_tensor_dataset_samples_match_torch(oracle, dtype):
    """TensorDataset's integer fast path (a view numpy reads) gives what torch's t[i]
    gives, a view of the data set's tensor, negative indices included; other indices
    take the full path."""
    values = np.arange(12).reshape(4, 3) % 3
    ours = data.TensorDataset(torchlike.tensor(values).to(getattr(torchlike, dtype)),
                              torchlike.arange(4))
    theirs = oracle.utils.data.TensorDataset(oracle.tensor(values).to(getattr(oracle, dtype)),
                                             oracle.arange(4))
    for i in (0, 3, -1, -4, np.int64(2)):
        for a, b, ta, tb in zip(ours[i], theirs[i], ours.tensors, theirs.tensors):
            assert repr(a) == repr(b) and (a._base is ta) == (b._base is tb)
    for index in (slice(1, 3), [0, 2]):
        for a, b in zip(ours[index], theirs[index]):
            assert repr(a) == repr(b)
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 0 with size 4"):
        ours[4]


def test_tensor_dataset_keeps_autograd_history(oracle):
    w = torchlike.ones(3, 2, requires_grad=True)
    sample, = data.TensorDataset(w * 2)[1]
    assert sample.grad_fn.name() == "SelectBackward0"
    sample.sum().backward()
    assert w.grad.tolist() == [[0.0, 0.0], [2.0, 2.0], [0.0, 0.0]]


def test_pin_memory_without_accelerator_warns_like_torch(oracle):
    import warnings
    seen = {}
    for lib in (oracle, torchlike):
        loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.arange(4.0)),
                                           batch_size=2, pin_memory=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            batches = [b[0].tolist() for b in loader]
        seen[lib.__name__] = (batches, [(w.category, str(w.message)) for w in caught])
    if not torchlike.accelerator.is_available():
        assert seen["torchlike"] == seen["torch"] and seen["torch"][1]


def _shuffled_batches(dataset, collate_fn=None):
    generator = torchlike.Generator().manual_seed(3)
    loader = data.DataLoader(dataset, batch_size=4, shuffle=True, generator=generator,
                             **({} if collate_fn is None else dict(collate_fn=collate_fn)))
    return [_plain(b) for b in loader]


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "bfloat16"])
def test_a_tensor_dataset_batch_is_gathered_as_its_samples_would_collate(dtype):
    """The loader gathers a TensorDataset's batch at once (dataset.gathered_batch): the
    same batches as collating its samples one by one (a collate_fn of our own takes
    that path), the last, shorter one included."""
    values = np.arange(30 * 6).reshape(30, 2, 3) % 5
    dataset = data.TensorDataset(torchlike.tensor(values).to(getattr(torchlike, dtype)),
                                 torchlike.arange(30))
    from torchlike.utils.data.dataset import gathered_batch
    assert gathered_batch(dataset, [3, 0]) is not None      # (the shortcut applies here)
    gathered = _shuffled_batches(dataset)
    assert gathered == _shuffled_batches(dataset, lambda b: data.default_collate(b))
    assert len(gathered) == 8 and gathered[-1][1][1][2] == (2,)


def test_a_batch_of_a_tensor_requiring_grad_is_stacked_with_its_history(oracle):
    grads = []
    for lib in (torchlike, oracle):
        w = lib.ones(5, 2, requires_grad=True)
        x, = next(iter(_data_module(lib).DataLoader(_data_module(lib).TensorDataset(w * 2),
                                                    batch_size=3)))
        assert x.grad_fn.name() == "StackBackward0"
        x.sum().backward()
        grads.append(w.grad.tolist())
    assert grads[0] == grads[1]


def test_a_batch_index_out_of_range_raises_torchs_error(oracle):
    messages = []
    for lib in (torchlike, oracle):
        dataset = _data_module(lib).TensorDataset(lib.arange(4))
        with pytest.raises(IndexError) as error:
            list(_data_module(lib).DataLoader(dataset, batch_sampler=[[0, 1], [2, 4]]))
        messages.append(str(error.value))
    assert messages[0] == messages[1]
