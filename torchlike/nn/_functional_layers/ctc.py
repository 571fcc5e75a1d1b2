"""Connectionist temporal classification loss: the forward (alpha) recursion in log
space as one lax.scan; gradients come from differentiating it."""
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..._tensor import Tensor
from ._common import call, check_reduction, nn_op


def _logsumexp3(a, b, c):
    """log(e^a + e^b + e^c) that stays finite, with finite gradients, when all are -inf."""
    m = jnp.maximum(jnp.maximum(a, b), c)
    m = jnp.where(jnp.isfinite(m), m, 0.0)
    total = jnp.exp(a - m) + jnp.exp(b - m) + jnp.exp(c - m)
    positive = total > 0
    return jnp.where(positive, m + jnp.log(jnp.where(positive, total, 1.0)), -jnp.inf)


@nn_op("ctc_loss", "CtcLossBackward0", saves=(0,))
def _ctc_op(lp, targets, input_lengths, target_lengths, *, blank, zero_infinity):
    """lp: (T, N, C) log-probabilities; targets: (N, S) padded. Returns per-sample loss."""
    steps, batch, _ = lp.shape
    s_max = targets.shape[1]
    width = 2 * s_max + 1
    # extended labels: blank, l1, blank, l2, ..., blank
    ext = jnp.full((batch, width), blank, targets.dtype).at[:, 1::2].set(targets)
    prev2 = jnp.concatenate([jnp.full((batch, 2), blank, ext.dtype), ext[:, :-2]], axis=1)
    can_skip = (ext != blank) & (ext != prev2)
    neg_inf = jnp.asarray(-jnp.inf, lp.dtype)
    emit = jnp.take_along_axis(lp, jnp.broadcast_to(ext[None], (steps, batch, width)), axis=2)

    start = jnp.full((batch, width), neg_inf)
    start = start.at[:, 0].set(emit[0, :, 0])
    start = start.at[:, 1].set(jnp.where(target_lengths > 0, emit[0, :, 1], neg_inf))

    def step(alpha, inputs):
        t, e = inputs
        shift1 = jnp.concatenate([jnp.full((batch, 1), neg_inf), alpha[:, :-1]], axis=1)
        shift2 = jnp.concatenate([jnp.full((batch, 2), neg_inf), alpha[:, :-2]], axis=1)
        shift2 = jnp.where(can_skip, shift2, neg_inf)
        new = _logsumexp3(alpha, shift1, shift2) + e
        return jnp.where((t < input_lengths)[:, None], new, alpha), None

    alpha, _ = lax.scan(step, start, (jnp.arange(1, steps), emit[1:]))
    last = 2 * target_lengths
    end_blank = jnp.take_along_axis(alpha, last[:, None], axis=1)[:, 0]
    end_label = jnp.take_along_axis(alpha, jnp.maximum(last - 1, 0)[:, None], axis=1)[:, 0]
    end_label = jnp.where(target_lengths > 0, end_label, neg_inf)
    loss = -_logsumexp3(end_blank, end_label, neg_inf)
    # PyTorch's backward returns exp(lp) - posterior: the gradient with respect to the
    # logits under log_softmax. The zero-valued term below adds the exp(lp) part.
    active = (jnp.arange(steps)[:, None] < input_lengths[None, :]).astype(lp.dtype)
    probs = jnp.exp(lp)
    loss = loss + jnp.sum((probs - lax.stop_gradient(probs)) * active[..., None], axis=(0, 2))
    if zero_infinity:
        loss = jnp.where(jnp.isinf(loss), jnp.zeros_like(loss), loss)
    return loss


def _lengths(x):
    return [int(v) for v in (x.tolist() if isinstance(x, Tensor) else x)]


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    from ... import _factories
    check_reduction(reduction)
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0) if targets.dim() == 1 else targets
        input_lengths, target_lengths = [input_lengths], [target_lengths]
    in_lens, tgt_lens = _lengths(input_lengths), _lengths(target_lengths)
    if targets.dim() == 1:          # concatenated targets: pad them into (N, max length)
        flat = targets.tolist()
        width = max(tgt_lens + [0])
        rows, offset = [], 0
        for n in tgt_lens:
            rows.append(flat[offset:offset + n] + [blank] * (width - n))
            offset += n
        targets = _factories.tensor(np.array(rows, dtype=np.int64).reshape(len(rows), width))
    device = log_probs.device
    in_t = _factories.tensor(in_lens, dtype=targets.dtype, device=device)
    tgt_t = _factories.tensor(tgt_lens, dtype=targets.dtype, device=device)
    loss = call(_ctc_op, (log_probs, targets, in_t, tgt_t), blank=int(blank),
                zero_infinity=bool(zero_infinity))
    if reduction == "none":
        return loss[0] if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    return (loss / tgt_t.clamp(min=1).to(loss.dtype)).mean()
