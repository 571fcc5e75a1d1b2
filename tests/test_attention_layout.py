"""Multi-head attention computed in the caller's layout: a batch-first module's (N, L, E)
input is split into heads (N, H, L, D) directly, not transposed to PyTorch's (L, N, E)
and back; outputs, attention weights, grad_fn names and every gradient stay PyTorch's.
And the safe softmax (fully masked rows give zeros) compiles as jax.nn.softmax does."""
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import torchlike
from helpers import float_tol
from nn_oracle import check_module

L, N, E, S = 5, 3, 8, 6          # distinct sizes: a transpose between layouts shows
BOOL_MASK = np.triu(np.ones((L, L), bool), 1)
FLOAT_MASK = np.where(BOOL_MASK, -np.inf, 0.0).astype(np.float32)
# (the causal mask with this padding leaves every query a key: torch's weights have no nan)
PADDING = np.array([[False] * (L - 2) + [True] * 2, [False] * L, [False] * (L - 1) + [True]])
KEY_PADDING = np.zeros((N, S), bool)
KEY_PADDING[0, -2:] = True
# the first batch element's keys are all masked: its rows are fully masked
FULLY_MASKED = np.array([[True] * L, [False] * L, [False] * (L - 1) + [True]])
# one float mask per batch element and head (N*H, L, L), -inf off the diagonal here and there
_rng = np.random.default_rng(3)
PER_HEAD_MASK = _rng.standard_normal((N * 2, L, L)).astype(np.float32)
PER_HEAD_MASK[(_rng.random((N * 2, L, L)) > 0.7) & ~np.eye(L, dtype=bool)] = -np.inf


def _shape(batch_first, length=L, embed=E):
    return (N, length, embed) if batch_first else (length, N, embed)


def _self(masks=(), **call):
    """Self-attention forward; `masks` names the keyword each extra input is passed as."""
    def forward(m, x, *values):
        return m(x, x, x, **dict(zip(masks, values)), **call)
    return forward


# name: (module kwargs, extra input specs, forward)
CASES = {
    "weights-averaged": ({}, [], _self()),
    "weights-per-head": ({}, [], _self(average_attn_weights=False)),
    "no-weights": ({}, [], _self(need_weights=False)),
    "bool-mask-and-padding": ({}, [BOOL_MASK, PADDING],
                              _self(masks=("attn_mask", "key_padding_mask"))),
    "float-mask-no-weights": ({}, [FLOAT_MASK], _self(masks=("attn_mask",),
                                                     need_weights=False)),
    "per-head-mask-per-head-weights": ({}, [PER_HEAD_MASK], _self(
        masks=("attn_mask",), average_attn_weights=False)),
    "fully-masked-rows-give-zeros": ({}, [FULLY_MASKED], _self(
        masks=("key_padding_mask",), need_weights=False)),
    "bias-kv-zero-attn": (dict(add_bias_kv=True, add_zero_attn=True), [PADDING],
                          _self(masks=("key_padding_mask",), average_attn_weights=False)),
    "no-bias": (dict(bias=False), [], _self(need_weights=False)),
}


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("batch_first", [True, False], ids=["batch-first", "seq-first"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_self_attention_matches_torch(oracle, name, batch_first, train):
    kwargs, masks, forward = CASES[name]
    check_module(lambda nn: nn.MultiheadAttention(E, 2, batch_first=batch_first, **kwargs),
                 [_shape(batch_first)] + masks, forward=forward, train=train)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("batch_first", [True, False], ids=["batch-first", "seq-first"])
def test_separate_projections_and_cross_attention_match_torch(oracle, batch_first,
                                                              need_weights):
    """kdim/vdim (separate projection weights) and query, key, value all different."""
    check_module(lambda nn: nn.MultiheadAttention(E, 4, kdim=3, vdim=5, add_bias_kv=True,
                                                  batch_first=batch_first),
                 [_shape(batch_first), _shape(batch_first, S, 3), _shape(batch_first, S, 5),
                  KEY_PADDING],
                 forward=lambda m, q, k, v, pad: m(q, k, v, key_padding_mask=pad,
                                                   need_weights=need_weights))
    # the same key and value tensor, a different query (packed weights, not self-attention)
    check_module(lambda nn: nn.MultiheadAttention(E, 2, batch_first=batch_first),
                 [_shape(batch_first), _shape(batch_first, S)],
                 forward=lambda m, q, kv: m(q, kv, kv, need_weights=need_weights))


def test_batch_first_unbatched_input_matches_torch(oracle):
    check_module(lambda nn: nn.MultiheadAttention(E, 2, batch_first=True), [(L, E), (L,)],
                 forward=lambda m, x, pad: m(x, x, x, key_padding_mask=pad > 0,
                                             average_attn_weights=False))


def test_batch_first_encoder_layer_with_masks_matches_torch(oracle):
    check_module(lambda nn: nn.TransformerEncoderLayer(E, 2, 16, dropout=0.0,
                                                       batch_first=True),
                 [_shape(True), FLOAT_MASK, PADDING],
                 forward=lambda m, x, mask, pad: m(x, src_mask=mask,
                                                   src_key_padding_mask=pad))


def test_batch_first_under_autocast_goes_through_the_public_functional(oracle):
    """autocast replaces F.multi_head_attention_forward by its casting wrapper: the
    batch-first module calls it, as PyTorch's does, so its output is bfloat16 too."""
    outs = []
    for lib in (torchlike, oracle):
        lib.manual_seed(0)
        m = lib.nn.MultiheadAttention(E, 2, batch_first=True)
        x = lib.randn(*_shape(True))
        with lib.autocast("cpu", dtype=lib.bfloat16):
            out, weights = m(x, x, x)
        outs.append((out.dtype, tuple(out.shape), out.grad_fn.name(), weights.dtype))
    assert repr(outs[0]) == repr(outs[1])


def test_batch_first_program_has_no_transpose_between_layouts():
    """A compiled training step of a batch-first encoder layer: no transpose in its
    program swaps an activation's batch and sequence axes ((N, L, E) <-> (L, N, E)),
    forward or backward."""
    torchlike.manual_seed(0)
    layer = torchlike.nn.TransformerEncoderLayer(E, 2, 16, dropout=0.0, batch_first=True)
    opt = torchlike.optim.SGD(layer.parameters(), lr=0.1)
    x = torchlike.randn(*_shape(True))

    def step():
        opt.zero_grad()
        loss = layer(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    f = torchlike.compile(step)
    for _ in range(2):
        f().item()
    entry = f._plan.entry
    state, _, storages = f._plan.layout([])
    counters = [g._counter for g in state.generators]
    text = entry.program.lower(*entry.pick([st.array for st in storages] + counters)).as_text()
    swaps = re.findall(r"stablehlo\.transpose[^\n]*tensor<(\d+)x(\d+)x\d+xf32>\) -> "
                       r"tensor<(\d+)x(\d+)x", text)
    assert "stablehlo.transpose" in text          # (the pattern reads this program's text)
    assert [s for s in swaps if s[:2] == s[2:][::-1] and s[0] != s[1]] == []


def _entry_fusions(softmax):
    """How many fusions XLA makes of an attention's scores -> softmax -> weighted sum."""
    def attend(q, k):
        w = softmax(q @ jnp.swapaxes(k, -1, -2) * 0.25)
        return (w @ k).sum()
    # (the benchmark transformer's sizes: XLA fuses smaller ones differently)
    q, k = (jax.random.normal(jax.random.key(i), (16, 4, 32, 16)) for i in range(2))
    text = jax.jit(attend).lower(q, k).compile().as_text()
    entry = text[text.index("\nENTRY"):]
    return sum(1 for line in entry.splitlines() if " fusion(" in line)


def test_safe_softmax_compiles_as_softmax_does():
    """The safe softmax's guard for fully masked rows costs XLA no fusion of its own
    (patching the row max after its reduction left `exp` as one: 180-270 us a step of
    the transformer benchmark against about 1)."""
    from torchlike.nn._functional_layers.attention import _safe_softmax
    assert _entry_fusions(_safe_softmax) == _entry_fusions(
        lambda s: jax.nn.softmax(s, axis=-1))


def test_safe_softmax_values_and_gradients_on_masked_rows(oracle):
    """Rows fully masked give zeros and zero gradients; other rows are softmax's;
    a row masked with the lowest float (not -inf) is softmax's (uniform), as in torch."""
    from torchlike.nn._functional_layers.attention import _safe_softmax
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((4, 6)).astype(np.float32) * 4
    scores[0] = -np.inf
    scores[1, :3] = -np.inf
    scores[2] = np.finfo(np.float32).min
    cot = rng.standard_normal((4, 6)).astype(np.float32)
    y, vjp = jax.vjp(_safe_softmax, jnp.asarray(scores))
    (g,) = vjp(jnp.asarray(cot))
    t = oracle.tensor(scores, requires_grad=True)
    want = oracle.softmax(t, -1)
    (want * oracle.tensor(cot)).sum().backward()
    want, want_grad = want.detach().numpy(), t.grad.numpy()
    want[0], want_grad[0] = 0.0, 0.0                 # torch's softmax: nan; SDPA's: zeros
    # softmax of 6: the max's subtraction, exp (an ulp or two), a sum of 6, a division;
    # its gradient y * (cot - sum(y * cot)) adds a sum of 6 products that cancel at the
    # scale of the largest |cot|
    np.testing.assert_allclose(np.asarray(y), want, **float_tol("float32", 10))
    np.testing.assert_allclose(np.asarray(g), want_grad,
                               **float_tol("float32", 20, scale=float(np.abs(cot).max())))
