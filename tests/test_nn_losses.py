"""Loss modules against torch, for every reduction: values, grad_fn names, gradients of
the input (and of differentiable targets)."""
import warnings

import numpy as np
import pytest

import torchlike
from helpers import float_tol
from nn_oracle import check_module

rng = np.random.default_rng(7)
CLASSES = np.array([1, 0, 4, 2, 3])
IGNORED = np.array([1, -100, 4, 2, -100])
PROBS = rng.dirichlet(np.ones(6), 5).astype(np.float32)
UNIT = rng.uniform(0.05, 0.95, (4, 5)).astype(np.float32)
SIGNS = np.array([1.0, -1.0, 1.0, -1.0], np.float32)


def _w(n):
    return lambda lib: lib.tensor(np.linspace(0.5, 1.5, n).astype(np.float32))


# id -> (module constructor (nn, lib, reduction), input spec, forward or None)
LOSSES = {
    "L1Loss": (lambda nn, lib, r: nn.L1Loss(reduction=r), [(4, 5), (4, 5)]),
    "MSELoss": (lambda nn, lib, r: nn.MSELoss(reduction=r), [(4, 5), (4, 5)]),
    "SmoothL1Loss": (lambda nn, lib, r: nn.SmoothL1Loss(reduction=r, beta=0.5),
                     [(4, 5), (4, 5)]),
    "SmoothL1Loss-beta0": (lambda nn, lib, r: nn.SmoothL1Loss(reduction=r, beta=0.0),
                           [(4, 5), (4, 5)]),
    "HuberLoss": (lambda nn, lib, r: nn.HuberLoss(reduction=r, delta=0.7), [(4, 5), (4, 5)]),
    "CrossEntropyLoss": (lambda nn, lib, r: nn.CrossEntropyLoss(reduction=r),
                         [(5, 6), CLASSES]),
    "CrossEntropyLoss-weight-ignore": (
        lambda nn, lib, r: nn.CrossEntropyLoss(_w(6)(lib), reduction=r), [(5, 6), IGNORED]),
    "CrossEntropyLoss-smoothing": (
        lambda nn, lib, r: nn.CrossEntropyLoss(_w(6)(lib), ignore_index=2, reduction=r,
                                               label_smoothing=0.2), [(5, 6), CLASSES]),
    "CrossEntropyLoss-probs": (
        lambda nn, lib, r: nn.CrossEntropyLoss(_w(6)(lib), reduction=r, label_smoothing=0.1),
        [(5, 6), PROBS]),
    "CrossEntropyLoss-2d": (lambda nn, lib, r: nn.CrossEntropyLoss(reduction=r),
                            [(2, 3, 4, 2), rng.integers(0, 3, (2, 4, 2))]),
    "CrossEntropyLoss-1d-seq": (lambda nn, lib, r: nn.CrossEntropyLoss(reduction=r),
                                [(2, 3, 4), rng.integers(0, 3, (2, 4))]),
    "CrossEntropyLoss-unbatched": (lambda nn, lib, r: nn.CrossEntropyLoss(reduction=r),
                                   [(6,), np.array(3)]),
    "NLLLoss": (lambda nn, lib, r: nn.NLLLoss(_w(6)(lib), reduction=r, ignore_index=4),
                [(5, 6), CLASSES]),
    "BCELoss": (lambda nn, lib, r: nn.BCELoss(_w(5)(lib), reduction=r), [UNIT, UNIT[::-1].copy()]),
    "BCEWithLogitsLoss": (lambda nn, lib, r: nn.BCEWithLogitsLoss(reduction=r), [(4, 5), UNIT]),
    "BCEWithLogitsLoss-weights": (
        lambda nn, lib, r: nn.BCEWithLogitsLoss(_w(5)(lib), reduction=r,
                                                pos_weight=_w(5)(lib) * 2), [(4, 5), UNIT]),
    "KLDivLoss": (lambda nn, lib, r: nn.KLDivLoss(reduction=r), [(4, 5), UNIT]),
    "KLDivLoss-log-target": (lambda nn, lib, r: nn.KLDivLoss(reduction=r, log_target=True),
                             [(4, 5), (4, 5)]),
    "CosineEmbeddingLoss": (lambda nn, lib, r: nn.CosineEmbeddingLoss(0.2, reduction=r),
                            [(4, 5), (4, 5), SIGNS]),
    "MarginRankingLoss": (lambda nn, lib, r: nn.MarginRankingLoss(0.1, reduction=r),
                          [(4,), (4,), SIGNS]),
    "TripletMarginLoss": (lambda nn, lib, r: nn.TripletMarginLoss(reduction=r),
                          [(4, 5), (4, 5), (4, 5)]),
    "TripletMarginLoss-swap-p1": (
        lambda nn, lib, r: nn.TripletMarginLoss(margin=2.0, p=1, swap=True, reduction=r),
        [(4, 5), (4, 5), (4, 5)]),
}


def _log_softmax(x):
    nn = torchlike.nn if isinstance(x, torchlike.Tensor) else None
    if nn is None:
        import torch
        nn = torch.nn
    return nn.LogSoftmax(dim=2)(x)


CTC_INPUT = [(6, 2, 5), np.array([[1, 2, 2], [3, 1, 0]])]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss(oracle, name, reduction):
    make, spec = LOSSES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # KLDivLoss 'mean' warns under both libraries
        check_module(lambda nn: make(nn, torchlike if nn is torchlike.nn else oracle,
                                     reduction), spec)


def test_kl_div_batchmean(oracle):
    check_module(lambda nn: nn.KLDivLoss(reduction="batchmean"), [(4, 5), UNIT])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ctc_loss(oracle, reduction):
    def forward(m, x, targets):
        lengths = [6, 4]
        return m(_log_softmax(x), targets, lengths, [3, 2])
    check_module(lambda nn: nn.CTCLoss(reduction=reduction), CTC_INPUT, forward=forward)


def test_ctc_loss_concatenated_targets_and_zero_infinity(oracle):
    def forward(m, x, targets):
        lib = torchlike if isinstance(x, torchlike.Tensor) else oracle
        return m(_log_softmax(x), targets, lib.tensor([6, 2]), lib.tensor([3, 3]))
    check_module(lambda nn: nn.CTCLoss(blank=4, zero_infinity=True),
                 [(6, 2, 5), np.array([1, 2, 2, 3, 1, 0])], forward=forward)


def test_legacy_size_average_and_reduce(oracle):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert torchlike.nn.MSELoss(size_average=False).reduction == \
            oracle.nn.MSELoss(size_average=False).reduction == "sum"
        assert torchlike.nn.L1Loss(reduce=False).reduction == "none"


def test_loss_weights_are_buffers(oracle):
    ours = torchlike.nn.CrossEntropyLoss(weight=torchlike.ones(3))
    theirs = oracle.nn.CrossEntropyLoss(weight=oracle.ones(3))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert repr(ours) == repr(theirs)


def _graph_names(grad_fn):
    """The grad_fn graph below `grad_fn`, depth first: (depth, node class name)."""
    names, stack = [], [(grad_fn, 0)]
    while stack:
        node, depth = stack.pop()
        if node is None:
            continue
        names.append((depth, type(node).__name__))
        stack.extend((child, depth + 1) for child, _ in reversed(node.next_functions))
    return names


def _same_graph_values_and_grad(oracle, data, loss_of, **tolerance):
    """loss_of(lib, x) on x = `data` requiring grad: torch's and torchlike's have the same
    grad_fn graph, values and gradient of x."""
    results = []
    for lib in (oracle, torchlike):
        x = lib.tensor(data, requires_grad=True)
        loss = loss_of(lib, x)
        graph = _graph_names(loss.grad_fn)
        loss.sum().backward()
        results.append((graph, loss.detach().numpy(), x.grad.numpy()))
    (graph, value, grad), (our_graph, our_value, our_grad) = results
    assert our_graph == graph
    np.testing.assert_allclose(our_value, value, **tolerance)
    np.testing.assert_allclose(our_grad, grad, **tolerance)


# cross_entropy variants: (logits shape, target kind, keyword arguments)
CE_VARIANTS = {
    "mean": ((4, 5), "classes", {}),
    "sum": ((4, 5), "classes", {"reduction": "sum"}),
    "none": ((4, 5), "classes", {"reduction": "none"}),
    "weight": ((4, 5), "classes", {"weight": True}),
    "ignore_index": ((4, 5), "classes", {"ignore_index": 2}),
    "unbatched": ((5,), "classes", {}),
    "spatial": ((2, 5, 3, 3), "classes", {}),
    "spatial-none": ((2, 5, 3), "classes", {"reduction": "none"}),
    "spatial-3d": ((2, 5, 3), "classes", {}),
    "smoothing": ((4, 5), "classes", {"label_smoothing": 0.2}),
    "smoothing-ignored": ((4, 5), "classes", {"label_smoothing": 0.2, "ignore_index": 1}),
    "smoothing-weight-spatial": ((2, 5, 3, 3), "classes", {"label_smoothing": 0.3, "weight": True}),
    "smoothing-sum": ((4, 5), "classes", {"label_smoothing": 0.1, "reduction": "sum"}),
    "smoothing-none-weight": ((4, 5), "classes", {"label_smoothing": 0.1, "reduction": "none",
                                                  "weight": True}),
    "probabilities": ((4, 5), "probabilities", {}),
    "probabilities-weight-smoothing": ((4, 5), "probabilities",
                                       {"weight": True, "label_smoothing": 0.1}),
    "probabilities-sum": ((4, 5), "probabilities", {"reduction": "sum"}),
    "probabilities-none": ((4, 5), "probabilities", {"reduction": "none"}),
    "probabilities-unbatched": ((5,), "probabilities", {}),
    "probabilities-empty": ((0, 5), "probabilities", {}),
    "classes-empty-smoothing": ((0, 5), "classes", {"label_smoothing": 0.1}),
}


@pytest.mark.parametrize("variant", list(CE_VARIANTS))
def test_cross_entropy_graph_is_pytorchs_composite(oracle, variant):
    """cross_entropy records PyTorch's composite node by node (NllLossBackward0 over
    LogSoftmaxBackward0; label smoothing's sums and masked fill; the probability target's
    product and sums): the same graph, values and input gradient as torch."""
    shape, kind, kwargs = CE_VARIANTS[variant]
    data = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    classes = shape[0] if len(shape) == 1 else shape[1]
    if kind == "classes":
        batch = () if len(shape) == 1 else (shape[0],) + shape[2:]
        target = np.random.default_rng(4).integers(0, classes, batch)
    else:
        target = np.random.default_rng(4).dirichlet(np.ones(classes), int(np.prod(shape)) // classes)
        target = np.moveaxis(target.reshape((-1,) + shape[2:] + (classes,)), -1, 1 if len(shape) > 1 else 0)
        target = target.reshape(shape).astype(np.float32)

    def loss_of(lib, x):
        args = dict(kwargs)
        if args.pop("weight", False):
            args["weight"] = lib.tensor(np.linspace(0.5, 1.5, classes).astype(np.float32))
        return lib.nn.functional.cross_entropy(x, lib.tensor(target), **args)
    # assert_same's default tolerances (helpers.py): pointwise chains with a few libm
    # functions (log_softmax's exp and log) and reductions far under ~80 terms (5 classes,
    # at most 18 samples); positive terms, and gradients of magnitude at most 1
    _same_graph_values_and_grad(oracle, data, loss_of, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(5,), (2, 5), (2, 5, 3), (2, 5, 3, 2), (2, 5, 3, 2, 2)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_graph_is_pytorchs(oracle, shape, reduction):
    """nll_loss of a 3-dim or over-4-dim input goes through nll_loss2d on the input viewed
    as (N, C, 1, -1), as in PyTorch (ViewBackward0 around NllLoss2DBackward0)."""
    data = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    target = np.random.default_rng(6).integers(0, 5, shape[:1] + shape[2:] if len(shape) > 1 else ())
    # each value is a picked input (exact) or a sum of `count` of them, divided by count
    # for the mean: count + 1 roundings, with terms of both signs up to max|x| cancelling
    count = max(1, target.size)
    _same_graph_values_and_grad(
        oracle, data,
        lambda lib, x: lib.nn.functional.nll_loss(x, lib.tensor(target), reduction=reduction),
        **float_tol("float32", count + 1, count * float(np.abs(data).max())))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_a_broadcast_target_warns_at_the_callers_line(oracle, name):
    # PyTorch's warning names the line that called the loss (as warnings' stacklevel
    # is meant to), not a line inside the library
    for lib in (oracle, torchlike):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            getattr(lib.nn.functional, name)(lib.ones(2, 3), lib.ones(3))
        (w,) = caught
        assert w.category is UserWarning and "different to the input size" in str(w.message)
        assert w.filename == __file__
