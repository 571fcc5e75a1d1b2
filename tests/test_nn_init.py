"""nn.init and default layer initialisation: PyTorch's gains, fans, bounds and
distributions (values are not bit-equal to torch's generator, so statistics are)."""
import math

import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, float_tol

init = torchlike.nn.init


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",),
                                  ("relu",), ("leaky_relu",), ("leaky_relu", 0.2),
                                  ("selu",)])
def test_calculate_gain(oracle, args):
    assert init.calculate_gain(*args) == oracle.nn.init.calculate_gain(*args)


def test_calculate_gain_errors(oracle):
    assert_raises_same(lambda lib: lib.nn.init.calculate_gain("swish"))
    assert_raises_same(lambda lib: lib.nn.init.calculate_gain("leaky_relu", "x"))
    assert_raises_same(lambda lib: lib.nn.init.kaiming_uniform_(lib.empty(3, 4), mode="fan"))
    assert_raises_same(lambda lib: lib.nn.init.xavier_uniform_(lib.empty(3)))
    assert_raises_same(lambda lib: lib.nn.init.eye_(lib.empty(3, 4, 5)))


def _values(t):
    return np.asarray(t.detach(), np.float64)


def test_in_place_and_no_grad():
    w = torchlike.nn.Parameter(torchlike.zeros(300, 200))
    out = init.uniform_(w, -0.5, 0.25)
    assert out is w and w.requires_grad and w.grad_fn is None
    v = _values(w)
    assert v.min() >= -0.5 and v.max() < 0.25 and abs(v.mean() + 0.125) < 0.01


def test_distributions():
    t = torchlike.empty(400, 300)
    v = _values(init.normal_(t, 1.0, 2.0))
    assert abs(v.mean() - 1.0) < 0.03 and abs(v.std() - 2.0) < 0.03
    v = _values(init.trunc_normal_(t, 0.5, 1.0, -1.0, 1.5))
    assert v.min() >= -1.0 and v.max() <= 1.5 and abs(v.mean() - 0.3547) < 0.01
    assert (_values(init.constant_(t, 0.3)) == np.float32(0.3)).all()
    assert (_values(init.ones_(t)) == 1).all() and (_values(init.zeros_(t)) == 0).all()
    assert (_values(init.eye_(torchlike.empty(3, 4))) == np.eye(3, 4)).all()
    fan_in, fan_out = 300, 400
    v = _values(init.xavier_uniform_(t, gain=2.0))
    bound = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(v).max() <= bound and np.abs(v).max() > 0.99 * bound
    v = _values(init.xavier_normal_(t))
    assert abs(v.std() - math.sqrt(2.0 / (fan_in + fan_out))) < 0.002
    v = _values(init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"))
    bound = math.sqrt(2.0) * math.sqrt(3.0 / fan_out)
    assert np.abs(v).max() <= bound and np.abs(v).max() > 0.99 * bound
    v = _values(init.kaiming_normal_(t, a=0.1))
    assert abs(v.std() - math.sqrt(2.0 / 1.01) / math.sqrt(fan_in)) < 0.002


def test_orthogonal_and_dirac(oracle):
    for shape in [(4, 6), (6, 4), (3, 2, 2)]:
        q = _values(init.orthogonal_(torchlike.empty(*shape), gain=2.0)).reshape(shape[0], -1)
        small = min(q.shape)
        gram = q @ q.T if q.shape[0] == small else q.T @ q
        # Householder QR in float32 loses orthogonality by at most ~m*n ulps (Higham,
        # Thm. 19.4, small constant), the Gram product adds n roundings; times gain**2
        steps = 2 * q.shape[0] * q.shape[1]
        np.testing.assert_allclose(gram, 4 * np.eye(small), **float_tol("float32", steps, 4))
    ours = init.dirac_(torchlike.empty(4, 2, 3, 3), groups=2)
    theirs = oracle.nn.init.dirac_(oracle.empty(4, 2, 3, 3), groups=2)
    np.testing.assert_array_equal(_values(ours), theirs.numpy())


def test_reproducible_under_manual_seed():
    torchlike.manual_seed(3)
    a = _values(torchlike.nn.Linear(5, 4).weight)
    torchlike.manual_seed(3)
    b = _values(torchlike.nn.Linear(5, 4).weight)
    c = _values(torchlike.nn.Linear(5, 4).weight)
    assert (a == b).all() and not (a == c).all()


def _bound_of(values):
    return np.abs(values).max()


@pytest.mark.parametrize("make, name, bound", [
    (lambda nn: nn.Linear(50, 40), "weight", 1 / math.sqrt(50)),
    (lambda nn: nn.Linear(50, 40), "bias", 1 / math.sqrt(50)),
    (lambda nn: nn.Conv2d(6, 40, 3), "weight", 1 / math.sqrt(54)),
    (lambda nn: nn.Conv2d(6, 40, 3), "bias", 1 / math.sqrt(54)),
    (lambda nn: nn.ConvTranspose2d(40, 6, 3), "weight", 1 / math.sqrt(54)),
    (lambda nn: nn.Bilinear(30, 20, 40), "weight", 1 / math.sqrt(30)),
    (lambda nn: nn.LSTM(20, 30), "weight_hh_l0", 1 / math.sqrt(30)),
    (lambda nn: nn.GRUCell(20, 30), "bias_ih", 1 / math.sqrt(30)),
    (lambda nn: nn.MultiheadAttention(40, 4), "in_proj_weight", math.sqrt(6 / 160)),
])
def test_default_initialisation_bounds(oracle, make, name, bound):
    ours = _values(getattr(make(torchlike.nn), name))
    theirs = getattr(make(oracle.nn), name).detach().numpy()
    for v in (ours, theirs):
        assert _bound_of(v) <= bound and _bound_of(v) > 0.85 * bound
        if v.size >= 1000:
            assert abs(v.mean()) < 0.1 * bound


def test_default_initialisation_constants(oracle):
    for make in [lambda nn: nn.BatchNorm2d(3), lambda nn: nn.LayerNorm(4),
                 lambda nn: nn.GroupNorm(2, 4), lambda nn: nn.PReLU(3),
                 lambda nn: nn.MultiheadAttention(4, 2)]:
        ours, theirs = make(torchlike.nn), make(oracle.nn)
        for (n, a), (m, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
            if n in ("in_proj_weight", "out_proj.weight"):
                continue
            np.testing.assert_array_equal(_values(a), b.numpy().astype(np.float64), err_msg=n)


def test_embedding_init(oracle):
    w = _values(torchlike.nn.Embedding(200, 100, padding_idx=3).weight)
    assert (w[3] == 0).all() and abs(w.std() - 1.0) < 0.03


def test_initialised_parameters_are_computed_values(oracle):
    """A layer's initialisation is written as computed arrays, not pending copies and
    fills that its first step would compute in a program of its own (an XLA compile);
    versions and values are what the in-place writes give."""
    from torchlike._caches import compiles
    from torchlike._lazy import Deferred
    before = compiles.total
    torchlike.manual_seed(0)
    layers = [torchlike.nn.Linear(13, 7), torchlike.nn.LayerNorm(7), torchlike.nn.LSTM(5, 3)]
    assert compiles.total == before
    oracle.manual_seed(0)
    expected = [oracle.nn.Linear(13, 7), oracle.nn.LayerNorm(7), oracle.nn.LSTM(5, 3)]
    for layer, ref in zip(layers, expected):
        for p, q in zip(layer.parameters(), ref.parameters()):
            assert type(p._storage.array) is not Deferred
            assert p._version == q._version and str(p.dtype) == str(q.dtype)
    ln = layers[1]
    assert (_values(ln.weight) == 1).all() and (_values(ln.bias) == 0).all()
    init.constant_(ln.weight, 0.25)
    assert ln.weight._version == 2 and (_values(ln.weight) == 0.25).all()
    view = ln.weight[2:5]                   # a view takes the in-place path
    init.zeros_(view)
    assert _values(ln.weight).tolist() == [0.25, 0.25, 0, 0, 0, 0.25, 0.25]
