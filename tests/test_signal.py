"""Window functions and torch.stft / torch.istft against real torch: values, dtypes,
grad_fn names, gradients, warnings and errors."""
import warnings

import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, check

pytestmark = pytest.mark.usefixtures("oracle")   # real torch is the oracle

WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]
SIGNAL = np.random.RandomState(0).randn(2, 40)
WEIGHTS = np.random.RandomState(1).randn(2, 9, 11)


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("args,dtype", [((0,), None), ((1,), None), ((5,), None),
                                        ((6, False), None), ((7,), "float64"),
                                        ((8, True), "float16")])
def test_window_values(name, args, dtype):
    # torch computes in the requested dtype, torchlike in float64 rounded once: they
    # differ by a few roundings of that dtype (float32 values near 0 differ absolutely)
    tol = dict(rtol=2e-3, atol=2e-3) if dtype == "float16" else dict(rtol=1e-6, atol=1e-6)
    check(lambda lib: getattr(lib, name)(
        *args, **({} if dtype is None else {"dtype": getattr(lib, dtype)})), **tol)


@pytest.mark.parametrize("call", [
    lambda lib: lib.hamming_window(6, False, 0.6, 0.3, dtype=lib.float64),
    lambda lib: lib.hamming_window(5, True, 0.5, dtype=lib.float64),
    lambda lib: lib.kaiser_window(6, True, 3.0, dtype=lib.float64),
    lambda lib: lib.kaiser_window(9, False, dtype=lib.float64),
    lambda lib: lib.hann_window(4, requires_grad=True),
])
def test_window_parameters(call):
    check(call, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("call", [
    lambda lib, fn: fn(-1),
    lambda lib, fn: fn(4, dtype=lib.int64),
    lambda lib, fn: fn(4, dtype=lib.bool),
    lambda lib, fn: fn(3, dtype=lib.complex64),
    lambda lib, fn: fn(2.5),
])
def test_window_errors(name, call):
    assert_raises_same(lambda lib: call(lib, getattr(lib, name)))


def _hann(lib, n=16):
    return lib.hann_window(n, dtype=lib.float64)


STFT_CASES = [
    lambda lib, x: lib.stft(x, 16, window=_hann(lib), return_complex=True),
    lambda lib, x: lib.stft(x, 16, window=_hann(lib), return_complex=True, center=False),
    lambda lib, x: lib.stft(x, 16, hop_length=3, window=_hann(lib), return_complex=True,
                            normalized=True, pad_mode="constant"),
    lambda lib, x: lib.stft(x[0], 16, window=_hann(lib), return_complex=True, onesided=False),
    lambda lib, x: lib.stft(x, 16, window=_hann(lib, 10), win_length=10, return_complex=True,
                            pad_mode="replicate"),
    lambda lib, x: lib.stft(x + 0j, 12, hop_length=5, return_complex=True),
    lambda lib, x: x.stft(16, window=_hann(lib), return_complex=True, pad_mode="circular"),
]


@pytest.mark.parametrize("call", STFT_CASES)
def test_stft_values_and_grad_fn(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # the no-window warning: checked below
        check(lambda lib: call(lib, lib.tensor(SIGNAL, requires_grad=True)).resolve_conj(),
              rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call", STFT_CASES[:5])
def test_stft_gradients(call):
    """A real loss of the complex spectrogram (through hfft, real-valued) back to the
    real signal."""
    def fn(lib):
        x = lib.tensor(SIGNAL, requires_grad=True)
        spectrum = call(lib, x)
        loss = lib.fft.hfft(spectrum, n=6, dim=-2)
        (loss * lib.tensor(np.ones(tuple(loss.shape)) * 0.5 + 0.1 * np.arange(loss.shape[-1])))\
            .sum().backward()
        return x.grad
    check(fn, rtol=1e-9, atol=1e-11)


_WARNING_SCRIPT = """
import warnings, numpy as np, {lib} as lib
x = lib.tensor(np.arange(40.0))
for _ in range(2):          # each warning comes once per process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = lib.stft(x, 16, return_complex=True)
        lib.stft(x, 16, window=lib.ones(16, dtype=lib.float64), return_complex=False)
        lib.istft(y, 16)
        lib.istft(y, 16, window=lib.ones(16, dtype=lib.float64), length=50)
    print(repr([(w.category.__name__, str(w.message)) for w in caught]))
"""


def test_warnings_match_pytorch_once_per_process():
    """stft's missing-window and real-output warnings, istft's missing-window and
    short-signal ones, each given once per process as PyTorch's TORCH_WARN_ONCE: run in fresh processes."""
    import os
    import subprocess
    import sys

    def run(lib):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        return subprocess.run([sys.executable, "-c", _WARNING_SCRIPT.format(lib=lib)], env=env,
                              capture_output=True, text=True, check=True).stdout
    ours, theirs = run("torchlike"), run("torch")
    assert ours == theirs
    assert theirs.count("UserWarning") == 4


def test_stft_real_output_stacks_parts():
    def fn(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lib.stft(lib.tensor(SIGNAL, requires_grad=True), 16, window=_hann(lib),
                            return_complex=False)
    check(fn, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.stft(x, 16, window=_hann(lib)),          # return_complex missing
    lambda lib, x: lib.stft(x, 16, window=_hann(lib, 10), return_complex=True),
    lambda lib, x: lib.stft(x, 100, window=_hann(lib, 100), return_complex=True),
    lambda lib, x: lib.stft(x, 16, window=_hann(lib, 16), center=False, hop_length=0,
                            return_complex=True),
    lambda lib, x: lib.stft(x, 16, win_length=20, window=_hann(lib, 20), return_complex=True),
    lambda lib, x: lib.stft(x, 16, window=_hann(lib), pad_mode="foo", return_complex=True),
    lambda lib, x: lib.stft(x[None], 16, window=_hann(lib), return_complex=True),
    lambda lib, x: lib.stft(x + 1j, 16, window=_hann(lib), return_complex=True, onesided=True),
])
def test_stft_errors(call):
    assert_raises_same(lambda lib: call(lib, lib.tensor(SIGNAL)))


def _spectrogram(lib, signal=SIGNAL, **kwargs):
    return lib.stft(lib.tensor(signal), 16, window=_hann(lib), return_complex=True, **kwargs)


ISTFT_CASES = [
    lambda lib, y: lib.istft(y, 16, window=_hann(lib)),
    lambda lib, y: lib.istft(y, 16, window=_hann(lib), length=37),
    lambda lib, y: lib.istft(y, 16, window=_hann(lib), length=50),
    lambda lib, y: lib.istft(y[0], 16, window=_hann(lib), normalized=True),
    lambda lib, y: lib.istft(y, 16, hop_length=4, window=_hann(lib, 12), win_length=12),
    lambda lib, y: y.istft(16, window=_hann(lib)),
]


@pytest.mark.parametrize("call", ISTFT_CASES)
def test_istft_values_grad_fn_and_gradients(call):
    def fn(lib):
        y = _spectrogram(lib).detach().requires_grad_(False)
        x = lib.tensor(SIGNAL, requires_grad=True)
        spectrum = lib.stft(x, 16, window=_hann(lib), return_complex=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # length=50 pads: checked above
            out = call(lib, spectrum)
            again = call(lib, y)
        (out * lib.tensor(np.linspace(-1, 1, out.shape[-1]))).sum().backward()
        return out, again, x.grad
    check(fn, rtol=1e-9, atol=1e-11)


def test_istft_round_trip_of_a_two_sided_complex_spectrogram():
    def fn(lib):
        y = lib.stft(lib.tensor(SIGNAL + 0.5j), 16, window=_hann(lib), return_complex=True)
        return lib.istft(y, 16, window=_hann(lib), return_complex=True), \
            lib.istft(y, 16, window=_hann(lib))
    check(fn, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda lib, y: lib.istft(lib.tensor(WEIGHTS), 16, window=_hann(lib)),   # real input
    lambda lib, y: lib.istft(y[None, None], 16, window=_hann(lib)),
    lambda lib, y: lib.istft(y[:, :8], 16, window=_hann(lib)),
    lambda lib, y: lib.istft(y, 16, window=_hann(lib), onesided=False),
    lambda lib, y: lib.istft(y, 16, window=_hann(lib), hop_length=0),
    lambda lib, y: lib.istft(y, 16, window=_hann(lib, 10)),
    lambda lib, y: lib.istft(y, 16, window=_hann(lib), return_complex=True),
    lambda lib, y: lib.istft(y, 16, window=_hann(lib), center=False),
])
def test_istft_errors(call):
    assert_raises_same(lambda lib: call(lib, _spectrogram(lib)))


# -- torch.signal.windows ---------------------------------------------------------------------
SIGNAL_WINDOWS = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "hamming", "hann",
                  "kaiser", "nuttall"]


@pytest.mark.parametrize("name", SIGNAL_WINDOWS)
@pytest.mark.parametrize("M,kwargs", [(0, {}), (1, {}), (6, {}), (7, {"sym": False}),
                                      (8, {"dtype": "float64"}),
                                      (5, {"sym": False, "dtype": "float64"})])
def test_signal_windows(name, M, kwargs):
    def fn(lib):
        k = dict(kwargs)
        if "dtype" in k:
            k["dtype"] = getattr(lib, k["dtype"])
        return getattr(lib.signal.windows, name)(M, **k)
    check(fn, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("call", [
    lambda lib: lib.signal.windows.general_cosine(7, a=[0.5, 0.3, 0.2], dtype=lib.float64),
    lambda lib: lib.signal.windows.general_hamming(6, alpha=0.6, sym=False, dtype=lib.float64),
    lambda lib: lib.signal.windows.kaiser(7, beta=4.0, dtype=lib.float64),
    lambda lib: lib.signal.windows.gaussian(9, std=2.5, sym=False, dtype=lib.float64),
    lambda lib: lib.signal.windows.exponential(8, center=2.0, tau=3.0, sym=False,
                                               dtype=lib.float64),
])
def test_signal_window_parameters(call):
    check(call, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda lib: lib.signal.windows.hann(-1),
    lambda lib: lib.signal.windows.bartlett(4, dtype=lib.float16),
    lambda lib: lib.signal.windows.cosine(4, dtype=lib.int64),
    lambda lib: lib.signal.windows.gaussian(4, std=0.0),
    lambda lib: lib.signal.windows.exponential(4, tau=-1.0),
    lambda lib: lib.signal.windows.exponential(4, center=1.0),
    lambda lib: lib.signal.windows.kaiser(4, beta=-1.0),
    lambda lib: lib.signal.windows.general_cosine(4, a=[]),
    lambda lib: lib.signal.windows.general_cosine(4, a=3),
])
def test_signal_window_errors(call):
    assert_raises_same(call)
