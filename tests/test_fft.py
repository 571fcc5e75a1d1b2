"""torchlike.fft against real torch: values, dtypes, shapes, grad_fn names, gradients
and PyTorch's errors for every public function of torch.fft."""
import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, assert_same, check, run_both

pytestmark = pytest.mark.usefixtures("oracle")   # real torch is the oracle

ONE_D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
N_D = ["fft2", "ifft2", "fftn", "ifftn", "rfft2", "irfft2", "rfftn", "irfftn", "hfft2",
       "ihfft2", "hfftn", "ihfftn"]
REAL_ONLY = {"rfft", "ihfft", "rfft2", "rfftn", "ihfft2", "ihfftn"}   # complex input raises

_rng = np.random.RandomState(0)
REAL = _rng.randn(4, 6)
COMPLEX = REAL + 1j * _rng.randn(4, 6)
WEIGHTS = _rng.randn(8, 12)


def _tensor(lib, values, requires_grad=False):
    return lib.tensor(values, requires_grad=requires_grad)


def _grad_fn_name(t):
    return None if t.grad_fn is None else t.grad_fn.name()


def _compare(fn, tol=1e-12):
    """fn(lib) -> tensor: the same values, dtype, shape and grad_fn. PyTorch returns some
    Hermitian results as conjugate views; the comparison reads resolved values."""
    ours, theirs = run_both(fn)
    assert _grad_fn_name(ours) == _grad_fn_name(theirs)
    assert_same(ours.resolve_conj(), theirs.resolve_conj(), atol=tol, rtol=tol,
                check_grad_fn=False)


@pytest.mark.parametrize("name", ONE_D)
@pytest.mark.parametrize("kwargs", [{}, {"norm": "ortho"}, {"norm": "forward"}, {"n": 9},
                                    {"n": 3, "dim": 0}])
def test_one_dimensional_transforms(name, kwargs):
    values = REAL if name in REAL_ONLY else COMPLEX
    _compare(lambda lib: getattr(lib.fft, name)(_tensor(lib, values, True), **kwargs))


@pytest.mark.parametrize("name", N_D)
@pytest.mark.parametrize("kwargs", [{}, {"norm": "ortho"}, {"s": (3, 8)}, {"s": (-1, 5)},
                                    {"dim": (0,), "norm": "forward"}])
def test_n_dimensional_transforms(name, kwargs):
    values = REAL if name in REAL_ONLY else COMPLEX
    _compare(lambda lib: getattr(lib.fft, name)(_tensor(lib, values, True), **kwargs))


def test_more_than_three_axes_and_empty_dims():
    x = _rng.randn(2, 3, 2, 4)
    _compare(lambda lib: lib.fft.fftn(_tensor(lib, x)))
    _compare(lambda lib: lib.fft.ifftn(_tensor(lib, x + 1j), s=(2, 2, 3, 5)))
    _compare(lambda lib: lib.fft.fftn(_tensor(lib, x), dim=()))       # a complex copy
    _compare(lambda lib: lib.fft.fftn(lib.tensor(2.5)))                # 0-dim: all of none


@pytest.mark.parametrize("name", ["fft", "rfft", "irfft", "hfft", "ihfft", "fftn", "rfftn",
                                  "hfftn", "ihfftn"])
@pytest.mark.parametrize("make", [lambda lib: lib.arange(6), lambda lib: lib.ones(2, 3, dtype=lib.bool),
                                  lambda lib: lib.ones(6, dtype=lib.float32)])
def test_output_dtypes_follow_pytorch(name, make):
    """Integers and bools compute in the default float dtype; float32 gives complex64."""
    check(lambda lib: getattr(lib.fft, name)(make(lib)).resolve_conj(), atol=1e-5, rtol=1e-5)


def test_default_dtype_float64_gives_complex128():
    def fn(lib):
        lib.set_default_dtype(lib.float64)
        return lib.fft.fft(lib.arange(5))
    _compare(fn)


def _real_loss(lib, z):
    """A real scalar from a complex tensor, through a complex-to-real transform: its
    gradient checks PyTorch's convention for complex intermediates of a real loss."""
    return (lib.fft.hfft(z, n=8) * lib.tensor(WEIGHTS[: z.shape[0], :8])).sum()


@pytest.mark.parametrize("name,kwargs", [
    ("fft", {}), ("ifft", {"norm": "ortho"}), ("fft", {"n": 9}), ("ifft", {"n": 4}),
    ("rfft", {}), ("rfft", {"n": 11, "norm": "forward"}), ("ihfft", {}),
    ("fft2", {}), ("ifftn", {"s": (5, 7)}), ("rfft2", {"norm": "ortho"}),
    ("rfftn", {"s": (3, 4)}), ("ihfftn", {}), ("ihfft2", {"s": (4, 9)}),
])
def test_gradients_of_real_inputs_through_complex_results(name, kwargs):
    def fn(lib):
        x = _tensor(lib, REAL, True)
        _real_loss(lib, getattr(lib.fft, name)(x, **kwargs)).backward()
        return x.grad
    _compare(fn, tol=1e-10)


@pytest.mark.parametrize("name,kwargs", [
    ("irfft", {}), ("irfft", {"n": 7, "norm": "ortho"}), ("hfft", {"n": 5}),
    ("irfftn", {}), ("irfft2", {"s": (3, 9)}), ("hfftn", {"norm": "forward"}),
    ("hfft2", {"s": (5, 4)}),
])
def test_gradients_of_complex_to_real_transforms(name, kwargs):
    """A real leaf made complex by fft, then a c2r transform: the Hermitian doubling of
    the backward pass (PyTorch's c2r backward) is exercised on real gradients."""
    def fn(lib):
        x = _tensor(lib, REAL, True)
        y = getattr(lib.fft, name)(lib.fft.fft(x, dim=0), **kwargs)
        (y * lib.tensor(WEIGHTS[: y.shape[0], : y.shape[1]])).sum().backward()
        return x.grad
    _compare(fn, tol=1e-10)


# PyTorch's gradient of a real loss at a complex leaf is dL/dRe + i dL/dIm, the
# conjugate of JAX's cotangent; the engine conjugates (torchlike/autograd).
def test_gradient_of_a_complex_leaf():
    def fn(lib):
        z = _tensor(lib, COMPLEX, True)
        (lib.fft.irfft(z) * lib.tensor(WEIGHTS[:4, :10])).sum().backward()
        return z.grad
    _compare(fn, tol=1e-10)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.fft.fft(x, dim=2),
    lambda lib, x: lib.fft.fft(x, norm="foo"),
    lambda lib, x: lib.fft.fft(x, n=0),
    lambda lib, x: lib.fft.ifft(x, n=-1),
    lambda lib, x: lib.fft.irfft(x[:, :1]),
    lambda lib, x: lib.fft.fftn(x, s=(2,), dim=(0, 1)),
    lambda lib, x: lib.fft.fftn(x, dim=(0, -2)),
    lambda lib, x: lib.fft.fftn(x, s=(0, 2)),
    lambda lib, x: lib.fft.fftn(x, s=(2, 3, 4)),
    lambda lib, x: lib.fft.fft2(x[0]),
    lambda lib, x: lib.fft.irfftn(x, dim=()),
    lambda lib, x: lib.fft.rfft(x + 1j, dim=7),               # dtype checked before dim
    lambda lib, x: lib.fft.ihfft(x + 1j, norm="bad"),
    lambda lib, x: lib.fft.rfftn(x + 1j),
    lambda lib, x: lib.fft.ihfftn(x + 1j, norm="bad"),         # norm checked before dtype
    lambda lib, x: lib.fft.ihfft2(x + 1j),
    lambda lib, x: lib.fft.fft(x.half()),
    lambda lib, x: lib.fft.rfft(x.bfloat16()),
    lambda lib, x: lib.fft.fft(x[0, 0]),
    lambda lib, x: lib.fft.fft(x, dim=1.5),
    lambda lib, x: lib.fft.fft([1.0, 2.0]),
    lambda lib, x: lib.fft.fftshift(x, dim=5),
    lambda lib, x: lib.fft.fftfreq(-1),
])
def test_errors_match_pytorch(call):
    assert_raises_same(lambda lib: call(lib, lib.tensor(REAL)))


def test_out_argument():
    def fn(lib):
        out = lib.empty(0, dtype=lib.complex128)
        result = lib.fft.fft(lib.tensor(REAL), out=out)
        assert result is out
        return out
    _compare(fn)


@pytest.mark.parametrize("call", [
    lambda lib: lib.fft.fftfreq(5), lambda lib: lib.fft.fftfreq(6, d=0.25),
    lambda lib: lib.fft.rfftfreq(7, 2.0, dtype=lib.float64), lambda lib: lib.fft.rfftfreq(1),
    lambda lib: lib.fft.fftfreq(0), lambda lib: lib.fft.fftfreq(4, requires_grad=True),
    lambda lib: lib.fft.fftshift(lib.arange(6)),
    lambda lib: lib.fft.ifftshift(lib.arange(5).reshape(1, 5)),
    lambda lib: lib.fft.fftshift(lib.arange(12).reshape(3, 4), dim=1),
    lambda lib: lib.fft.ifftshift(lib.arange(12.0).reshape(3, 4), dim=(0, -1)),
])
def test_frequencies_and_shifts(call):
    check(call, atol=0, rtol=1e-7)


def test_shift_gradients():
    def fn(lib):
        x = _tensor(lib, REAL, True)
        (lib.fft.ifftshift(lib.fft.fftshift(x, dim=0) * lib.tensor(WEIGHTS[:4, :6]))).sum()\
            .backward()
        return x.grad
    check(fn)


def test_fft_is_reachable_after_plain_import():
    assert torchlike.fft.__name__ == "torchlike.fft"
    import torch
    assert sorted(n for n in dir(torch.fft) if not n.startswith("_") and n not in
                  ("Tensor", "torch", "common_args", "factory_common_args")) \
        == sorted(torchlike.fft.__all__)
