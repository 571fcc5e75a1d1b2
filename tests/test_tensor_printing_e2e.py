"""repr/str of real tensors against torch's, character for character: the Tensor
wiring of the printing module (values, dtypes, requires_grad, grad_fn suffixes, views,
empties, big tensors, printoptions, the default dtype)."""
import pytest

import torchlike
from helpers import run_both

pytestmark = pytest.mark.usefixtures("oracle")

CASES = {
    "scalar": lambda lib: lib.tensor(3.5),
    "int_scalar": lambda lib: lib.tensor(7),
    "bool_scalar": lambda lib: lib.tensor(False),
    "vector": lambda lib: lib.tensor([1.0, 2.5, -3.0]),
    "ints": lambda lib: lib.tensor([[1, 200], [-3, 4]]),
    "bools": lambda lib: lib.tensor([[True, False]]),
    "int32": lambda lib: lib.tensor([1, 2], dtype=lib.int32),
    "uint8": lambda lib: lib.tensor([1, 255], dtype=lib.uint8),
    "int8": lambda lib: lib.tensor([-1, 2], dtype=lib.int8),
    "float16": lambda lib: lib.tensor([1.5, 2.25], dtype=lib.float16),
    "bfloat16": lambda lib: lib.tensor([1.5, 2.25], dtype=lib.bfloat16),
    "float64": lambda lib: lib.tensor([1.5, 1e-8], dtype=lib.float64),
    "complex": lambda lib: lib.tensor([1 + 2j, -0.5j]),
    "complex128": lambda lib: lib.tensor([1 + 2j], dtype=lib.complex128),
    "sci": lambda lib: lib.tensor([1e-10, 1e10, 1.0]),
    "nan_inf": lambda lib: lib.tensor([float("nan"), float("inf"), -float("inf"), 1.0]),
    "ints_as_float": lambda lib: lib.tensor([1.0, 2.0, 300.0]),
    "empty": lambda lib: lib.tensor([]),
    "empty_2d": lambda lib: lib.zeros(2, 0),
    "empty_int": lambda lib: lib.zeros(0, 3, dtype=lib.int64),
    "empty_f64": lambda lib: lib.zeros(0, dtype=lib.float64),
    # (x * 0.3, not x / 7: XLA divides by a scalar through its reciprocal, see the report)
    "3d": lambda lib: lib.arange(24.0).view(2, 3, 4) * 0.3,
    "big": lambda lib: lib.arange(2000.0),
    "big_2d": lambda lib: lib.arange(3000).view(100, 30),
    "wide": lambda lib: lib.arange(30.0).view(1, 30) * 1000,
    "requires_grad": lambda lib: lib.tensor([1.0, 2.0], requires_grad=True),
    "requires_grad_f64": lambda lib: lib.tensor([1.0], dtype=lib.float64, requires_grad=True),
    "add": lambda lib: lib.tensor([1.0, 2.0], requires_grad=True) + 1,
    "mul_scalar": lambda lib: lib.tensor(2.0, requires_grad=True) * 3,
    "sum": lambda lib: lib.ones(3, requires_grad=True).sum(),
    "view": lambda lib: lib.ones(2, 3, requires_grad=True).view(3, 2),
    "select": lambda lib: lib.ones(2, 3, requires_grad=True)[0],
    "slice": lambda lib: lib.ones(4, requires_grad=True)[1:3],
    "transpose": lambda lib: lib.ones(2, 3, requires_grad=True).t(),
    "index": lambda lib: lib.ones(4, requires_grad=True)[[0, 2]],
    "unbind": lambda lib: lib.ones(2, 2, requires_grad=True).unbind()[1],
    "to_double": lambda lib: lib.ones(2, requires_grad=True).double(),
    "copy_slices": lambda lib: _copy_slices(lib),
    "detached": lambda lib: lib.ones(2, requires_grad=True).detach(),
    "int_from_grad": lambda lib: (lib.ones(2, requires_grad=True) > 0),
    "strided_view": lambda lib: lib.arange(12.0).view(3, 4)[:, ::2],
    "transposed": lambda lib: lib.arange(6).view(2, 3).t(),
    "expanded": lambda lib: lib.tensor([1.0, 2.0]).expand(3, 2),
    "neg_zero": lambda lib: lib.tensor([-0.0, 0.0]),
    "large_ints": lambda lib: lib.tensor([2 ** 40, -1]),
}


def _copy_slices(lib):
    x = lib.ones(3, requires_grad=True) * 2
    x[0] = 5.0
    return x


@pytest.mark.parametrize("name", list(CASES))
def test_repr_and_str(name):
    ours, theirs = run_both(lambda lib: CASES[name](lib))
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)


@pytest.mark.parametrize("name", ["vector", "3d", "big", "sci", "complex", "ints_as_float",
                                  "float64", "requires_grad"])
@pytest.mark.parametrize("options", [
    {"precision": 2}, {"precision": 8}, {"threshold": 5}, {"edgeitems": 1, "threshold": 5},
    {"sci_mode": True}, {"sci_mode": False}, {"linewidth": 40}, {"profile": "short"},
    {"profile": "full"},
], ids=str)
def test_printoptions(name, options):
    def fn(lib):
        lib.set_printoptions(**options)
        try:
            return repr(CASES[name](lib))
        finally:
            lib.set_printoptions(profile="default")
    ours, theirs = run_both(fn)
    assert ours == theirs


@pytest.mark.parametrize("default", ["float64", "float16"])
def test_default_dtype_changes_suffixes(default):
    def fn(lib):
        lib.set_default_dtype(getattr(lib, default))
        try:
            return [repr(t) for t in (lib.tensor([1.5]), lib.tensor([1.5], dtype=lib.float32),
                                      lib.tensor([2]), lib.ones(2, dtype=lib.float64))]
        finally:
            lib.set_default_dtype(lib.float32)
    ours, theirs = run_both(fn)
    assert ours == theirs


def test_parameter_repr():
    ours, theirs = run_both(lambda lib: repr(lib.nn.Parameter(lib.tensor([1.0, 2.0]))))
    assert ours == theirs


def test_print_and_format_in_containers():
    def fn(lib):
        x = lib.tensor([1.5, 2.0])
        return str([x, x.int()]), repr((lib.tensor(1),)), f"{x}", "{}".format(lib.tensor(2.5)),
    ours, theirs = run_both(fn)
    assert ours == theirs


def test_printing_a_view_after_base_write():
    def fn(lib):
        x = lib.zeros(2, 3)
        v = x[1]
        x.fill_(4.0)
        return repr(v), repr(x.t())
    ours, theirs = run_both(fn)
    assert ours == theirs


def test_size_and_dtype_reprs():
    def fn(lib):
        x = lib.zeros(2, 3, dtype=lib.int16)
        return repr(x.shape), str(x.size()), repr(x.dtype), str(x.dtype), repr(lib.Size([])), \
            repr(lib.Size([0]))
    ours, theirs = run_both(fn)
    assert ours == theirs
    assert isinstance(torchlike.zeros(1).shape, torchlike.Size)


def test_subclass_repr_and_make_subclass():
    def fn(lib):
        class Special(lib.Tensor):
            pass
        base = lib.arange(4.0)
        p = lib.Tensor._make_subclass(Special, base[1:], True)
        with lib.no_grad():
            p.add_(1)
        return repr(p), type(p).__name__, p.is_leaf, base.tolist()
    ours, theirs = run_both(fn)
    assert ours == theirs


_NAMED_RESULTS = {
    "max": lambda lib, t: lib.max(t, 1), "min": lambda lib, t: t.min(0),
    "sort": lambda lib, t: lib.sort(t, 1, descending=True), "topk": lambda lib, t: t.topk(2),
    "kthvalue": lambda lib, t: t.kthvalue(2, 1), "median": lambda lib, t: t.median(0),
    "mode": lambda lib, t: lib.mode(t, 1), "cummax": lambda lib, t: t.cummax(1),
    "aminmax": lambda lib, t: lib.aminmax(t), "frexp": lambda lib, t: lib.frexp(t),
    "slogdet": lambda lib, t: lib.linalg.slogdet(lib.diag(t[0, :3] + 1)),
    "eigh": lambda lib, t: lib.linalg.eigh(lib.diag(t[1, :3])),
    "max_out": lambda lib, t: lib.max(t, 1, out=(lib.empty(3), lib.empty(3, dtype=lib.long))),
}


@pytest.mark.parametrize("name", sorted(_NAMED_RESULTS))
def test_named_tuple_results_print_and_pickle_as_torch_return_types(name, oracle):
    # torch.return_types.<name>: a tuple with named fields, printed one field per line
    import pickle
    torch = oracle
    out = {}
    for lib in (torch, torchlike):
        # (no ties: which index PyTorch gives among equal values depends on its kernel)
        t = lib.tensor([[3.0, 1.0, 2.0, 2.5], [0.5, 4.0, 4.5, -1.0], [2.0, 1.5, 7.0, 0.0]])
        r = _NAMED_RESULTS[name](lib, t)
        again = pickle.loads(pickle.dumps(r))
        out[lib] = (repr(r), str(r), type(r).__name__, isinstance(r, tuple), len(r),
                    isinstance(r, getattr(lib.return_types, type(r).__name__)),
                    repr(again), type(again) is type(r))
    assert out[torchlike] == out[torch]
