"""RNN/LSTM/GRU (and cells), MultiheadAttention and the Transformer modules against
torch with identical weights: outputs, states, grad_fn names and all gradients."""
import warnings

import numpy as np
import pytest

import torchlike
from helpers import normwise_tol
from nn_oracle import check_module

# each configuration ends in a different PyTorch grad_fn (Stack, Transpose, Cat ...)
RNN_CONFIGS = {
    "default": {},
    "batch_first_no_bias": dict(batch_first=True, bias=False),
    "two_layers_bidirectional": dict(num_layers=2, bidirectional=True),
    "deep_bidirectional_batch_first": dict(num_layers=2, bidirectional=True, batch_first=True),
}


@pytest.mark.parametrize("config", sorted(RNN_CONFIGS))
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_recurrent(oracle, cls, config):
    kwargs = RNN_CONFIGS[config]
    shape = (2, 5, 3) if kwargs.get("batch_first") else (5, 2, 3)
    check_module(lambda nn: getattr(nn, cls)(3, 4, **kwargs), [shape])


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_recurrent_given_state_and_unbatched(oracle, cls):
    layers = 2 * 2
    if cls == "LSTM":
        spec = [(5, 2, 3), (layers, 2, 4), (layers, 2, 4)]
        def forward(m, x, h, c):
            return m(x, (h, c))
    else:
        spec = [(5, 2, 3), (layers, 2, 4)]
        def forward(m, x, h):
            return m(x, h)
    check_module(lambda nn: getattr(nn, cls)(3, 4, num_layers=2, bidirectional=True), spec,
                 forward=forward)
    check_module(lambda nn: getattr(nn, cls)(3, 4), [(5, 3)])


def test_rnn_relu_and_lstm_projection(oracle):
    check_module(lambda nn: nn.RNN(3, 4, nonlinearity="relu", num_layers=2), [(5, 2, 3)])
    check_module(lambda nn: nn.LSTM(3, 4, proj_size=2, num_layers=2), [(5, 2, 3)])


def test_recurrent_dropout_is_training_only(oracle):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_module(lambda nn: nn.GRU(3, 4, num_layers=2, dropout=0.5), [(5, 2, 3)],
                     train=False)
    m = torchlike.nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = torchlike.randn(5, 2, 3)
    a, b = m(x)[0], m(x)[0]
    assert not np.allclose(np.asarray(a.detach()), np.asarray(b.detach()))


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells(oracle, cls):
    check_module(lambda nn: getattr(nn, cls)(3, 4), [(2, 3)])
    check_module(lambda nn: getattr(nn, cls)(3, 4, bias=False), [(3,)])
    if cls == "LSTMCell":
        check_module(lambda nn: nn.LSTMCell(3, 4), [(2, 3), (2, 4), (2, 4)],
                     forward=lambda m, x, h, c: m(x, (h, c)))
    else:
        check_module(lambda nn: getattr(nn, cls)(3, 4), [(2, 3), (2, 4)])


def test_rnn_parameter_names(oracle):
    def names(nn):
        return [(n, tuple(p.shape)) for n, p in
                nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2).named_parameters()]
    assert names(torchlike.nn) == names(oracle.nn)


BOOL_MASK = np.triu(np.ones((4, 4), bool), 1)
PADDING = np.array([[False, False, True, True], [False, False, False, False]])
FLOAT_MASK = np.where(BOOL_MASK, -np.inf, 0.0).astype(np.float32)

MHA = {
    "self": (lambda nn: nn.MultiheadAttention(8, 2), [(4, 2, 8)],
             lambda m, x: m(x, x, x)),
    "cross-kv-dims": (lambda nn: nn.MultiheadAttention(8, 4, kdim=3, vdim=5),
                      [(4, 2, 8), (6, 2, 3), (6, 2, 5)], lambda m, q, k, v: m(q, k, v)),
    "batch-first-no-weights": (lambda nn: nn.MultiheadAttention(8, 2, batch_first=True),
                               [(2, 4, 8)], lambda m, x: m(x, x, x, need_weights=False)),
    "masks": (lambda nn: nn.MultiheadAttention(8, 2), [(4, 2, 8), BOOL_MASK, PADDING],
              lambda m, x, mask, pad: m(x, x, x, attn_mask=mask, key_padding_mask=pad)),
    "float-mask-per-head-weights": (
        lambda nn: nn.MultiheadAttention(8, 2), [(4, 2, 8), FLOAT_MASK],
        lambda m, x, mask: m(x, x, x, attn_mask=mask, average_attn_weights=False)),
    "bias-kv-zero-attn": (
        lambda nn: nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True),
        [(4, 2, 8), PADDING], lambda m, x, pad: m(x, x, x, key_padding_mask=pad)),
    "no-bias": (lambda nn: nn.MultiheadAttention(8, 2, bias=False), [(4, 2, 8)],
                lambda m, x: m(x, x, x)),
    "unbatched": (lambda nn: nn.MultiheadAttention(8, 2), [(4, 8)], lambda m, x: m(x, x, x)),
}


@pytest.mark.parametrize("name", sorted(MHA))
def test_multihead_attention(oracle, name):
    make, spec, forward = MHA[name]
    check_module(make, spec, forward=forward)


def test_scaled_dot_product_attention(oracle):
    from torchlike.nn import _functional_layers as FL
    import torch
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s).astype(np.float32)
               for s in [(2, 2, 4, 3), (2, 2, 5, 3), (2, 2, 5, 3)])
    mask = rng.random((4, 5)) > 0.3
    for kwargs in [{}, dict(is_causal=True), dict(scale=0.3), dict(attn_mask="bool"),
                   dict(attn_mask="float")]:
        def args(lib):
            kw = dict(kwargs)
            if kw.get("attn_mask") == "bool":
                kw["attn_mask"] = lib.tensor(mask)
            elif kw.get("attn_mask") == "float":
                kw["attn_mask"] = lib.tensor(np.where(mask, 0.5, -1.0).astype(np.float32))
            return [lib.tensor(a, requires_grad=True) for a in (q, k, v)], kw
        (tq, tk, tv), kw_t = args(torch)
        (oq, ok, ov), kw_o = args(torchlike)
        a = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, **kw_t)
        b = FL.scaled_dot_product_attention(oq, ok, ov, **kw_o)
        # scores (3-term dots, scale: 4), softmax over 5 keys (exp: 4, the max and sum:
        # 5, a division: 1), the 5-term weighted sum of values (5): ~19 roundings; the
        # backward pass retraces them with as many more: 48 for both, normwise since
        # softmax gradients sum to zero
        np.testing.assert_allclose(np.asarray(b.detach()), a.detach().numpy(),
                                   **normwise_tol("float32", 48, a.detach().numpy()))
        assert b.grad_fn.name() == a.grad_fn.name()
        a.sum().backward()
        b.sum().backward()
        for x, y in [(oq, tq), (ok, tk), (ov, tv)]:
            np.testing.assert_allclose(np.asarray(x.grad), y.grad.numpy(),
                                       **normwise_tol("float32", 48, y.grad.numpy()))


ENCODERS = {
    "post-norm": dict(),
    "pre-norm-gelu-batch-first": dict(norm_first=True, activation="gelu", batch_first=True),
}


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_transformer_encoder_layer(oracle, name):
    kwargs = ENCODERS[name]
    shape = (2, 4, 8) if kwargs.get("batch_first") else (4, 2, 8)
    check_module(lambda nn: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kwargs),
                 [shape])


def test_transformer_encoder_with_masks(oracle):
    def make(nn):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1)
            return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))
    check_module(make, [(4, 2, 8), FLOAT_MASK, PADDING], train=False,
                 forward=lambda m, x, mask, pad: m(x, mask=mask, src_key_padding_mask=pad))


def test_transformer(oracle):
    def make(nn):
        return nn.Transformer(8, 2, 1, 1, 16, dropout=0.0)

    def forward(m, src, tgt):
        mask = type(m).generate_square_subsequent_mask(3)
        return m(src, tgt, tgt_mask=mask)
    check_module(make, [(4, 2, 8), (3, 2, 8)], forward=forward)


def test_generate_square_subsequent_mask(oracle):
    ours = torchlike.nn.Transformer.generate_square_subsequent_mask(3)
    theirs = oracle.nn.Transformer.generate_square_subsequent_mask(3)
    assert repr(ours) == repr(theirs)


def test_nested_tensor_warning(oracle):
    for lib in (torchlike, oracle):
        with pytest.warns(UserWarning, match="enable_nested_tensor is True, but "
                          "self.use_nested_tensor is False because encoder_layer.self_attn."
                          "batch_first was not True"):
            lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(4, 2, 8), 1)


def _packed_forward(enforce_sorted, lengths):
    def forward(m, x, *state):
        lib = torchlike if isinstance(x, torchlike.Tensor) else __import__("torch")
        rnn_utils = lib.nn.utils.rnn
        packed = rnn_utils.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
        out, h = m(packed, (state if len(state) == 2 else state[0]) if state else None)
        padded, lens = rnn_utils.pad_packed_sequence(out, batch_first=True, total_length=6,
                                                     padding_value=-1.0)
        assert lens.tolist() == list(lengths)
        return out.data, padded, h
    return forward


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_packed_sequences(oracle, cls):
    check_module(lambda nn: getattr(nn, cls)(3, 4, num_layers=2, bidirectional=True,
                                             batch_first=True),
                 [(5, 3, 3)], forward=_packed_forward(False, [2, 5, 2]))
    state = [(1, 3, 4)] * (2 if cls == "LSTM" else 1)
    check_module(lambda nn: getattr(nn, cls)(3, 4), [(5, 3, 3)] + state,
                 forward=_packed_forward(True, [5, 3, 1]))


def test_pack_utilities(oracle):
    def run(lib):
        u = lib.nn.utils.rnn
        seqs = [lib.tensor(np.arange(n * 2, dtype=np.float32).reshape(n, 2)) for n in (2, 4, 1)]
        packed = u.pack_sequence(seqs, enforce_sorted=False)
        out = [repr(packed), repr(u.unpack_sequence(packed))]
        padded = u.pad_sequence(seqs, batch_first=True)
        out.append(repr(u.unpad_sequence(padded, lib.tensor([2, 4, 1]), batch_first=True)))
        p2 = u.pack_padded_sequence(padded, [2, 4, 1], batch_first=True, enforce_sorted=False)
        out.append(repr(u.pad_packed_sequence(p2)))
        return out
    assert run(torchlike) == run(oracle)
    assert_raises = __import__("helpers").assert_raises_same
    assert_raises(lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(3, 2),
                                                                     [1, 3]))
