"""torchlike.testing.assert_close and make_tensor against torch.testing's (messages,
tolerances, dtypes, shapes and value ranges)."""
import math

import numpy as np
import pytest

import torchlike
from torchlike.testing import assert_close, make_tensor

torch = pytest.importorskip("torch")


def _outcome(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - compared with what torch raises
        return type(e).__name__, str(e)
    return None


NAN = math.nan
# (actual, expected, keyword arguments): each run through both libraries' assert_close
CASES = [
    ([1., 2., 3.], [1., 2.5, 3.], {}),
    ([1., 2., 3.], [1., 2. + 1e-6, 3.], {}),                      # within float32's default
    ([1, 2, 3], [1, 4, 3], {}),
    ([True], [False], {}),
    ([1., 2.], [1., 2.1], dict(rtol=0, atol=0)),
    ([1., 2.], [1., 2.1], dict(rtol=0.1, atol=0)),
    ([1., 2.], [1., 2.1], dict(rtol=0.1)),
    ([[1., NAN], [3., 4.]], [[1., NAN], [3., 5.]], dict(equal_nan=True)),
    ([NAN], [NAN], {}),
    ([0., 1.], [1e-9, 1.], {}),
    ([0., 1.], [0.5, 1.], {}),
    ([1., 2.], [1., 2., 3.], {}),
    (2.5, 3.0, {}),
]


def _build(lib, value, dtype=None):
    return lib.tensor(value, dtype=dtype) if isinstance(value, list) else lib.tensor(value)


@pytest.mark.parametrize("actual, expected, kwargs", CASES)
def test_assert_close_matches_torch(actual, expected, kwargs):
    theirs = _outcome(lambda: torch.testing.assert_close(
        _build(torch, actual), _build(torch, expected), **kwargs))
    ours = _outcome(lambda: assert_close(
        _build(torchlike, actual), _build(torchlike, expected), **kwargs))
    assert ours == theirs


@pytest.mark.parametrize("make", [
    lambda lib: ([lib.tensor(1.)], [lib.tensor(2.)]),
    lambda lib: ({"a": lib.tensor([1., 2.])}, {"a": lib.tensor([1., 3.])}),
    lambda lib: ({"a": 1}, {"b": 1}),
    lambda lib: ([1., 2.], [1., 2., 3.]),
    lambda lib: (1.0, 1.5),
    lambda lib: (1, 2),
    lambda lib: (1, 1.0),
    lambda lib: (lib.tensor([1., 2.]), lib.tensor([1., 2.], dtype=lib.float64)),
    lambda lib: (lib.tensor([1., 2.]), lib.tensor([1., 2.], dtype=lib.float64),
                 dict(check_dtype=False)),
    lambda lib: (lib.ones(2, 2).t(), lib.ones(2, 2), dict(check_stride=True)),
    lambda lib: (np.array([1., 2.]), np.array([1., 3.])),
    lambda lib: (lib.tensor([1., 2.]), lib.tensor([1., 2.1]), dict(msg="custom")),
    lambda lib: (lib.tensor([1., 2.]), lib.tensor([1., 2.1]), dict(msg=lambda m: "X" + m[:9])),
    lambda lib: (lib.tensor([[1., 2.], [3., 4.]]), lib.tensor([[1., 2.], [3., 4.5]])),
    lambda lib: (lib.tensor([1, 2]), lib.tensor([1., 2.]), dict(check_dtype=False)),
    lambda lib: (None, None),
], ids=range(16))
def test_assert_close_containers_and_options(make):
    def run(lib, check):
        args = make(lib)
        kwargs = args[2] if len(args) == 3 else {}
        return _outcome(lambda: check(args[0], args[1], **kwargs))
    assert run(torchlike, assert_close) == run(torch, torch.testing.assert_close)


def test_assert_close_refuses_a_tensor_against_a_number():
    # the message names each library's own Tensor class
    with pytest.raises(TypeError, match="No comparison pair was able to handle inputs"):
        assert_close(torchlike.tensor(1.), 1.0)
    with pytest.raises(TypeError, match="No comparison pair was able to handle inputs"):
        torch.testing.assert_close(torch.tensor(1.), 1.0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8", "uint8", "bool",
                                   "complex64"])
@pytest.mark.parametrize("kwargs", [{}, dict(low=-2, high=3), dict(low=-1000),
                                    dict(exclude_zero=True, low=0, high=2)])
def test_make_tensor_dtype_shape_and_range(dtype, kwargs):
    if dtype == "bool" and kwargs:
        pytest.skip("bounds do not apply to bool (torch ignores them)")
    theirs = torch.testing.make_tensor(50, 4, dtype=getattr(torch, dtype), device="cpu", **kwargs)
    ours = make_tensor(50, 4, dtype=getattr(torchlike, dtype), device="cpu", **kwargs)
    assert str(ours.dtype) == str(theirs.dtype) and tuple(ours.shape) == tuple(theirs.shape)
    if dtype == "bool":
        return
    # the value range both libraries promise: torch's samples bound it from inside
    a = np.asarray(ours).view(np.float32).reshape(50, 4, 2) if dtype == "complex64" else \
        np.asarray(ours)
    low = kwargs.get("low", 0 if dtype == "uint8" else -9)
    low = max(low, np.iinfo(dtype).min) if dtype.startswith(("int", "uint")) else low
    high = kwargs.get("high", 9 if dtype.startswith(("float", "complex")) else 10)
    assert a.min() >= low and a.max() < high
    if kwargs.get("exclude_zero"):
        assert (a != 0).all() and (theirs != 0).all()


@pytest.mark.parametrize("kwargs", [dict(low=5, high=1), dict(low=NAN),
                                    dict(low=2, high=2, dtype="int64"),
                                    dict(requires_grad=True, dtype="int64"),
                                    dict(low=math.inf)])
def test_make_tensor_errors_match_torch(kwargs):
    kwargs = dict(kwargs)
    dtype = kwargs.pop("dtype", "float32")
    theirs = _outcome(lambda: torch.testing.make_tensor(3, dtype=getattr(torch, dtype),
                                                        device="cpu", **kwargs))
    ours = _outcome(lambda: make_tensor(3, dtype=getattr(torchlike, dtype), **kwargs))
    assert theirs is not None and ours == theirs


def test_make_tensor_noncontiguous_and_requires_grad():
    theirs = torch.testing.make_tensor(2, 3, dtype=torch.float32, device="cpu",
                                       noncontiguous=True, requires_grad=True)
    ours = make_tensor((2, 3), dtype=torchlike.float32, noncontiguous=True, requires_grad=True)
    assert ours.is_contiguous() == theirs.is_contiguous() is False
    assert ours.stride() == theirs.stride() and ours.requires_grad and ours.is_leaf
