"""torch.stft and torch.istft (also Tensor.stft/istft), composed of torchlike's ops as
PyTorch composes them: pad, frame (unfold), window, FFT, transpose; and for the inverse
the inverse FFT, window, overlap-add and division by the summed squared window.

Overlap-add is the one op of its own here (a scatter-add of frames at hop steps), so
both directions are differentiable end to end.
"""

import jax.numpy as jnp

from .._tensor import Tensor, legacy_type_name
from ._common import expose, require_tensor, warn_once
from .dispatch import apply
from .registry import OPS, Op
from ._util import scalar_name
from . import spectral

_NO_WINDOW_STFT = (
    "A window was not provided. A rectangular window will be applied,which is known to cause "
    "spectral leakage. Other windows such as torch.hann_window or torch.hamming_window are "
    "recommended to reduce spectral leakage.To suppress this warning and use a rectangular "
    "window, explicitly set `window=torch.ones(n_fft, device=<device>)`. (Triggered internally "
    "at /__w/pytorch/pytorch/aten/src/ATen/native/SpectralOps.cpp:835.)")
_NO_WINDOW_ISTFT = (
    "A window was not provided. A rectangular window will be applied.Please provide the same "
    "window used by stft to make the inversion lossless.To suppress this warning and use a "
    "rectangular window, explicitly set `window=torch.ones(n_fft, device=<device>)`. "
    "(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/SpectralOps.cpp:1035.)")
_REAL_OUTPUT_DEPRECATED = (
    "stft with return_complex=False is deprecated. In a future pytorch release, stft will "
    "return complex tensors for all inputs, and return_complex=False will raise an error.\n"
    "Note: you can still call torch.view_as_real on the complex output to recover the old "
    "return format. (Triggered internally at "
    "/__w/pytorch/pytorch/aten/src/ATen/native/SpectralOps.cpp:874.)")

_SHORT_SIGNAL = (
    "The length of signal is shorter than the length parameter. Result is being padded with "
    "zeros in the tail. Please check your center and hop_length settings. (Triggered "
    "internally at /__w/pytorch/pytorch/aten/src/ATen/native/SpectralOps.cpp:1199.)")

# -- the ops of its own -------------------------------------------------------------------------
def _overlap_add_impl(frames, *, hop):
    """frames (..., n_frames, n_fft) summed into a signal of n_fft + hop * (n_frames - 1)."""
    n_frames, n_fft = frames.shape[-2:]
    positions = (jnp.arange(n_frames)[:, None] * hop + jnp.arange(n_fft)[None, :]).reshape(-1)
    length = n_fft + hop * (n_frames - 1)
    flat = frames.reshape(frames.shape[:-2] + (-1,))
    out = jnp.zeros(frames.shape[:-2] + (length,), frames.dtype)
    return out.at[..., positions].add(flat)


def _as_real_impl(z):
    return jnp.stack([jnp.real(z), jnp.imag(z)], axis=-1)


OPS["overlap_add"] = _overlap_add_op = Op("overlap_add", _overlap_add_impl, "Col2ImBackward0")
OPS["view_as_real_copy"] = _as_real_op = Op("view_as_real_copy", _as_real_impl,
                                            "ViewAsRealBackward0")


# -- descriptions in PyTorch's messages -----------------------------------------------------
def _window_desc(window):
    return "None" if window is None else f"{legacy_type_name(window)}{{{list(window.shape)}}}"


def _flag(value):
    return "None" if value is None else str(int(bool(value)))


def _stft_error(input, n_fft, hop, win_length, window, normalized, onesided, return_complex,
                message):
    return RuntimeError(
        f"stft({legacy_type_name(input)}{list(input.shape)}, n_fft={n_fft}, "
        f"hop_length={hop}, win_length={win_length}, window={_window_desc(window)}, "
        f"normalized={_flag(normalized)}, onesided={_flag(onesided)}, "
        f"return_complex={_flag(return_complex)}, align_to_window=None) : {message}")


def _centered_window(window, win_length, n_fft, dtype, device):
    """The window zero-padded to n_fft, centred, as PyTorch does for win_length < n_fft."""
    from .._factories import ones
    from ..nn.functional import pad
    if window is None:
        window = ones(win_length, dtype=dtype, device=device)
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        window = pad(window, (left, n_fft - win_length - left))
    return window


# -- stft ------------------------------------------------------------------------------------
def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
         pad_mode="reflect", normalized=False, onesided=None, return_complex=None,
         align_to_window=None):
    from ..nn.functional import pad
    require_tensor("stft", input, "input", 1)
    complex_input = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None:
        if not complex_input:
            raise RuntimeError("stft requires the return_complex parameter be given for real "
                               "inputs, and will further require that return_complex=True in "
                               "a future PyTorch release.")
        return_complex = True
    elif not return_complex:
        warn_once(_REAL_OUTPUT_DEPRECATED)
    if window is None:
        warn_once(_NO_WINDOW_STFT)
    if center:
        signal_dim = input.ndim
        extended = (1,) * (3 - signal_dim) + tuple(input.shape)
        half = n_fft // 2
        input = pad(input.view(extended), (half, half), pad_mode)
        input = input.view(tuple(input.shape)[-signal_dim:] if signal_dim else ())
    hop = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length

    def fail(message):
        return _stft_error(input, n_fft, hop, win_length, window, normalized, onesided,
                           return_complex, message)
    if input.ndim not in (1, 2):
        raise fail("expected a 1D or 2D tensor")
    batched = input.ndim == 2
    frames_of = input if batched else input.unsqueeze(0)
    length = frames_of.shape[1]
    if n_fft <= 0 or n_fft > length:
        raise fail(f"expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop <= 0:
        raise fail(f"expected hop_length > 0, but got hop_length={hop}")
    if win_length <= 0 or win_length > n_fft:
        raise fail(f"expected 0 < win_length <= n_fft, but got win_length={win_length}")
    if window is not None and (window.ndim != 1 or window.shape[0] != win_length):
        raise fail(f"expected a 1D window tensor of size equal to win_length={win_length}, "
                   f"but got window with size {list(window.shape)}")
    one_sided = (not complex_input) if onesided is None else onesided
    if one_sided and complex_input:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    frames = frames_of.unfold(-1, n_fft, hop)           # (batch, n_frames, n_fft)
    if window is not None:
        frames = frames * _centered_window(window, win_length, n_fft, None, None)
    norm = "ortho" if normalized else "backward"
    transform = spectral.rfft if one_sided else spectral.fft
    out = transform(frames, dim=-1, norm=norm).transpose_(1, 2)   # TransposeBackward1
    if not batched:
        out = out.squeeze_(0)                                       # SqueezeBackward4
    return out if return_complex else apply(_as_real_op, (out,))


# -- istft -------------------------------------------------------------------------------------
def _istft_error(input, n_fft, hop, win_length, window, center, normalized, onesided, length,
                 return_complex, message, separator=" : "):
    return RuntimeError(
        f"istft(CPU{scalar_name(input._dtype)}Type{list(input.shape)}, n_fft={n_fft}, hop_length={hop}, "
        f"win_length={win_length}, window={_window_desc(window)}, center={_flag(center)}, "
        f"normalized={_flag(normalized)}, onesided={_flag(onesided)}, length={length}, "
        f"return_complex={_flag(return_complex)}){separator}{message}")


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False):
    require_tensor("istft", input, "input", 1)
    if window is None:
        warn_once(_NO_WINDOW_ISTFT)
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    hop = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length

    def fail(message, separator=" : "):
        return _istft_error(input, n_fft, hop, win_length, window, center, normalized,
                            onesided, length, return_complex, message, separator)
    if input.ndim not in (2, 3):
        # PyTorch counts the real view's extra dimension of a complex input
        raise fail(f"expected a tensor with 3 or 4 dimensions, but got {input.ndim + 1}")
    batched = input.ndim == 3
    spectra = input if batched else input.unsqueeze(0)
    fft_size, n_frames = spectra.shape[1], spectra.shape[2]
    one_sided = fft_size != n_fft if onesided is None else onesided
    if one_sided:
        if n_fft // 2 + 1 != fft_size:
            raise fail("expected the frequency dimension (3rd to the last) of the input tensor "
                       "to match n_fft / 2 + 1 when onesided=True, but got " + str(fft_size))
    elif n_fft != fft_size:
        raise fail("expected the frequency dimension (3rd to the last) of the input tensor to "
                   f"match n_fft when onesided=False, but got {fft_size}")
    if not 0 < hop <= win_length:
        raise fail("expected 0 < hop_length <= win_length")
    if not 0 < win_length <= n_fft:
        raise fail("expected 0 < win_length <= n_fft")
    if window is not None and (window.ndim != 1 or window.shape[0] != win_length):
        raise fail("Invalid window shape. window has to be 1D and length of `win_length`")
    if return_complex and one_sided:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    real_dtype = spectral._real_of(spectral._complex_of(input._dtype))
    window = _centered_window(window, win_length, n_fft, real_dtype, input.device)
    frames = spectra.transpose(1, 2)                     # (batch, n_frames, fft_size)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        frames = spectral.ifft(frames, dim=-1, norm=norm)
    else:
        if not one_sided:
            frames = frames.narrow(-1, 0, n_fft // 2 + 1)
        frames = spectral.irfft(frames, n=n_fft, dim=-1, norm=norm)
    signal = apply(_overlap_add_op, (frames * window,), (("hop", hop),))
    envelope = apply(_overlap_add_op, ((window * window).unsqueeze(0).expand(n_frames, n_fft),),
                     (("hop", hop),))
    expected = n_fft + hop * (n_frames - 1)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = expected - n_fft // 2 if center else expected
    end = min(end, expected)
    signal = signal[:, start:end]
    envelope = envelope[start:end]
    if bool((envelope.abs() < 1e-11).any()):
        raise fail("window overlap add min: 1\n[ CPUBoolType{} ]", separator=" ")
    signal = signal / envelope
    if not batched:
        signal = signal.squeeze(0)
    if length is not None and start + length > expected:
        from ..nn.functional import pad
        warn_once(_SHORT_SIGNAL)
        signal = pad(signal, (0, start + length - expected))
    return signal


expose("stft", stft, inplace=False, out=False)
expose("istft", istft, inplace=False, out=False)
