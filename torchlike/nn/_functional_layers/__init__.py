"""Layer functionals (conv, pooling, normalisation, losses, attention) for
torchlike.nn.functional, which re-exports `__all__` from here.

The private activation/softmax/dropout/linear/embedding/pad helpers in activation.py
are not exported: nn.functional owns the public versions.
"""
from .conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,
                   conv_transpose3d)
from .pooling import (max_pool1d, max_pool2d, max_pool3d, avg_pool1d, avg_pool2d, avg_pool3d,
                      adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,
                      adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d)
from .norm import batch_norm, layer_norm, group_norm, instance_norm, rms_norm
from .loss import (mse_loss, l1_loss, smooth_l1_loss, huber_loss, nll_loss, cross_entropy,
                   binary_cross_entropy, binary_cross_entropy_with_logits, kl_div,
                   cosine_embedding_loss, margin_ranking_loss, triplet_margin_loss)
from .ctc import ctc_loss
from .attention import scaled_dot_product_attention, multi_head_attention_forward
from .sparse import embedding_bag
from .upsample import (interpolate, pixel_shuffle, pixel_unshuffle, upsample, upsample_nearest,
                       upsample_bilinear)
from .fold import fold, unfold
from .grid import (affine_grid, grid_sample, GRID_SAMPLE_INTERPOLATION_MODES,
                   GRID_SAMPLE_PADDING_MODES)
from .pooling_extra import (max_pool1d_with_indices, max_pool2d_with_indices,
                            max_pool3d_with_indices, adaptive_max_pool1d_with_indices,
                            adaptive_max_pool2d_with_indices, adaptive_max_pool3d_with_indices,
                            max_unpool1d, max_unpool2d, max_unpool3d, lp_pool1d, lp_pool2d,
                            lp_pool3d, local_response_norm, channel_shuffle,
                            native_channel_shuffle)
from .fractional import (fractional_max_pool2d, fractional_max_pool3d,
                         fractional_max_pool2d_with_indices, fractional_max_pool3d_with_indices)
from .loss_extra import (gaussian_nll_loss, poisson_nll_loss, hinge_embedding_loss,
                         multilabel_soft_margin_loss, triplet_margin_with_distance_loss,
                         soft_margin_loss, multi_margin_loss, multilabel_margin_loss)
from .loss_extra import linear_cross_entropy  # noqa: E402  (issue 15: in op_db)

__all__ = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
    "cosine_embedding_loss", "margin_ranking_loss", "triplet_margin_loss", "ctc_loss",
    "scaled_dot_product_attention", "multi_head_attention_forward", "embedding_bag",
    "interpolate", "pixel_shuffle", "pixel_unshuffle", "upsample", "upsample_nearest",
    "upsample_bilinear", "fold", "unfold", "affine_grid", "grid_sample",
    "GRID_SAMPLE_INTERPOLATION_MODES", "GRID_SAMPLE_PADDING_MODES",
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d",
    "lp_pool1d", "lp_pool2d", "lp_pool3d", "local_response_norm", "channel_shuffle",
    "native_channel_shuffle", "gaussian_nll_loss", "poisson_nll_loss", "hinge_embedding_loss",
    "multilabel_soft_margin_loss", "triplet_margin_with_distance_loss", "soft_margin_loss",
    "multi_margin_loss", "multilabel_margin_loss", "fractional_max_pool2d",
    "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d_with_indices", "linear_cross_entropy",
]
