"""torchlike.distributions against torch.distributions: log_prob, entropy, moments, cdf,
icdf and KL values and their gradients on the same parameters and values; samples
statistically (torchlike's generator is not PyTorch's), with exact shapes and dtypes;
PyTorch's validation errors."""
import math

import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, to_numpy

rng = np.random.default_rng(12)


def real(*shape):
    return rng.normal(size=shape)


def pos(*shape, low=0.5, high=3.0):
    return rng.uniform(low, high, shape)


def unit(*shape):
    return rng.uniform(0.05, 0.95, shape)


def spd(*shape):
    """Symmetric positive definite matrices, well conditioned (A A^T + n I)."""
    a = rng.normal(size=shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def tril(*shape):
    return np.linalg.cholesky(spd(*shape))


LOW = real(3)
SIMPLEX = rng.dirichlet(np.ones(4), (3, 2))
COUNTS = rng.integers(0, 6, (2, 3)).astype(np.float64)
BINARY = rng.integers(0, 2, (2, 3)).astype(np.float64)
CLASSES = rng.integers(0, 4, (3, 2))
ONE_HOT = np.eye(4)[CLASSES]
SPD, TRIL = spd(2, 3, 3), tril(3, 3)


def affine_tanh(D, loc, scale):
    T = D.transforms
    return D.TransformedDistribution(D.Normal(loc, scale),
                                     [T.AffineTransform(0.5, 2.0), T.TanhTransform()])


def sigmoid_power(D, loc, scale):
    T = D.transforms
    return D.TransformedDistribution(D.Normal(loc, scale),
                                     T.ComposeTransform([T.SigmoidTransform(),
                                                         T.PowerTransform(2.0)]))


# id -> (constructor(D, *parameters), parameters (float64 arrays, differentiated),
#        value for log_prob (and cdf), value for icdf or None)
CASES = {
    "Normal": (lambda D, m, s: D.Normal(m, s), [real(3), pos(3)], real(2, 3), unit(2, 3)),
    "Normal-number-scale": (lambda D, m: D.Normal(m, 2.0), [real(3)], real(2, 3), None),
    "Uniform": (lambda D, lo, w: D.Uniform(lo, lo + w), [LOW, pos(3)],
                LOW + unit(2, 3) * 0.5, unit(2, 3)),
    "Exponential": (lambda D, r: D.Exponential(r), [pos(3)], pos(2, 3), unit(2, 3)),
    "Laplace": (lambda D, m, s: D.Laplace(m, s), [real(3), pos(3)], real(2, 3), unit(2, 3)),
    "Gamma": (lambda D, a, r: D.Gamma(a, r), [pos(3), pos(3)], pos(2, 3), None),
    "Beta": (lambda D, a, b: D.Beta(a, b), [pos(3), pos(3)], unit(2, 3), None),
    "Dirichlet": (lambda D, a: D.Dirichlet(a), [pos(2, 4)], SIMPLEX, None),
    "Bernoulli-probs": (lambda D, p: D.Bernoulli(probs=p), [unit(3)], BINARY, None),
    "Bernoulli-logits": (lambda D, x: D.Bernoulli(logits=x), [real(3)], BINARY, None),
    "Categorical-probs": (lambda D, p: D.Categorical(probs=p), [pos(2, 4)], CLASSES, None),
    "Categorical-logits": (lambda D, x: D.Categorical(logits=x), [real(2, 4)], CLASSES, None),
    "OneHotCategorical": (lambda D, x: D.OneHotCategorical(logits=x), [real(2, 4)],
                          ONE_HOT, None),
    "Poisson": (lambda D, r: D.Poisson(r), [pos(3)], COUNTS, None),
    "Binomial-probs": (lambda D, p: D.Binomial(8, probs=p), [unit(3)], COUNTS, None),
    "Binomial-logits": (lambda D, x: D.Binomial(8, logits=x), [real(3)], COUNTS, None),
    "LogNormal": (lambda D, m, s: D.LogNormal(m, s), [real(3), pos(3)], pos(2, 3), unit(2, 3)),
    "RelaxedBernoulli": (lambda D, t, p: D.RelaxedBernoulli(t, probs=p), [pos(1), unit(3)],
                         unit(2, 3), None),
    "LogitRelaxedBernoulli": (lambda D, t, x: D.relaxed_bernoulli.LogitRelaxedBernoulli(
        t, logits=x),
                              [pos(1), real(3)], real(2, 3), None),
    "Gumbel": (lambda D, m, s: D.Gumbel(m, s), [real(3), pos(3)], real(2, 3), unit(2, 3)),
    "Cauchy": (lambda D, m, s: D.Cauchy(m, s), [real(3), pos(3)], real(2, 3), unit(2, 3)),
    "HalfCauchy": (lambda D, s: D.HalfCauchy(s), [pos(3)], pos(2, 3), unit(2, 3)),
    "HalfNormal": (lambda D, s: D.HalfNormal(s), [pos(3)], pos(2, 3), unit(2, 3)),
    "Chi2": (lambda D, df: D.Chi2(df), [pos(3)], pos(2, 3), None),
    "StudentT": (lambda D, df, m, s: D.StudentT(df, m, s),       # (df > 4: finite moments)
                 [pos(3, low=5.0, high=8.0), real(3), pos(3)], real(2, 3), None),
    "StudentT-heavy": (lambda D, df, m: D.StudentT(df, m), [np.array([0.5, 1.5, 3.0]), real(3)],
                       real(2, 3), None),
    "Weibull": (lambda D, s, c: D.Weibull(s, c), [pos(3), pos(3)], pos(2, 3), None),
    "Multinomial-probs": (lambda D, p: D.Multinomial(5, probs=p), [pos(2, 4)],
                          np.array([[1.0, 2.0, 0.0, 2.0], [0.0, 0.0, 5.0, 0.0]]), None),
    "Multinomial-logits": (lambda D, x: D.Multinomial(5, logits=x), [real(2, 4)],
                           np.array([[1.0, 2.0, 0.0, 2.0], [0.0, 0.0, 5.0, 0.0]]), None),
    "MixtureSameFamily-Normal": (
        lambda D, x, m, s: D.MixtureSameFamily(D.Categorical(logits=x), D.Normal(m, s)),
        [real(2, 3), real(2, 3), pos(2, 3)], real(4, 2), None),
    "Geometric-probs": (lambda D, p: D.Geometric(probs=p), [unit(3)], COUNTS, None),
    "Geometric-logits": (lambda D, x: D.Geometric(logits=x), [real(3)], COUNTS, None),
    "Pareto": (lambda D, s, a: D.Pareto(s, a),      # (alpha > 4: finite moments)
               [pos(3, low=0.5, high=1.0), pos(3, low=4.5, high=6.0)],
               pos(2, 3, low=1.0, high=3.0), None),
    "MultivariateNormal-covariance": (
        lambda D, m, c: D.MultivariateNormal(m, covariance_matrix=c), [real(2, 3), SPD],
        real(4, 2, 3), None),
    "MultivariateNormal-precision": (
        lambda D, m, p: D.MultivariateNormal(m, precision_matrix=p), [real(3), SPD],
        real(4, 2, 3), None),
    "MultivariateNormal-scale_tril": (
        lambda D, m, l: D.MultivariateNormal(m, scale_tril=l), [real(2, 3), TRIL],
        real(4, 2, 3), None),
    "Independent-Normal": (lambda D, m, s: D.Independent(D.Normal(m, s), 1),
                           [real(2, 3), pos(2, 3)], real(4, 2, 3), None),
    "Transformed-affine-tanh": (affine_tanh, [real(3), pos(3)], unit(2, 3) * 1.8 - 0.9,
                                unit(2, 3)),
    "Transformed-sigmoid-power": (sigmoid_power, [real(3), pos(3)], unit(2, 3), unit(2, 3)),
}

# Float64 throughout: the two libraries evaluate the same formulas, each op within a few
# ulp (libm functions) and XLA's lgamma/digamma/igamma are series approximations good to
# ~1e-13 relative. The longest chains here (Dirichlet, MVN with a Cholesky factorisation
# of a matrix of condition < 10) stay below 1e-10 relative; gradients of sums of a few
# terms share that bound.
TOL = dict(rtol=1e-9, atol=1e-10)
# Gradients of lgamma/digamma go through XLA's digamma/polygamma, series approximations
# good to ~1e-10 relative, and the KL gradients sum such terms of magnitude up to ~10
# with cancellation (Dirichlet): a normwise bound of 1e-8.
GRAD_TOL = dict(rtol=1e-8, atol=1e-8)
# quantities left out of the gradient check: torch has no derivative of igamma (Gamma's
# cdf, and so Chi2's) in its first argument (test_gamma_cdf_gradient_error checks the error)
NO_GRADIENT = {("Gamma", "cdf"), ("Chi2", "cdf")}
PROPERTIES = ("mean", "variance", "stddev", "mode")


def _parameters(lib, arrays):
    return [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]


def _value(lib, array):
    if array.dtype.kind == "i":
        return lib.tensor(array)
    return lib.tensor(array, dtype=lib.float64)


def _compute_together(results):
    """Materialize every pending torchlike result in one compiled program: XLA's compile
    time, one program per value read otherwise, dominates this file's running time."""
    from torchlike import _lazy
    pending = [t._raw() for t in results if isinstance(t, torchlike.Tensor)]
    pending = [a for a in pending if isinstance(a, _lazy.Deferred)]
    if pending:
        _lazy.materialize(pending)


def _same(ours, theirs, what, tol=TOL):
    assert tuple(ours.shape) == tuple(theirs.shape), (what, ours.shape, theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype), (what, ours.dtype, theirs.dtype)
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), equal_nan=True,
                               err_msg=what, **tol)


def _evaluate(lib, name):
    """Every quantity the distribution defines, as {what: tensor or exception}."""
    make, arrays, value, icdf_value = CASES[name]
    params = _parameters(lib, arrays)
    d = make(lib.distributions, *params)
    results = {}
    calls = {"log_prob": lambda: d.log_prob(_value(lib, value)),
             "entropy": d.entropy, "cdf": lambda: d.cdf(_value(lib, value))}
    if icdf_value is not None:
        calls["icdf"] = lambda: d.icdf(_value(lib, icdf_value))
    for prop in PROPERTIES:
        calls[prop] = lambda prop=prop: getattr(d, prop)
    for what, call in calls.items():
        try:
            results[what] = call()
        except (NotImplementedError, ValueError, RuntimeError) as e:
            results[what] = e
    return d, params, results


def _grad_fn_name(t):
    return None if t.grad_fn is None else t.grad_fn.name()


def _check_quantities(name, d_ours, d_theirs, ours, theirs):
    """Compare shapes, reprs and every quantity; the names of the differentiable ones."""
    assert tuple(d_ours.batch_shape) == tuple(d_theirs.batch_shape), name
    assert tuple(d_ours.event_shape) == tuple(d_theirs.event_shape), name
    assert d_ours.has_rsample == d_theirs.has_rsample, name
    assert repr(d_ours) == repr(d_theirs).replace("torch.float64", "torchlike.float64"), name
    differentiable = []
    for what, expected in theirs.items():
        got = ours[what]
        if isinstance(expected, Exception):
            assert type(got) is type(expected), (name, what, got, expected)
            # messages naming a class name its module: ours is torchlike's
            assert str(got) == str(expected).replace("torch.", "torchlike."), (name, what)
            continue
        _same(got, expected, f"{name} {what}")
        assert _grad_fn_name(got) == _grad_fn_name(expected), (name, what)
        if (expected.requires_grad and expected.dtype.is_floating_point
                and (name, what) not in NO_GRADIENT):
            differentiable.append(what)
    assert "log_prob" in differentiable, name
    return differentiable


def _backward_all(lib, roots):
    """Backward from many roots at once, each with its own weight (so that a gradient
    sent to the wrong quantity shows). In torchlike this is one fused compiled call that
    also computes the roots' values: compile time, per program, dominates this file's
    running time otherwise."""
    weights = [lib.full_like(r, 1.0 + 0.1 * i) for i, r in enumerate(roots)]
    lib.autograd.backward(roots, weights)


@pytest.fixture
def no_validation(oracle):
    """Argument validation off in both libraries, for the value tests: in torchlike each
    distinct check is a small compiled program, and the checks have tests of their own
    (test_invalid_arguments_raise_torch_errors; the sampling tests validate)."""
    torchlike.distributions.Distribution.set_default_validate_args(False)
    oracle.distributions.Distribution.set_default_validate_args(False)
    yield
    torchlike.distributions.Distribution.set_default_validate_args(True)
    oracle.distributions.Distribution.set_default_validate_args(True)


def test_values_and_gradients_match_torch(oracle, no_validation):
    """All cases at once: one fused backward for the gradients and the values."""
    evaluated = {name: (_evaluate(torchlike, name), _evaluate(oracle, name)) for name in CASES}
    roots, roots_t = [], []
    for name, ((_, _, ours), (_, _, theirs)) in evaluated.items():
        for what, expected in theirs.items():
            if (not isinstance(expected, Exception) and expected.requires_grad
                    and (name, what) not in NO_GRADIENT):
                roots.append(ours[what])
                roots_t.append(expected)
    _backward_all(torchlike, roots)
    _backward_all(oracle, roots_t)
    _compute_together([t for (_, _, ours), _ in evaluated.values() for t in ours.values()])
    for name, ((d, params, ours), (d_t, params_t, theirs)) in evaluated.items():
        _check_quantities(name, d, d_t, ours, theirs)
        for mine, reference in zip(params, params_t):
            assert (mine.grad is None) == (reference.grad is None), name
            if reference.grad is not None:
                _same(mine.grad, reference.grad, f"{name} grad", GRAD_TOL)


@pytest.mark.parametrize("name", ["Normal", "Gamma", "Categorical-logits"])
def test_float32_results_keep_float32(oracle, name):
    # float32 parameters: every quantity stays float32 (Python constants in the formulas
    # are weak scalars). rtol 1e-5 is ~84 float32 ulps: chains of ~10 ops with a few
    # libm/lgamma calls.
    make, arrays, value, _ = CASES[name]
    results = []
    for lib in (torchlike, oracle):
        params = [lib.tensor(a, dtype=lib.float32) for a in arrays]
        v = lib.tensor(value) if value.dtype.kind == "i" else lib.tensor(value, dtype=lib.float32)
        d = make(lib.distributions, *params)
        results.append([d.log_prob(v), d.entropy(), d.mean, d.variance])
    _compute_together(results[0])
    for ours, theirs in zip(*results):
        assert str(ours.dtype) == str(theirs.dtype)
        np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=1e-5, atol=1e-6,
                                   equal_nan=True)


@pytest.mark.parametrize("name", ["Normal", "Categorical-logits", "Dirichlet",
                                  "MultivariateNormal-scale_tril", "Transformed-affine-tanh"])
def test_expand_matches_torch(oracle, name):
    make, arrays, value, _ = CASES[name]
    results = []
    for lib in (torchlike, oracle):
        d = make(lib.distributions, *_parameters(lib, arrays))
        wide = d.expand((len(value),) + tuple(d.batch_shape))    # value broadcasts to it
        v = _value(lib, value)
        results.append((tuple(wide.batch_shape), tuple(wide.event_shape), wide.log_prob(v),
                        wide.entropy() if name != "Transformed-affine-tanh" else None))
    (shape, event, lp, ent), (shape_t, event_t, lp_t, ent_t) = results
    _compute_together([lp, ent])
    assert (shape, event) == (shape_t, event_t)
    _same(lp, lp_t, "log_prob")
    if ent_t is not None:
        _same(ent, ent_t, "entropy")


# -- sampling -------------------------------------------------------------------------------
N = 4000


def _moments_ok(samples, mean, variance):
    """Sample mean within 6 standard errors of the mean, sample variance within 6 of its
    own standard errors (estimated from the centred fourth moment). With the seed fixed
    the draws are deterministic; 6 standard errors make a false failure of a correct
    sampler about a 1e-9 event for any seed."""
    x = np.asarray(samples, np.float64)
    mean, variance = np.asarray(mean, np.float64), np.asarray(variance, np.float64)
    se_mean = np.sqrt(variance / len(x))
    assert (np.abs(x.mean(0) - mean) <= 6 * se_mean + 1e-12).all(), (x.mean(0), mean)
    centred = (x - x.mean(0)) ** 2
    se_var = centred.std(0) / np.sqrt(len(x))
    assert (np.abs(centred.mean(0) - variance) <= 6 * se_var + 1e-12).all(), \
        (centred.mean(0), variance)


# one case per sampler (the -logits and -covariance variants draw as their siblings do)
SAMPLED = [n for n in CASES if not n.startswith("Categorical")
           and n not in ("Binomial-logits", "MultivariateNormal-covariance")]


@pytest.mark.parametrize("name", SAMPLED)
def test_samples_have_torch_shape_dtype_and_moments(oracle, name):
    make, arrays, _, _ = CASES[name]
    torchlike.manual_seed(3)
    d = make(torchlike.distributions, *_parameters(torchlike, arrays))
    d_t = make(oracle.distributions, *_parameters(oracle, arrays))
    x = d.sample((N,))
    x_t = d_t.sample((N,))
    assert tuple(x.shape) == tuple(x_t.shape) and str(x.dtype) == str(x_t.dtype)
    assert not x.requires_grad
    if d_t.has_rsample:     # the same shape as above: no new sampler to compile
        r = d.rsample((N,))
        assert tuple(r.shape) == tuple(x_t.shape) and str(r.dtype) == str(x_t.dtype)
        assert r.requires_grad
    try:
        mean = to_numpy(d_t.mean)
    except NotImplementedError:     # no closed form: compare with torch's own draws
        a, b = to_numpy(x), to_numpy(x_t)
        se = np.sqrt(a.var(0) / N + b.var(0) / N)     # two-sample standard error
        assert (np.abs(a.mean(0) - b.mean(0)) <= 6 * se).all(), (a.mean(0), b.mean(0))
        return
    if np.isfinite(mean).all() and name != "LogNormal":      # LogNormal: heavy tails
        _moments_ok(to_numpy(x), mean, to_numpy(d_t.variance))


def test_categorical_frequencies(oracle):
    torchlike.manual_seed(4)
    probs = rng.dirichlet(np.ones(4), 2)
    d = torchlike.distributions.Categorical(torchlike.tensor(probs))
    x = d.sample((N,))
    d_t = oracle.distributions.Categorical(oracle.tensor(probs))
    assert tuple(x.shape) == tuple(d_t.sample((N,)).shape) == (N, 2)
    assert x.dtype == torchlike.int64
    counts = np.eye(4)[np.asarray(x)]        # one-hot: a Bernoulli(p_k) per class
    _moments_ok(counts, probs, probs * (1 - probs))


# -- gradients through rsample -----------------------------------------------------------------
def test_normal_rsample_is_loc_plus_scale_times_noise():
    torchlike.manual_seed(5)
    loc = torchlike.tensor([0.5, -1.0], requires_grad=True)
    scale = torchlike.tensor([2.0, 0.5], requires_grad=True)
    x = torchlike.distributions.Normal(loc, scale).rsample((10,))
    x.sum().backward()
    noise = (x.detach() - loc.detach()) / scale.detach()
    # d x / d loc = 1 and d x / d scale = noise, exactly (up to the rounding of noise)
    np.testing.assert_allclose(np.asarray(loc.grad), [10.0, 10.0])
    np.testing.assert_allclose(np.asarray(scale.grad), np.asarray(noise.sum(0)), rtol=1e-5,
                               atol=1e-5)


def _per_sample(values):
    v = np.asarray(values, np.float64)
    return v.mean(0), v.std(0) / np.sqrt(len(v))


def test_gamma_rsample_gradient_is_unbiased():
    # E[X] = a / r, so the mean of the per-sample pathwise derivatives d x / d a (one
    # parameter copy per draw) estimates 1 / r, and d x / d r estimates -a / r^2
    torchlike.manual_seed(6)
    a = torchlike.full((N,), 2.5, dtype=torchlike.float64, requires_grad=True)
    r = torchlike.full((N,), 2.0, dtype=torchlike.float64, requires_grad=True)
    torchlike.distributions.Gamma(a, r).rsample().sum().backward()
    for grad, expected in ((a.grad, 1 / 2.0), (r.grad, -2.5 / 4.0)):
        mean, se = _per_sample(grad)
        assert abs(mean - expected) <= 6 * se, (mean, expected, se)


def test_dirichlet_rsample_gradient_is_unbiased():
    # E[X_0] = a_0 / sum(a): d/d a_j = (delta_0j sum(a) - a_0) / sum(a)^2
    torchlike.manual_seed(7)
    alpha = np.array([1.5, 2.0, 3.5])
    total = alpha.sum()
    expected = (np.eye(3)[0] * total - alpha[0]) / total ** 2
    a = torchlike.tensor(np.tile(alpha, (N, 1)), requires_grad=True)
    torchlike.distributions.Dirichlet(a).rsample()[:, 0].sum().backward()
    mean, se = _per_sample(a.grad)
    assert (np.abs(mean - expected) <= 6 * se).all(), (mean, expected, se)


def test_beta_rsample_is_differentiable(oracle):
    # Beta draws through a two-category Dirichlet (above): the gradient reaches both
    # concentrations, as in torch
    grads = []
    for lib in (torchlike, oracle):
        c1 = lib.tensor([1.5, 0.7], requires_grad=True)
        c0 = lib.tensor([2.0, 3.0], requires_grad=True)
        x = lib.distributions.Beta(c1, c0).rsample((5,))
        x.sum().backward()
        grads.append((tuple(x.shape), x.grad_fn.name(), c1.grad.shape, c0.grad.shape))
        assert np.isfinite(to_numpy(c1.grad)).all() and np.isfinite(to_numpy(c0.grad)).all()
    assert grads[0] == grads[1]


def test_sampled_values_carry_no_gradient_history():
    loc = torchlike.zeros(3, requires_grad=True)
    assert torchlike.distributions.Normal(loc, 1.0).sample().grad_fn is None
    a = torchlike.ones(3, requires_grad=True)
    assert torchlike.distributions.Gamma(a, 1.0).sample().grad_fn is None
    assert torchlike.distributions.Gamma(a, 1.0).rsample().requires_grad


# -- KL divergence --------------------------------------------------------------------------------
def _d(name, *arrays):
    return lambda lib: CASES[name][0](lib.distributions, *_parameters(lib, arrays))


KL_PAIRS = {
    "Normal-Normal": (_d("Normal", real(3), pos(3)), _d("Normal", real(3), pos(3))),
    # q's interval contains p's (widths 3.5-5 against 0.5-3)
    "Uniform-Uniform": (_d("Uniform", LOW + 0.1, pos(3)),
                        _d("Uniform", LOW, pos(3, low=3.5, high=5.0))),
    "Uniform-Uniform-inf": (_d("Uniform", LOW, pos(3)), _d("Uniform", LOW + 0.1, pos(3))),
    "Exponential-Exponential": (_d("Exponential", pos(3)), _d("Exponential", pos(3))),
    "Laplace-Laplace": (_d("Laplace", real(3), pos(3)), _d("Laplace", real(3), pos(3))),
    "Gamma-Gamma": (_d("Gamma", pos(3), pos(3)), _d("Gamma", pos(3), pos(3))),
    "Beta-Beta": (_d("Beta", pos(3), pos(3)), _d("Beta", pos(3), pos(3))),
    "Dirichlet-Dirichlet": (_d("Dirichlet", pos(2, 4)), _d("Dirichlet", pos(2, 4))),
    "Bernoulli-Bernoulli": (_d("Bernoulli-probs", unit(3)), _d("Bernoulli-logits", real(3))),
    "Categorical-Categorical": (_d("Categorical-probs", pos(2, 4)),
                                _d("Categorical-logits", real(2, 4))),
    "OneHotCategorical": (_d("OneHotCategorical", real(2, 4)),
                          _d("OneHotCategorical", real(2, 4))),
    "Poisson-Poisson": (_d("Poisson", pos(3)), _d("Poisson", pos(3))),
    "Binomial-Binomial": (_d("Binomial-probs", unit(3)), _d("Binomial-logits", real(3))),
    "Gumbel-Gumbel": (_d("Gumbel", real(3), pos(3)), _d("Gumbel", real(3), pos(3))),
    "MVN-MVN": (_d("MultivariateNormal-covariance", real(2, 3), SPD),
                _d("MultivariateNormal-scale_tril", real(2, 3), TRIL)),
    "Independent": (_d("Independent-Normal", real(2, 3), pos(2, 3)),
                    _d("Independent-Normal", real(2, 3), pos(2, 3))),
    "LogNormal-LogNormal": (_d("LogNormal", real(3), pos(3)), _d("LogNormal", real(3), pos(3))),
    "Normal-Laplace": (_d("Normal", real(3), pos(3)), _d("Laplace", real(3), pos(3))),
    "Laplace-Normal": (_d("Laplace", real(3), pos(3)), _d("Normal", real(3), pos(3))),
    "Normal-Gumbel": (_d("Normal", real(3), pos(3)), _d("Gumbel", real(3), pos(3))),
    "Gumbel-Normal": (_d("Gumbel", real(3), pos(3)), _d("Normal", real(3), pos(3))),
    "Exponential-Gamma": (_d("Exponential", pos(3)), _d("Gamma", pos(3), pos(3))),
    "Gamma-Exponential": (_d("Gamma", pos(3), pos(3)), _d("Exponential", pos(3))),
    "Exponential-Normal": (_d("Exponential", pos(3)), _d("Normal", real(3), pos(3))),
    "Exponential-Gumbel": (_d("Exponential", pos(3)), _d("Gumbel", real(3), pos(3))),
    "Gamma-Gumbel": (_d("Gamma", pos(3), pos(3)), _d("Gumbel", real(3), pos(3))),
    "Gamma-Normal": (_d("Gamma", pos(3), pos(3)), _d("Normal", real(3), pos(3))),
    "Beta-Normal": (_d("Beta", pos(3), pos(3)), _d("Normal", real(3), pos(3))),
    "Beta-Gamma": (_d("Beta", pos(3), pos(3)), _d("Gamma", pos(3), pos(3))),
    "Beta-Exponential": (_d("Beta", pos(3), pos(3)), _d("Exponential", pos(3))),
    "Beta-Uniform": (_d("Beta", pos(3), pos(3)),
                     _d("Uniform", LOW - 1.5, pos(3, low=3.5, high=5.0))),
    "Uniform-Normal": (_d("Uniform", LOW, pos(3)), _d("Normal", real(3), pos(3))),
    "Uniform-Gumbel": (_d("Uniform", LOW, pos(3)), _d("Gumbel", real(3), pos(3))),
    "Uniform-Exponential": (_d("Uniform", pos(3), pos(3)), _d("Exponential", pos(3))),
    "Uniform-Gamma": (_d("Uniform", pos(3), pos(3)), _d("Gamma", pos(3), pos(3))),
    "Uniform-Beta": (_d("Uniform", unit(3) * 0.4, unit(3) * 0.5), _d("Beta", pos(3), pos(3))),
    "Bernoulli-Poisson": (_d("Bernoulli-probs", unit(3)), _d("Poisson", pos(3))),
    "Normal-Uniform-inf": (_d("Normal", real(3), pos(3)), _d("Uniform", LOW, pos(3))),
    "Poisson-Binomial-inf": (_d("Poisson", pos(3)), _d("Binomial-probs", unit(3))),
}


def test_kl_divergence_matches_torch(oracle, no_validation):
    """Every pair at once (one fused backward, which computes the values too)."""
    results = {}
    for lib in (torchlike, oracle):
        kls, params = {}, {}
        for name, (make_p, make_q) in KL_PAIRS.items():
            p, q = make_p(lib), make_q(lib)
            kls[name] = lib.distributions.kl_divergence(p, q)
            params[name] = [t for d in (p, q) for t in _leaves(d)]
        # infinite entries get no gradient in either library (a constant is put there)
        _backward_all(lib, [kl for kl in kls.values() if kl.requires_grad])
        results[lib] = kls, params
    (kls, params), (kls_t, params_t) = results[torchlike], results[oracle]
    _compute_together(kls.values())
    for name in KL_PAIRS:
        _same(kls[name], kls_t[name], f"{name} kl")
        assert _grad_fn_name(kls[name]) == _grad_fn_name(kls_t[name]), name
        for g, g_t in zip(params[name], params_t[name]):
            assert (g.grad is None) == (g_t.grad is None), name
            if g_t.grad is not None:
                _same(g.grad, g_t.grad, f"{name} kl grad", GRAD_TOL)


def _leaves(d):
    """The leaf tensors a distribution was built from (its differentiated parameters)."""
    found, stack, seen = [], [d], set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        for value in vars(obj).values():
            if hasattr(value, "is_leaf") and value.is_leaf and value.requires_grad:
                if all(value is not f for f in found):
                    found.append(value)
            elif hasattr(value, "__dict__") and not isinstance(value, type):
                stack.append(value)
            elif isinstance(value, list):
                stack.extend(value)
    return found


def test_kl_registry_has_every_pair_torch_registers_among_these(oracle):
    import torch.distributions.kl as theirs_kl
    from torchlike.distributions import kl as ours_kl
    ours = {(a.__name__, b.__name__) for a, b in ours_kl._KL_REGISTRY}
    classes = {name for pair in ours for name in pair}
    theirs = {(a.__name__, b.__name__) for a, b in theirs_kl._KL_REGISTRY
              if a.__name__ in classes and b.__name__ in classes}
    assert ours == theirs


def test_kl_not_implemented_and_register_kl(oracle):
    assert_raises_same(lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Exponential(lib.tensor(1.0)),
        lib.distributions.Laplace(lib.tensor(0.0), lib.tensor(1.0))))
    D = torchlike.distributions

    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl_mine(p, q):
        return torchlike.tensor(42.0)

    try:
        p = MyNormal(torchlike.tensor(0.0), torchlike.tensor(1.0))
        n = D.Normal(torchlike.tensor(0.0), torchlike.tensor(1.0))
        assert D.kl_divergence(p, n).item() == 42
        assert D.kl_divergence(n, n).item() == 0.0      # Normal-Normal still applies
        # MyNormal || MyNormal: (MyNormal, Normal) is the closest match by p's ancestry
        assert D.kl_divergence(p, p).item() == 42
    finally:        # leave the registry as it was for the other tests
        del D.kl._KL_REGISTRY[MyNormal, D.Normal]
        D.kl._KL_MEMOIZE.clear()


# -- validation ---------------------------------------------------------------------------------
BAD = {
    "Normal-scale": lambda lib: lib.distributions.Normal(lib.tensor([0.0, 1.0]),
                                                         lib.tensor([1.0, -1.0])),
    "Normal-nan-loc": lambda lib: lib.distributions.Normal(lib.tensor(float("nan")), 1.0),
    "Beta": lambda lib: lib.distributions.Beta(lib.tensor([0.0]), lib.tensor([1.0])),
    "Categorical-probs": lambda lib: lib.distributions.Categorical(lib.tensor([-0.5, 1.0])),
    "Categorical-scalar": lambda lib: lib.distributions.Categorical(lib.tensor(1.0)),
    "Bernoulli-both": lambda lib: lib.distributions.Bernoulli(0.5, 0.0),
    "Bernoulli-probs": lambda lib: lib.distributions.Bernoulli(lib.tensor([1.5])),
    "Uniform-order": lambda lib: lib.distributions.Uniform(lib.tensor(2.0), lib.tensor(1.0)),
    "Dirichlet": lambda lib: lib.distributions.Dirichlet(lib.tensor([1.0, -2.0])),
    "MVN-none": lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2)),
    "MVN-not-pd": lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), covariance_matrix=lib.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "MVN-tril": lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), scale_tril=lib.tensor([[1.0, 1.0], [0.0, 1.0]])),
    "Independent": lambda lib: lib.distributions.Independent(
        lib.distributions.Normal(lib.zeros(3), 1.0), 2),
    "log_prob-support": lambda lib: lib.distributions.Exponential(
        lib.tensor([1.0, 2.0])).log_prob(lib.tensor([1.0, -1.0])),
    "log_prob-event-shape": lambda lib: lib.distributions.Dirichlet(
        lib.ones(3)).log_prob(lib.ones(2) / 2),
    "log_prob-broadcast": lambda lib: lib.distributions.Normal(
        lib.zeros(3), 1.0).log_prob(lib.zeros(2)),
    "log_prob-not-tensor": lambda lib: lib.distributions.Normal(0.0, 1.0).log_prob(0.5),
    "Categorical-support": lambda lib: lib.distributions.Categorical(
        lib.ones(3)).log_prob(lib.tensor(3)),
    "Binomial-entropy": lambda lib: lib.distributions.Binomial(
        lib.tensor([2.0, 3.0]), lib.tensor([0.5, 0.5])).entropy(),
    "Binomial-kl": lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Binomial(2, lib.tensor(0.5)),
        lib.distributions.Binomial(3, lib.tensor(0.5))),
    "transforms-list": lambda lib: lib.distributions.TransformedDistribution(
        lib.distributions.Normal(0.0, 1.0), "exp"),
    "cache_size": lambda lib: lib.distributions.transforms.ExpTransform(cache_size=2),
}


@pytest.mark.parametrize("name", BAD)
def test_invalid_arguments_raise_torch_errors(oracle, name):
    assert_raises_same(BAD[name])


def test_gamma_cdf_gradient_error(oracle):
    def cdf_backward(lib):
        a = lib.tensor([1.5, 2.0], requires_grad=True)
        lib.distributions.Gamma(a, 1.0).cdf(lib.tensor([0.5, 1.0])).sum().backward()
    assert_raises_same(cdf_backward)


def test_validation_can_be_turned_off(oracle):
    D = torchlike.distributions
    d = D.Normal(torchlike.tensor(0.0), torchlike.tensor(-1.0), validate_args=False)
    assert math.isnan(d.log_prob(torchlike.tensor(0.0)).item())
    try:
        D.Distribution.set_default_validate_args(False)
        d = D.Exponential(torchlike.tensor(1.0))
        # log(rate) - rate * value: outside the support, not checked
        assert d.log_prob(torchlike.tensor(-1.0)).item() == 1.0
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


# -- transforms ---------------------------------------------------------------------------------
def _transforms(lib):
    T = lib.distributions.transforms
    scale = lib.tensor([0.5, -2.0, 1.5], dtype=lib.float64, requires_grad=True)
    return {"Exp": T.ExpTransform(), "Affine": T.AffineTransform(1.0, scale),
            "Affine-number": T.AffineTransform(-1.0, -3.0),
            "Sigmoid": T.SigmoidTransform(), "Tanh": T.TanhTransform(),
            "Power": T.PowerTransform(lib.tensor(3.0, dtype=lib.float64)),
            "Softplus": T.SoftplusTransform(),
            "Compose": T.ComposeTransform([T.AffineTransform(0.0, 0.5), T.ExpTransform(),
                                           T.PowerTransform(0.5)]),
            "Inverse-Sigmoid": T.SigmoidTransform().inv}, scale


@pytest.mark.parametrize("name", ["Exp", "Affine", "Affine-number", "Sigmoid", "Tanh",
                                  "Power", "Softplus", "Compose", "Inverse-Sigmoid"])
def test_transforms_match_torch(oracle, name):
    x_np = unit(2, 3) * 0.9
    results = []
    for lib in (torchlike, oracle):
        transforms, scale = _transforms(lib)
        t = transforms[name]
        x = lib.tensor(x_np, dtype=lib.float64, requires_grad=True)
        y = t(x)
        back = t.inv(y)
        ladj = t.log_abs_det_jacobian(x, y)
        (y.sum() + 2 * ladj.sum() + 3 * back.sum()).backward()
        results.append((y, back, ladj, x.grad, scale.grad, repr(t), t.bijective,
                        repr(t.domain), repr(t.codomain)))
    ours, theirs = results
    for what, a, b in zip(("y", "inv", "ladj", "x grad", "scale grad"), ours, theirs):
        if b is None:
            assert a is None
        else:
            _same(a, b, what)
    assert ours[5:] == theirs[5:]


def test_softmax_transform_and_caching(oracle):
    x_np = real(2, 4)
    for lib in (torchlike, oracle):
        T = lib.distributions.transforms
        x = lib.tensor(x_np)
        y = T.SoftmaxTransform()(x)
        np.testing.assert_allclose(to_numpy(y), to_numpy(oracle.softmax(oracle.tensor(x_np),
                                                                        -1)), rtol=1e-6)
        cached = T.ExpTransform(cache_size=1)
        z = cached(x)
        assert cached.inv(z) is x     # the cached pair: the exact input comes back
        assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform().inv.inv == T.ExpTransform()


def test_constraints_match_torch(oracle):
    values = real(3, 4)
    values[0, 0] = float("nan")
    checks = ["real", "positive", "nonnegative", "unit_interval", "boolean", "simplex",
              "nonnegative_integer", "positive_integer", "real_vector", "one_hot",
              "lower_cholesky", "lower_triangular", "positive_definite", "symmetric"]
    for name in checks:
        for array in (values, np.eye(4)[:3], np.tril(spd(2, 3, 3))):
            ours = getattr(torchlike.distributions.constraints, name)
            theirs = getattr(oracle.distributions.constraints, name)
            assert repr(ours) == repr(theirs)
            if name in ("lower_cholesky", "lower_triangular", "positive_definite",
                        "symmetric") and array.shape[-1] != array.shape[-2]:
                continue
            got = ours.check(torchlike.tensor(array))
            expected = theirs.check(oracle.tensor(array))
            np.testing.assert_array_equal(np.asarray(got), expected.numpy(), err_msg=name)
    for ours, theirs in ((torchlike.distributions.constraints.interval(-1.0, 2.0),
                          oracle.distributions.constraints.interval(-1.0, 2.0)),
                         (torchlike.distributions.constraints.greater_than(0.5),
                          oracle.distributions.constraints.greater_than(0.5)),
                         (torchlike.distributions.constraints.integer_interval(0, 3),
                          oracle.distributions.constraints.integer_interval(0, 3))):
        assert repr(ours) == repr(theirs)
        np.testing.assert_array_equal(np.asarray(ours.check(torchlike.tensor(values * 2))),
                                      theirs.check(oracle.tensor(values * 2)).numpy())


def test_reachable_after_plain_import():
    import subprocess
    import sys
    code = "import torchlike; print(torchlike.distributions.Normal.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "Normal"
