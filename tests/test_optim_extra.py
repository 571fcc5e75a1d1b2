"""Adadelta, Rprop, ASGD, LBFGS (plain and strong-Wolfe) and SparseAdam against real
torch, step by step, on a small least-squares-plus-quartic problem."""
import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, normwise_tol

R = np.random.default_rng(0)
A = R.standard_normal((6, 4)).astype(np.float32)
B = R.standard_normal(6).astype(np.float32)
W0 = R.standard_normal(4).astype(np.float32)


def _trajectory(L, make, steps, closure):
    w = L.nn.Parameter(L.tensor(W0))
    opt = make(L, [w])
    a, b = L.tensor(A), L.tensor(B)
    points = []

    def loss_and_grad():
        opt.zero_grad()
        loss = ((a @ w - b) ** 2).sum() + 0.1 * (w ** 4).sum()
        loss.backward()
        return loss
    for _ in range(steps):
        if closure:
            opt.step(loss_and_grad)
        else:
            loss_and_grad()
            opt.step()
        points.append(w.detach().clone())
    return points, opt, w


# (constructor, steps, closure, rounding steps per optimizer step for the tolerance)
CASES = {
    "Adadelta": (lambda L, p: L.optim.Adadelta(p, lr=0.5, weight_decay=0.1), 6, False, 12),
    "Adadelta-maximize": (lambda L, p: L.optim.Adadelta(p, rho=0.5, maximize=True), 4, False,
                          12),
    "Rprop": (lambda L, p: L.optim.Rprop(p, lr=0.05, etas=(0.3, 1.5)), 8, False, 4),
    "ASGD": (lambda L, p: L.optim.ASGD(p, lr=0.05, t0=3, weight_decay=0.01), 6, False, 8),
    "LBFGS": (lambda L, p: L.optim.LBFGS(p, lr=0.5, max_iter=4), 2, True, 400),
    "LBFGS-strong_wolfe": (lambda L, p: L.optim.LBFGS(p, history_size=3, max_iter=3,
                                                      line_search_fn="strong_wolfe"), 2, True,
                           400),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_step_by_step(oracle, name):
    make, steps, closure, roundings = CASES[name]
    theirs, opt_t, _ = _trajectory(oracle, make, steps, closure)
    ours, opt_o, _ = _trajectory(torchlike, make, steps, closure)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(np.asarray(a), b.numpy(),
                                   **normwise_tol("float32", roundings * (i + 1), b.numpy()),
                                   err_msg=f"step {i + 1}")
    (p_o, state_o), = opt_o.state.items()
    (p_t, state_t), = opt_t.state.items()
    assert sorted(state_o) == sorted(state_t)
    for key, value in state_t.items():
        if isinstance(value, oracle.Tensor) and value.dim() == 0:
            assert float(state_o[key]) == pytest.approx(float(value), rel=1e-5), key
        elif isinstance(value, int):
            assert state_o[key] == value, key
        elif isinstance(value, float):     # a loss: sums round differently in the two
            assert state_o[key] == pytest.approx(value, rel=1e-5), key


def test_lbfgs_converges_like_torch_on_rosenbrock(oracle):
    def run(L):
        xy = L.nn.Parameter(L.tensor([0.3, 0.5]))      # near enough for a quick test
        opt = L.optim.LBFGS([xy], max_iter=100, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2
            loss.backward()
            return loss
        opt.step(closure)
        return xy.detach(), opt.state[xy]["n_iter"], opt.state[xy]["func_evals"]
    ours, theirs = run(torchlike), run(oracle)
    np.testing.assert_allclose(np.asarray(ours[0]), [1.0, 1.0], atol=1e-4)
    np.testing.assert_allclose(np.asarray(ours[0]), theirs[0].numpy(), atol=1e-4)
    # the iteration counts may differ by a step or two where rounding moves a branch
    assert abs(ours[1] - theirs[1]) <= 3 and abs(ours[2] - theirs[2]) <= 6


ERRORS = {
    "Adadelta-lr": lambda L: L.optim.Adadelta([L.nn.Parameter(L.ones(1))], lr=-1),
    "Adadelta-rho": lambda L: L.optim.Adadelta([L.nn.Parameter(L.ones(1))], rho=1.5),
    "Adadelta-eps": lambda L: L.optim.Adadelta([L.nn.Parameter(L.ones(1))], eps=-1),
    "Adadelta-weight_decay": lambda L: L.optim.Adadelta([L.nn.Parameter(L.ones(1))],
                                                        weight_decay=-1),
    "Rprop-etas": lambda L: L.optim.Rprop([L.nn.Parameter(L.ones(1))], etas=(1.2, 0.5)),
    "ASGD-lr": lambda L: L.optim.ASGD([L.nn.Parameter(L.ones(1))], lr=-0.1),
    "LBFGS-groups": lambda L: L.optim.LBFGS([{"params": [L.nn.Parameter(L.ones(1))]},
                                             {"params": [L.nn.Parameter(L.ones(1))]}]),
    "LBFGS-line-search": lambda L: _lbfgs_step(L, line_search_fn="backtracking"),
    "SparseAdam-beta": lambda L: L.optim.SparseAdam([L.nn.Parameter(L.ones(1))],
                                                    betas=(1.0, 0.9)),
}


def _lbfgs_step(L, **kw):
    w = L.nn.Parameter(L.ones(2))
    opt = L.optim.LBFGS([w], **kw)

    def closure():
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss
    opt.step(closure)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(oracle, name):
    assert_raises_same(ERRORS[name])


def test_sparse_adam_step_says_what_to_use():
    w = torchlike.nn.Parameter(torchlike.ones(2))
    opt = torchlike.optim.SparseAdam([w])
    w.grad = torchlike.ones(2)
    with pytest.raises(NotImplementedError, match="torchlike.optim.Adam"):
        opt.step()


def test_repr_like_torch(oracle):
    for name in ("Adadelta", "Rprop", "ASGD", "LBFGS", "SparseAdam"):
        ours = getattr(torchlike.optim, name)([torchlike.nn.Parameter(torchlike.ones(1))])
        theirs = getattr(oracle.optim, name)([oracle.nn.Parameter(oracle.ones(1))])
        assert repr(ours) == repr(theirs)


# -- swa_utils ----------------------------------------------------------------------------
def _swa_run(L, kw):
    L.manual_seed(0)
    model = L.nn.Sequential(L.nn.Linear(3, 4), L.nn.BatchNorm1d(4), L.nn.Linear(4, 1))
    with L.no_grad():
        for p, value in zip(model.parameters(), SWA_INIT):
            p.copy_(L.tensor(value))
    swa = L.optim.swa_utils.AveragedModel(model, **(kw(L) if callable(kw) else kw))
    opt = L.optim.SGD(model.parameters(), lr=0.1)
    sched = L.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=2)
    lrs = []
    for step in range(4):
        opt.zero_grad()
        model(L.tensor(SWA_X)).square().mean().backward()
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
        swa.update_parameters(model)
    L.optim.swa_utils.update_bn([L.tensor(SWA_X)], swa)
    return swa, lrs


SWA_X = R.standard_normal((8, 3)).astype(np.float32)
SWA_INIT = [R.standard_normal(s).astype(np.float32) * 0.5 for s in [(4, 3), (4,), (4,), (4,),
                                                                      (1, 4), (1,)]]


@pytest.mark.parametrize("kind", ["swa", "ema", "ema-buffers"])
def test_averaged_model_and_swalr(oracle, kind):
    kw = {"swa": {}, "ema": lambda L: {"multi_avg_fn":
                                       L.optim.swa_utils.get_ema_multi_avg_fn(0.9)},
          "ema-buffers": lambda L: {"avg_fn": L.optim.swa_utils.get_ema_avg_fn(0.8),
                                    "use_buffers": True}}[kind]
    (ours, lrs_o), (theirs, lrs_t) = _swa_run(torchlike, kw=kw), _swa_run(oracle, kw=kw)
    assert lrs_o == pytest.approx(lrs_t, rel=1e-12)
    assert int(ours.n_averaged) == int(theirs.n_averaged)
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=name)


def test_swalr_errors(oracle):
    opt = lambda L: L.optim.SGD([L.nn.Parameter(L.ones(1))], lr=0.1)  # noqa: E731
    assert_raises_same(lambda L: L.optim.swa_utils.SWALR(opt(L), 0.1, anneal_strategy="exp"))
    assert_raises_same(lambda L: L.optim.swa_utils.SWALR(opt(L), 0.1, anneal_epochs=-1))
