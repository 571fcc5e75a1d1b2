"""Sampling ops: shapes, dtypes, determinism under a seed, and statistics (bit equality
with PyTorch's generator is not a goal)."""
import math

import numpy as np
import pytest

import torchlike as torch
from helpers import float_tol

N = 20000


def _stats(t):
    a = np.asarray(t.detach().double())
    return a.mean(), a.std()


def _close(value, expected, tol):
    assert abs(value - expected) <= tol, (value, expected)


def test_normal_forms_and_statistics():
    torch.manual_seed(0)
    mean, std = _stats(torch.normal(2.0, 3.0, (N,)))
    _close(mean, 2.0, 0.1)
    _close(std, 3.0, 0.1)
    m = torch.full((N,), -1.0)
    s = torch.full((N,), 0.5)
    for out in (torch.normal(m, s), torch.normal(m, 0.5), torch.normal(-1.0, s)):
        mean, std = _stats(out)
        _close(mean, -1.0, 0.03)
        _close(std, 0.5, 0.03)
    assert torch.normal(torch.zeros(2, 1), torch.ones(3)).shape == (2, 3)
    assert torch.normal(torch.zeros(3, dtype=torch.float64), 1.0).dtype == torch.float64


def test_samples_have_zero_gradient_like_pytorch():
    mean = torch.zeros(3, requires_grad=True)
    out = torch.normal(mean, 1.0)
    assert out.grad_fn.name() == "NormalBackward1"
    out.sum().backward()
    assert mean.grad.tolist() == [0.0, 0.0, 0.0]


def test_seed_reproduces_draws():
    torch.manual_seed(7)
    a = torch.normal(0.0, 1.0, (5,)), torch.bernoulli(torch.full((5,), 0.5)), torch.zeros(5).uniform_()
    torch.manual_seed(7)
    b = torch.normal(0.0, 1.0, (5,)), torch.bernoulli(torch.full((5,), 0.5)), torch.zeros(5).uniform_()
    for x, y in zip(a, b):
        assert x.tolist() == y.tolist()
    g = torch.Generator().manual_seed(3)
    h = torch.Generator().manual_seed(3)
    assert torch.poisson(torch.ones(4) * 3, g).tolist() == torch.poisson(torch.ones(4) * 3, h).tolist()


def test_bernoulli():
    torch.manual_seed(1)
    p = torch.tensor([0.0, 0.25, 1.0]).expand(N, 3)
    draws = np.asarray(torch.bernoulli(p))
    assert set(np.unique(draws)) <= {0.0, 1.0}
    _close(draws[:, 0].mean(), 0.0, 0)
    _close(draws[:, 1].mean(), 0.25, 0.02)
    _close(draws[:, 2].mean(), 1.0, 0)
    _close(float(torch.bernoulli(torch.zeros(N), 0.7).mean()), 0.7, 0.02)
    _close(float(torch.zeros(N).bernoulli_(0.3).mean()), 0.3, 0.02)


def test_poisson():
    torch.manual_seed(2)
    mean, std = _stats(torch.poisson(torch.full((N,), 4.0)))
    _close(mean, 4.0, 0.1)
    _close(std, 2.0, 0.1)


def test_multinomial():
    torch.manual_seed(3)
    probs = torch.tensor([0.1, 0.0, 0.6, 0.3])
    draws = np.asarray(torch.multinomial(probs, N, replacement=True))
    assert draws.dtype == np.int64 and draws.shape == (N,)
    freq = np.bincount(draws, minlength=4) / N
    # sampling noise, not rounding: a frequency's standard deviation is at most
    # sqrt(0.25 / N) = 0.0035, so 0.02 is over 5 sigma (and the seed is fixed)
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.6, 0.3], atol=0.02)
    for _ in range(20):    # without replacement: distinct, never a zero-probability class
        picked = torch.multinomial(probs, 3).tolist()
        assert len(set(picked)) == 3 and 1 not in picked
    assert torch.multinomial(torch.ones(2, 5), 2).shape == (2, 2)


def test_multinomial_rows_with_replacement_and_no_compile():
    """Each row of a 2-D distribution drawn on its own, a class of probability zero
    never; the draw is made on the host: it compiles no XLA program."""
    from torchlike import _caches
    torch.manual_seed(4)
    probs = torch.tensor([[0.25, 0.75, 0.0], [0.0, 0.0, 3.0], [1 / 3, 1 / 3, 0.0]])
    compiles = _caches.compiles.total
    draws = np.asarray(torch.multinomial(probs, N, replacement=True))
    assert _caches.compiles.total == compiles
    assert draws.shape == (3, N) and draws.dtype == np.int64
    freq = np.stack([np.bincount(row, minlength=3) / N for row in draws])
    # frequencies of N draws: standard deviation at most 0.0035, 0.02 over 5 of them
    np.testing.assert_allclose(freq, [[0.25, 0.75, 0], [0, 0, 1], [0.5, 0.5, 0]], atol=0.02)
    torch.manual_seed(4)
    again = np.asarray(torch.multinomial(probs, N, replacement=True))
    np.testing.assert_array_equal(again, draws)             # the seed reproduces them


@pytest.mark.parametrize("method, args, mean, var", [
    ("uniform_", (2.0, 4.0), 3.0, 4 / 12),
    ("normal_", (1.0, 2.0), 1.0, 4.0),
    ("exponential_", (2.0,), 0.5, 0.25),
    ("geometric_", (0.25,), 4.0, 0.75 / 0.0625),
    ("log_normal_", (0.0, 0.5), math.exp(0.125), (math.exp(0.25) - 1) * math.exp(0.25)),
])
def test_inplace_samplers(method, args, mean, var):
    torch.manual_seed(4)
    t = getattr(torch.zeros(N, dtype=torch.float64), method)(*args)
    m, s = _stats(t)
    _close(m, mean, 0.05 * max(1.0, mean))
    _close(s * s, var, 0.08 * max(1.0, var))


def test_random_and_cauchy():
    torch.manual_seed(5)
    r = torch.zeros(N).random_(0, 5)
    assert set(np.unique(np.asarray(r))) == {0.0, 1.0, 2.0, 3.0, 4.0}
    c = np.asarray(torch.zeros(N).cauchy_())
    _close(float(np.median(c)), 0.0, 0.05)
    _close(float(np.percentile(c, 75)), 1.0, 0.1)


def test_dropout_statistics_and_scaling():
    F = torch.nn.functional
    torch.manual_seed(6)
    x = torch.ones(N)
    y = np.asarray(F.dropout(x, 0.25))
    # 1 / (1 - p) rounded to float32 (1), times an exact 1.0 (1)
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.75], **float_tol("float32", 2))
    _close((y == 0).mean(), 0.25, 0.02)
    assert F.dropout(x, 0.25, training=False) is x
    assert np.asarray(F.dropout(x, 1.0)).max() == 0.0
    # channel-wise: whole channels are zeroed together
    z = np.asarray(F.dropout2d(torch.ones(64, 8, 3, 3), 0.5))
    per_channel = z.reshape(64, 8, 9)
    assert ((per_channel == 0).all(-1) | (per_channel != 0).all(-1)).all()
    # alpha dropout keeps SELU's zero mean and unit variance
    a = np.asarray(F.alpha_dropout(torch.randn(N), 0.2, training=True))
    _close(a.mean(), 0.0, 0.05)
    _close(a.std(), 1.0, 0.05)
