"""Attention: scaled_dot_product_attention and multi_head_attention_forward, each one
op (projections, masking, softmax, dropout and the output projection fused)."""
import math

import jax
import jax.numpy as jnp

from ... import _factories
from ..._ops.dispatch import apply
from ._common import HIGHEST, call, nn_op


@jax.custom_jvp
def _safe_softmax(scores):
    """Softmax whose fully masked rows (all -inf) give zeros, as PyTorch's SDPA does."""
    m = jnp.max(scores, axis=-1, keepdims=True)
    m = jnp.where(jnp.isfinite(m), m, 0.0)
    e = jnp.exp(scores - m)
    total = jnp.sum(e, axis=-1, keepdims=True)
    return e / jnp.where(total > 0, total, 1.0)


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
            need_weights=True):
    """q: (L, N, E), k: (S, N, Ek), v: (S, N, Ev); returns (out (L, N, E), weights
    (N, H, L, S')), or out alone without `need_weights` (one output is one pending
    value and one tensor to make per call instead of two). `names` says which optional
    tensors follow in `tensors`. `packed`:
    q, k and v are one tensor (self-attention), projected by one matmul, as PyTorch's
    packed in-projection does (k and v are then unused here)."""
    t = dict(zip(names, tensors))
    length, batch, embed = q.shape
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
        k = jnp.concatenate([k, jnp.broadcast_to(t["bias_k"], (1, batch, embed))], axis=0)
        v = jnp.concatenate([v, jnp.broadcast_to(t["bias_v"], (1, batch, embed))], axis=0)
        attn_mask, padding = _pad_last(attn_mask), _pad_last(padding)

    def heads_first(x):
        return jnp.swapaxes(x.reshape(x.shape[0], batch * heads, head_dim), 0, 1)
    q, k, v = heads_first(q), heads_first(k), heads_first(v)
    if "zero_attn" in t:
        zeros = jnp.zeros((batch * heads, 1, head_dim), k.dtype)
        k, v = jnp.concatenate([k, zeros], axis=1), jnp.concatenate([v, zeros], axis=1)
        attn_mask, padding = _pad_last(attn_mask), _pad_last(padding)
    scores = jnp.matmul(q * math.sqrt(1.0 / head_dim), jnp.swapaxes(k, 1, 2), precision=HIGHEST)
    if attn_mask is not None:
        scores = scores + _as_additive(attn_mask, scores.dtype)
    if padding is not None:
        pad = _as_additive(padding, scores.dtype)[:, None, None, :]
        pad = jnp.broadcast_to(pad, (batch, heads, 1, pad.shape[-1]))
        scores = scores + pad.reshape(batch * heads, 1, -1)
    w = _safe_softmax(scores) if safe_softmax else jax.nn.softmax(scores, axis=-1)
    if dropout_p:
        w = _dropout_weights(w, t["noise"], dropout_p)
    out = jnp.matmul(w, v, precision=HIGHEST)                     # (N*H, L, d)
    out = jnp.swapaxes(out, 0, 1).reshape(length * batch, embed)
    out = _project(out, t["out_proj_weight"], t.get("out_proj_bias"))
    if not need_weights:
        return out.reshape(length, batch, -1)
    return out.reshape(length, batch, -1), w.reshape(batch, heads, length, -1)


def _zero_attn_marker(like):
    return _factories.zeros((), dtype=like.dtype, device=like.device)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    if static_k is not None or static_v is not None:
        raise NotImplementedError("torchlike: static_k/static_v are not supported")
    unbatched = query.dim() == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    length, batch, embed = query.shape
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
        src = key.shape[0] + (bias_k is not None) + bool(add_zero_attn)
        named["noise"] = _factories.rand((batch * num_heads, length, src), dtype=query.dtype,
                                         device=query.device)
    names = tuple(n for n, x in named.items() if x is not None)
    packed = query is key and key is value and not use_separate_proj_weight
    # call()'s parameters, already in its sorted order (skips sorting a dict per call)
    params = (("dropout_p", p), ("heads", int(num_heads)), ("names", names),
              ("need_weights", bool(need_weights)), ("packed", packed),
              ("safe_softmax", not need_weights))
    outs = apply(_mha_op, (query, key, value) + tuple([named[n] for n in names]), params)
    out, weights = (outs if need_weights else (outs, None))
    if unbatched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    if average_attn_weights:
        weights = weights.mean(dim=1)
    return out, (weights.squeeze(0) if unbatched else weights)
