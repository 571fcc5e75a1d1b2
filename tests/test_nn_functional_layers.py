"""The layer functionals directly (torchlike.nn._functional_layers, re-exported by
nn.functional): cases the module tests do not reach, and PyTorch's error messages."""
import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, assert_same, float_tol
from torchlike.nn import _functional_layers as FL


def _pair(oracle, fn, *arrays, grad=True):
    """fn(F, *tensors) under both libraries; compares values, grad_fn and input grads."""
    import torch
    tt = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    oo = [torchlike.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    a, b = fn(torch.nn.functional, *tt), fn(FL, *oo)
    assert_same(b, a, atol=1e-5, rtol=1e-4)     # one layer: see nn_oracle.check_module
    first_a = a[0] if isinstance(a, tuple) else a
    first_b = b[0] if isinstance(b, tuple) else b
    if first_a.requires_grad:
        cot = np.random.default_rng(1).standard_normal(tuple(first_a.shape)).astype(np.float32)
        (first_a * torch.tensor(cot)).sum().backward()
        (first_b * torchlike.tensor(cot)).sum().backward()
        for x, y in zip(oo, tt):
            if y.grad is not None:
                np.testing.assert_allclose(np.asarray(x.grad), y.grad.numpy(), atol=1e-5,
                                           rtol=1e-4)


R = np.random.default_rng(0)


def _x(*shape):
    return R.standard_normal(shape).astype(np.float32)


CASES = {
    "conv3d-padding": (lambda F, x, w: F.conv3d(x, w, padding=1, stride=2),
                       [_x(1, 2, 5, 4, 4), _x(3, 2, 3, 3, 3)]),
    "conv_transpose3d": (lambda F, x, w, b: F.conv_transpose3d(x, w, b, stride=2),
                         [_x(1, 2, 3, 2, 3), _x(2, 3, 2, 2, 2), _x(3)]),
    "conv_transpose2d-unbatched": (lambda F, x, w: F.conv_transpose2d(x, w, padding=1),
                                   [_x(2, 4, 4), _x(2, 3, 3, 3)]),
    "conv1d-valid": (lambda F, x, w: F.conv1d(x, w, padding="valid"), [_x(2, 3, 6),
                                                                        _x(4, 3, 2)]),
    # ties: the gradient goes to the first maximum of each window, as in PyTorch
    "max_pool2d-ties": (lambda F, x: F.max_pool2d(x, 2), [np.round(_x(1, 2, 4, 6))]),
    "max_pool2d-ties-overlapping": (lambda F, x: F.max_pool2d(x, 3, 1, padding=1),
                                    [np.zeros((1, 1, 4, 4), np.float32)]),
    "adaptive_max_pool2d-ties": (lambda F, x: F.adaptive_max_pool2d(x, (2, 3)),
                                 [np.round(_x(1, 2, 5, 7))]),
    "max_pool3d": (lambda F, x: F.max_pool3d(x, 2, return_indices=True), [_x(1, 2, 4, 4, 5)]),
    "max_pool1d-ceil": (lambda F, x: F.max_pool1d(x, 2, 2, ceil_mode=True), [_x(2, 3, 7)]),
    "avg_pool3d": (lambda F, x: F.avg_pool3d(x, 2, padding=1, count_include_pad=False),
                   [_x(1, 2, 4, 4, 5)]),
    "adaptive_avg_pool3d": (lambda F, x: F.adaptive_avg_pool3d(x, (2, 3, 1)),
                            [_x(1, 2, 5, 4, 3)]),
    "adaptive_max_pool1d": (lambda F, x: F.adaptive_max_pool1d(x, 3), [_x(2, 3, 8)]),
    "adaptive_max_pool3d": (lambda F, x: F.adaptive_max_pool3d(x, 2), [_x(1, 2, 5, 4, 3)]),
    "batch_norm-eval": (lambda F, x, m, v, w, b: F.batch_norm(x, m.detach(), v.detach(), w, b,
                                                              False),
                        [_x(4, 3, 2), _x(3), np.abs(_x(3)) + 0.5, _x(3), _x(3)]),
    "group_norm-noaffine": (lambda F, x: F.group_norm(x, 3), [_x(2, 6, 4)]),
    "instance_norm-running": (lambda F, x, m, v: F.instance_norm(x, m.detach(), v.detach(),
                                                                 momentum=0.2),
                              [_x(2, 3, 5), _x(3), np.abs(_x(3))]),
    "layer_norm": (lambda F, x, w: F.layer_norm(x, (3, 4), w, eps=1e-3), [_x(2, 3, 4), _x(3, 4)]),
    "rms_norm": (lambda F, x: F.rms_norm(x, [4], eps=1e-2), [_x(2, 3, 4)]),
    "nll_loss-unbatched": (lambda F, x, t: F.nll_loss(x, t), [_x(5), np.array(2)]),
    "nll_loss-all-ignored": (lambda F, x, t: F.nll_loss(x, t, ignore_index=1),
                             [_x(2, 3), np.array([1, 1])]),
    "cross_entropy-legacy-args": (lambda F, x, t: F.cross_entropy(x, t, size_average=False),
                                  [_x(3, 4), np.array([0, 3, 1])]),
    "mse_loss-broadcast": (lambda F, x, y: F.mse_loss(x, y), [_x(3, 4), _x(4)]),
    "embedding_bag-weights": (
        lambda F, w, p: F.embedding_bag(_i(F, [1, 2, 4, 5, 4, 3]), w, _i(F, [0, 2, 5, 6]),
                                        mode="sum", per_sample_weights=p,
                                        include_last_offset=True),
        [_x(7, 3), _x(6)]),
    "embedding_bag-empty-bag": (
        lambda F, w: F.embedding_bag(_i(F, [1, 2, 4]), w, _i(F, [0, 0, 3]), mode="max"),
        [_x(7, 3)]),
}


def _i(F, values):
    lib = torchlike if F is FL else __import__("torch")
    return lib.tensor(values)


@pytest.mark.parametrize("name", sorted(CASES))
def test_functional(oracle, name):
    import warnings
    fn, arrays = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _pair(oracle, fn, *arrays)


def test_running_stats_of_functional_norms(oracle):
    x = _x(4, 3, 5)
    for lib, F in [(torchlike, FL), (oracle, oracle.nn.functional)]:
        m, v = lib.zeros(3), lib.ones(3)
        F.batch_norm(lib.tensor(x), m, v, training=True, momentum=0.3)
        F.instance_norm(lib.tensor(x), m, v, momentum=0.5)
        if lib is torchlike:
            ours = (m.tolist(), v.tolist())
        else:
            theirs = (m.tolist(), v.tolist())
    # batch statistics over 4 x 5 values: the mean (20 terms), the unbiased variance
    # (20 squares of differences, 20 terms, a division), the momentum update (2), then
    # instance norm's over 5 per sample averaged over 4 and blended in (~20): ~64
    # roundings; the means cancel, so relative to the inputs' magnitude (atol)
    np.testing.assert_allclose(ours, theirs, **float_tol("float32", 64, np.abs(x).max()))


def test_errors(oracle):
    def F(lib):
        return FL if lib is torchlike else lib.nn.functional
    assert_raises_same(lambda lib: F(lib).conv2d(lib.ones(1, 3, 5, 5), lib.ones(4, 2, 3, 3)))
    assert_raises_same(lambda lib: F(lib).conv2d(lib.ones(1, 4, 5, 5), lib.ones(4, 2, 3, 3),
                                                 stride=2, padding="same"))
    assert_raises_same(lambda lib: F(lib).max_pool2d(lib.ones(1, 1, 5, 5), 2, padding=2))
    assert_raises_same(lambda lib: F(lib).layer_norm(lib.ones(2, 3), (4,)))
    assert_raises_same(lambda lib: F(lib).group_norm(lib.ones(2, 3, 4), 2))
    assert_raises_same(lambda lib: F(lib).batch_norm(lib.ones(1, 3), None, None,
                                                     training=True))
    assert_raises_same(lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 1, 2])))
    assert_raises_same(lambda lib: F(lib).binary_cross_entropy(lib.ones(2, 3) / 2,
                                                               lib.ones(3) / 2))
    assert_raises_same(lambda lib: F(lib).mse_loss(lib.ones(2), lib.ones(2), reduction="avg"))
    assert_raises_same(lambda lib: F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 1]),
                                                        label_smoothing=1.5))
