"""nn names added for issue 12 (fold/unfold, grid_sample, unpooling, LP pooling, LRN,
channel shuffle, the extra losses, distance modules, Lazy*, SyncBatchNorm) against torch:
values, input gradients, grad_fn names and error messages."""
import warnings

import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, assert_same

R = np.random.default_rng(0)


def _x(*shape, scale=1.0):
    return (R.standard_normal(shape) * scale).astype(np.float32)


def _compare(torch, fn, arrays, grad=(), atol=1e-5, rtol=1e-4):
    """fn(lib, *tensors) in both libraries: values, grad_fn, and the gradients of the inputs
    whose positions are in `grad` (through a fixed random cotangent)."""
    def make(lib):
        return [lib.tensor(a, requires_grad=i in grad) for i, a in enumerate(arrays)]
    ours_in, theirs_in = make(torchlike), make(torch)
    ours, theirs = fn(torchlike, *ours_in), fn(torch, *theirs_in)
    assert_same(ours, theirs, atol=atol, rtol=rtol)
    first_o = ours[0] if isinstance(ours, tuple) else ours
    first_t = theirs[0] if isinstance(theirs, tuple) else theirs
    if grad:
        cot = R.standard_normal(tuple(first_t.shape)).astype(np.float32)
        (first_t * torch.tensor(cot)).sum().backward()
        (first_o * torchlike.tensor(cot)).sum().backward()
        for i in grad:
            np.testing.assert_allclose(np.asarray(ours_in[i].grad), theirs_in[i].grad.numpy(),
                                       atol=atol, rtol=rtol)


def _pooled(x, kernel):
    """(pooled, indices) of a max pool, as numpy, from real torch (the unpool inputs)."""
    import torch
    fn = {1: torch.nn.functional.max_pool1d, 2: torch.nn.functional.max_pool2d,
          3: torch.nn.functional.max_pool3d}[len(kernel)]
    out, idx = fn(torch.tensor(x), kernel, return_indices=True)
    return out.numpy(), idx.numpy()


# -- functional cases: name -> (fn(lib, *tensors), arrays, differentiable positions) --------
F = lambda lib: lib.nn.functional  # noqa: E731
POOLED2, IDX2 = _pooled(_x(2, 3, 4, 6), (2, 2))
POOLED1, IDX1 = _pooled(_x(2, 3, 8), (2,))
POOLED3, IDX3 = _pooled(_x(1, 2, 4, 4, 2), (2, 2, 1))
CASES = {
    "unfold": (lambda L, x: F(L).unfold(x, 2), [_x(2, 3, 5, 4)], (0,)),
    "unfold-geometry": (lambda L, x: F(L).unfold(x, (2, 3), dilation=(2, 1), padding=1,
                                                 stride=(2, 1)), [_x(2, 3, 7, 6)], (0,)),
    "unfold-unbatched": (lambda L, x: F(L).unfold(x, 2), [_x(3, 4, 4)], (0,)),
    "fold": (lambda L, x: F(L).fold(x, (4, 5), 2), [_x(2, 12, 12)], (0,)),
    "fold-overlap": (lambda L, x: F(L).fold(x, (5, 5), 3, padding=1, stride=2),
                     [_x(1, 18, 9)], (0,)),
    "affine_grid-2d": (lambda L, t: F(L).affine_grid(t, (2, 3, 4, 5), align_corners=False),
                       [_x(2, 2, 3)], (0,)),
    "affine_grid-3d": (lambda L, t: F(L).affine_grid(t, (1, 1, 2, 3, 4), align_corners=True),
                       [_x(1, 3, 4)], (0,)),
    "max_unpool1d": (lambda L, x, i: F(L).max_unpool1d(x, i, 2), [POOLED1, IDX1], (0,)),
    "max_unpool2d": (lambda L, x, i: F(L).max_unpool2d(x, i, 2), [POOLED2, IDX2], (0,)),
    "max_unpool2d-output_size": (lambda L, x, i: F(L).max_unpool2d(x, i, 2,
                                                                  output_size=(5, 7)),
                                 [POOLED2, IDX2], (0,)),
    "max_unpool3d": (lambda L, x, i: F(L).max_unpool3d(x, i, (2, 2, 1)), [POOLED3, IDX3], (0,)),
    "max_pool2d_with_indices": (lambda L, x: F(L).max_pool2d_with_indices(x, 2),
                                [_x(1, 2, 4, 4)], (0,)),
    "adaptive_max_pool1d_with_indices": (
        lambda L, x: F(L).adaptive_max_pool1d_with_indices(x, 3), [_x(1, 2, 7)], (0,)),
    "lp_pool1d": (lambda L, x: F(L).lp_pool1d(x, 2, 3, 2), [_x(2, 3, 9)], (0,)),
    "lp_pool2d": (lambda L, x: F(L).lp_pool2d(x, 3.0, 2), [np.abs(_x(1, 2, 4, 6)) + 0.1], (0,)),
    "lp_pool3d": (lambda L, x: F(L).lp_pool3d(x, 1, 2), [_x(1, 2, 4, 4, 2)], (0,)),
    "local_response_norm-3d": (lambda L, x: F(L).local_response_norm(x, 3), [_x(2, 5, 7)], (0,)),
    "local_response_norm-4d": (lambda L, x: F(L).local_response_norm(x, 2, 1e-2, 0.5, 2.0),
                               [_x(2, 5, 3, 4)], (0,)),
    "channel_shuffle": (lambda L, x: F(L).channel_shuffle(x, 3), [_x(2, 6, 2, 3)], (0,)),
    "gaussian_nll_loss": (lambda L, x, t, v: F(L).gaussian_nll_loss(x, t, v),
                          [_x(4, 3), _x(4, 3), np.abs(_x(4, 3)) + 0.1], (0, 2)),
    "gaussian_nll_loss-full-homoscedastic": (
        lambda L, x, t, v: F(L).gaussian_nll_loss(x, t, v, full=True, reduction="none"),
        [_x(4, 3), _x(4, 3), np.abs(_x(4)) + 0.1], (0, 2)),
    "gaussian_nll_loss-clamped": (lambda L, x, t, v: F(L).gaussian_nll_loss(
        x, t, v, eps=0.5, reduction="sum"), [_x(4, 3), _x(4, 3), np.abs(_x(4, 1))], (0, 2)),
    "poisson_nll_loss": (lambda L, x, t: F(L).poisson_nll_loss(x, t),
                         [_x(4, 3), np.abs(_x(4, 3)) * 3], (0,)),
    "poisson_nll_loss-full": (lambda L, x, t: F(L).poisson_nll_loss(
        x, t, log_input=False, full=True, reduction="none"),
        [np.abs(_x(4, 3)) + 0.1, np.round(np.abs(_x(4, 3)) * 3)], (0,)),
    "hinge_embedding_loss": (lambda L, x, t: F(L).hinge_embedding_loss(x, t, margin=0.5),
                             [_x(6), np.array([1, -1, 1, -1, -1, 1], np.float32)], (0,)),
    "soft_margin_loss": (lambda L, x, t: F(L).soft_margin_loss(x, t),
                         [_x(3, 4), np.sign(_x(3, 4))], (0,)),
    "multilabel_soft_margin_loss": (lambda L, x, t, w: F(L).multilabel_soft_margin_loss(
        x, t, w, reduction="none"), [_x(3, 4), (_x(3, 4) > 0).astype(np.float32), _x(4)], (0,)),
    "multi_margin_loss": (lambda L, x, t: F(L).multi_margin_loss(x, t),
                          [_x(3, 4), np.array([0, 3, 1])], (0,)),
    "multi_margin_loss-p2-weight": (lambda L, x, t, w: F(L).multi_margin_loss(
        x, t, p=2, margin=0.7, weight=w, reduction="sum"),
        [_x(3, 4), np.array([2, 3, 1]), np.abs(_x(4))], (0,)),
    "multilabel_margin_loss": (lambda L, x, t: F(L).multilabel_margin_loss(x, t, reduction="none"),
                               [_x(3, 4), np.array([[3, 0, -1, 1], [1, 2, 3, 0],
                                                    [-1, 0, 0, 0]])], (0,)),
    "fractional_max_pool2d": (lambda L, x, s: F(L).fractional_max_pool2d(
        x, 3, output_size=(4, 5), return_indices=True, _random_samples=s),
        [_x(2, 3, 9, 8), R.random((2, 3, 2)).astype(np.float32)], (0,)),
    "fractional_max_pool2d-unbatched-ratio": (lambda L, x, s: F(L).fractional_max_pool2d(
        x, (2, 3), output_ratio=(0.5, 0.6), _random_samples=s),
        [_x(3, 9, 8), R.random((1, 3, 2)).astype(np.float32)], (0,)),
    "fractional_max_pool3d": (lambda L, x, s: F(L).fractional_max_pool3d_with_indices(
        x, 2, output_ratio=0.5, _random_samples=s),
        [_x(1, 2, 6, 7, 8), R.random((1, 2, 3)).astype(np.float32)], (0,)),
    "triplet_margin_with_distance_loss": (
        lambda L, a, p, n: F(L).triplet_margin_with_distance_loss(a, p, n, swap=True),
        [_x(4, 5), _x(4, 5), _x(4, 5)], (0, 1, 2)),
    "triplet_margin_with_distance_loss-cosine": (
        lambda L, a, p, n: F(L).triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda u, v: 1 - F(L).cosine_similarity(u, v),
            reduction="none"), [_x(4, 5), _x(4, 5), _x(4, 5)], (0, 1, 2)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_functional(oracle, name):
    fn, arrays, grad = CASES[name]
    _compare(oracle, fn, arrays, grad)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_2d(oracle, mode, padding_mode, align_corners):
    x, grid = _x(2, 3, 5, 4), _x(2, 3, 6, 2, scale=0.8)
    grad = (0, 1) if mode == "bilinear" else (0,)    # nearest: no gradient to the grid
    _compare(oracle, lambda L, a, g: F(L).grid_sample(a, g, mode, padding_mode, align_corners),
             [x, grid], grad)


def test_grid_sample_3d(oracle):
    _compare(oracle, lambda L, a, g: F(L).grid_sample(a, g, padding_mode="border",
                                                      align_corners=False),
             [_x(1, 2, 3, 4, 5), _x(1, 2, 3, 4, 3, scale=0.8)], (0, 1))


def test_grid_sample_mode_tables(oracle):
    assert F(torchlike).GRID_SAMPLE_INTERPOLATION_MODES == \
        F(oracle).GRID_SAMPLE_INTERPOLATION_MODES
    assert F(torchlike).GRID_SAMPLE_PADDING_MODES == F(oracle).GRID_SAMPLE_PADDING_MODES


def test_grid_sample_and_affine_grid_warn_without_align_corners(oracle):
    for lib in (oracle, torchlike):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            grid = F(lib).affine_grid(lib.zeros(1, 2, 3), (1, 1, 2, 2))
            F(lib).grid_sample(lib.zeros(1, 1, 2, 2), grid)
        assert [str(w.message)[:40] for w in caught] == \
            ["Default grid_sample and affine_grid beha"] * 2


ERRORS = {
    "unfold-5d": lambda L: F(L).unfold(L.zeros(1, 3, 4, 4, 4), 2),
    "unfold-kernel-too-big": lambda L: F(L).unfold(L.zeros(1, 3, 4, 4), 5),
    "unfold-stride-0": lambda L: F(L).unfold(L.zeros(1, 3, 4, 4), 2, stride=0),
    "unfold-negative-padding": lambda L: F(L).unfold(L.zeros(1, 3, 4, 4), 2, padding=-1),
    "unfold-kernel-3-values": lambda L: F(L).unfold(L.zeros(1, 3, 4, 4), (2, 2, 2)),
    "fold-not-divisible": lambda L: F(L).fold(L.zeros(1, 13, 9), (4, 4), 2),
    "fold-wrong-blocks": lambda L: F(L).fold(L.zeros(1, 12, 10), (4, 4), 2),
    "fold-4d": lambda L: F(L).fold(L.zeros(1, 12, 4, 4), (4, 4), 2),
    "grid_sample-mode": lambda L: F(L).grid_sample(L.zeros(1, 1, 2, 2), L.zeros(1, 2, 2, 2),
                                                   mode="area", align_corners=False),
    "grid_sample-padding": lambda L: F(L).grid_sample(L.zeros(1, 1, 2, 2), L.zeros(1, 2, 2, 2),
                                                      padding_mode="wrap", align_corners=False),
    "grid_sample-batch": lambda L: F(L).grid_sample(L.zeros(1, 1, 2, 2), L.zeros(2, 2, 2, 2),
                                                    align_corners=False),
    "grid_sample-last-dim": lambda L: F(L).grid_sample(L.zeros(1, 1, 2, 2), L.zeros(1, 2, 2, 3),
                                                       align_corners=False),
    "grid_sample-ranks": lambda L: F(L).grid_sample(L.zeros(1, 1, 2, 2),
                                                    L.zeros(1, 2, 2, 2, 2), align_corners=False),
    "affine_grid-theta-shape": lambda L: F(L).affine_grid(L.zeros(1, 2, 2), (1, 1, 3, 3),
                                                          align_corners=False),
    "affine_grid-int-theta": lambda L: F(L).affine_grid(L.zeros(1, 2, 3, dtype=L.long),
                                                        (1, 1, 3, 3), align_corners=False),
    "affine_grid-3d-size": lambda L: F(L).affine_grid(L.zeros(1, 2, 3), (1, 3, 3),
                                                      align_corners=False),
    "max_unpool2d-output_size": lambda L: F(L).max_unpool2d(
        L.tensor(POOLED2), L.tensor(IDX2), 2, output_size=(9, 9)),
    "max_unpool2d-output_size-length": lambda L: F(L).max_unpool2d(
        L.tensor(POOLED2), L.tensor(IDX2), 2, output_size=(4, 6, 1)),
    "max_unpool2d-index-shape": lambda L: F(L).max_unpool2d(
        L.tensor(POOLED2), L.tensor(IDX2)[:, :, :1], 2),
    "max_unpool2d-float-index": lambda L: F(L).max_unpool2d(
        L.tensor(POOLED2), L.tensor(IDX2).float(), 2),
    # one bad index: with several, PyTorch's threads report whichever they meet first
    "max_unpool2d-bad-index": lambda L: F(L).max_unpool2d(
        L.tensor(POOLED2), L.tensor(np.where(np.arange(IDX2.size).reshape(IDX2.shape) == 5,
                                             100, IDX2)), 2),
    "channel_shuffle-groups": lambda L: F(L).channel_shuffle(L.zeros(1, 6, 2), 4),
    "channel_shuffle-zero-groups": lambda L: F(L).channel_shuffle(L.zeros(1, 6, 2), 0),
    "channel_shuffle-1d": lambda L: F(L).channel_shuffle(L.zeros(6), 2),
    "local_response_norm-2d": lambda L: F(L).local_response_norm(L.zeros(2, 3), 2),
    "gaussian_nll-negative-var": lambda L: F(L).gaussian_nll_loss(L.zeros(2), L.zeros(2),
                                                                  -L.ones(2)),
    "gaussian_nll-var-size": lambda L: F(L).gaussian_nll_loss(L.zeros(2, 3), L.zeros(2, 3),
                                                              L.ones(3, 2)),
    "gaussian_nll-reduction": lambda L: F(L).gaussian_nll_loss(L.zeros(2), L.zeros(2),
                                                               L.ones(2), reduction="avg"),
    "poisson_nll-reduction": lambda L: F(L).poisson_nll_loss(L.zeros(2), L.zeros(2),
                                                             reduction="avg"),
    "multi_margin-p": lambda L: F(L).multi_margin_loss(L.zeros(2, 3), L.tensor([0, 1]), p=3),
    "multi_margin-target": lambda L: F(L).multi_margin_loss(L.zeros(2, 3), L.tensor([0, 1, 1])),
    "multilabel_margin-target-shape": lambda L: F(L).multilabel_margin_loss(
        L.zeros(2, 3), L.tensor([[0, 1, -1]])),
    "multilabel_margin-int-target": lambda L: F(L).multilabel_margin_loss(
        L.zeros(2, 3), L.zeros(2, 3, dtype=L.int32)),
    "triplet_distance-margin": lambda L: F(L).triplet_margin_with_distance_loss(
        L.zeros(2, 3), L.zeros(2, 3), L.zeros(2, 3), margin=0),
    "triplet_distance-ranks": lambda L: F(L).triplet_margin_with_distance_loss(
        L.zeros(2, 3), L.zeros(2, 3), L.zeros(3)),
    "soft_margin-reduction": lambda L: F(L).soft_margin_loss(L.zeros(2), L.zeros(2),
                                                             reduction="x"),
    "MultiMarginLoss-weight": lambda L: L.nn.MultiMarginLoss(weight=L.ones(2, 2)),
    "TripletMarginWithDistanceLoss-margin": lambda L: L.nn.TripletMarginWithDistanceLoss(
        margin=0),
    # PyTorch reads the features at dim 1 even for an unbatched input, then rejects it
    "LazyInstanceNorm1d-unbatched": lambda L: L.nn.LazyInstanceNorm1d()(L.zeros(3, 5)),
    "fractional-no-size": lambda L: F(L).fractional_max_pool2d(L.zeros(1, 1, 4, 4), 2),
    "fractional-pool-too-large": lambda L: F(L).fractional_max_pool2d(
        L.zeros(1, 1, 9, 9), 3, output_size=(8, 8)),
    "FractionalMaxPool2d-no-size": lambda L: L.nn.FractionalMaxPool2d(3),
    "FractionalMaxPool2d-both": lambda L: L.nn.FractionalMaxPool2d(3, 2, 0.5),
    "FractionalMaxPool2d-ratio": lambda L: L.nn.FractionalMaxPool2d(3, output_ratio=1.5),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(oracle, name):
    assert_raises_same(ERRORS[name])


# -- modules ------------------------------------------------------------------------------
MODULES = {
    "Fold": (lambda nn: nn.Fold((4, 5), 2), [_x(2, 12, 12)]),
    "Unfold": (lambda nn: nn.Unfold(2, padding=1), [_x(2, 3, 4, 4)]),
    "CosineSimilarity": (lambda nn: nn.CosineSimilarity(dim=0), [_x(4, 3), _x(4, 3)]),
    "PairwiseDistance": (lambda nn: nn.PairwiseDistance(p=1.0, keepdim=True),
                         [_x(4, 3), _x(4, 3)]),
    "ChannelShuffle": (lambda nn: nn.ChannelShuffle(2), [_x(1, 4, 3)]),
    "RReLU-eval": (lambda nn: nn.RReLU(0.1, 0.3).eval(), [_x(3, 4)]),
    "AlphaDropout-eval": (lambda nn: nn.AlphaDropout(0.2).eval(), [_x(3, 4)]),
    "FeatureAlphaDropout-eval": (lambda nn: nn.FeatureAlphaDropout().eval(), [_x(2, 3, 4)]),
    "LocalResponseNorm": (lambda nn: nn.LocalResponseNorm(3), [_x(2, 4, 5)]),
    "LPPool1d": (lambda nn: nn.LPPool1d(2, 3), [_x(2, 3, 7)]),
    "LPPool2d": (lambda nn: nn.LPPool2d(2, 3, 2), [_x(1, 2, 7, 7)]),
    "GaussianNLLLoss": (lambda nn: nn.GaussianNLLLoss(full=True),
                        [_x(4, 2), _x(4, 2), np.abs(_x(4, 2)) + 0.1]),
    "PoissonNLLLoss": (lambda nn: nn.PoissonNLLLoss(), [_x(4, 2), np.abs(_x(4, 2))]),
    "HingeEmbeddingLoss": (lambda nn: nn.HingeEmbeddingLoss(2.0),
                           [_x(4), np.array([1, -1, -1, 1], np.float32)]),
    "SoftMarginLoss": (lambda nn: nn.SoftMarginLoss(reduction="sum"), [_x(4), np.sign(_x(4))]),
    "MultiLabelSoftMarginLoss": (lambda nn: nn.MultiLabelSoftMarginLoss(),
                                 [_x(3, 4), (_x(3, 4) > 0).astype(np.float32)]),
    "MultiMarginLoss": (lambda nn: nn.MultiMarginLoss(margin=2.0), [_x(3, 4), np.array([0, 1, 3])]),
    "MultiLabelMarginLoss": (lambda nn: nn.MultiLabelMarginLoss(),
                             [_x(2, 3), np.array([[2, -1, 0], [0, 1, 2]])]),
    "TripletMarginWithDistanceLoss": (lambda nn: nn.TripletMarginWithDistanceLoss(),
                                      [_x(3, 4), _x(3, 4), _x(3, 4)]),
    "NLLLoss2d": (lambda nn: nn.NLLLoss2d(), [_x(2, 3, 2, 2), np.array(R.integers(0, 3, (2, 2, 2)))]),
    "SyncBatchNorm": (lambda nn: nn.SyncBatchNorm(3), [_x(4, 3, 5)]),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module(oracle, name):
    build, arrays = MODULES[name]
    theirs, ours = build(oracle.nn), build(torchlike.nn)
    assert repr(ours) == repr(theirs)
    # losses: the gradient of the input only (a target may not require grad in PyTorch)
    grad = (0,) if "Loss" in name else tuple(range(len(arrays)))
    _compare(oracle, lambda L, *xs: (theirs if L is oracle else ours)(*xs), arrays, grad)
    if name == "SyncBatchNorm":
        assert_same(ours.running_mean, theirs.running_mean)


X_UNPOOL = _x(1, 1, 4, 4)


def test_max_unpool_module_values(oracle):
    def run(lib):
        pool = lib.nn.MaxPool2d(2, return_indices=True)
        out, idx = pool(lib.tensor(X_UNPOOL))
        return lib.nn.MaxUnpool2d(2)(out, idx, output_size=(1, 1, 5, 5))
    assert_same(run(torchlike), run(oracle))
    assert repr(torchlike.nn.MaxUnpool2d(2)) == repr(oracle.nn.MaxUnpool2d(2))


def test_fractional_max_pool_module(oracle):
    samples = R.random((1, 2, 2)).astype(np.float32)
    x = _x(1, 2, 7, 7)
    ours = torchlike.nn.FractionalMaxPool2d(2, output_ratio=0.5,
                                            _random_samples=torchlike.tensor(samples))
    theirs = oracle.nn.FractionalMaxPool2d(2, output_ratio=0.5,
                                           _random_samples=oracle.tensor(samples))
    assert repr(ours) == repr(theirs)
    assert_same(ours(torchlike.tensor(x)), theirs(oracle.tensor(x)))
    # without samples: random window placement, always a max of a 2x2 window of the input
    out = torchlike.nn.FractionalMaxPool2d(2, output_size=3)(torchlike.tensor(x))
    assert tuple(out.shape) == (1, 2, 3, 3) and set(np.asarray(out).ravel()) <= set(x.ravel())


def test_sdpa_kernel_and_backends(oracle):
    from torchlike.nn.attention import SDPBackend, sdpa_kernel
    import torch.nn.attention as theirs
    assert {k: int(v) for k, v in SDPBackend.__members__.items()} == \
        {k: int(v.value) for k, v in theirs.SDPBackend.__members__.items()}
    q = torchlike.tensor(_x(1, 2, 3, 4))
    with sdpa_kernel([SDPBackend.MATH, SDPBackend.FLASH_ATTENTION]):
        inside = F(torchlike).scaled_dot_product_attention(q, q, q)
    np.testing.assert_array_equal(np.asarray(inside),
                                  np.asarray(F(torchlike).scaled_dot_product_attention(q, q, q)))
    with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend"):
        with sdpa_kernel("math"):
            pass


def test_init_deprecated_aliases(oracle):
    for name in ("eye", "dirac", "uniform"):
        messages = []
        for lib in (torchlike, oracle):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                getattr(lib.nn.init, name)(lib.zeros(2, 2, 3) if name == "dirac"
                                           else lib.zeros(2, 2))
            messages.append([(str(w.message), w.category) for w in caught])
        assert messages[0] == messages[1]


def test_rrelu_training_slopes_in_range():
    # random slopes (torchlike's generator is not PyTorch's): negatives scaled by [lower, upper]
    x = -torchlike.ones(1000)
    y = torchlike.nn.RReLU(0.1, 0.3)(x)
    assert float(y.max()) <= -0.1 + 1e-6 and float(y.min()) >= -0.3 - 1e-6
    assert y.grad_fn is None


def test_alpha_dropout_training_keeps_mean_and_variance():
    # alpha dropout keeps a standard normal input's mean 0 and variance 1 (its definition)
    torchlike.manual_seed(0)
    x = torchlike.randn(200000)
    y = torchlike.nn.AlphaDropout(0.3)(x)
    assert abs(float(y.mean())) < 0.02 and abs(float(y.var()) - 1) < 0.03


# -- Lazy modules -------------------------------------------------------------------------
LAZY = {
    "LazyLinear": (lambda nn: nn.LazyLinear(3), (2, 5)),
    "LazyConv1d": (lambda nn: nn.LazyConv1d(4, 3, padding=1), (2, 3, 6)),
    "LazyConv2d": (lambda nn: nn.LazyConv2d(4, 3, groups=2), (1, 2, 5, 5)),
    "LazyConvTranspose2d": (lambda nn: nn.LazyConvTranspose2d(4, 2, stride=2), (1, 3, 3, 3)),
    "LazyConvTranspose1d-unbatched": (lambda nn: nn.LazyConvTranspose1d(2, 3), (3, 4)),
    "LazyBatchNorm1d": (lambda nn: nn.LazyBatchNorm1d(), (4, 3)),
    "LazyBatchNorm2d": (lambda nn: nn.LazyBatchNorm2d(affine=False), (2, 3, 2, 2)),
    "LazyInstanceNorm1d": (lambda nn: nn.LazyInstanceNorm1d(), (2, 3, 5)),
}


@pytest.mark.parametrize("name", sorted(LAZY))
def test_lazy_module(oracle, name):
    build, shape = LAZY[name]
    theirs, ours = build(oracle.nn), build(torchlike.nn)
    assert repr(ours) == repr(theirs)
    assert ours.has_uninitialized_params() and theirs.has_uninitialized_params()
    assert repr(ours.weight) == repr(theirs.weight)
    x = _x(*shape)
    expected = theirs(oracle.tensor(x))
    ours_out = ours(torchlike.tensor(x))
    # the module became its plain class, with torch's shapes; copy torch's random init
    assert type(ours).__name__ == type(theirs).__name__ and repr(ours) == repr(theirs)
    assert not ours.has_uninitialized_params() if hasattr(ours, "has_uninitialized_params") \
        else True
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key, value in theirs_state.items():
        assert tuple(ours_state[key].shape) == tuple(value.shape), key
    assert tuple(ours_out.shape) == tuple(expected.shape)
    fresh = build(torchlike.nn)
    fresh.load_state_dict({k: torchlike.tensor(v.numpy()) for k, v in build_state(
        oracle, build, shape).items()})
    assert type(fresh).__name__ == type(theirs).__name__ or fresh.has_uninitialized_params() \
        is False


def build_state(torch, build, shape):
    """A state_dict of the torch module after one forward (the shapes a checkpoint has)."""
    module = build(torch.nn)
    module(torch.zeros(shape))
    return module.state_dict()


def test_lazy_linear_same_values_after_copying_weights(oracle):
    theirs, ours = oracle.nn.LazyLinear(3), torchlike.nn.LazyLinear(3)
    x = _x(2, 4)
    theirs(oracle.tensor(x))
    ours.load_state_dict({k: torchlike.tensor(v.numpy()) for k, v in
                          theirs.state_dict().items()})
    assert type(ours) is torchlike.nn.LazyLinear     # loading does not run forward
    assert_same(ours(torchlike.tensor(x)), theirs(oracle.tensor(x)))
    assert type(ours) is torchlike.nn.Linear


def test_sync_batchnorm_convert(oracle):
    def run(nn):
        return repr(nn.SyncBatchNorm.convert_sync_batchnorm(
            nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3), nn.ReLU())))
    assert run(torchlike.nn) == run(oracle.nn)
    bn = torchlike.nn.BatchNorm1d(3)
    sync = torchlike.nn.SyncBatchNorm.convert_sync_batchnorm(bn)
    assert sync.weight is bn.weight and sync.running_mean is bn.running_mean


def test_deprecated_names(oracle):
    for lib in (oracle, torchlike):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.Container()
            lib.nn.NLLLoss2d()
            F(lib).upsample(lib.zeros(1, 1, 2, 2), scale_factor=2)
            F(lib).upsample_bilinear(lib.zeros(1, 1, 2, 2), scale_factor=2)
        messages = [str(w.message) for w in caught]
        if lib is oracle:
            expected = messages
        else:
            assert messages == expected
    x = _x(1, 2, 3, 3)
    assert_same(F(torchlike).upsample_nearest(torchlike.tensor(x), scale_factor=2),
                F(oracle).upsample_nearest(oracle.tensor(x), scale_factor=2))
