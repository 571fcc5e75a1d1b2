"""Tensor factories against real torch: values, dtypes, shapes, devices, requires_grad.

Random factories are compared on shape, dtype and range only (bit-equality with
PyTorch's generator is not a goal), plus reproducibility under the same seed.
"""
import math

import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, assert_same, check, run_both

pytestmark = pytest.mark.usefixtures("oracle")


# -- torch.tensor -------------------------------------------------------------------------
TENSOR_DATA = [
    3, -2, 3.5, True, False, 1 + 2j, 0.0,
    [], [[]], [[], []],
    [1, 2, 3], [1.0, 2, 3], [True, False], [True, 2], [True, 2.5], [1, 2.5j],
    [[1, 2], [3, 4]], [[[1.5], [2.5]], [[3.5], [4.5]]],
    (1, 2, 3), [(1, 2), (3, 4)],
    [float("inf"), float("-inf"), float("nan")],
    [2 ** 40, -(2 ** 40)], [2 ** 63 - 1],
]


@pytest.mark.parametrize("data", TENSOR_DATA, ids=repr)
def test_tensor_from_python_data(data):
    assert_same(*run_both(lambda lib: lib.tensor(data)))


@pytest.mark.parametrize("data", [[1, 2], [1.5, -2.5], [True, False], 7, 2.5])
@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64",
                                   "float16", "bfloat16", "float32", "float64", "complex64"])
def test_tensor_with_dtype(data, dtype):
    check(lambda lib: lib.tensor(data, dtype=getattr(lib, dtype)))


@pytest.mark.parametrize("np_dtype", ["bool", "uint8", "int8", "int16", "int32", "int64",
                                      "float16", "float32", "float64", "complex64",
                                      "complex128"])
def test_tensor_from_numpy_array_keeps_dtype(np_dtype):
    a = (np.arange(6).reshape(2, 3) % 3).astype(np_dtype)
    assert_same(*run_both(lambda lib: lib.tensor(a)))
    assert_same(*run_both(lambda lib: lib.as_tensor(a)))
    assert_same(*run_both(lambda lib: lib.from_numpy(a)))


@pytest.mark.parametrize("scalar", [np.float32(1.5), np.float64(2.5), np.int32(3), np.int64(4),
                                    np.bool_(True)], ids=repr)
def test_tensor_from_numpy_scalar(scalar):
    assert_same(*run_both(lambda lib: lib.tensor(scalar)))
    assert_same(*run_both(lambda lib: lib.tensor([scalar, scalar])))


@pytest.mark.parametrize("data", [
    [-1, -129, 255], [-128, 127], [300.5], [1e10], [float("inf")], [2 ** 31 - 1],
    [-1.0], [-0.5], [255.5], [127.5], [255.0]], ids=str)
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float16", "bool"])
def test_tensor_python_values_into_small_dtypes(data, dtype):
    def fn(lib):
        return lib.tensor(data, dtype=getattr(lib, dtype))
    try:
        theirs = fn(__import__("torch"))
    except (RuntimeError, TypeError):
        assert_raises_same(fn)
        return
    assert_same(fn(torchlike), theirs)


@pytest.mark.parametrize("data", [
    [np.float64(2.5), 1], [np.int32(3)], [np.float16(1.5), 2], [np.int8(1), np.int16(2)],
    [np.int8(1), 2.5], [np.bool_(True), False], [[np.float32(1)], [2.0]],
], ids=str)
def test_nested_numpy_scalars_promote(data):
    assert_same(*run_both(lambda lib: lib.tensor(data)))


def test_empty_nested_quirk():
    # torch stores nothing for a first empty row and checks nothing either
    assert_same(*run_both(lambda lib: lib.tensor([[], [1]])))


def test_tensor_from_list_of_tensors():
    assert_same(*run_both(lambda lib: lib.tensor([lib.tensor(1.5), lib.tensor(2.5)])))
    assert_same(*run_both(lambda lib: lib.tensor([lib.tensor(1), lib.tensor(2)])))
    assert_same(*run_both(lambda lib: lib.tensor([lib.tensor(1, dtype=lib.int32), 2])))
    assert_same(*run_both(lambda lib: lib.tensor([2.5, lib.tensor(1, dtype=lib.int32)])))
    assert_same(*run_both(lambda lib: lib.tensor([lib.tensor(1.0, dtype=lib.float64), 2])))
    assert_same(*run_both(lambda lib: lib.tensor([[1, 2], lib.tensor([3, 4])])))


def test_tensor_copies_data():
    def fn(lib):
        a = np.array([1.0, 2.0], dtype=np.float32)
        t = lib.tensor(a)
        a[0] = 100.0
        return t
    assert_same(*run_both(fn))


def test_tensor_requires_grad():
    assert_same(*run_both(lambda lib: lib.tensor([1.0, 2.0], requires_grad=True)))
    assert_same(*run_both(lambda lib: lib.tensor(2.0, dtype=lib.float64, requires_grad=True)))


@pytest.mark.parametrize("fn", [
    lambda lib: lib.tensor([[1, 2], [3]]),
    lambda lib: lib.tensor([[1, 2], [3, 4, 5]]),
    lambda lib: lib.tensor([[[1], [2]], [[3], [4, 5]]]),
    lambda lib: lib.tensor([1, "a"]),
    lambda lib: lib.tensor("abc"),
    lambda lib: lib.tensor([1, 2], requires_grad=True),
    lambda lib: lib.zeros(2, dtype=lib.int64, requires_grad=True),
    lambda lib: lib.tensor([[1, 2], 3]),
    lambda lib: lib.tensor([1, [2]]),
    lambda lib: lib.tensor([1.0, [2]]),
    lambda lib: lib.tensor([[1], []]),
    lambda lib: lib.tensor([2 ** 63]),
    lambda lib: lib.tensor([2 ** 64]),
    lambda lib: lib.tensor([300], dtype=lib.uint8),
    lambda lib: lib.tensor([-256], dtype=lib.uint8),
    lambda lib: lib.tensor([128], dtype=lib.int8),
    lambda lib: lib.tensor([1e10], dtype=lib.int32),
    lambda lib: lib.tensor([float("nan")], dtype=lib.int64),
    lambda lib: lib.tensor([1 + 1j], dtype=lib.int64),
    lambda lib: lib.tensor([1 + 1j], dtype=lib.float32),
], ids=["ragged2", "ragged3", "ragged_deep", "str_in_list", "str", "int_requires_grad",
        "zeros_int_requires_grad", "scalar_for_seq", "seq_for_int", "seq_for_float",
        "empty_then_full", "int64_overflow", "int_overflow", "uint8_300", "uint8_-256",
        "int8_128", "int32_1e10", "nan_to_int", "complex_to_int", "complex_to_float"])
def test_tensor_bad_data(fn):
    assert_raises_same(fn)


# -- as_tensor / from_numpy ---------------------------------------------------------------
def test_as_tensor_returns_same_tensor():
    t = torchlike.tensor([1.0, 2.0])
    assert torchlike.as_tensor(t) is t
    assert torchlike.as_tensor(t, dtype=torchlike.float32) is t


@pytest.mark.parametrize("fn", [
    lambda lib: lib.as_tensor([1, 2, 3]),
    lambda lib: lib.as_tensor([1, 2, 3], dtype=lib.float64),
    lambda lib: lib.as_tensor(lib.tensor([1, 2]), dtype=lib.float32),
    lambda lib: lib.as_tensor(np.arange(3.0), dtype=lib.float32),
    lambda lib: lib.as_tensor(2.5),
    lambda lib: lib.as_tensor(np.arange(4), device="cpu"),
])
def test_as_tensor(fn):
    assert_same(*run_both(fn))


def test_from_numpy_bad_input():
    assert_raises_same(lambda lib: lib.from_numpy([1, 2]))
    assert_raises_same(lambda lib: lib.from_numpy(np.array(["a"])))


# -- zeros / ones / full / empty ----------------------------------------------------------
SHAPES = [(), (0,), (3,), (2, 3), (2, 0, 4), (1, 1, 1)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ["zeros", "ones"])
@pytest.mark.parametrize("dtype", [None, "int32", "bool", "float64", "complex64", "bfloat16"])
def test_zeros_ones(name, shape, dtype):
    def fn(lib):
        kw = {} if dtype is None else {"dtype": getattr(lib, dtype)}
        varargs = getattr(lib, name)(*shape, **kw) if shape else None   # f() is an error
        return getattr(lib, name)(shape, **kw), varargs
    assert_same(*run_both(fn))


@pytest.mark.parametrize("size_form", ["tuple", "list", "size", "varargs"])
def test_size_argument_forms(size_form):
    def fn(lib):
        if size_form == "varargs":
            return lib.zeros(2, 3)
        shape = {"tuple": (2, 3), "list": [2, 3], "size": lib.Size([2, 3])}[size_form]
        return lib.ones(shape)
    assert_same(*run_both(fn))


@pytest.mark.parametrize("fill", [3, -1, 2.5, True, False, 1 + 1j, float("inf")], ids=repr)
def test_full_infers_dtype_from_fill_value(fill):
    assert_same(*run_both(lambda lib: lib.full((2, 3), fill)))
    if not isinstance(fill, complex):
        assert_same(*run_both(lambda lib: lib.full([2], fill, dtype=lib.float64)))


FILL_DTYPES = ["uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
               "float64", "complex64", "bool"]


@pytest.mark.parametrize("dtype", FILL_DTYPES)
@pytest.mark.parametrize("fill", [1e300, 3.5e38, 70000.0, -256, 300, -255, 2 ** 63 - 1,
                                  -1.0, 255.5, 127.5, -0.5,
                                  float("inf"), float("nan"), 1 + 1j, 2.5], ids=repr)
@pytest.mark.parametrize("numel", [1, 2])
def test_full_value_overflow_checks(dtype, fill, numel):
    def fn(lib):
        return lib.full((numel,), fill, dtype=getattr(lib, dtype))
    try:
        theirs = fn(__import__("torch"))
    except RuntimeError:
        assert_raises_same(fn)
        return
    ours = fn(torchlike)
    if not (dtype in ("uint8", "int8", "int16", "int32", "int64") and fill != fill):
        assert_same(ours, theirs)


def test_full_like_overflow():
    assert_raises_same(lambda lib: lib.full_like(lib.zeros(3, dtype=lib.uint8), 256))
    assert_same(*run_both(lambda lib: lib.full_like(lib.zeros(3, dtype=lib.uint8), -1)))


def test_full_tensor_fill_and_default_dtype():
    assert_same(*run_both(lambda lib: lib.full((2,), lib.tensor(1.5))))

    def with_double_default(lib):
        lib.set_default_dtype(lib.float64)
        try:
            return lib.full((2,), 1.5), lib.full((1,), 1j), lib.tensor([1.5]), lib.ones(2)
        finally:
            lib.set_default_dtype(lib.float32)
    assert_same(*run_both(with_double_default))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [None, "int64", "float16"])
def test_empty_shape_and_dtype(shape, dtype):
    def fn(lib):
        kw = {} if dtype is None else {"dtype": getattr(lib, dtype)}
        return lib.empty(shape, **kw), lib.empty(*(shape or ((),)), **kw)
    ours, theirs = run_both(fn)
    for a, b in zip(ours, theirs):
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype)
        assert a.stride() == b.stride() and a.is_contiguous()


@pytest.mark.parametrize("fn", [
    lambda lib: lib.zeros(-1),
    lambda lib: lib.zeros(2, -3),
    lambda lib: lib.ones(2, -3),
    lambda lib: lib.empty((-2,)),
    lambda lib: lib.full((-1, 2), 1.0),
    lambda lib: lib.rand(-1),
    lambda lib: lib.randn(3, -2),
    lambda lib: lib.randint(3, (-1,)),
    lambda lib: lib.eye(-1),
    lambda lib: lib.eye(2, -1),
    lambda lib: lib.zeros(),
    lambda lib: lib.ones(),
    lambda lib: lib.empty(),
])
def test_bad_sizes(fn):
    assert_raises_same(fn)


# -- *_like -------------------------------------------------------------------------------
LIKE_SOURCES = [
    lambda lib: lib.tensor([[1, 2, 3]]),
    lambda lib: lib.tensor([1.5, 2.5], dtype=lib.float64),
    lambda lib: lib.tensor(True),
    lambda lib: lib.zeros(2, 0),
]


@pytest.mark.parametrize("src", LIKE_SOURCES)
@pytest.mark.parametrize("name", ["zeros_like", "ones_like"])
def test_like_factories(src, name):
    assert_same(*run_both(lambda lib: getattr(lib, name)(src(lib))))
    assert_same(*run_both(lambda lib: getattr(lib, name)(src(lib), dtype=lib.float16)))


@pytest.mark.parametrize("src", LIKE_SOURCES)
def test_full_like_and_empty_like(src):
    assert_same(*run_both(lambda lib: lib.full_like(src(lib), 7)))
    assert_same(*run_both(lambda lib: lib.full_like(src(lib), 2.5, dtype=lib.float32)))
    ours, theirs = run_both(lambda lib: lib.empty_like(src(lib)))
    assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype)


def test_like_factories_do_not_copy_requires_grad():
    def fn(lib):
        x = lib.ones(2, requires_grad=True)
        return (lib.zeros_like(x), lib.ones_like(x, requires_grad=True),
                lib.full_like(x, 3.0), lib.rand_like(x).requires_grad)
    ours, theirs = run_both(fn)
    assert_same(ours[:3], theirs[:3])
    assert ours[3] == theirs[3]


def test_like_of_view_values():
    def fn(lib):
        x = lib.arange(12.0).view(3, 4).t()
        return lib.zeros_like(x), lib.full_like(x[::2], 5), lib.ones_like(x[0])
    assert_same(*run_both(fn))


def test_like_of_permuted_keeps_layout():
    """preserve_format: dense inputs keep their strides, others get dense ones in the
    same dim order."""
    def fn(lib):
        x = lib.arange(24.0).view(2, 3, 4)
        out = []
        for t in (x.transpose(0, 2), x.permute(2, 0, 1)[:, ::2], x[:, :, 1:3].transpose(0, 1),
                  lib.zeros(3).expand(2, 3)):
            made = [lib.zeros_like(t), lib.ones_like(t), lib.empty_like(t),
                    lib.full_like(t, 2.0), lib.rand_like(t), t.clone(), lib.clone(t)]
            out.append([m.stride() for m in made] + [t.clone().tolist()])
        out.append(lib.zeros_like(x.transpose(0, 2), memory_format=lib.contiguous_format).stride())
        out.append(x.transpose(0, 2).clone(memory_format=lib.contiguous_format).stride())
        return out
    ours, theirs = run_both(fn)
    assert ours == theirs
    assert_raises_same(lambda lib: lib.zeros(2).clone(memory_format=1))
    assert_raises_same(lambda lib: lib.zeros(2).clone(memory_format=lib.channels_last))


def test_clone_of_permuted_then_written_through_views():
    def fn(lib):
        a = lib.arange(12.0).view(3, 4).requires_grad_()
        y = a.t().clone()
        y[1].mul_(3)
        y[:, 2].add_(1)
        (y * lib.arange(12.0).view(4, 3)).sum().backward()
        return y, a.grad, y.stride(), y.grad_fn.name()
    ours, theirs = run_both(fn)
    assert_same(list(ours[:2]), list(theirs[:2]))
    assert ours[2:] == theirs[2:]


# -- eye / arange / linspace / logspace ---------------------------------------------------
@pytest.mark.parametrize("args", [(0,), (1,), (3,), (2, 4), (4, 2), (3, 0)], ids=str)
@pytest.mark.parametrize("dtype", [None, "int64", "bool", "float64"])
def test_eye(args, dtype):
    def fn(lib):
        kw = {} if dtype is None else {"dtype": getattr(lib, dtype)}
        return lib.eye(*args, **kw)
    assert_same(*run_both(fn))


ARANGE_ARGS = [
    (5,), (0,), (2, 7), (7, 2, -1), (10, 0, -3), (-5, 5, 2), (0, 10, 3),
    (5.0,), (0, 1, 0.1), (1, 2.5, 0.5), (0.5, -2.0, -0.25), (-1, 1, 0.3),
    (0, 1, 1 / 3), (1.0, 1.0), (0, 5, 1.5), (2, 2), (3, 0, -1.5),
]


@pytest.mark.parametrize("args", ARANGE_ARGS, ids=str)
def test_arange(args):
    # start + i * step: PyTorch in double, rounded once to float32; in float32 that is 2
    # roundings relative to the terms (|start|, |i * step| <= 5): float_tol(2, 5) is
    # 1.2e-6 absolute, which atol=1e-6 plus the default rtol 1e-5 covers
    assert_same(*run_both(lambda lib: lib.arange(*args)), atol=1e-6)


@pytest.mark.parametrize("dtype", ["int32", "int64", "float16", "float32", "float64", "uint8"])
def test_arange_dtype(dtype):
    assert_same(*run_both(lambda lib: lib.arange(0, 10, 2, dtype=getattr(lib, dtype))))
    assert_same(*run_both(lambda lib: lib.arange(5, dtype=getattr(lib, dtype))))


def test_arange_keyword_and_tensor_bounds():
    assert_same(*run_both(lambda lib: lib.arange(start=1, end=4)))
    assert_same(*run_both(lambda lib: lib.arange(end=4)))
    assert_same(*run_both(lambda lib: lib.arange(lib.tensor(4))))
    assert_same(*run_both(lambda lib: lib.arange(lib.tensor(1.0), 3)))


@pytest.mark.parametrize("args", [(0, 5, 1.5), (-0.5, 5, 1.5), (0.5, 3), (0, 1, 0.1),
                                  (-1, 1, 0.3), (0, -5, -0.7), (-3.7, 2.2, 1.1)], ids=str)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "float16", "bfloat16", "float64"])
def test_arange_float_arguments_with_dtype(args, dtype):
    """Integer dtypes truncate the arguments (and int64 counts with them too)."""
    def fn(lib):
        return lib.arange(*args, dtype=getattr(lib, dtype))
    try:
        theirs = fn(__import__("torch"))
    except (RuntimeError, ValueError):
        assert_raises_same(fn)
        return
    # 16-bit: one rounding of values of magnitude <= 5 computed in higher precision:
    # equal unless a value lies within a float32 ulp of a rounding tie (none here);
    # 1e-2 covers one float16 ulp at 5 (2**-8); others as in test_arange
    assert_same(fn(torchlike), theirs, atol=1e-2 if "16" in dtype else 1e-6)


@pytest.mark.parametrize("fn", [
    lambda lib: lib.arange(0, 10, 0),
    lambda lib: lib.arange(0.0, 1.0, 0.0),
    lambda lib: lib.arange(0, 10, -1),
    lambda lib: lib.arange(10, 0, 1),
    lambda lib: lib.arange(0, float("inf")),
    lambda lib: lib.arange(float("nan"), 1),
    lambda lib: lib.arange(0, 1, 0.5, dtype=lib.int64),
])
def test_arange_errors(fn):
    assert_raises_same(fn)


LINSPACE_ARGS = [(0, 1, 5), (0, 1, 1), (0, 1, 0), (-3, 7, 11), (1, -1, 4), (0, 10, 7),
                 (2.5, 2.5, 3), (0, 1, 100)]


@pytest.mark.parametrize("args", LINSPACE_ARGS, ids=str)
def test_linspace(args):
    assert_same(*run_both(lambda lib: lib.linspace(*args)))
    # float64 start + i * step, 2 roundings at magnitude <= 10: 4.4e-15 < 1e-12
    assert_same(*run_both(lambda lib: lib.linspace(*args, dtype=lib.float64)), atol=1e-12)


def test_linspace_int_dtype_and_errors():
    assert_same(*run_both(lambda lib: lib.linspace(0, 10, 5, dtype=lib.int64)))
    assert_raises_same(lambda lib: lib.linspace(0, 1, -1))


@pytest.mark.parametrize("args", [(0, 2, 3), (-1, 1, 5), (0, 3, 4, 2)], ids=str)
def test_logspace(args):
    # base ** (start + i * step): the exponent's 2 roundings times ln(base) * |exponent|
    # (< 7), plus pow's few ulps: ~20 roundings; 1e-5 is 84 ulps
    assert_same(*run_both(lambda lib: lib.logspace(*args)), rtol=1e-5)


# -- random factories ---------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(), (0,), (5,), (3, 4)], ids=str)
@pytest.mark.parametrize("dtype", [None, "float64", "float16", "bfloat16"])
def test_rand_randn_shape_dtype(shape, dtype):
    def fn(lib):
        kw = {} if dtype is None else {"dtype": getattr(lib, dtype)}
        # rand(*()) is a TypeError in torch: the varargs form needs at least one size
        return lib.rand(*(shape or ((),)), **kw), lib.randn(shape, **kw)
    ours, theirs = run_both(fn)
    for a, b in zip(ours, theirs):
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype)
        assert a.requires_grad is False


def test_rand_range_and_randn_moments():
    torchlike.manual_seed(0)
    u = torchlike.rand(10000, dtype=torchlike.float64).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    n = torchlike.randn(10000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05


@pytest.mark.parametrize("args", [(10, (5,)), (3, 7, (4, 4)), (-5, 5, (100,)), (0, 1, (3,))],
                         ids=str)
def test_randint(args):
    def fn(lib):
        return lib.randint(*args)
    ours, theirs = run_both(fn)
    assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype)
    low, high = (0, args[0]) if len(args) == 2 else args[:2]
    values = ours.numpy()
    assert values.min() >= low and values.max() < high


def test_randint_dtype_and_errors():
    assert_same(*run_both(lambda lib: lib.randint(0, 1, (3,), dtype=lib.float32)))
    assert_same(*run_both(lambda lib: lib.randint(1, 2, (2,), dtype=lib.int8)))
    assert_same(*run_both(lambda lib: lib.randint(high=1, size=(2,))))
    with pytest.raises(TypeError):
        torchlike.randint(0, 5, 3)
    assert_raises_same(lambda lib: lib.randint(5, 5, (3,)))
    assert_raises_same(lambda lib: lib.randint(5, 2, (3,)))


@pytest.mark.parametrize("n", [0, 1, 10])
def test_randperm(n):
    ours, theirs = run_both(lambda lib: lib.randperm(n))
    assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype)
    assert sorted(ours.tolist()) == list(range(n))
    assert str(torchlike.randperm(n, dtype=torchlike.float32).dtype) == "torch.float32"


@pytest.mark.parametrize("name", ["rand", "randn"])
def test_same_seed_same_numbers(name):
    fn = getattr(torchlike, name)
    torchlike.manual_seed(123)
    a = fn(4, 3)
    b = fn(4, 3)
    torchlike.manual_seed(123)
    c = fn(4, 3)
    assert np.array_equal(a.numpy(), c.numpy())
    assert not np.array_equal(a.numpy(), b.numpy())


def test_generator_reproducible_and_independent_of_global():
    g = torchlike.Generator().manual_seed(7)
    a = torchlike.rand(5, generator=g)
    torchlike.manual_seed(0)
    torchlike.rand(3)          # global draws do not disturb g
    b = torchlike.rand(5, generator=g)
    g2 = torchlike.Generator()
    g2.manual_seed(7)
    assert np.array_equal(torchlike.rand(5, generator=g2).numpy(), a.numpy())
    assert np.array_equal(torchlike.rand(5, generator=g2).numpy(), b.numpy())
    assert np.array_equal(torchlike.randint(0, 100, (5,), generator=g.manual_seed(3)).numpy(),
                          torchlike.randint(0, 100, (5,), generator=g2.manual_seed(3)).numpy())
    assert np.array_equal(torchlike.randperm(8, generator=g.manual_seed(3)).numpy(),
                          torchlike.randperm(8, generator=g2.manual_seed(3)).numpy())


def test_rng_state_round_trip():
    torchlike.manual_seed(5)
    state = torchlike.get_rng_state()
    a = torchlike.randn(3)
    torchlike.set_rng_state(state)
    assert np.array_equal(torchlike.randn(3).numpy(), a.numpy())
    assert torchlike.initial_seed() == 5


def test_random_like_factories():
    def fn(lib):
        x = lib.zeros(2, 3, dtype=lib.float64)
        return [lib.rand_like(x), lib.randn_like(x), lib.randint_like(x, 10),
                lib.randint_like(x, 3, 5), lib.rand_like(x, dtype=lib.float16)]
    ours, theirs = run_both(fn)
    for a, b in zip(ours, theirs):
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype)
    vals = ours[3].numpy()
    assert vals.min() >= 3 and vals.max() < 5 and np.all(vals == np.floor(vals))


def test_random_requires_grad():
    ours, theirs = run_both(lambda lib: lib.randn(2, requires_grad=True))
    assert ours.requires_grad == theirs.requires_grad and ours.is_leaf


# -- dtype=, device=, requires_grad= on every factory -------------------------------------
FACTORY_CALLS = {
    "tensor": lambda lib, **kw: lib.tensor([1.0, 2.0], **kw),
    "zeros": lambda lib, **kw: lib.zeros(2, **kw),
    "ones": lambda lib, **kw: lib.ones(2, **kw),
    "full": lambda lib, **kw: lib.full((2,), 3.0, **kw),
    "eye": lambda lib, **kw: lib.eye(2, **kw),
    "arange": lambda lib, **kw: lib.arange(0.0, 3.0, **kw),
    "linspace": lambda lib, **kw: lib.linspace(0, 1, 3, **kw),
    "empty": lambda lib, **kw: lib.empty(2, **kw).zero_(),
}


@pytest.mark.parametrize("name", list(FACTORY_CALLS))
def test_factory_keywords(name):
    make = FACTORY_CALLS[name]
    assert_same(*run_both(lambda lib: make(lib, device="cpu")))
    assert_same(*run_both(lambda lib: make(lib, device=lib.device("cpu"))))
    assert_same(*run_both(lambda lib: make(lib, dtype=lib.float64)))
    if name != "empty":
        assert_same(*run_both(lambda lib: make(lib, requires_grad=True)))
    ours, theirs = run_both(lambda lib: make(lib))
    assert str(ours.device) == str(theirs.device) == "cpu"
    assert ours.is_leaf and theirs.is_leaf


# -- torch.Tensor legacy constructor ------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda lib: lib.Tensor([-4.0]),
    lambda lib: lib.Tensor([1, 2, 3]),
    lambda lib: lib.Tensor([[True, False]]),
    lambda lib: lib.Tensor(np.array([1, 2], dtype=np.int64)),
    lambda lib: lib.Tensor(),
    lambda lib: lib.Tensor([]),
    lambda lib: lib.Tensor(2, 3).zero_(),
    lambda lib: lib.Tensor(lib.Size([2, 2])).zero_(),
    lambda lib: lib.Tensor(0),
    lambda lib: lib.FloatTensor([1, 2]) if hasattr(lib, "FloatTensor") else lib.tensor([1., 2.]),
], ids=["list_float", "list_int", "bool", "numpy_int", "empty", "empty_list", "sizes",
        "Size", "zero", "FloatTensor"])
def test_legacy_constructor(fn):
    assert_same(*run_both(fn))


def test_legacy_constructor_shape_dtype_and_default_dtype():
    ours, theirs = run_both(lambda lib: lib.Tensor(2, 3))
    assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype)

    def double(lib):
        lib.set_default_dtype(lib.float64)
        try:
            return lib.Tensor([1.5]).dtype
        finally:
            lib.set_default_dtype(lib.float32)
    ours, theirs = run_both(double)
    # torch.Tensor is always the legacy FloatTensor type ... unless the default changes
    assert str(ours) == str(theirs)


def test_legacy_constructor_shares_tensor_storage():
    def fn(lib):
        a = lib.tensor([1.0, 2.0])
        b = lib.Tensor(a)
        b.add_(1)
        return a, b
    assert_same(*run_both(fn))


@pytest.mark.parametrize("fn", [
    lambda lib: lib.Tensor(-1),
    lambda lib: lib.Tensor("a"),
    lambda lib: lib.Tensor([1, "a"]),
    lambda lib: lib.Tensor(2.5),
    lambda lib: lib.Tensor(True),
    lambda lib: lib.Tensor(np.float64(2.0)),
    lambda lib: lib.Tensor([1 + 1j]),
    lambda lib: lib.Tensor(3, "a"),
    lambda lib: lib.Tensor([[1, 2], [3]]),
])
def test_legacy_constructor_errors(fn):
    assert_raises_same(fn)


def test_legacy_constructor_rejects_dtype_and_tensor_plus_size():
    for fn in (lambda lib: lib.Tensor(2, 3, dtype=lib.float64),
               lambda lib: lib.Tensor(lib.tensor([1.0]), 2)):
        with pytest.raises(TypeError, match="new\\(\\) received an invalid combination"):
            fn(torchlike)


def test_legacy_constructor_more_forms():
    assert_same(*run_both(lambda lib: lib.Tensor((2, 3))))
    assert_same(*run_both(lambda lib: lib.Tensor([2, 3])))
    assert_same(*run_both(lambda lib: lib.Tensor(np.int64(2)).zero_()))
    assert_same(*run_both(lambda lib: lib.Tensor([1e300])))
    assert_same(*run_both(lambda lib: lib.Tensor(lib.tensor([1, 2]))))

    def view_alias(lib):
        base = lib.arange(6.0).view(2, 3)
        t = lib.Tensor(base[:, 1])
        t.mul_(10)
        return t, base, t.stride(), t.storage_offset()
    assert_same(*run_both(view_alias))


# -- Tensor.new_* --------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda a: a.new_zeros(2),
    lambda a: a.new_zeros(2, 3),
    lambda a: a.new_zeros((2, 3)),
    lambda a: a.new_ones([2]),
    lambda a: a.new_ones(2, requires_grad=True),
    lambda a: a.new_full((2,), 3),
    lambda a: a.new_full((2,), 3, dtype=a.int().dtype),
    lambda a: a.new_tensor([1, 2]),
    lambda a: a.new_tensor([1, 2], dtype=a.int().dtype),
    lambda a: a.int().new_tensor([1.5]),
    lambda a: a.new_empty((2,)).zero_(),
    lambda a: a.new_tensor(a[0]),
])
def test_new_factories(fn):
    import warnings

    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(lib.zeros(2, 3, dtype=lib.float64, requires_grad=True))
    assert_same(*run_both(run))


def test_new_full_size_must_be_tuple():
    assert_raises_same(lambda lib: lib.zeros(2).new_full(2, 3))


def test_size_is_tuple_subclass():
    s = torchlike.Size([2, 3])
    assert isinstance(s, tuple) and s == (2, 3) and repr(s) == "torch.Size([2, 3])"
    assert math.prod(s) == s.numel() == 6


def test_randint_is_uniform_over_small_and_wide_spans():
    """A span below 2**16 scales one 32-bit word per draw, a wider one uses
    jax.random.randint: both stay in [low, high) and cover it evenly. 65,000 draws
    over 65 values: each count is 1000 on average with a standard deviation of about
    31, so 6 deviations (186) bound a fair count with certainty in practice."""
    torchlike.manual_seed(0)
    counts = np.bincount(torchlike.randint(-3, 62, (65000,)).numpy() + 3, minlength=65)
    assert len(counts) == 65 and np.abs(counts - 1000).max() < 186, counts
    wide = torchlike.randint(0, 2 ** 40, (1000,)).numpy()
    # a draw below 2**32 has probability 2**-8, so all 1000 below it would mean the wide
    # span was cut to 32 bits; the mean of 1000 uniform draws is within 10% of 2**39
    assert wide.min() >= 0 and wide.max() < 2 ** 40 and wide.max() >= 2 ** 32
    assert abs(wide.mean() / 2 ** 39 - 1) < 0.1
