"""Small CPU tensors' data movement made by numpy (torchlike/_host_ops.py): the same
values and view semantics as PyTorch, and no XLA program compiled per shape."""
import numpy as np
import pytest

import torchlike
from torchlike import _host_ops
from torchlike._caches import compiles
from helpers import assert_same

torch = pytest.importorskip("torch", reason="the torch oracle is needed to compare values")


def _batch(lib, data, ix, width):
    """The GPT example's batch: a row of `data` at each index of `ix` (iterating ix)."""
    return lib.stack([data[i:i + width] for i in ix])


def test_iterating_a_small_tensor_unbinds_on_the_host_without_compiling():
    # ix is iterated at a length not met before: as a pending unbind it compiled a
    # program of that many outputs; `i + 5` (a 0-d add) compiles once, in the warm-up
    data = {lib: lib.arange(200) % 7 for lib in (torch, torchlike)}
    _batch(torchlike, data[torchlike], torchlike.tensor([1, 2]), 5)
    before = compiles.total
    ours = _batch(torchlike, data[torchlike], torchlike.tensor([3, 90, 17, 44, 0, 150, 8]), 5)
    assert compiles.total == before
    assert_same(ours, _batch(torch, data[torch], torch.tensor([3, 90, 17, 44, 0, 150, 8]), 5),
                check_grad_fn=False)


def test_unbound_elements_are_views_of_the_tensor():
    results = []
    for lib in (torch, torchlike):
        x = lib.arange(6).reshape(2, 3)
        rows, columns = x.unbind(0), x.unbind(1)
        x.mul_(10)                            # seen through the views
        columns[2].add_(1)                    # seen through x and the rows
        results.append([t.tolist() for t in rows + columns + (x,)])
    assert results[0] == results[1]


def test_a_tensor_recording_history_unbinds_as_an_op():
    """With autograd recording, unbind is a node (UnbindBackward0), as in PyTorch."""
    grads, names = [], []
    for lib in (torch, torchlike):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        a, b = x.unbind(1)
        names.append(type(a.grad_fn).__name__)
        (a * 2 + b * 3).sum().backward()
        grads.append(np.asarray(x.grad))
    assert names[0] == names[1] == "UnbindBackward0"
    np.testing.assert_array_equal(grads[0], grads[1])


def test_item_reads_a_new_shape_and_dtype_without_compiling():
    # (jax.Array.reshape compiled a program per shape and dtype)
    values = [torchlike.tensor([[2.5]], dtype=torchlike.float64),
              torchlike.tensor([[[7]]], dtype=torchlike.int16),
              torchlike.tensor([True]), torchlike.tensor([1.5], dtype=torchlike.bfloat16)]
    expected = [torch.tensor([[2.5]], dtype=torch.float64).item(),
                torch.tensor([[[7]]], dtype=torch.int16).item(), torch.tensor([True]).item(),
                torch.tensor([1.5], dtype=torch.bfloat16).item()]
    before = compiles.total
    got = [t.item() for t in values]
    assert compiles.total == before
    assert got == expected and [type(v) for v in got] == [type(v) for v in expected]


def test_views_of_a_small_concrete_tensor_are_made_on_the_host_and_stay_views():
    # slices of a data set at new offsets and lengths, a transpose, an expand: each a
    # pending view op compiled its gather per shape when read; writes still go through
    data = {lib: lib.arange(60, dtype=lib.float32).reshape(12, 5) for lib in (torch, torchlike)}
    data[torchlike].tolist()
    before = compiles.total
    views = {lib: [d[3:7], d[1:9:2, 2], d.t(), d[0].expand(3, 5), d[:, 1:4]]
             for lib, d in data.items()}
    for ours, theirs in zip(views[torchlike], views[torch]):
        assert ours.stride() == theirs.stride() and ours.storage_offset() == theirs.storage_offset()
        assert_same(ours, theirs, check_grad_fn=False)
    assert compiles.total == before
    for lib, d in data.items():
        d[4, 2] = -1.0                       # through the base: the views see it
        views[lib][0][0, 0] = 99.0           # through a view: the base sees it
    for ours, theirs in zip(views[torchlike], views[torch]):
        assert_same(ours, theirs, check_grad_fn=False)
    assert_same(data[torchlike], data[torch], check_grad_fn=False)


def test_a_reshape_of_a_whole_concrete_tensor_stays_pending_and_a_view(monkeypatch):
    # `targets.view(-1)` in every training step: a numpy copy was a transfer to the
    # device, which waits while the device runs the previous step's update; the
    # reshape instead joins the program that reads it. A slice still copies on the host.
    from torchlike import _device
    from torchlike._lazy import Deferred
    data = {lib: lib.arange(12, dtype=lib.float32) for lib in (torch, torchlike)}
    data[torchlike].tolist()
    transfers = []
    real_place = _device.place
    monkeypatch.setattr(_device, "place", lambda *a: transfers.append(a) or real_place(*a))
    whole = {lib: d.view(3, 4) for lib, d in data.items()}
    assert type(whole[torchlike]._raw()) is Deferred and not transfers
    sliced = data[torchlike][2:5]
    assert type(sliced._raw()) is not Deferred and len(transfers) == 1
    for lib, d in data.items():
        d[1] = -1.0                          # through the base: the view sees it
        whole[lib][2, 3] = 99.0              # through the view: the base sees it
    assert_same(whole[torchlike], whole[torch], check_grad_fn=False)
    assert_same(data[torchlike], data[torch], check_grad_fn=False)


def test_integer_ranges_are_kept_and_each_tensor_stays_its_own(monkeypatch):
    # `arange(T)` of every forward (positions) is a constant kept as filled ones are,
    # not a new transfer to the device each call; writes to one never reach another
    from torchlike import _device
    first = torchlike.arange(3, 40, 3)
    transfers = []
    real_place = _device.place
    monkeypatch.setattr(_device, "place", lambda *a: transfers.append(a) or real_place(*a))
    made = torchlike.arange(3, 40, 3), torchlike.arange(3, 40, 3, dtype=torchlike.int32)
    assert len(transfers) == 1                  # the int32 range only
    results = []
    for lib in (torch, torchlike):
        a, b = lib.arange(3, 40, 3), lib.arange(3, 40, 3)
        a.add_(1)
        b.numpy()[0] = -5
        results.append([a.tolist(), b.tolist(), lib.arange(3, 40, 3).tolist()])
    assert results[0] == results[1]
    assert first.tolist() == made[1].tolist() == list(range(3, 40, 3))


def test_a_target_viewed_at_every_step_is_checked_without_computing_the_view():
    # cross_entropy checks its target's values on the host: a pending view of a target
    # whose whole storage is in range needs no computing; values outside the view do
    # not count, values inside it raise torch's error
    from torchlike import _lazy
    from helpers import assert_raises_same
    target = torchlike.tensor([[0, 2], [1, 3]])
    target.tolist()
    logits = torchlike.zeros(4, 4, requires_grad=True)
    before = _lazy.stats.materializations
    loss = torchlike.nn.functional.cross_entropy(logits, target.view(-1))
    assert _lazy.stats.materializations == before
    assert loss.item() == pytest.approx(float(np.log(4)))

    def cross_entropy(lib, n):
        data = lib.tensor([0, 1, 9, 2])
        return lib.nn.functional.cross_entropy(lib.zeros(n, 4), data[:n])
    assert cross_entropy(torchlike, 2).item() == pytest.approx(cross_entropy(torch, 2).item())
    assert_raises_same(lambda lib: cross_entropy(lib, 3))
    # a storage found out of range is read once, not again before each of its views
    from torchlike._ops import _util
    data = torchlike.tensor([0, 1, 9, 2])
    reads = []
    real = _util.out_of_range
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_util, "out_of_range", lambda *a: reads.append(1) or real(*a))
        for start in (0, 1, 0):
            torchlike.nn.functional.cross_entropy(torchlike.zeros(1, 4), data[start:start + 1])
    assert len(reads) == 4          # the storage once, then each view's own value


@pytest.mark.parametrize("array", [
    np.arange(6, dtype=np.int64).reshape(2, 3), np.linspace(0, 1, 5, dtype=np.float32),
    np.array(3.5), np.zeros((0, 2), np.float16), np.arange(12.)[::2],
    np.array([True, False]), np.array([1 + 2j], np.complex64),
    np.ones((300, 300), np.float32)])          # (above DIRECT_PUT_MAX_BYTES: device_put)
@pytest.mark.parametrize("committed", [False, True])
def test_a_numpy_array_is_put_on_the_device_as_device_put_puts_it(array, committed):
    import jax
    from torchlike._device import host_to_device
    cpu = jax.devices("cpu")[0]
    source = array.copy()
    ours = host_to_device(source, cpu, committed)
    theirs = jax.device_put(array, cpu if committed else None)
    assert (type(ours), ours.dtype, ours.shape, ours.committed, ours.devices()) == \
        (type(theirs), theirs.dtype, theirs.shape, theirs.committed, theirs.devices())
    from torchlike._device import DIRECT_PUT_MAX_BYTES
    if source.size and source.nbytes <= DIRECT_PUT_MAX_BYTES:
        source.flat[0] = 7      # a small one is copied: the caller's later writes stay its own
    np.testing.assert_array_equal(np.asarray(ours), array)


def test_tensors_made_from_host_data_copy_it():
    results = []
    for lib in (torch, torchlike):
        data = np.arange(4, dtype=np.float32)
        made = [lib.tensor(data), lib.as_tensor(data.copy()), lib.tensor([1.5, 2.5])]
        shared = lib.from_numpy(data)
        data[0] = 9                            # from_numpy shares it; tensor() copied
        results.append([t.tolist() for t in made] + [shared.tolist()])
    assert results[0] == results[1]


def test_rows_of_a_data_set_are_stacked_with_one_transfer(monkeypatch):
    # a Dataset's `self.x[i]` for each sample of a batch, then default_collate's stack:
    # the rows are views numpy reads once, in place, when the stack joins them
    from torchlike import _device
    data = {lib: lib.arange(40, dtype=lib.float32).reshape(10, 4) for lib in (torch, torchlike)}
    data[torchlike].tolist()
    transfers = []
    real_place = _device.place
    monkeypatch.setattr(_device, "place", lambda *a: transfers.append(a) or real_place(*a))
    batch = {lib: lib.stack([d[i] for i in (7, 2, 2, 9)]) for lib, d in data.items()}
    assert len(transfers) == 1
    assert_same(batch[torchlike], batch[torch], check_grad_fn=False)


def test_a_view_numpy_made_sees_writes_made_before_it_is_read():
    results = []
    for lib in (torch, torchlike):
        base = lib.arange(12, dtype=lib.float32).reshape(3, 4)
        base.tolist()
        empty = lib.zeros(0, 3).select(1, 2)       # (its offset lies past the storage)
        assert empty.tolist() == [] and lib.stack([empty, empty]).shape == (2, 0)
        row, column, element = base[1], base[:, 2], base[2, 3]
        base.mul_(10)                         # before any view is read
        first = element.item()                # (read in place from the storage)
        row[0] = -1.0                         # through a view: the base sees it
        results.append([first, base[1, 0].item(), float(base[0, 1])] +
                       [t.tolist() for t in (row, column, base, lib.stack([row, row]))])
    assert results[0] == results[1]


@pytest.mark.parametrize("join", [
    lambda lib, rows: lib.stack(rows), lambda lib, rows: lib.stack(rows, 1),
    lambda lib, rows: lib.stack(rows, -1), lambda lib, rows: lib.cat(rows),
    lambda lib, rows: lib.cat(rows, 1), lambda lib, rows: lib.cat(rows, -1)],
    ids=["stack0", "stack1", "stack-1", "cat0", "cat1", "cat-1"])
@pytest.mark.parametrize("pick", [
    lambda d: [d[i] for i in (7, 2, 2, 9, 0)],                # rows (one repeated)
    lambda d: [d[:, j] for j in (3, 1, 2)],                   # strided columns
    lambda d: [d[i:i + 2] for i in (0, 1, 5)],                # overlapping slices
    lambda d: [d[i].t() for i in (4, 8)],                     # transposed rows
], ids=["rows", "columns", "overlapping", "transposed"])
def test_views_of_one_storage_join_as_torch_joins_them(pick, join, monkeypatch):
    # views of one data set tensor, unread, of one shape and strides: numpy gathers all
    # of them with one index (_host_ops._rows_of_one_storage), not view by view
    monkeypatch.setattr(_host_ops, "_values_of", _not_view_by_view)
    results = []
    for lib in (torch, torchlike):
        data = lib.arange(10 * 4 * 3, dtype=lib.float32).reshape(10, 4, 3)
        data.tolist()
        results.append(join(lib, pick(data)))
    assert_same(results[1], results[0], check_grad_fn=False)


def _not_view_by_view(tensors):
    raise AssertionError("the views were read one by one")


def test_zero_dim_samples_and_a_storage_written_after_the_views_join_as_torch_does(monkeypatch):
    monkeypatch.setattr(_host_ops, "_values_of", _not_view_by_view)
    results = []
    for lib in (torch, torchlike):
        labels = lib.arange(8)
        labels.tolist()
        picked = [labels[i] for i in (3, 3, 0, 7)]
        labels.mul_(10).tolist()              # the views see the write (not yet read)
        results.append([lib.stack(picked), lib.stack(picked).float()])
    for ours, theirs in zip(results[1], results[0]):
        assert_same(ours, theirs, check_grad_fn=False)


def _view_layout(t):
    return (type(t), tuple(t.shape), t.stride(), t.storage_offset(), t.dtype, t._storage,
            t._version_counter, t._base, t._whole, t._cache_gen, t._creation_meta,
            t.requires_grad, t.grad_fn)


_SLICES = [slice(None), slice(2, 4), slice(-3, None), slice(1, None, 2), slice(None, None, 3),
           slice(4, 2), slice(100, 200), slice(-100, 2), slice(0, 1)]


@pytest.mark.parametrize("make, short", [
    (lambda lib: lib.arange(40, dtype=lib.float32).reshape(10, 4), True),   # (a view)
    (lambda lib: lib.arange(10) % 3 == 0, True),                   # 0-dim rows, bool
    (lambda lib: lib.randn(5, 3, 4, dtype=lib.float64), True),
    (lambda lib: lib.zeros(3, 0), False),                          # empty rows: select's path
    (lambda lib: lib.ones(1, 4), False),                           # one row: select's path
], ids=["rows", "bool", "3d", "empty", "one_row"])
def test_an_int_or_slice_index_of_a_plain_host_tensor_is_the_general_paths_view(make, short):
    # Tensor[int] and Tensor[slice] take host_index's short path for a data set's sample
    # or a loop's batch: the view must be the very one the general path (select, slice)
    # makes, and the values torch's
    from torchlike._ops.views import slice_dim
    data = {lib: make(lib) for lib in (torch, torchlike)}
    # (randn's draws differ between the libraries: torch gets torchlike's values, whose
    # read leaves torchlike's tensor computed, as a data set's is)
    data[torch] = torch.tensor(data[torchlike].tolist(), dtype=data[torch].dtype)
    x = data[torchlike]
    assert (_host_ops.host_index(x, 0) is not None) == short
    n = data[torch].shape[0]
    for i in range(-n, n):
        fast, general = x[i], x.select(0, i)
        assert _view_layout(fast) == _view_layout(general)
        assert_same(fast, data[torch][i], check_grad_fn=False)
    for s in _SLICES:
        start, stop, step = s.indices(n)
        fast, general = x[s], slice_dim(x, 0, start, max(stop, start), step)
        assert _view_layout(fast) == _view_layout(general)
        assert_same(fast, data[torch][s], check_grad_fn=False)
    for bad in (n, slice(None, None, -1)):
        with pytest.raises((IndexError, ValueError)) as ours:
            x[bad]
        with pytest.raises((IndexError, ValueError)) as theirs:
            data[torch][bad]
        assert (type(ours.value), str(ours.value)) == (type(theirs.value), str(theirs.value))


def test_an_int_index_of_a_tensor_with_history_records_select():
    for lib in (torch, torchlike):
        w = lib.ones(3, 2, requires_grad=True)
        assert w[1].grad_fn.name() == "SelectBackward0"
        assert (w * 2)[0].grad_fn.name() == "SelectBackward0"
        with lib.no_grad():
            assert w[1].grad_fn is None and w[1].tolist() == [1.0, 1.0]
