"""Values and gradients at kinks and singular points, against real torch: PyTorch's
subgradient conventions (abs'(0) = 0, clamp passes the gradient at its bounds, ties share
or pick ...) and its edge values (std of a constant, var with correction > n, sign(nan),
half-precision norms that would overflow without float32 accumulation)."""
import math

import numpy as np
import pytest

import torchlike
import torchlike.linalg  # noqa: F401  (until torchlike/__init__.py imports the namespace)
from helpers import torch

pytestmark = pytest.mark.usefixtures("oracle")

INF, NAN = math.inf, math.nan


def _nn(lib):
    return lib.nn.functional


# name -> (fn(lib, *inputs), input values); every float input requires grad
CASES = {
    # statistics of a constant, and too large a correction
    "std_constant": (lambda lib, x: x.std(), [[2.0, 2.0, 2.0]]),
    "std_dim_constant": (lambda lib, x: x.std(1), [[[1.0, 1.0], [1.0, 2.0]]]),
    "var_constant": (lambda lib, x: x.var(), [[2.0, 2.0, 2.0]]),
    "var_single": (lambda lib, x: x.var(), [[3.0]]),
    "std_mean_constant": (lambda lib, x: lib.std_mean(x)[0], [[5.0, 5.0]]),
    # losses at their kinks and clamps
    "bce_p1_t1": (lambda lib, x, t: _nn(lib).binary_cross_entropy(x, t), [[1.0, 0.5], [1.0, 1.0]]),
    "bce_p0_t0": (lambda lib, x, t: _nn(lib).binary_cross_entropy(x, t), [[0.0, 0.5], [0.0, 0.0]]),
    "bce_p1_t0": (lambda lib, x, t: _nn(lib).binary_cross_entropy(x, t), [[1.0, 0.5], [0.0, 0.0]]),
    "bce_p0_t1": (lambda lib, x, t: _nn(lib).binary_cross_entropy(x, t), [[0.0, 0.5], [1.0, 1.0]]),
    "l1_loss_zero": (lambda lib, x, y: _nn(lib).l1_loss(x, y), [[1.0, 2.0], [1.0, 3.0]]),
    "l1_loss_none_zero": (lambda lib, x, y: _nn(lib).l1_loss(x, y, reduction="none"),
                          [[1.0, 2.0], [1.0, 3.0]]),
    "smooth_l1_at_beta": (lambda lib, x, y: _nn(lib).smooth_l1_loss(x, y, beta=0.5),
                          [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]]),
    "smooth_l1_beta0": (lambda lib, x, y: _nn(lib).smooth_l1_loss(x, y, beta=0.0),
                        [[0.0, 1.0], [0.0, 0.0]]),
    "huber_at_delta": (lambda lib, x, y: _nn(lib).huber_loss(x, y, delta=0.5),
                       [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]]),
    "mse_zero": (lambda lib, x, y: _nn(lib).mse_loss(x, y), [[1.0], [1.0]]),
    "kl_div_target_zero": (lambda lib, x, t: _nn(lib).kl_div(x, t, reduction="sum"),
                           [[-1.0, -2.0], [0.0, 0.5]]),
    "nll_ignored_all": (lambda lib, x: _nn(lib).nll_loss(x, lib.tensor([-100, -100])),
                        [[[0.1, 0.2], [0.3, 0.4]]]),
    # pointwise kinks and singularities
    "atan2_origin": (lambda lib, y, x: lib.atan2(y, x), [[0.0, 0.0, 1.0], [0.0, -0.0, 0.0]]),
    "sign_nan": (lambda lib, x: lib.sign(x) + x * 0, [[NAN, 0.0, -0.0, 2.0]]),
    "sgn_zero": (lambda lib, x: lib.sgn(x), [[0.0, -1.0]]),
    "abs_zero": (lambda lib, x: lib.abs(x), [[0.0, -0.0, 1.0]]),
    "relu_zero": (lambda lib, x: lib.relu(x), [[0.0, -1.0, 1.0]]),
    "relu6_edges": (lambda lib, x: _nn(lib).relu6(x), [[0.0, 6.0, 3.0, 7.0]]),
    "hardtanh_edges": (lambda lib, x: _nn(lib).hardtanh(x, -1.0, 1.0), [[-1.0, 1.0, 0.0, 2.0]]),
    "leaky_relu_zero": (lambda lib, x: _nn(lib).leaky_relu(x, 0.1), [[0.0, -1.0]]),
    "elu_zero": (lambda lib, x: _nn(lib).elu(x), [[0.0, -1.0]]),
    "threshold_edge": (lambda lib, x: _nn(lib).threshold(x, 1.0, -5.0), [[1.0, 2.0, 0.0]]),
    "hardshrink_edges": (lambda lib, x: _nn(lib).hardshrink(x, 0.5), [[0.5, -0.5, 1.0]]),
    "softshrink_edges": (lambda lib, x: _nn(lib).softshrink(x, 0.5), [[0.5, -0.5, 1.0]]),
    "hardsigmoid_edges": (lambda lib, x: _nn(lib).hardsigmoid(x), [[-3.0, 3.0, 0.0]]),
    "hardswish_edges": (lambda lib, x: _nn(lib).hardswish(x), [[-3.0, 3.0, 0.0]]),
    "softplus_threshold": (lambda lib, x: _nn(lib).softplus(x, beta=2.0, threshold=4.0),
                           [[2.0, 2.5, 1.5]]),
    "clamp_bounds": (lambda lib, x: lib.clamp(x, -1.0, 1.0), [[-1.0, 1.0, 0.0, 2.0]]),
    "clamp_min_bound": (lambda lib, x: lib.clamp_min(x, 0.0), [[0.0, 1.0]]),
    "clamp_tensor_bounds": (lambda lib, x, lo: lib.clamp(x, min=lo), [[0.0, 1.0], [0.0, 2.0]]),
    # a NaN bound gives NaN (and no gradient), as a NaN input does
    "clamp_nan_min": (lambda lib, x: lib.clamp(x, min=NAN), [[1.0, -3.0]]),
    "clamp_nan_max": (lambda lib, x: lib.clamp(x, 0.0, NAN), [[1.0, -3.0]]),
    "clamp_max_nan": (lambda lib, x: lib.clamp_max(x, NAN), [[1.0, -3.0]]),
    "clamp_nan_tensor_bound": (lambda lib, x, lo: lib.clamp(x, min=lo), [[1.0, 0.5], [NAN, 0.0]]),
    "clamp_nan_input": (lambda lib, x: lib.clamp(x, -1.0, 1.0), [[NAN, 0.5]]),
    "clamp_crossed_tensor_bounds": (lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
                                    [[2.0, 0.0, NAN], [3.0, -1.0, 0.0], [1.0, 1.0, 1.0]]),
    # equal bounds: below them neither bound gets the gradient, above them the upper one
    "clamp_equal_tensor_bounds": (lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
                                  [[0.5, 1.0, 1.5], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]),
    "clamp_equal_scalar_bounds": (lambda lib, x: lib.clamp(x, 1.0, 1.0), [[0.5, 1.0, 1.5]]),
    # a NaN bound gives NaN, yet PyTorch still passes the gradient to the upper bound where
    # the input is above it or the bounds are crossed
    "clamp_nan_and_crossed_tensor_bounds": (
        lambda lib, x, lo, hi: lib.clamp(x, lo, hi),
        [[1.0, NAN, 2.0, NAN], [NAN, 2.0, NAN, 1.0], [0.0, 1.0, 1.0, NAN]]),
    "sqrt_zero": (lambda lib, x: lib.sqrt(x), [[0.0, 4.0]]),
    "rsqrt_zero": (lambda lib, x: lib.rsqrt(x), [[0.0, 4.0]]),
    "log_zero": (lambda lib, x: lib.log(x), [[0.0, 1.0]]),
    "log1p_minus_one": (lambda lib, x: lib.log1p(x), [[-1.0, 0.0]]),
    "xlogy_zero": (lambda lib, x, y: lib.xlogy(x, y), [[0.0, 1.0], [0.0, 0.0]]),
    "pow_zero_base": (lambda lib, x, y: lib.pow(x, y), [[0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.5, -1.0]]),
    "pow_zero_scalar_exp": (lambda lib, x: x ** 0, [[0.0, 2.0]]),
    "pow_scalar_base_zero": (lambda lib, y: 0.0 ** y, [[0.0, 1.0, 2.0]]),
    "div_zero": (lambda lib, x, y: x / y, [[0.0, 1.0], [0.0, 0.0]]),
    "reciprocal_zero": (lambda lib, x: lib.reciprocal(x), [[0.0, 2.0]]),
    "fmod_zero": (lambda lib, x: lib.fmod(x, 1.0), [[1.0, 0.5]]),
    "frac_int": (lambda lib, x: lib.frac(x), [[1.0, 1.5]]),
    "round_half": (lambda lib, x: lib.round(x), [[0.5, 1.5, 2.5]]),
    "asin_one": (lambda lib, x: lib.asin(x), [[1.0, -1.0, 0.0]]),
    "acosh_one": (lambda lib, x: lib.acosh(x), [[1.0, 2.0]]),
    "atanh_one": (lambda lib, x: lib.atanh(x), [[1.0, 0.0]]),
    "erfinv_one": (lambda lib, x: lib.erfinv(x), [[1.0, 0.0]]),
    "logit_edges": (lambda lib, x: lib.logit(x), [[0.0, 1.0, 0.5]]),
    "sinc_zero": (lambda lib, x: lib.sinc(x), [[0.0, 0.5]]),
    "nan_to_num": (lambda lib, x: lib.nan_to_num(x), [[NAN, INF, -INF, 1.0]]),
    # ties: max/min share or pick
    "max_ties": (lambda lib, x: x.max(), [[1.0, 3.0, 3.0]]),
    "min_ties": (lambda lib, x: x.min(), [[1.0, 1.0, 3.0]]),
    "max_dim_ties": (lambda lib, x: x.max(1)[0], [[[2.0, 2.0, 1.0], [0.0, 5.0, 5.0]]]),
    "min_dim_ties": (lambda lib, x: x.min(0).values, [[[2.0, 2.0], [2.0, 1.0]]]),
    "amax_ties": (lambda lib, x: x.amax(1), [[[2.0, 2.0, 1.0], [5.0, 5.0, 5.0]]]),
    "amin_ties": (lambda lib, x: x.amin(), [[1.0, 1.0, 3.0]]),
    "maximum_ties": (lambda lib, x, y: lib.maximum(x, y), [[1.0, 2.0], [1.0, 1.0]]),
    "minimum_ties": (lambda lib, x, y: lib.minimum(x, y), [[1.0, 2.0], [1.0, 3.0]]),
    "fmax_ties": (lambda lib, x, y: lib.fmax(x, y), [[1.0, NAN], [1.0, 2.0]]),
    "max_nan": (lambda lib, x: x.max(), [[1.0, NAN, 3.0]]),
    "maximum_nan": (lambda lib, x, y: lib.maximum(x, y), [[NAN, 1.0], [1.0, 1.0]]),
    "cummax_ties": (lambda lib, x: x.cummax(0)[0], [[1.0, 1.0, 0.0, 2.0]]),
    "logcumsumexp_neg_inf": (lambda lib, x: x.logcumsumexp(0), [[-INF, -INF, 0.0]]),
    "sort_ties": (lambda lib, x: x.sort(descending=True)[0] * lib.tensor([1.0, 2.0, 3.0, 4.0]),
                  [[1.0, 2.0, 2.0, 1.0]]),
    "topk_ties_distinct_k": (lambda lib, x: x.topk(1)[0], [[1.0, 3.0, 3.0, 2.0]]),
    "median_ties": (lambda lib, x: x.median(), [[2.0, 1.0, 2.0, 2.0]]),
    "median_dim_ties": (lambda lib, x: x.median(0)[0], [[2.0, 1.0, 2.0, 2.0]]),
    "kthvalue_ties": (lambda lib, x: x.kthvalue(2)[0], [[2.0, 1.0, 2.0, 1.0]]),
    "quantile_ties": (lambda lib, x: lib.quantile(x, 0.5), [[1.0, 1.0, 2.0, 2.0]]),
    # products with zeros
    "prod_one_zero": (lambda lib, x: x.prod(), [[2.0, 0.0, 3.0]]),
    "prod_two_zeros": (lambda lib, x: x.prod(), [[0.0, 0.0, 3.0]]),
    "prod_dim_zeros": (lambda lib, x: x.prod(1), [[[0.0, 2.0], [0.0, 0.0]]]),
    "cumprod_zeros": (lambda lib, x: x.cumprod(0), [[2.0, 0.0, 3.0, 0.0, 4.0]]),
    # norms and distances at zero
    "norm_zero": (lambda lib, x: x.norm(), [[0.0, 0.0]]),
    "norm_p1_zero": (lambda lib, x: x.norm(1), [[0.0, 1.0]]),
    "norm_p3_zero": (lambda lib, x: x.norm(3), [[0.0, 0.0]]),
    "norm_inf_ties": (lambda lib, x: x.norm(INF), [[-2.0, 2.0, 1.0]]),
    "vector_norm_zero": (lambda lib, x: lib.linalg.vector_norm(x, 0.5), [[0.0, 0.0]]),
    "dist_zero": (lambda lib, x, y: lib.dist(x, y), [[1.0, 2.0], [1.0, 2.0]]),
    "cdist_zero": (lambda lib, x, y: lib.cdist(x, y), [[[1.0, 2.0], [0.0, 0.0]], [[1.0, 2.0]]]),
    "pairwise_distance_zero": (lambda lib, x, y: _nn(lib).pairwise_distance(x, y),
                               [[[1.0, 2.0]], [[1.0, 2.0]]]),
    "cosine_similarity_zero": (lambda lib, x, y: _nn(lib).cosine_similarity(x, y, dim=0),
                               [[0.0, 0.0], [1.0, 2.0]]),
    "normalize_zero": (lambda lib, x: _nn(lib).normalize(x, dim=0), [[0.0, 0.0]]),
    # exp-sums of -inf
    "logsumexp_all_neg_inf": (lambda lib, x: x.logsumexp(0), [[-INF, -INF]]),
    "logsumexp_inf": (lambda lib, x: x.logsumexp(0), [[INF, 1.0]]),
    "softmax_neg_inf": (lambda lib, x: x.softmax(0), [[-INF, 0.0, 0.0]]),
    "log_softmax_neg_inf": (lambda lib, x: x.log_softmax(0)[1:], [[-INF, 0.0, 1.0]]),
    # more kinks
    "prelu_zero": (lambda lib, x, w: _nn(lib).prelu(x, w), [[0.0, -1.0, 1.0], [0.25]]),
    "celu_zero": (lambda lib, x: _nn(lib).celu(x), [[0.0, -1.0]]),
    "selu_zero": (lambda lib, x: _nn(lib).selu(x), [[0.0, -1.0]]),
    "rrelu_eval_zero": (lambda lib, x: _nn(lib).rrelu(x, training=False), [[0.0, -1.0]]),
    "glu_zero": (lambda lib, x: _nn(lib).glu(x), [[0.0, 0.0]]),
    "logsigmoid_large": (lambda lib, x: _nn(lib).logsigmoid(x), [[-800.0, 800.0, 0.0]]),
    "softplus_large": (lambda lib, x: _nn(lib).softplus(x), [[-800.0, 800.0]]),
    "hypot_zero": (lambda lib, x, y: lib.hypot(x, y), [[0.0, 3.0], [0.0, 4.0]]),
    "clamp_min_gt_max": (lambda lib, x: lib.clamp(x, 1.0, 0.0), [[-1.0, 0.5, 2.0]]),
    "floor_ceil_trunc": (lambda lib, x: lib.floor(x) + lib.ceil(x) + lib.trunc(x), [[1.0, -0.5]]),
    "remainder_kink": (lambda lib, x: lib.remainder(x, 2.0), [[2.0, -1.0, 0.0]]),
    "max_pool_ties": (lambda lib, x: _nn(lib).max_pool1d(x, 2), [[[[1.0, 1.0, 2.0, 2.0]]]]),
    "adaptive_max_pool_ties": (lambda lib, x: _nn(lib).adaptive_max_pool1d(x, 1),
                               [[[[3.0, 1.0, 3.0]]]]),
    "nansum_nan": (lambda lib, x: x.nansum(), [[NAN, 1.0]]),
    "sort_nan": (lambda lib, x: x.sort()[0] * lib.tensor([1.0, 2.0, 3.0]), [[NAN, 1.0, 0.0]]),
    "cummin_ties": (lambda lib, x: x.cummin(0)[0], [[1.0, 1.0, 2.0, 0.0]]),
    "exp_overflow": (lambda lib, x: lib.exp(x), [[800.0, -800.0]]),
    "sigmoid_large": (lambda lib, x: lib.sigmoid(x), [[800.0, -800.0]]),
    "tanh_large": (lambda lib, x: lib.tanh(x), [[800.0, -800.0]]),
    "cross_entropy_neg_inf_logit": (lambda lib, x: _nn(lib).cross_entropy(x, lib.tensor([1])),
                                    [[[-INF, 0.0, 1.0]]]),
    "cross_entropy_smoothing": (lambda lib, x: _nn(lib).cross_entropy(x, lib.tensor([1]),
                                                                     label_smoothing=0.2),
                                [[[0.0, 0.0, 0.0]]]),
    "cosine_embedding_zero": (lambda lib, x, y: _nn(lib).cosine_embedding_loss(
        x, y, lib.tensor([1.0])), [[[0.0, 0.0]], [[1.0, 0.0]]]),
    "triplet_zero": (lambda lib, a, p, n: _nn(lib).triplet_margin_loss(a, p, n),
                     [[[1.0, 2.0]], [[1.0, 2.0]], [[1.0, 2.0]]]),
    "margin_ranking_kink": (lambda lib, x, y: _nn(lib).margin_ranking_loss(x, y, lib.tensor([1.0])),
                            [[1.0], [1.0]]),
    "pdist_zero": (lambda lib, x: _nn(lib).pdist(x), [[[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]]]),
    "trace_plain": (lambda lib, x: lib.trace(x), [[[0.0, 1.0], [2.0, 0.0]]]),
    # masks
    "masked_fill_all": (lambda lib, x: x.masked_fill(lib.tensor([True, True]), 0.0), [[1.0, 2.0]]),
    "where_unselected_inf": (lambda lib, x: lib.where(x > 0, x.sqrt(), lib.zeros(2)), [[0.0, 4.0]]),
    "masked_select": (lambda lib, x: x.masked_select(lib.tensor([False, True])), [[1.0, 2.0]]),
}

HALF_CASES = {
    # PyTorch accumulates half norms in float32: 300**2 + 400**2 overflows float16
    "vector_norm_half": (lambda lib, x: lib.linalg.vector_norm(x), [[300.0, 400.0]]),
    "norm_half": (lambda lib, x: x.norm(), [[300.0, 400.0]]),
    "norm_dim_half": (lambda lib, x: x.norm(dim=0), [[[300.0], [400.0]]]),
    "std_half": (lambda lib, x: x.std(), [[300.0, 400.0, 500.0]]),
}


def _run(lib, fn, values, dtype):
    inputs = [lib.tensor(v, dtype=getattr(lib, dtype), requires_grad=True) for v in values]
    out = fn(lib, *inputs)
    out.sum().backward()
    return out, [x.grad for x in inputs]


# Edge values only: PyTorch's gradient with correction >= n depends on its kernel path
# (inf over all dims, a finite 2 / (n - correction) along a dim).
VALUE_CASES = {
    "var_correction_gt_n": (lambda lib, x: x.var(correction=4), [[1.0, 2.0, 4.0]]),
    "std_correction_eq_n": (lambda lib, x: x.std(correction=3), [[1.0, 2.0, 4.0]]),
    "var_dim_correction_gt_n": (lambda lib, x: x.var(1, correction=3), [[[1.0, 2.0], [4.0, 4.0]]]),
    "sign_nan_value": (lambda lib, x: lib.sign(x), [[NAN, -NAN, 0.0]]),
    # PyTorch's nansum backward multiplies by the not-nan mask (inf * 0 = nan here)
    "nanmean_all_nan": (lambda lib, x: x.nanmean(), [[NAN, NAN]]),
}


def _numpy(t):
    if t is None:
        return None
    if isinstance(t, torch.Tensor) and t._is_zerotensor():
        return np.zeros(tuple(t.shape))
    return t.detach().float().numpy() if "float16" in str(t.dtype) else t.detach().numpy()


def _compare(name, fn, values, dtype, rtol, grads=True):
    theirs, their_grads = _run(torch, fn, values, dtype)
    ours, our_grads = _run(torchlike, fn, values, dtype)
    if not grads:
        their_grads = our_grads = []
    assert str(ours.dtype) == str(theirs.dtype), (name, ours.dtype, theirs.dtype)
    np.testing.assert_allclose(_numpy(ours), _numpy(theirs), rtol=rtol, atol=1e-6,
                               equal_nan=True, err_msg=f"{name}: value")
    for i, (g, h) in enumerate(zip(our_grads, their_grads)):
        if h is None:          # torch: no gradient reached this input (ours may be zeros)
            assert g is None or not np.any(_numpy(g)), (name, i, g)
            continue
        assert g is not None, (name, i)
        np.testing.assert_allclose(_numpy(g), _numpy(h), rtol=rtol, atol=1e-6, equal_nan=True,
                                   err_msg=f"{name}: gradient of input {i}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_edge_value_and_gradient(name):
    fn, values = CASES[name]
    _compare(name, fn, values, "float64", 1e-7)


@pytest.mark.parametrize("name", sorted(HALF_CASES))
def test_half_precision_accumulates_in_float32(name):
    fn, values = HALF_CASES[name]
    _compare(name, fn, values, "float16", 1e-3)


@pytest.mark.parametrize("name", sorted(VALUE_CASES))
def test_edge_value(name):
    fn, values = VALUE_CASES[name]
    _compare(name, fn, values, "float64", 1e-7, grads=False)
