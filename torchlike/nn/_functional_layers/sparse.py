"""embedding_bag: sums, means or maxima of embedding rows over bags, as segment
reductions (the bag of every index is found from the offsets inside the op)."""
import jax
import jax.numpy as jnp

from ..._ops._common import opmath, round_to
from ..._ops.pointwise import divide_exactly
from ._common import call, nn_op


@nn_op("embedding_bag", "EmbeddingBagBackward0", saves=(1,))
def _embedding_bag_op(idx, w, offsets, *per_sample, mode, bags, padding_idx):
    n = idx.shape[0]
    bag = jnp.searchsorted(offsets, jnp.arange(n), side="right") - 1
    # (float16/bfloat16 rows summed in float32, rounded once, as PyTorch's)
    rows = jnp.take(w, idx, axis=0).astype(opmath(w.dtype))
    keep = jnp.ones((n,), bool) if padding_idx is None else idx != padding_idx
    if per_sample:
        rows = rows * per_sample[0][:, None]
    if mode == "max":
        rows = jnp.where(keep[:, None], rows, -jnp.inf)
        out = jax.ops.segment_max(rows, bag, num_segments=bags)
        return jnp.where(jnp.isfinite(out), out, jnp.zeros_like(out)).astype(w.dtype)
    rows = jnp.where(keep[:, None], rows, jnp.zeros_like(rows))
    out = jax.ops.segment_sum(rows, bag, num_segments=bags)
    if mode == "mean":
        count = jax.ops.segment_sum(keep.astype(out.dtype), bag, num_segments=bags)
        # (the sum rounded to the weight's dtype, then divided, as PyTorch's: XLA turned the
        # division into a multiplication by the reciprocal, an ulp off in float32)
        out = divide_exactly(round_to(out, w.dtype), jnp.maximum(count, 1)[:, None])
    return out.astype(w.dtype)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    from ... import _factories
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. "
                                  "per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    if input.dim() == 2:
        bags, width = input.shape
        offsets = _factories.arange(0, bags * width, max(width, 1), device=input.device)
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    else:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        bags = offsets.shape[0] - (1 if include_last_offset else 0)
        if include_last_offset:
            offsets = offsets[:-1]
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    inputs = [input, weight, offsets.to(input.dtype)]
    if per_sample_weights is not None:
        inputs.append(per_sample_weights)
    return call(_embedding_bag_op, inputs, mode=mode, bags=int(bags), padding_idx=padding_idx)
