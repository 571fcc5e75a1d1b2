"""__getitem__ / __setitem__ against real torch: every index form (ints, slices, None,
..., bools, integer tensors and lists, masks, mixtures), values, shapes, strides,
grad_fn names, gradients, version counters and errors."""
import warnings

import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, assert_same, run_both, torch

pytestmark = pytest.mark.usefixtures("oracle")


def check(fn, **tolerances):
    """fn(lib) gives the same result under both libraries, or raises the same error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs = fn(torch)
        except Exception:  # noqa: BLE001 - whatever torch raises, we must raise too
            assert_raises_same(fn)
            return
        ours = fn(torchlike)
    assert_same(ours, theirs, **tolerances)


def base(lib):
    return lib.arange(24.0).view(2, 3, 4)


# Not in this area's files: copy_'s grad_fn prints as 'CopyBackwards'; torch's is
# 'torch::autograd::CopyBackwards' (ternary.py registers the op's name, and
# autograd/graph.py's _DISPLAY_NAMES only maps CopySlices).


INDICES = {
    # basic
    "int": lambda lib: 1,
    "neg_int": lambda lib: -1,
    "ints": lambda lib: (1, 2),
    "slice": lambda lib: slice(1, None),
    "slices": lambda lib: (slice(None), slice(0, 3, 2)),
    "neg_slice": lambda lib: (slice(None), slice(-2, None)),
    "none": lambda lib: None,
    "none_mid": lambda lib: (0, None, 1),
    "ellipsis": lambda lib: Ellipsis,
    "ellipsis_int": lambda lib: (Ellipsis, 2),
    "int_ellipsis_slice": lambda lib: (1, Ellipsis, slice(None, None, 3)),
    "empty_tuple": lambda lib: (),
    "np_int": lambda lib: np.int64(1),
    "tensor_0d_int": lambda lib: lib.tensor(1),
    "tensors_0d_int": lambda lib: (lib.tensor(1), lib.tensor(2)),
    # advanced
    "list": lambda lib: [0, 1],
    "list_neg": lambda lib: [-1, -2],
    "list_repeat": lambda lib: [1, 1, 0],
    "list_empty": lambda lib: [],
    "list_floats": lambda lib: [1.5, 0.2],
    "list_bool_int": lambda lib: [True, 1],
    "list_of_lists": lambda lib: [[0, 1], [1, 0]],
    "list_with_tensors": lambda lib: [lib.tensor(1), lib.tensor(0)],
    "tensor": lambda lib: lib.tensor([1, 0, 1]),
    "tensor_int32": lambda lib: lib.tensor([0, 1], dtype=lib.int32),
    "tensor_2d": lambda lib: lib.tensor([[0, 1], [1, 0]]),
    "tensor_empty": lambda lib: lib.tensor([], dtype=lib.int64),
    "tensor_pair": lambda lib: (lib.tensor([0, 1]), lib.tensor([2, 0])),
    "numpy_array": lambda lib: np.array([1, 0]),
    "slice_list": lambda lib: (slice(None), [0, 2]),
    "ellipsis_list": lambda lib: (Ellipsis, [1, 3]),
    "none_list": lambda lib: (None, [1]),
    "int_list_slice": lambda lib: (0, [0, 2], slice(1, 3)),
    "list_slice_list": lambda lib: ([0, 1], slice(None), [1, 2]),
    "slice_list_list": lambda lib: (slice(None), [0, 1], [1, 2]),
    "list_none_list": lambda lib: ([0, 1], None, [1, 2]),
    "slice_none_list": lambda lib: (slice(None), None, [0, 2]),
    "broadcast_lists": lambda lib: ([[0], [1]], [0, 2]),
    "three_lists": lambda lib: ([0, 1], [1, 2], [2, 3]),
    "int_slice_tensor": lambda lib: (1, slice(None), lib.tensor([3, 0])),
    "tensor_int_tensor": lambda lib: (lib.tensor([[0]]), 0, lib.tensor([1, 2])),
    "tensor_slice_tensor": lambda lib: (lib.tensor([0]), slice(1, None), lib.tensor([1, 2])),
    "none_ellipsis_none_list": lambda lib: (None, Ellipsis, None, [0]),
    # masks
    "mask_full": lambda lib: base(lib) > 10,
    "mask_2d": lambda lib: lib.tensor([[True, False, True], [False, False, True]]),
    "mask_1d": lambda lib: lib.tensor([True, False]),
    "mask_inner": lambda lib: (0, lib.tensor([True, False, True])),
    "mask_slice_int": lambda lib: (lib.tensor([True, False]), slice(None), 1),
    "mask_list": lambda lib: [True, False],
    "mask_none": lambda lib: lib.tensor([False, False]),
    "mask_uint8": lambda lib: lib.tensor([0, 1], dtype=lib.uint8),
    "mask_0d_true": lambda lib: lib.tensor(True),
    "mask_0d_false_int": lambda lib: (lib.tensor(False), 0),
    "bool_true": lambda lib: True,
    "bool_false": lambda lib: False,
    "int_bool": lambda lib: (1, True),
}


@pytest.mark.parametrize("name", list(INDICES))
def test_getitem(name):
    def fn(lib):
        x = base(lib)
        out = x[INDICES[name](lib)]
        return out, out.stride() if out._base is not None else None
    ours, theirs = run_both_quiet(fn)
    assert_same(ours[0], theirs[0])
    # views must have torch's strides; copies are contiguous either way
    if theirs[1] is not None and theirs[0]._base is not None:
        assert ours[1] == theirs[1]


def run_both_quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # uint8 masks are deprecated in torch
        return run_both(fn)


@pytest.mark.parametrize("name", list(INDICES))
def test_getitem_grad_fn_and_backward(name):
    def fn(lib):
        x = base(lib).requires_grad_()
        out = x[INDICES[name](lib)]
        (out * lib.arange(float(out.numel())).view(out.shape)).sum().backward()
        return out, x.grad
    ours, theirs = run_both_quiet(fn)
    assert_same(ours, theirs)


# every index with a scalar and a full-shaped value; 0-dim and broadcast values on a subset
SETITEM_CASES = [(name, value) for name in INDICES for value in ("scalar", "full")] + [
    (name, value) for name in ("int", "slices", "none_mid", "ellipsis_int", "list",
                               "tensor_2d", "slice_list", "list_slice_list", "broadcast_lists",
                               "mask_full", "mask_inner", "mask_uint8", "bool_true",
                               "tensor_0d_int", "list_empty")
    for value in ("0d", "broadcast")]


@pytest.mark.parametrize("name,value", SETITEM_CASES)
def test_setitem(name, value):
    def fn(lib):
        x = base(lib)
        index = INDICES[name](lib)
        shape = base(lib)[index].shape
        if value == "scalar":
            v = -7.5
        elif value == "0d":
            v = lib.tensor(-2.0)
        elif value == "broadcast":
            v = -lib.arange(float(shape[-1])) if shape and shape[-1] else lib.tensor(-1.0)
        else:
            v = -lib.arange(float(lib.Size(shape).numel())).view(shape) - 1
        x[index] = v
        return x, x._version
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs = fn(torch)
        except RuntimeError:        # torch refuses uint8 masks with one-element values
            assert_raises_same(fn)
            return
        ours = fn(torchlike)
    assert_same(ours[0], theirs[0])
    assert ours[1] == theirs[1]


SETITEM_GRAD_CASES = [(name, "0d") for name in (
    "int", "slices", "list", "mask_full", "int_list_slice", "ellipsis", "tensor_pair", "slice",
    "none", "bool_true", "mask_inner", "empty_tuple")] + [
    (name, value) for name in ("ellipsis", "empty_tuple", "int", "list")
    for value in ("1", "row", "scalar")]


@pytest.mark.parametrize("name,value", SETITEM_GRAD_CASES)
def test_setitem_autograd(name, value):
    """Writes into an intermediate: CopySlices, FillBackward3, CopyBackwards,
    IndexPutBackward0, as torch picks them, and the gradients through them."""
    def fn(lib):
        a = base(lib).requires_grad_()
        w = lib.tensor(3.0, requires_grad=True)
        x = a * 2
        index = INDICES[name](lib)
        v = {"0d": w * 5, "1": (w * 5).expand(1), "scalar": 5.0,
             "row": w * lib.arange(4.0)}[value]
        x[index] = v
        (x * lib.arange(24.0).view(2, 3, 4)).sum().backward()
        return x, a.grad, w.grad
    check(fn)


def test_setitem_into_view_reaches_base():
    def fn(lib):
        x = lib.zeros(4, 5)
        v = x[1:, ::2]
        v[[0, 2], 1] = 9.0
        v[v == 0] = 1.0
        v[..., 0] = lib.tensor([4.0, 5.0, 6.0])
        return x, v, x._version, v._version
    ours, theirs = run_both(fn)
    assert_same(list(ours[:2]), list(theirs[:2]))
    assert ours[2:] == theirs[2:]


def test_getitem_advanced_copies():
    def fn(lib):
        x = lib.arange(6.0)
        y = x[[0, 1]]
        y.add_(10)
        m = x[x > 3]
        m.zero_()
        return x, y, m, y._is_view(), m._is_view(), x._version
    ours, theirs = run_both(fn)
    assert_same(list(ours[:3]), list(theirs[:3]))
    assert ours[3:] == theirs[3:]


def test_index_dtypes_of_values():
    for dtype in ("int64", "bool", "float16", "complex64", "uint8"):
        check(lambda lib: lib.ones(3, 2, dtype=getattr(lib, dtype))[[2, 0], 1:])
        check(lambda lib: lib.ones(3, 2, dtype=getattr(lib, dtype))[lib.tensor([True, False,
                                                                                  True])])


@pytest.mark.parametrize("fn", [
    lambda lib: base(lib)[2],
    lambda lib: base(lib)[-3],
    lambda lib: base(lib)[0, 3],
    lambda lib: base(lib)[0, 0, 0, 0],
    lambda lib: base(lib)[[0, 2]],
    lambda lib: base(lib)[0, [3]],
    lambda lib: base(lib)[[1.5]] if False else base(lib)[lib.tensor([1.5])],
    lambda lib: base(lib)[[0, 1], [0, 1, 2]],
    lambda lib: base(lib)[[1, 2, 3], [0]],
    lambda lib: base(lib)[lib.tensor([True, False, True])],
    lambda lib: base(lib)[lib.ones(2, 2, dtype=lib.bool)],
    lambda lib: base(lib)[..., ..., 0] if False else base(lib)[object()],
    lambda lib: base(lib)[1.5],
    lambda lib: base(lib)["a"],
    lambda lib: base(lib)[::-1],
    lambda lib: base(lib)[:, ::0],
    lambda lib: lib.tensor(1.0)[0],
    lambda lib: lib.tensor(1.0)[[0]],
    lambda lib: lib.zeros(0)[0],
    lambda lib: base(lib)[None, 0, 5],
    lambda lib: base(lib)[:, None, 5],
    lambda lib: base(lib)[..., 7],
    lambda lib: base(lib)[0, [0], 9],
    lambda lib: base(lib)[[5, 0, 7]],
    lambda lib: base(lib)[[0, -7, 5]],
    lambda lib: base(lib)[:, [0, 4]],
    lambda lib: base(lib)[0, :, [5, 9]],
    lambda lib: base(lib)[:, 0, [4]],
    lambda lib: lib.tensor(1.0)[(0,)],
    lambda lib: lib.tensor(1.0)[lib.tensor(0)],
], ids=lambda f: None)
def test_getitem_errors(fn):
    assert_raises_same(fn)


@pytest.mark.parametrize("index,value", [
    ([0], lambda lib: lib.tensor([1], dtype=lib.int64)),
    ([0], lambda lib: lib.tensor([1.0], dtype=lib.float64)),
    ([0, 1], lambda lib: lib.ones(3)),
    ([0, 1], lambda lib: lib.ones(2, 4, 1)),
    ("mask", lambda lib: lib.ones(3)),
    ([5], lambda lib: 1.0),
    (0, lambda lib: lib.ones(3)),
    (0, lambda lib: lib.ones(2, 4)),
    ("mask", lambda lib: 1 + 2j),
    (0, lambda lib: 1 + 2j),
    (0, lambda lib: "a"),
    ([0], lambda lib: 2 ** 70),
    (0, lambda lib: None),
    (False, lambda lib: "a"),
    ((0, 0), lambda lib: lib.ones(2)),
], ids=lambda v: None)
def test_setitem_errors_leave_tensor_unchanged(index, value):
    def fn(lib):
        x = lib.arange(12.0).view(3, 4)
        idx = x > 5 if index == "mask" else index
        try:
            x[idx] = value(lib)
        finally:
            state.append((x.tolist(), x._version))
    state = []
    assert_raises_same(fn)
    assert state[0] == state[1] == (torch.arange(12.0).view(3, 4).tolist(), 0)


def test_setitem_on_leaf_requiring_grad():
    def basic(lib):
        lib.zeros(3, requires_grad=True)[0] = 1.0

    def advanced(lib):
        lib.zeros(3, requires_grad=True)[[0]] = 1.0
    assert_raises_same(basic)
    assert_raises_same(advanced)


def test_setitem_dtype_conversions():
    def fn(lib):
        x = lib.zeros(4, dtype=lib.int32)
        x[0] = 2.7
        x[1:3] = lib.tensor([1.9, -1.9])
        x[lib.tensor([3])] = 5
        b = lib.zeros(3, dtype=lib.bool)
        b[1] = 5
        return x, b
    check(fn)


def test_setitem_false_is_a_no_op():
    def fn(lib):
        x = lib.zeros(3)
        x[False] = 2.0
        return x, x._version
    ours, theirs = run_both(fn)
    assert_same(ours[0], theirs[0])
    assert ours[1] == theirs[1]


def test_index_put_and_friends():
    def fn(lib):
        x = lib.zeros(3, 4)
        x.index_put_((lib.tensor([0, 2]), lib.tensor([1, 3])), lib.tensor([5.0, 6.0]))
        y = lib.index_put(x, (lib.tensor([1]),), lib.tensor(2.0), accumulate=True)
        x.index_put_((lib.tensor([0, 0]),), lib.ones(4), accumulate=True)
        return x, y, x._version
    ours, theirs = run_both(fn)
    assert_same(list(ours[:2]), list(theirs[:2]))
    assert ours[2] == theirs[2]


def test_masked_fill_and_select_views():
    def fn(lib):
        x = lib.arange(6.0).view(2, 3)
        m = x > 2
        return (x.masked_fill(m, -1.0), lib.masked_select(x, m), x.nonzero(),
                lib.nonzero(m, as_tuple=True), x.index_select(1, lib.tensor([2, 0])),
                lib.where(m))
    check(fn)
