"""Attention: scaled_dot_product_attention and multi_head_attention_forward, each one
op (projections, masking, softmax, dropout and the output projection fused)."""
import math

import jax
import jax.numpy as jnp

from ... import _factories
from ..._ops.dispatch import apply
from ._common import HIGHEST, call, nn_op, renamed


@jax.custom_jvp
def _safe_softmax(scores):
    """Softmax whose fully masked rows (all -inf) give zeros, as PyTorch's SDPA does."""
    # The row max is taken over scores raised to the lowest finite float: a fully masked
    # row's max is then finite, exp(-inf - max) = 0 and its sum 0; any other row's max
    # and result are softmax's (its sum is at least exp(0) = 1, so max(sum, 1) is the
    # sum). Patching the max after the reduction (isfinite/where) kept XLA from fusing
    # the exp into the reduction: a fusion of its own, 180-270 us a step in the
    # transformer benchmark against about 1 for jax.nn.softmax's.
    low = jnp.finfo(scores.dtype).min
    m = jnp.max(jnp.maximum(scores, low), axis=-1, keepdims=True)
    e = jnp.exp(scores - m)
    return e / jnp.maximum(jnp.sum(e, axis=-1, keepdims=True), 1.0)


@_safe_softmax.defjvp
def _safe_softmax_jvp(primals, tangents):
    # softmax's derivative, as PyTorch's softmax backward computes it (y (g - sum(g y))),
    # zero on a fully masked row (y = 0 there); differentiating the masking selects
    # instead made the attention's backward larger: XLA compiled multi-head attention's
    # forward and backward in 1.65x the time it takes with this rule
    (scores,), (tangent,) = primals, tangents
    y = _safe_softmax(scores)
    return y, y * (tangent - jnp.sum(tangent * y, axis=-1, keepdims=True))


def _dropout_weights(w, noise, p):
    return jnp.where(noise >= p, w * (1.0 / (1.0 - p)), jnp.zeros_like(w))


@nn_op("sdpa", "ScaledDotProductFlashAttentionForCpuBackward0", saves=(0, 1, 2))
def _sdpa_op(q, k, v, *rest, scale, is_causal, mask_kind, dropout_p, gqa):
    rest = list(rest)
    mask = rest.pop(0) if mask_kind else None
    noise = rest.pop(0) if dropout_p else None
    if gqa and k.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        k = jnp.repeat(k, q.shape[-3] // k.shape[-3], axis=-3)
        v = jnp.repeat(v, q.shape[-3] // v.shape[-3], axis=-3)
    scores = jnp.matmul(q, jnp.swapaxes(k, -1, -2), precision=HIGHEST) * scale
    neg_inf = jnp.asarray(-jnp.inf, scores.dtype)
    if is_causal:
        causal = jnp.tril(jnp.ones(scores.shape[-2:], bool))
        scores = jnp.where(causal, scores, neg_inf)
    if mask_kind == "bool":
        scores = jnp.where(mask, scores, neg_inf)
    elif mask_kind == "float":
        scores = scores + mask
    w = _safe_softmax(scores)
    if dropout_p:
        w = _dropout_weights(w, noise, dropout_p)
    return jnp.matmul(w, v, precision=HIGHEST)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                           "set when is_causal=True")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    inputs = [query, key, value]
    mask_kind = None
    if attn_mask is not None:
        mask_kind = "bool" if attn_mask.dtype.name == "bool" else "float"
        inputs.append(attn_mask)
    if dropout_p:
        shape = tuple(query.shape[:-1]) + (key.shape[-2],)
        inputs.append(_factories.rand(shape, dtype=query.dtype, device=query.device))
    flash = query.dim() == 4 and not dropout_p
    grad_fn = None if flash else "UnsafeViewBackward0"
    return call(_sdpa_op, inputs, grad_fn, scale=scale, is_causal=bool(is_causal),
                mask_kind=mask_kind, dropout_p=float(dropout_p), gqa=bool(enable_gqa))


# -- multi-head attention -----------------------------------------------------------------
def _project(x, w, b):
    y = jnp.matmul(x, w.T, precision=HIGHEST)
    return y if b is None else y + b


def _as_additive(mask, dtype):
    if mask.dtype == jnp.bool_:
        return jnp.where(mask, jnp.asarray(-jnp.inf, dtype), jnp.asarray(0, dtype))
    return mask.astype(dtype)


def _pad_last(mask):
    if mask is None:
        return None
    return jnp.concatenate([mask, jnp.zeros(mask.shape[:-1] + (1,), mask.dtype)], axis=-1)


@nn_op("multi_head_attention", "ViewBackward0", saves=(0, 1, 2))
def _mha_op(q, k, v, *tensors, names, heads, dropout_p, safe_softmax, packed=False,
            need_weights=True, batch_first=False):
    """q: (L, N, E), k: (S, N, Ek), v: (S, N, Ev), or (N, L, E) ... with `batch_first`;
    returns (out (L, N, E), or (N, L, E) with `batch_first`, weights (N, H, L, S')), or
    out alone without `need_weights` (one output is one pending value and one tensor to
    make per call instead of two). `names` says which optional tensors follow in
    `tensors`. `packed`: q, k and v are one tensor (self-attention), projected by one
    matmul, as PyTorch's packed in-projection does (k and v are then unused here).
    The heads are split as (N, H, L, D) straight from the caller's layout: a batch-first
    input taken through PyTorch's (L, N, E) and back cost XLA copy/transpose fusions
    (the transformer benchmark's attention: about 230 us a step against 10)."""
    t = dict(zip(names, tensors))
    seq = 1 if batch_first else 0          # the sequence axis of q, k, v and out
    batch, embed = q.shape[1 - seq], q.shape[-1]
    head_dim = embed // heads
    if packed:
        q, k, v = jnp.split(_project(q, t["in_proj_weight"], t.get("in_proj_bias")), 3,
                            axis=-1)
    else:
        if "in_proj_weight" in t:
            wq, wk, wv = jnp.split(t["in_proj_weight"], 3, axis=0)
        else:
            wq, wk, wv = t["q_proj_weight"], t["k_proj_weight"], t["v_proj_weight"]
        bq = bk = bv = None
        if "in_proj_bias" in t:
            bq, bk, bv = jnp.split(t["in_proj_bias"], 3)
        q, k, v = _project(q, wq, bq), _project(k, wk, bk), _project(v, wv, bv)
    attn_mask, padding = t.get("attn_mask"), t.get("key_padding_mask")
    if "bias_k" in t:
        one = (batch, 1, embed) if batch_first else (1, batch, embed)
        k = jnp.concatenate([k, jnp.broadcast_to(t["bias_k"], one)], axis=seq)
        v = jnp.concatenate([v, jnp.broadcast_to(t["bias_v"], one)], axis=seq)
        attn_mask, padding = _pad_last(attn_mask), _pad_last(padding)

    def split_heads(x):                    # -> (N, H, length, D)
        x = x.reshape(x.shape[:2] + (heads, head_dim))
        return x.transpose((0, 2, 1, 3) if batch_first else (1, 2, 0, 3))
    q, k, v = split_heads(q), split_heads(k), split_heads(v)
    if "zero_attn" in t:
        zeros = jnp.zeros((batch, heads, 1, head_dim), k.dtype)
        k, v = jnp.concatenate([k, zeros], axis=2), jnp.concatenate([v, zeros], axis=2)
        attn_mask, padding = _pad_last(attn_mask), _pad_last(padding)
    scores = jnp.matmul(q * math.sqrt(1.0 / head_dim), jnp.swapaxes(k, -1, -2),
                        precision=HIGHEST)                         # (N, H, L, S')
    if attn_mask is not None:
        mask = _as_additive(attn_mask, scores.dtype)
        if mask.ndim == 3:                 # (N*H, L, S'): one mask per batch and head
            mask = mask.reshape(scores.shape)
        scores = scores + mask
    if padding is not None:
        scores = scores + _as_additive(padding, scores.dtype)[:, None, None, :]
    w = _safe_softmax(scores) if safe_softmax else jax.nn.softmax(scores, axis=-1)
    if dropout_p:
        w = _dropout_weights(w, t["noise"].reshape(w.shape), dropout_p)
    out = jnp.matmul(w, v, precision=HIGHEST)                     # (N, H, L, D)
    out = out.transpose((0, 2, 1, 3) if batch_first else (2, 0, 1, 3))
    out = _project(out.reshape(out.shape[:2] + (embed,)), t["out_proj_weight"],
                   t.get("out_proj_bias"))
    return (out, w) if need_weights else out


def _zero_attn_marker(like):
    return _factories.zeros((), dtype=like.dtype, device=like.device)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    return attention_forward(False, query, key, value, embed_dim_to_check, num_heads,
                             in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                             dropout_p, out_proj_weight, out_proj_bias, training,
                             key_padding_mask, need_weights, attn_mask,
                             use_separate_proj_weight, q_proj_weight, k_proj_weight,
                             v_proj_weight, static_k, static_v, average_attn_weights, is_causal)


def attention_forward(batch_first, query, key, value, embed_dim_to_check, num_heads,
                      in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p,
                      out_proj_weight, out_proj_bias, training, key_padding_mask, need_weights,
                      attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight,
                      v_proj_weight, static_k, static_v, average_attn_weights, is_causal):
    """multi_head_attention_forward, whose batched query, key, value and output are
    (N, L, E) with `batch_first` (nn.MultiheadAttention(batch_first=True) calls it so,
    without transposing to (L, N, E) and back; its output is then PyTorch's transposed
    one, TransposeBackward0)."""
    if static_k is not None or static_v is not None:
        raise NotImplementedError("torchlike: static_k/static_v are not supported")
    unbatched = query.dim() == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
        batch_first = False                # (L, 1, E) now
    length, batch, embed = query.shape
    if batch_first:
        batch, length = length, batch
    if embed != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed}")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    named = {"q_proj_weight": q_proj_weight, "k_proj_weight": k_proj_weight,
             "v_proj_weight": v_proj_weight} if use_separate_proj_weight else \
        {"in_proj_weight": in_proj_weight}
    named.update(in_proj_bias=in_proj_bias, bias_k=bias_k, bias_v=bias_v,
                 out_proj_weight=out_proj_weight, out_proj_bias=out_proj_bias,
                 attn_mask=attn_mask, key_padding_mask=key_padding_mask)
    if add_zero_attn:
        named["zero_attn"] = _zero_attn_marker(query)
    p = float(dropout_p) if training else 0.0
    if p:
        src = key.shape[1 if batch_first else 0] + (bias_k is not None) + bool(add_zero_attn)
        named["noise"] = _factories.rand((batch * num_heads, length, src), dtype=query.dtype,
                                         device=query.device)
    names = tuple(n for n, x in named.items() if x is not None)
    packed = query is key and key is value and not use_separate_proj_weight
    # call()'s parameters, already in its sorted order (skips sorting a dict per call)
    params = (("batch_first", bool(batch_first)), ("dropout_p", p), ("heads", int(num_heads)),
              ("names", names), ("need_weights", bool(need_weights)), ("packed", packed),
              ("safe_softmax", not need_weights))
    # batch-first, the output is PyTorch's transpose of its (L, N, E) one
    outs = apply(_mha_op, (query, key, value) + tuple([named[n] for n in names]), params,
                 "TransposeBackward0" if batch_first else None)
    out, weights = (outs if need_weights else (outs, None))
    if unbatched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    if average_attn_weights:
        weights = weights.mean(dim=1)
    elif batch_first:                      # (the op's node is the output's transpose)
        weights = renamed(weights, "ViewBackward0")
    return out, (weights.squeeze(0) if unbatched else weights)
