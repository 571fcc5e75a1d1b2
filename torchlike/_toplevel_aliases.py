"""torch.* names that are other spellings of functions torchlike already has.

PyTorch exposes many nn.functional kernels at the top level too (`torch.conv2d`,
`torch.layer_norm`, `torch.kl_div` ...), with ATen's signatures: positional arguments in
ATen's order and `reduction` as an integer (0 none, 1 mean, 2 sum). Each adapter here
maps that signature onto the functional; functions PyTorch removed raise its RuntimeError.
`torchlike/__init__.py` copies `NAMES` into the namespace.
"""
import builtins
import math
import operator
import os
import warnings

import numpy as np

import torchlike as _torch
from torchlike import _barebones_dtypes, _dtype, _factories
from torchlike.jit import Future
from torchlike._tensor import Tensor
from torchlike.nn import functional as F
from torchlike.nn._functional_layers import rnn as _rnn

_REDUCTIONS = ("none", "mean", "sum")        # ATen's Reduction enum, by value


def _reduction(value):
    return _REDUCTIONS[operator.index(value)]


# -- convolution and pooling: the functional's own signature ------------------------------
conv1d, conv2d, conv3d = F.conv1d, F.conv2d, F.conv3d
conv_transpose1d, conv_transpose2d, conv_transpose3d = (F.conv_transpose1d, F.conv_transpose2d,
                                                        F.conv_transpose3d)
avg_pool1d, adaptive_avg_pool1d = F.avg_pool1d, F.adaptive_avg_pool1d
pixel_shuffle, pixel_unshuffle, channel_shuffle = (F.pixel_shuffle, F.pixel_unshuffle,
                                                   F.channel_shuffle)
rms_norm = F.rms_norm


def adaptive_max_pool1d(input, output_size):
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode,
                        return_indices=True)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool2d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool3d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    dims = weight.dim() - 2
    if transposed:
        conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[dims - 1]
        return conv(input, weight, bias, stride, padding, output_padding, groups, dilation)
    conv = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
    return conv(input, weight, bias, stride, padding, dilation, groups)


def conv_tbc(input, weight, bias, pad=0):
    """Time-batch-channel convolution: input (T, B, Cin), weight (K, Cin, Cout)."""
    out = F.conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return out.permute(2, 0, 1)


# -- normalization: ATen's argument order --------------------------------------------------
def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    return F.group_norm(input, num_groups, weight, bias, eps)


# -- losses: reduction as ATen's integer ---------------------------------------------------
def kl_div(input, target, reduction=1, *, log_target=False):
    return F.kl_div(input, target, reduction=_reduction(reduction), log_target=log_target)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    return F.binary_cross_entropy_with_logits(input, target, weight,
                                              reduction=_reduction(reduction),
                                              pos_weight=pos_weight)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    return F.cosine_embedding_loss(input1, input2, target, margin,
                                   reduction=_reduction(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction(reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-06, swap=False,
                        reduction=1):
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                 reduction=_reduction(reduction))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1,
             zero_infinity=False):
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                      _reduction(reduction), zero_infinity)


# -- sampling grids ------------------------------------------------------------------------
_INTERPOLATION = ("bilinear", "nearest", "bicubic")       # GridSamplerInterpolation
_PADDING = ("zeros", "border", "reflection")              # GridSamplerPadding


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    return F.grid_sample(input, grid, _INTERPOLATION[interpolation_mode],
                         _PADDING[padding_mode], align_corners)


def affine_grid_generator(theta, size, align_corners):
    return F.affine_grid(theta, size, align_corners)


# -- recurrent layers as functions of flat weight lists ------------------------------------
def _cell(mode, input, hx, w_ih, w_hh, b_ih, b_hh):
    weights = [w_ih, w_hh] + ([b_ih, b_hh] if b_ih is not None else [])
    return _rnn.rnn_cell(mode, input, hx, weights, b_ih is not None)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _cell("RNN_TANH", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _cell("RNN_RELU", input, hx, w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _cell("GRU", input, hx, w_ih, w_hh, b_ih, b_hh)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return _cell("LSTM", input, tuple(hx), w_ih, w_hh, b_ih, b_hh)


def _sequence(mode, input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
              batch_first):
    directions = 2 if bidirectional else 1
    dropout_p = dropout if train else 0.0
    noise = []
    if dropout_p and num_layers > 1:        # one dropout mask per layer output but the last
        hidden = hx[0].shape[-1] if mode == "LSTM" else hx.shape[-1]
        steps, batch = ((input.shape[1], input.shape[0]) if batch_first
                        else (input.shape[0], input.shape[1] if input.dim() == 3 else 1))
        noise = [_factories.rand((steps, batch, hidden * directions), dtype=input.dtype)
                 for _ in range(num_layers - 1)]
    return _rnn.rnn(mode, input, tuple(hx) if mode == "LSTM" else hx, list(params),
                    layers=num_layers, directions=directions, has_bias=bool(has_biases), proj=0,
                    dropout_p=dropout_p, batch_first=batch_first, noise=noise)


def lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    out, (h, c) = _sequence("LSTM", input, hx, params, has_biases, num_layers, dropout, train,
                            bidirectional, batch_first)
    return out, h, c


def gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    return _sequence("GRU", input, hx, params, has_biases, num_layers, dropout, train,
                     bidirectional, batch_first)


def rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first):
    return _sequence("RNN_TANH", input, hx, params, has_biases, num_layers, dropout, train,
                     bidirectional, batch_first)


def rnn_relu(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first):
    return _sequence("RNN_RELU", input, hx, params, has_biases, num_layers, dropout, train,
                     bidirectional, batch_first)


# -- norms under their old names -----------------------------------------------------------
def frobenius_norm(input, dim, keepdim=False):
    warnings.warn("at::frobenius_norm is deprecated and it is just left for JIT compatibility. "
                  "It will be removed in a future PyTorch release. Please use "
                  "`linalg.vector_norm(A, 2., dim, keepdim)` instead", UserWarning, stacklevel=2)
    return _torch.linalg.vector_norm(input, 2, dim, keepdim)


def nuclear_norm(input, dim=(-2, -1), keepdim=False):
    warnings.warn("at::nuclear_norm is deprecated and it is just left for JIT compatibility. "
                  "It will be removed in a future PyTorch release. Please use "
                  "`linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead", UserWarning,
                  stacklevel=2)
    if isinstance(dim, bool):               # nuclear_norm(input, keepdim)
        dim, keepdim = (-2, -1), dim
    return _torch.linalg.matrix_norm(input, "nuc", dim, keepdim)


def norm_except_dim(v, pow=2, dim=0):
    """The norm of v over every dimension but `dim`, shaped to broadcast against v
    (dim=-1: the norm of the whole tensor)."""
    if dim == -1:
        return _torch.linalg.vector_norm(v, pow)
    others = tuple(d for d in builtins.range(v.dim()) if d != dim)
    return _torch.linalg.vector_norm(v, pow, others, keepdim=True)


def embedding_renorm_(input, indices, max_norm, norm_type):
    """Rescale, in place, the rows of `input` named in `indices` whose norm exceeds
    max_norm (what F.embedding does with max_norm)."""
    with _torch.no_grad():
        rows = _torch.unique(indices.reshape(-1))
        norms = _torch.linalg.vector_norm(input[rows], norm_type, -1, keepdim=True)
        scale = _torch.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        input[rows] = input[rows] * scale.to(input.dtype)
    return input


# -- small tensor queries ------------------------------------------------------------------
def detach(input):
    return input.detach()


def detach_(input):
    return input.detach_()


def is_signed(input):
    return input.is_signed()


def is_same_size(input, other):
    return input.shape == other.shape


def get_device(input):
    return input.get_device()


def is_distributed(input):
    return False            # PyTorch's THD-era flag: no tensor is "distributed" any more


def is_storage(obj, /):
    from torchlike._storage import Storage
    return isinstance(obj, Storage) or type(obj).__name__.endswith("Storage")


def typename(obj, /):
    """PyTorch's name for an object's type: `torch.FloatTensor` for a tensor, the
    qualified class name otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if name is None:
        cls = type(obj)
        module, name = cls.__module__, cls.__qualname__
    if module.startswith("torchlike"):
        module = "torch" + module[len("torchlike"):]
    return name if module in ("", "builtins") else f"{module}.{name}"


def vander(x, N=None, increasing=False):
    result = _torch.linalg.vander(x, N=N)
    return result if increasing else result.flip(-1)


# -- factories PyTorch has besides torch.tensor --------------------------------------------
def range(start, end, step=1, *, dtype=None, device=None, requires_grad=False, out=None):
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    count = int(math.floor((end - start) / step)) + 1        # both ends included
    values = start + step * np.arange(max(count, 0), dtype=np.float64)
    return _torch.tensor(values, dtype=dtype or _dtype.get_default_dtype(), device=device,
                         requires_grad=requires_grad)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor of the buffer's bytes read as `dtype`. PyTorch shares the buffer's
    memory; torchlike copies it (JAX arrays do not alias Python buffers)."""
    array = np.frombuffer(buffer, dtype=dtype.np, count=count, offset=offset)
    return _torch.tensor(array.copy(), dtype=dtype, requires_grad=requires_grad)


def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None,
              pin_memory=False):
    """The first `size` elements of a file of raw values (a copy: `shared=True`, which
    in PyTorch maps the file so that writes reach it, is not offered)."""
    if shared:
        raise NotImplementedError("torch.from_file(shared=True) is not supported by torchlike: "
                                  "tensors cannot write through to a file; use shared=False")
    dtype = dtype or _dtype.get_default_dtype()
    nbytes = os.path.getsize(filename)
    if nbytes < size * dtype.itemsize:
        raise RuntimeError(f"file <{filename}> size <{nbytes}> is smaller than the required "
                           f"mapping size <{size * dtype.itemsize}>")
    array = np.fromfile(filename, dtype=dtype.np, count=size)
    return _torch.tensor(array, dtype=dtype, device=device)


def set_default_tensor_type(t, /):
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    if isinstance(t, str):
        t = getattr(_torch, t.rsplit(".", 1)[-1])
    _torch.set_default_dtype(t.dtype)


def to_dlpack(tensor):
    from torchlike.utils.dlpack import to_dlpack as impl
    return impl(tensor)


def binomial(count, prob, generator=None):
    from torchlike.distributions._sampling import binomial as draw
    return draw(count, prob, generator)


# -- sparse x dense products with a dense result --------------------------------------------
def spmm(input, mat2):
    return _torch.sparse.mm(input, mat2)


dsmm = spmm


def smm(input, mat):
    return _torch.sparse.mm(input, mat).to_sparse()


# -- control flow: eager Python, which is what torch.cond/while_loop compute eagerly -------
def cond(pred, true_fn, false_fn, operands=()):
    if not isinstance(operands, (tuple, list)):
        raise RuntimeError(f"Expect operands to be a tuple of possibly nested dict/list/tuple "
                           f"that only consists of tensor leaves, but got {operands}.")
    return true_fn(*operands) if bool(pred) else false_fn(*operands)


def while_loop(cond_fn, body_fn, carried_inputs):
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError(f"carried_inputs must be a tuple or list but got "
                           f"{type(carried_inputs)}")
    carried = tuple(carried_inputs)
    while bool(cond_fn(*carried)):
        out = body_fn(*carried)
        carried = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    return carried


# -- TorchScript's futures, eager ----------------------------------------------------------
def fork(func, *args, **kwargs):
    from torchlike.jit import Future
    return Future(func(*args, **kwargs))


def wait(future):
    return future.wait()


def thread_safe_generator():
    """The current DataLoader thread worker's generator, or None: torchlike's DataLoader
    runs no thread workers, so always None."""
    return None


class DisableTorchFunction:
    """No-op context: torchlike dispatches no __torch_function__ overrides to disable."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class DisableTorchFunctionSubclass(DisableTorchFunction):
    pass


class FatalError(Exception):
    pass


# -- functions PyTorch removed: its RuntimeError, word for word -----------------------------
_REMOVED_SINCE_1_9 = "This function was deprecated since version 1.9 and is now removed."
_REMOVED = {
    "lstsq": (" `torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n"
              "`torch.linalg.lstsq` has reversed arguments and does not return the QR "
              "decomposition in the returned tuple (although it returns other information "
              "about the problem).\n\nTo get the QR decomposition consider using "
              "`torch.linalg.qr`.\n\nThe returned solution in `torch.lstsq` stored the "
              "residuals of the solution in the last m - n columns of the returned value "
              "whenever m > n. In torch.linalg.lstsq, the residuals are in the field "
              "'residuals' of the returned named tuple.\n\nThe unpacking of the solution, as "
              "in\nX, _ = torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced with:\n"
              "X = torch.linalg.lstsq(A, B).solution"),
    "solve": (" `torch.solve` is deprecated in favor of `torch.linalg.solve`. "
              "`torch.linalg.solve` has its arguments reversed and does not return the LU "
              "factorization.\n\nTo get the LU factorization see `torch.lu`, which can be used "
              "with `torch.lu_solve` or `torch.lu_unpack`.\nX = torch.solve(B, A).solution "
              "should be replaced with:\nX = torch.linalg.solve(A, B)"),
    "eig": (" `torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather "
            "than real tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be "
            "replaced with:\nL_complex = torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, "
            "eigenvectors=True) should be replaced with:\nL_complex, V_complex = "
            "torch.linalg.eig(A)"),
    "symeig": (" The default behavior has changed from using the upper triangular portion of "
               "the matrix by default to using the lower triangular portion.\n\nL, _ = "
               "torch.symeig(A, upper=upper) should be replaced with:\nL = "
               "torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\nL, V = "
               "torch.symeig(A, eigenvectors=True) should be replaced with:\nL, V = "
               "torch.linalg.eigh(A, UPLO='U' if upper else 'L')"),
    "matrix_rank": ("\nPlease use the `torch.linalg.matrix_rank` function instead. The "
                    "parameter 'symmetric' was renamed in `torch.linalg.matrix_rank()` to "
                    "'hermitian'."),
}


def _removed(name):
    def removed(*args, **kwargs):
        raise RuntimeError(_REMOVED_SINCE_1_9 + _REMOVED[name])
    removed.__name__ = removed.__qualname__ = name
    removed.__doc__ = "Removed from PyTorch in 1.9: calling it raises RuntimeError."
    return removed


NAMES = {name: obj for name, obj in globals().items()
         if not name.startswith("_") and callable(obj) and obj is not Tensor}
NAMES.update({name: _removed(name) for name in _REMOVED})
NAMES.update({d.name: d for d in _barebones_dtypes.ALL}, bit=_barebones_dtypes.bit)
NAMES["legacy_contiguous_format"] = _factories.contiguous_format   # the same object in torch

# Tensor methods of the same meaning (the removed ones raise the same errors)
TENSOR_METHODS = {"is_same_size": is_same_size, "is_distributed": is_distributed, "smm": smm,
                  **{name: NAMES[name] for name in ("lstsq", "solve", "eig", "symeig")}}
