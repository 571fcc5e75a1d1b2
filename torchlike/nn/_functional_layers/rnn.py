"""Recurrent layers: a whole multi-layer (bi)directional RNN/LSTM/GRU is one op, each
layer and direction a lax.scan over time with the input projection done up front."""
import jax
import jax.numpy as jnp
from jax import lax

from ..._ops.shape import stack     # (the op itself: a module never passes out=)
from ._common import HIGHEST, call, nn_op, renamed

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _mm(x, w):
    return jnp.matmul(x, w.T, precision=HIGHEST)


def _cell(mode, xp, h, c, w_hh, b_hh, w_hr):
    """One time step given xp = W_ih x + b_ih; returns (h', c')."""
    gh = _mm(h, w_hh)
    if b_hh is not None:
        gh = gh + b_hh
    if mode == "RNN_TANH":
        return jnp.tanh(xp + gh), c
    if mode == "RNN_RELU":
        return jax.nn.relu(xp + gh), c
    if mode == "LSTM":
        i, f, g, o = jnp.split(xp + gh, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h if w_hr is None else _mm(h, w_hr)), c
    xr, xz, xn = jnp.split(xp, 3, axis=-1)
    hr, hz, hn = jnp.split(gh, 3, axis=-1)
    r = jax.nn.sigmoid(xr + hr)
    z = jax.nn.sigmoid(xz + hz)
    n = jnp.tanh(xn + r * hn)
    return (1 - z) * n + z * h, c


def _run_direction(mode, seq, h, c, weights, reverse, valid):
    """valid: (T, N, 1) mask of real (not padding) steps of packed sequences, or None.
    A padded step leaves the state alone and outputs zeros, so that the reverse
    direction starts at each sequence's own last step."""
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    xp = _mm(seq, w_ih)
    if b_ih is not None:
        xp = xp + b_ih

    def step(carry, inputs):
        x_t, keep = inputs
        h, c = _cell(mode, x_t, carry[0], carry[1], w_hh, b_hh, w_hr)
        if keep is None:
            return (h, c), h
        h, c = jnp.where(keep, h, carry[0]), jnp.where(keep, c, carry[1])
        return (h, c), jnp.where(keep, h, jnp.zeros_like(h))
    (h, c), out = lax.scan(step, (h, c), (xp, valid), reverse=reverse)
    return out, h, c


@nn_op("rnn", saves=(0,))
def _rnn_op(x, *rest, mode, layers, directions, has_bias, proj, dropout_p, batch_first,
            unbatched, packed, zero_state=False):
    """Returns (output, h_n per layer/direction..., c_n per layer/direction...).
    With `packed`, the last input holds each sequence's length (x is time-major).
    With `zero_state`, no initial states are given: they are zeros (made here, not
    passed in: a module called without them makes them every step)."""
    rest = list(rest)
    h0 = None if zero_state else rest.pop(0)
    c0 = rest.pop(0) if mode == "LSTM" and not zero_state else None
    lengths = rest.pop() if packed else None
    per = 2 + 2 * has_bias + (proj > 0)
    if unbatched:
        x = x[:, None]
        h0 = None if h0 is None else h0[:, None]
        c0 = None if c0 is None else c0[:, None]
    elif batch_first:
        x = jnp.swapaxes(x, 0, 1)
    if zero_state:
        w_hh = rest[1]          # (gates * hidden, hidden or proj_size)
        h0 = jnp.zeros((layers * directions, x.shape[1], w_hh.shape[1]), x.dtype)
        if mode == "LSTM":
            c0 = jnp.zeros((layers * directions, x.shape[1], w_hh.shape[0] // 4), x.dtype)
    valid = None
    if packed:
        valid = (jnp.arange(x.shape[0])[:, None] < lengths[None, :])[..., None]
    seq = x
    hs, cs = [], []
    for layer in range(layers):
        outs = []
        for d in range(directions):
            k = layer * directions + d
            w = rest[k * per:(k + 1) * per]
            weights = (w[0], w[1], w[2] if has_bias else None, w[3] if has_bias else None,
                       w[-1] if proj else None)
            c = c0[k] if c0 is not None else jnp.zeros_like(h0[k])
            out, h, c = _run_direction(mode, seq, h0[k], c, weights, d == 1, valid)
            outs.append(out)
            hs.append(h)
            cs.append(c)
        seq = outs[0] if directions == 1 else jnp.concatenate(outs, axis=-1)
        if dropout_p and layer < layers - 1:
            noise = rest[layers * directions * per + layer]
            seq = jnp.where(noise >= dropout_p, seq * (1.0 / (1.0 - dropout_p)),
                            jnp.zeros_like(seq))
    if unbatched:
        seq, hs, cs = seq[:, 0], [h[0] for h in hs], [c[0] for c in cs]
    elif batch_first:
        seq = jnp.swapaxes(seq, 0, 1)
    return (seq, *hs, *(cs if mode == "LSTM" else ()))


def _output_grad_fn(mode, directions, proj, batch_first, unbatched):
    """The node PyTorch's CPU RNN output ends with."""
    if unbatched:
        return "SqueezeBackward1"
    if batch_first:
        return "TransposeBackward0" if mode == "LSTM" else "TransposeBackward1"
    if directions == 2:
        return "CatBackward0"
    return "MkldnnRnnLayerBackward0" if (mode == "LSTM" and not proj) else "StackBackward0"


def rnn(mode, input, hx, weights, *, layers, directions, has_bias, proj, dropout_p,
        batch_first, noise, lengths=None):
    """Run the recurrent stack. hx: h0 or (h0, c0), or None for zero states. Returns
    (output, h_n[, c_n]). lengths (a tensor): the input is padded packed sequences,
    time-major."""
    unbatched = input.dim() == 2
    if hx is None:
        states = []
    else:
        h0, c0 = hx if mode == "LSTM" else (hx, None)
        states = [h0] + ([c0] if c0 is not None else [])
    inputs = [input] + states + list(weights) + list(noise)
    packed = lengths is not None
    if packed:
        inputs.append(lengths)
    params = dict(mode=mode, layers=layers, directions=directions, has_bias=has_bias,
                  proj=proj, dropout_p=dropout_p, batch_first=batch_first,
                  unbatched=unbatched, packed=packed)
    if hx is None:
        params["zero_state"] = True
    outs = call(_rnn_op, inputs, _output_grad_fn(mode, directions, proj, batch_first, unbatched),
                **params)
    n = layers * directions
    out, hs, cs = outs[0], outs[1:1 + n], outs[1 + n:]

    def gather(states):
        return renamed(stack(states, 0), "SqueezeBackward1") if unbatched else stack(states, 0)
    if mode == "LSTM":
        return out, (gather(hs), gather(cs))
    return out, gather(hs)


@nn_op("rnn_cell", saves=(0,))
def _rnn_cell_op(x, h, *rest, mode, has_bias):
    rest = list(rest)
    c = rest.pop(0) if mode == "LSTM" else None
    w_ih, w_hh = rest[0], rest[1]
    b_ih, b_hh = (rest[2], rest[3]) if has_bias else (None, None)
    xp = _mm(x, w_ih)
    if b_ih is not None:
        xp = xp + b_ih
    h, c = _cell(mode, xp, h, c, w_hh, b_hh, None)
    return (h, c) if mode == "LSTM" else h


_CELL_GRAD_FN = {"RNN_TANH": "TanhBackward0", "RNN_RELU": "ReluBackward0",
                 "LSTM": "MulBackward0", "GRU": "AddBackward0"}


def rnn_cell(mode, input, hx, weights, has_bias):
    """One step of RNNCell/LSTMCell/GRUCell (hx: h or (h, c), already batched)."""
    h, c = hx if mode == "LSTM" else (hx, None)
    inputs = [input, h] + ([c] if c is not None else []) + list(weights)
    out = call(_rnn_cell_op, inputs, _CELL_GRAD_FN[mode], mode=mode, has_bias=has_bias)
    if mode == "LSTM":
        return out[0], renamed(out[1], "AddBackward0")
    return out


# -- packed sequences ---------------------------------------------------------------------
@nn_op("pack_rows", "PackPaddedSequenceBackward0")
def _pack_rows_op(x, index, *, time_axis):
    """Rows of x (time and batch flattened) in packed order."""
    if time_axis == 1:
        x = jnp.swapaxes(x, 0, 1)
    flat = x.reshape((-1,) + x.shape[2:])
    return jnp.take(flat, index, axis=0)


@nn_op("unpack_rows")
def _unpack_rows_op(data, index, *, steps, batch, batch_first, fill):
    padded = jnp.full((steps * batch,) + data.shape[1:], fill, data.dtype).at[index].set(data)
    padded = padded.reshape((steps, batch) + data.shape[1:])
    return jnp.swapaxes(padded, 0, 1) if batch_first else padded


def pack_rows(x, index, batch_first=False, grad_fn=None):
    """x (T, B, *) (or (B, T, *)) -> its rows at flat positions `index` (time-major)."""
    return call(_pack_rows_op, (x, index), grad_fn, time_axis=1 if batch_first else 0)


def unpack_rows(data, index, steps, batch, batch_first, grad_fn, fill=0.0):
    """Inverse of pack_rows: rows of `data` scattered to flat positions `index` of a
    (T, B, *) tensor (or (B, T, *) with batch_first) filled with `fill`."""
    return call(_unpack_rows_op, (data, index), grad_fn, steps=int(steps), batch=int(batch),
                batch_first=bool(batch_first), fill=float(fill))
