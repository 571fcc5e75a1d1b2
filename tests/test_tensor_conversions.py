"""Conversions against real torch: .to() in all its forms, dtype shortcuts, .type(),
.item(), .tolist(), numpy interop and Python's number protocols."""
import warnings

import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, check, run_both, torch

pytestmark = pytest.mark.usefixtures("oracle")


def same_python(fn):
    """fn(lib) returns plain Python data, equal (and of equal types) under both."""
    try:
        theirs = fn(torch)
    except Exception:  # noqa: BLE001
        assert_raises_same(fn)
        return
    ours = fn(torchlike)
    assert repr(ours) == repr(theirs), (ours, theirs)      # repr: nan == nan, types
    assert _types(ours) == _types(theirs), (ours, theirs)


def _types(x):
    if isinstance(x, (list, tuple)):
        return [_types(v) for v in x]
    return type(x).__name__


DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
          "float32", "float64", "complex64"]
SOURCE = [[-2.5, -1.0, 0.0, 0.5, 1.7, 300.0]]


# -- .to() -------------------------------------------------------------------------------
@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_to_dtype_all_pairs(src, dst):
    def fn(lib):
        values = [0, 1, 2, 3] if src in ("bool", "uint8") else [-3, -1, 0, 1, 2, 100]
        x = lib.tensor(values, dtype=getattr(lib, src))
        return x.to(getattr(lib, dst))
    # small integers convert exactly to every dtype (a cast is correctly rounded);
    # 1e-2 exceeds a bfloat16 ulp at 1 (2**-7)
    check(fn, atol=1e-2)


@pytest.mark.parametrize("dst", ["uint8", "int8", "int16", "int32", "int64", "bool"])
@pytest.mark.parametrize("src", ["float16", "bfloat16", "float32", "float64"])
def test_float_to_int_out_of_range_like_torch_cpu(src, dst):
    """C casts: truncate into int32/int64, NaN and overflow give the minimum, then wrap."""
    def fn(lib):
        x = lib.tensor([300.0, -129.0, -1.5, 255.9, 1e10, -1e10, float("nan"), float("inf")],
                       dtype=getattr(lib, src))
        return x.to(getattr(lib, dst))
    check(fn)


def test_complex_conversions():
    check(lambda lib: lib.tensor([1 + 2j, 3j, 0j]).bool())
    check(lambda lib: lib.tensor([1.5 + 2j, -3j]).to(lib.int32))
    check(lambda lib: lib.tensor([1.5 + 2j, -3j]).float())


@pytest.mark.parametrize("form", [
    lambda lib, x: x.to(lib.float64),
    lambda lib, x: x.to("cpu"),
    lambda lib, x: x.to(lib.device("cpu")),
    lambda lib, x: x.to("cpu", lib.int32),
    lambda lib, x: x.to(lib.device("cpu"), lib.float16),
    lambda lib, x: x.to(dtype=lib.float64),
    lambda lib, x: x.to(device="cpu"),
    lambda lib, x: x.to(device="cpu", dtype=lib.int64),
    lambda lib, x: x.to(lib.tensor([1], dtype=lib.int8)),
    lambda lib, x: x.to(other=lib.tensor([1], dtype=lib.int8)) if False else x.to(lib.zeros(1)),
    lambda lib, x: x.to(lib.float32, copy=True),
    lambda lib, x: x.to(lib.float32, non_blocking=True),
    lambda lib, x: x.to("cpu", non_blocking=True, copy=False),
], ids=["dtype", "str", "device", "str_dtype", "device_dtype", "kw_dtype", "kw_device",
        "kw_both", "tensor", "tensor_float", "copy", "non_blocking", "device_kw"])
def test_to_forms(form):
    check(lambda lib: form(lib, lib.tensor([[1.5, -2.0], [3.25, 0.0]])))


def test_to_same_dtype_returns_self_and_copy_does_not():
    x = torchlike.tensor([1.0, 2.0])
    assert x.to(torchlike.float32) is x and x.to("cpu") is x and x.float() is x
    assert x.to(torchlike.float32, copy=True) is not x
    tx = torch.tensor([1.0, 2.0])
    assert tx.to(torch.float32) is tx and tx.float() is tx


def test_to_keeps_autograd():
    def fn(lib):
        x = lib.tensor([1.5, 2.5], requires_grad=True)
        y = x.to(lib.float64)
        z = x.double().float()
        (y.sum() + z.sum()).backward()
        return y, z, x.grad, x.to(lib.float32)
    check(fn)


def test_to_errors():
    check(lambda lib: lib.tensor([1.0]).to("foo"))
    check(lambda lib: lib.tensor([1.0]).to("mps"))
    with pytest.raises(TypeError):
        torchlike.tensor([1.0]).to(1.5)
    with pytest.raises(TypeError):
        torchlike.tensor([1.0]).to(dtype=torchlike.float32, foo=1)


@pytest.mark.parametrize("method", ["float", "double", "half", "bfloat16", "long", "int", "short",
                                    "char", "byte", "bool", "cfloat"])
@pytest.mark.parametrize("src", ["float32", "int64", "bool", "float64"])
def test_dtype_shortcut_methods(method, src):
    def fn(lib):
        x = lib.tensor([0, 1, 2], dtype=getattr(lib, src))
        return getattr(x, method)()
    check(fn)


@pytest.mark.parametrize("other", ["int32", "float64", "bool", "float16"])
def test_type_as(other):
    check(lambda lib: lib.tensor([1.7, -2.2]).type_as(lib.zeros(1, dtype=getattr(lib, other))))


# -- .type() -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES + ["complex128"])
def test_type_string(dtype):
    def fn(lib):
        return lib.zeros(2, dtype=getattr(lib, dtype)).type()
    ours, theirs = run_both(fn)
    assert ours == theirs


@pytest.mark.parametrize("name", ["torch.IntTensor", "torch.FloatTensor", "torch.DoubleTensor",
                                  "torch.LongTensor", "torch.ByteTensor", "torch.BoolTensor",
                                  "torch.HalfTensor", "torch.BFloat16Tensor"])
def test_type_conversion_by_name(name):
    check(lambda lib: lib.tensor([1.7, -2.2, 0.0]).type(name))


@pytest.mark.parametrize("name", ["foo", "torch.float32", "FloatTensor", "torch.Foo"])
def test_type_bad_names(name):
    check(lambda lib: lib.tensor([1.0]).type(name))


def test_type_with_dtype():
    check(lambda lib: lib.tensor([1.7]).type(lib.int64))
    check(lambda lib: lib.tensor([1.7]).type(lib.float32))


def test_type_cuda_name():
    if torchlike.cuda.is_available():
        pytest.skip("only CPU-only builds refuse torch.cuda.* types")   # GPU machines
    check(lambda lib: lib.tensor([1.7]).type("torch.cuda.FloatTensor"))


# -- item / tolist / numpy --------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor(2.5),
    lambda lib: lib.tensor([2]),
    lambda lib: lib.tensor([[True]]),
    lambda lib: lib.tensor(1 + 2j),
    lambda lib: lib.tensor([1.1], dtype=lib.float64),
    lambda lib: lib.tensor([1.1]),
    lambda lib: lib.tensor([1.5], dtype=lib.bfloat16),
    lambda lib: lib.tensor([1.5], dtype=lib.float16),
    lambda lib: lib.tensor(7, dtype=lib.uint8),
    lambda lib: lib.tensor(1.5, requires_grad=True),
    lambda lib: lib.tensor([1, 2]),
    lambda lib: lib.tensor([]),
    lambda lib: lib.arange(6).view(2, 3)[1, 2],
])
def test_item(make):
    same_python(lambda lib: make(lib).item())


@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor([[1.5], [2.0]]),
    lambda lib: lib.tensor(2),
    lambda lib: lib.tensor([1.1]),
    lambda lib: lib.tensor([1.1], dtype=lib.float16),
    lambda lib: lib.tensor([1.1], dtype=lib.bfloat16),
    lambda lib: lib.tensor([True, False]),
    lambda lib: lib.tensor([1 + 1j]),
    lambda lib: lib.zeros(2, 0, 3),
    lambda lib: lib.tensor([1.5, 2.5], requires_grad=True),
    lambda lib: lib.arange(12).view(3, 4).t()[::2],
    lambda lib: lib.tensor([float("nan"), float("inf")]),
])
def test_tolist(make):
    same_python(lambda lib: make(lib).tolist())


@pytest.mark.parametrize("dtype", [d for d in DTYPES if d != "bfloat16"])
def test_numpy(dtype):
    def fn(lib):
        return lib.tensor([[0, 1], [2, 3]], dtype=getattr(lib, dtype)).numpy()
    ours, theirs = run_both(fn)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_numpy_errors():
    check(lambda lib: lib.tensor([1.5], requires_grad=True).numpy())
    check(lambda lib: lib.tensor([1.5], dtype=lib.bfloat16).numpy())
    check(lambda lib: np.asarray(lib.tensor([1.5], requires_grad=True)))
    check(lambda lib: lib.tensor([1.5], requires_grad=True).detach().numpy().tolist() and
          lib.tensor(0))


def test_np_asarray_and_numpy_views():
    def fn(lib):
        x = lib.arange(12).view(3, 4)
        return (np.asarray(x).tolist(), np.asarray(x, dtype=np.float32).dtype.name,
                np.asarray(x.t()).tolist(), x[:, 1].numpy().tolist(),
                np.asarray(lib.tensor(3.5)).shape, np.array(x[1:, ::2]).tolist(),
                np.asarray(lib.tensor([True])).dtype.name)
    ours, theirs = run_both(fn)
    assert ours == theirs


def test_numpy_functions_accept_tensors():
    def fn(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
        return np.mean(np.asarray(x)).item(), np.stack([x, x]).shape, np.exp(x).tolist()
    ours, theirs = run_both(fn)
    assert ours == theirs


def test_numpy_reductions_accept_tensors():
    def fn(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
        return x.sum(axis=0).tolist(), x.mean(axis=1).tolist()
    ours, theirs = run_both(fn)
    assert ours == theirs
    # np.sum(t) calls t.sum(axis=None, dtype=None, out=None), which torch 2.13 refuses
    # (TypeError "sum() got an unexpected keyword argument 'axis'"): only the class is
    # compared, the wording is the argument parser's
    for lib in (torch, torchlike):
        with pytest.raises(TypeError):
            np.sum(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))


def test_cpu():
    check(lambda lib: lib.tensor([1.5]).cpu())
    x = torchlike.tensor([1.0])
    assert x.cpu() is x


# -- Python protocols --------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda lib: float(lib.tensor([1.5])),
    lambda lib: float(lib.tensor(2)),
    lambda lib: float(lib.tensor([[True]])),
    lambda lib: float(lib.tensor([1, 2])),
    lambda lib: float(lib.tensor([])),
    lambda lib: float(lib.tensor(1 + 2j)),
    lambda lib: float(lib.tensor(2 + 0j)),
    lambda lib: float(lib.tensor(1.5, requires_grad=True)),
    lambda lib: int(lib.tensor(2.7)),
    lambda lib: int(lib.tensor([-2.7])),
    lambda lib: int(lib.tensor(1 + 2j)),
    lambda lib: int(lib.tensor(True)),
    lambda lib: int(lib.zeros(2, 3)),
    lambda lib: complex(lib.tensor(1 + 2j)),
    lambda lib: complex(lib.tensor(2.0)),
    lambda lib: bool(lib.tensor([0])),
    lambda lib: bool(lib.tensor(0.5)),
    lambda lib: bool(lib.tensor(1j)),
    lambda lib: bool(lib.tensor([1, 2])),
    lambda lib: bool(lib.tensor([])),
    lambda lib: [10, 20, 30][lib.tensor(1)],
    lambda lib: [10, 20, 30][lib.tensor([2])],
    lambda lib: [10, 20, 30][lib.tensor(1.0)],
    lambda lib: [10, 20, 30][lib.tensor([1, 2])],
    lambda lib: [10, 20, 30][lib.tensor(True)],
    lambda lib: range(10)[lib.tensor(3, dtype=lib.int8)],
    lambda lib: len(lib.zeros(3, 2)),
    lambda lib: len(lib.tensor(1)),
    lambda lib: len(lib.zeros(0)),
    lambda lib: list(lib.tensor(1)),
    lambda lib: [x.tolist() for x in lib.tensor([[1, 2], [3, 4]])],
    lambda lib: [x.shape == (2,) for x in lib.zeros(3, 2)],
    lambda lib: list(lib.zeros(0, 2)),
    lambda lib: f"{lib.tensor(2.5):.3f}",
    lambda lib: f"{lib.tensor(3):d}",
    lambda lib: "%.2f" % lib.tensor(1.25),
    lambda lib: lib.tensor(2) in lib.tensor([1, 2]),
    lambda lib: 5 in lib.tensor([1, 2]),
], ids=lambda f: None)
def test_python_protocols(fn):
    same_python(fn)


def test_format_of_tensors_with_dims_is_repr():
    ours, theirs = run_both(lambda lib: f"{lib.tensor([1.5, 2.0])}")
    assert ours == theirs
    with pytest.raises(TypeError):
        f"{torchlike.tensor([1.5]):.2f}"


def test_tensor_as_shape_and_index_arguments():
    def fn(lib):
        n = lib.tensor(3)
        return lib.zeros(n, 2), lib.ones(int(n)), lib.arange(10)[n], lib.arange(10)[:n]
    check(fn)


def test_iteration_yields_views():
    def fn(lib):
        x = lib.zeros(2, 3)
        for row in x:
            row.add_(1)
        return x
    check(fn)


def test_tensor_conversion_warnings():
    """torch.tensor(tensor) warns; torch.as_tensor(tensor) does not."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torchlike.tensor(torchlike.tensor([1.0]))
    assert any("recommended to use sourceTensor.detach().clone()" in str(w.message)
               for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torchlike.as_tensor(torchlike.tensor([1.0]))
