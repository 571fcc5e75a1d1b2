"""PyTorch's autocast cast lists (ATen's autocast_mode), per device type, by public name.

- LOWER: eligible inputs are cast to the autocast dtype (float16/bfloat16);
- FP32: eligible inputs are cast to float32;
- FP32_OPT_DTYPE: the op's `dtype` argument is set to float32 when the caller left it
  unset and the input is eligible (CUDA's softmax, sum, cumsum ...);
- PROMOTE: eligible inputs are cast to the widest floating type among them.
An input is eligible when it is a floating tensor of the autocast's device type and not
float64. Names are looked up in torchlike, Tensor, nn.functional, linalg and fft.
"""

_CONV = ("conv1d", "conv2d", "conv3d", "conv_tbc", "conv_transpose1d", "conv_transpose2d",
         "conv_transpose3d")

_LOSSES = ("cosine_embedding_loss", "nll_loss", "hinge_embedding_loss", "poisson_nll_loss",
           "smooth_l1_loss", "l1_loss", "huber_loss", "mse_loss", "margin_ranking_loss",
           "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss", "kl_div",
           "multilabel_margin_loss", "binary_cross_entropy_with_logits")

CPU = {
    "LOWER": set(_CONV + ("bmm", "mm", "vecdot", "baddbmm", "addmm", "addbmm", "linear",
                          "matmul", "__matmul__", "__rmatmul__", "prelu",
                          "scaled_dot_product_attention",
                          # composites whose PyTorch decomposition reaches a listed op
                          # (bmm/mm), so their results come out in the low dtype too
                          "einsum", "tensordot", "inner", "chain_matmul", "multi_dot",
                          "multi_head_attention_forward")),
    "FP32": set(_LOSSES + (
        "avg_pool3d", "binary_cross_entropy", "grid_sample", "polar", "prod", "quantile",
        "nanquantile", "stft", "cdist", "trace", "view_as_complex", "cholesky",
        "cholesky_inverse", "cholesky_solve", "inverse", "lu_solve", "orgqr", "ormqr",
        "pinverse", "max_pool3d", "max_unpool2d", "max_unpool3d", "adaptive_avg_pool3d",
        "cross_entropy", "ctc_loss", "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft",
        "irfft", "rfft2", "irfft2", "rfftn", "irfftn", "hfft", "ihfft", "cond", "matrix_rank",
        "solve", "svdvals", "eigvals", "eigvalsh", "inv", "householder_product", "tensorinv",
        "tensorsolve", "geqrf", "qr", "svd", "triangular_solve", "fractional_max_pool2d",
        "fractional_max_pool3d", "adaptive_max_pool3d", "cholesky_ex", "eig", "eigh", "lstsq",
        "inv_ex")),
    "FP32_OPT_DTYPE": set(),
    "PROMOTE": {"stack", "cat", "index_copy"},
}

CUDA = {
    "LOWER": set(_CONV + ("prelu", "addmm", "addmv", "addr", "matmul", "__matmul__",
                          "__rmatmul__", "einsum", "mm", "mv", "vecdot", "linear", "addbmm",
                          "baddbmm", "bmm", "chain_matmul", "multi_dot", "lstm_cell",
                          "gru_cell", "rnn_tanh_cell", "rnn_relu_cell",
                          "scaled_dot_product_attention")),
    "FP32": set(_LOSSES + (
        "acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p",
        "reciprocal", "rsqrt", "sinh", "tan", "pow", "__pow__", "__rpow__", "softplus",
        "layer_norm", "rms_norm", "group_norm", "frobenius_norm", "nuclear_norm",
        "cosine_similarity", "dist", "pdist", "cdist", "renorm", "logsumexp", "interpolate",
        # a composite whose PyTorch decomposition (log_softmax with dtype=float32, then
        # nll_loss) runs in float32 on CUDA
        "cross_entropy")),
    "FP32_OPT_DTYPE": {"prod", "softmax", "log_softmax", "cumprod", "cumsum", "vector_norm",
                       "matrix_norm", "sum"},
    "PROMOTE": {"addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "vdot",
                "grid_sample", "index_put", "tensordot", "scatter_add"},
}

# CUDA autocast refuses these outright (their gradients are unsafe in float16)
CUDA_BANNED = {"binary_cross_entropy": (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
    "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast.")}

BY_DEVICE = {"cpu": CPU, "cuda": CUDA}

# torchlike's recurrent layers run through one function, rnn(mode, ...) / rnn_cell(mode,
# ...); PyTorch's kernels behind them sit on the lists per mode: on CPU only LSTM (its
# mkldnn_rnn_layer), on CUDA every mode (cuDNN's RNN and the *_cell functions).
BY_MODE = {"cpu": {"rnn": {"LSTM"}, "rnn_cell": set()},
           "cuda": {"rnn": {"LSTM", "GRU", "RNN_TANH", "RNN_RELU"},
                    "rnn_cell": {"LSTM", "GRU", "RNN_TANH", "RNN_RELU"}}}


def policy(device_type, name, args=()):
    """The policy name for `name` (called with `args`) under `device_type`'s autocast,
    or None."""
    if name in BY_MODE[device_type]:
        return "LOWER" if args and args[0] in BY_MODE[device_type][name] else None
    lists = BY_DEVICE[device_type]
    for kind in ("LOWER", "FP32", "FP32_OPT_DTYPE", "PROMOTE"):
        if name in lists[kind]:
            return kind
    return None


ALL_NAMES = set().union(*(names for lists in BY_DEVICE.values() for names in lists.values()),
                        CUDA_BANNED, BY_MODE["cuda"])
