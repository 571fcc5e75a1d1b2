"""Training scripts run unchanged: small MLP, CNN, LSTM and Transformer models get
torch's weights and take a few plain SGD steps under both libraries; losses, outputs
and parameters must stay equal. Also nn.utils."""
import numpy as np
import pytest

import torchlike
from nn_oracle import copy_weights


def mlp(nn):
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.0), nn.Linear(16, 16),
                         nn.Tanh(), nn.Linear(16, 3))


def cnn(nn):
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.GELU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))


def lstm(nn):
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(12, 5, padding_idx=0)
            self.rnn = nn.LSTM(5, 6, num_layers=2, batch_first=True, bidirectional=True)
            self.head = nn.Linear(12, 3)

        def forward(self, tokens):
            out, _ = self.rnn(self.embed(tokens))
            return self.head(out[:, -1])
    return Tagger()


def transformer(nn):
    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
            self.embed = nn.Embedding(12, 8)
            self.encoder = nn.TransformerEncoder(layer, 2)
            self.norm = nn.LayerNorm(8)
            self.head = nn.Linear(8, 3)

        def forward(self, tokens):
            return self.head(self.norm(self.encoder(self.embed(tokens)).mean(1)))
    return Classifier()


rng = np.random.default_rng(0)
TOKENS = rng.integers(0, 12, (4, 5))
MODELS = {
    "mlp": (mlp, rng.standard_normal((8, 6)).astype(np.float32), rng.integers(0, 3, 8)),
    "cnn": (cnn, rng.standard_normal((4, 2, 8, 8)).astype(np.float32), rng.integers(0, 3, 4)),
    "lstm": (lstm, TOKENS, rng.integers(0, 3, 4)),
    "transformer": (transformer, TOKENS, rng.integers(0, 3, 4)),
}


def _sgd_step(lib, model, lr=0.1):
    with lib.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    model.zero_grad()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_training_steps_match(oracle, name):
    make, x, y = MODELS[name]
    theirs = make(oracle.nn)
    ours = make(torchlike.nn)
    copy_weights(ours, theirs)
    loss_t, loss_o = oracle.nn.CrossEntropyLoss(), torchlike.nn.CrossEntropyLoss()
    for step in range(3):
        out_t = theirs(oracle.tensor(x))
        out_o = ours(torchlike.tensor(x))
        np.testing.assert_allclose(np.asarray(out_o.detach()), out_t.detach().numpy(),
                                   atol=2e-5, rtol=1e-4)
        lt, lo = loss_t(out_t, oracle.tensor(y)), loss_o(out_o, torchlike.tensor(y))
        assert lo.grad_fn.name() == lt.grad_fn.name()
        np.testing.assert_allclose(lo.item(), lt.item(), rtol=1e-5)
        lt.backward()
        lo.backward()
        grads_t = {n: p.grad for n, p in theirs.named_parameters()}
        for n, p in ours.named_parameters():
            np.testing.assert_allclose(np.asarray(p.grad), grads_t[n].numpy(), atol=2e-5,
                                       rtol=1e-4, err_msg=f"step {step}: {n}")
        _sgd_step(oracle, theirs)
        _sgd_step(torchlike, ours)
    for (n, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), atol=2e-5, rtol=1e-4, err_msg=n)


def test_eval_mode_inference(oracle):
    theirs, ours = cnn(oracle.nn), cnn(torchlike.nn)
    copy_weights(ours, theirs)
    x = MODELS["cnn"][1]
    theirs(oracle.tensor(x))            # one training step moves the running stats
    ours(torchlike.tensor(x))
    theirs.eval(), ours.eval()
    with oracle.no_grad(), torchlike.no_grad():
        a, b = theirs(oracle.tensor(x)), ours(torchlike.tensor(x))
    assert b.grad_fn is None and not b.requires_grad
    np.testing.assert_allclose(np.asarray(b), a.numpy(), atol=2e-5, rtol=1e-4)


def _with_grads(lib, values):
    params = [lib.nn.Parameter(lib.tensor(v)) for v in values]
    for p in params:
        p.grad = lib.tensor(np.asarray(p.detach()) * 3)
    return params


VALUES = [np.array([[1.0, -2.0], [0.5, 4.0]], np.float32), np.array([3.0, -1.5], np.float32)]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm(oracle, norm_type):
    ours, theirs = _with_grads(torchlike, VALUES), _with_grads(oracle, VALUES)
    a = torchlike.nn.utils.clip_grad_norm_(ours, 1.5, norm_type)
    b = oracle.nn.utils.clip_grad_norm_(theirs, 1.5, norm_type)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-6)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(p.grad), q.grad.numpy(), rtol=1e-6)


def test_clip_grad_value_and_vectors(oracle):
    ours, theirs = _with_grads(torchlike, VALUES), _with_grads(oracle, VALUES)
    torchlike.nn.utils.clip_grad_value_(ours, 2.5)
    oracle.nn.utils.clip_grad_value_(theirs, 2.5)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(np.asarray(p.grad), q.grad.numpy())
    vec = torchlike.nn.utils.parameters_to_vector(ours)
    assert vec.tolist() == oracle.nn.utils.parameters_to_vector(theirs).tolist()
    torchlike.nn.utils.vector_to_parameters(vec * 2, ours)
    assert ours[0].tolist() == [[2.0, -4.0], [1.0, 8.0]] and ours[1].tolist() == [6.0, -3.0]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(oracle, batch_first, side):
    seqs = [np.arange(6, dtype=np.float32).reshape(3, 2), np.ones((1, 2), np.float32),
            np.zeros((2, 2), np.float32)]
    a = torchlike.nn.utils.rnn.pad_sequence([torchlike.tensor(s) for s in seqs], batch_first,
                                            -1.0, side)
    b = oracle.nn.utils.rnn.pad_sequence([oracle.tensor(s) for s in seqs], batch_first, -1.0,
                                         side)
    assert repr(a) == repr(b)
