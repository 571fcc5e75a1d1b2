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
from .upsample import interpolate, pixel_shuffle, pixel_unshuffle

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
    "interpolate", "pixel_shuffle", "pixel_unshuffle",
]
