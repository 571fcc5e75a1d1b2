"""torchlike.optim.lr_scheduler against torch's: the same Python floats, step by step.

Compared bit for bit on purpose: both libraries evaluate the same Python float
expressions (math.cos, **) in the same process, so they round identically on any machine."""
import warnings

import pytest

import torchlike
import torchlike.optim


def _optim(lib):
    return torchlike.optim if lib is torchlike else lib.optim


def _optimizer(lib, name="SGD", groups=2):
    params = [lib.nn.Parameter(lib.zeros(2)) for _ in range(groups)]
    kw = {"momentum": 0.9} if name == "SGD" else {}
    return getattr(_optim(lib), name)(
        [{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)], **kw)


def _trace(lib, make, steps=40, name="SGD", metrics=None, epochs=None):
    """(last lrs, momentum or betas of each group) after every step."""
    opt = _optimizer(lib, name)
    sched = make(_optim(lib).lr_scheduler, opt)
    out = [sched.get_last_lr()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # the epoch= deprecation warning
        for i in range(steps):
            opt.step()
            if metrics is not None:
                sched.step(metrics[i % len(metrics)])
            elif epochs is not None:
                sched.step(epochs[i])
            else:
                sched.step()
            out.append((sched.get_last_lr(),
                         [g.get("momentum", g.get("betas")) for g in opt.param_groups]))
    return out


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, 7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, [3, 10, 10, 25], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, 0.93),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, 9, eta_min=0.001),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.2, total_iters=12),
    "LinearLR-down": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=30),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.4, total_iters=6),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=20, power=2.0),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=41),
    "OneCycleLR-3phase-linear": lambda m, o: m.OneCycleLR(
        o, max_lr=1.0, total_steps=41, three_phase=True, anneal_strategy="linear"),
    "OneCycleLR-epochs": lambda m, o: m.OneCycleLR(o, max_lr=0.5, epochs=5, steps_per_epoch=9,
                                                   pct_start=0.25, cycle_momentum=False),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=5,
                                                    mode="triangular2"),
    "CyclicLR-exp_range": lambda m, o: m.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=4,
                                                  step_size_down=7, mode="exp_range",
                                                  gamma=0.97),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=5, T_mult=2, eta_min=0.001),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.1, total_iters=5), m.CosineAnnealingLR(o, 20),
            m.ExponentialLR(o, 0.9)], milestones=[5, 25]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler([m.StepLR(o, 4, 0.5),
                                                         m.ExponentialLR(o, 0.97)]),
}


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_lr_sequence_matches_torch(oracle, name, optimizer):
    make = SCHEDULES[name]
    steps = 44 if "epochs" in name else 40
    assert _trace(torchlike, make, steps, optimizer) == _trace(oracle, make, steps, optimizer)


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                                  "LinearLR", "ConstantLR", "PolynomialLR",
                                  "CosineAnnealingWarmRestarts"])
def test_explicit_epochs_use_closed_form_like_torch(oracle, name):
    epochs = [0, 1, 2, 5, 3, 9, 10, 10, 17, 30, 4, 26]
    if name == "CosineAnnealingWarmRestarts":
        epochs = [0.5, 1, 2.25, 7, 3, 12.5, 30, 4]
    make = SCHEDULES[name]
    ours = _trace(torchlike, make, len(epochs), epochs=epochs)
    assert ours == _trace(oracle, make, len(epochs), epochs=epochs)


@pytest.mark.parametrize("kw", [dict(patience=2, cooldown=1, factor=0.5),
                                dict(mode="max", threshold_mode="abs", threshold=0.05,
                                     patience=1, min_lr=[0.02, 0.05]),
                                dict(threshold_mode="abs", patience=0, eps=0.05)])
def test_reduce_lr_on_plateau_matches_torch(oracle, kw):
    metrics = [5, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2.9999, 2.9, 2.9, 2.9, 3.5]
    make = lambda m, o: m.ReduceLROnPlateau(o, **kw)  # noqa: E731
    assert _trace(torchlike, make, 60, metrics=metrics) == _trace(oracle, make, 60,
                                                                  metrics=metrics)


@pytest.mark.parametrize("name", ["StepLR", "CosineAnnealingLR", "OneCycleLR", "SequentialLR",
                                  "LambdaLR", "CyclicLR-exp_range"])
def test_state_dict_resumes_the_same_sequence(oracle, name):
    """Save after 13 steps, build a fresh scheduler, load, continue: torch's floats."""
    make = SCHEDULES[name]

    def run(lib):
        opt = _optimizer(lib)
        sched = make(_optim(lib).lr_scheduler, opt)
        for _ in range(13):
            opt.step()
            sched.step()
        state, opt_state = sched.state_dict(), opt.state_dict()
        assert "optimizer" not in state
        opt2 = _optimizer(lib)
        sched2 = make(_optim(lib).lr_scheduler, opt2)
        opt2.load_state_dict(opt_state)
        sched2.load_state_dict(state)
        lrs = []
        for _ in range(20):
            opt2.step()
            sched2.step()
            lrs.append(sched2.get_last_lr())
        return lrs, sorted(k for k in state if k != "_schedulers")
    assert run(torchlike) == run(oracle)


def test_warns_when_scheduler_steps_before_optimizer():
    opt = _optimizer(torchlike)
    sched = torchlike.optim.lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt2 = _optimizer(torchlike)
    sched2 = torchlike.optim.lr_scheduler.StepLR(opt2, 2)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


def test_initial_lr_and_base_lrs(oracle):
    for lib in (torchlike, oracle):
        opt = _optimizer(lib)
        sched = _optim(lib).lr_scheduler.ExponentialLR(opt, 0.5)
        assert sched.base_lrs == [0.1, 0.2] and sched.last_epoch == 0
        assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.2]


def test_errors_match_torch(oracle):
    from helpers import assert_raises_same
    checks = [
        lambda lib: _optim(lib).lr_scheduler.StepLR(object(), 3),
        lambda lib: _optim(lib).lr_scheduler.StepLR(_optimizer(lib), 3, last_epoch=4),
        lambda lib: _optim(lib).lr_scheduler.LinearLR(_optimizer(lib), start_factor=0),
        lambda lib: _optim(lib).lr_scheduler.LambdaLR(_optimizer(lib), [lambda e: 1.0]),
        lambda lib: _optim(lib).lr_scheduler.ReduceLROnPlateau(_optimizer(lib), factor=1.0),
        lambda lib: _optim(lib).lr_scheduler.ReduceLROnPlateau(_optimizer(lib), mode="avg"),
        lambda lib: _optim(lib).lr_scheduler.OneCycleLR(_optimizer(lib), 1.0),
        lambda lib: _optim(lib).lr_scheduler.OneCycleLR(_optimizer(lib), 1.0, total_steps=10,
                                                        pct_start=1),
        lambda lib: _optim(lib).lr_scheduler.CosineAnnealingWarmRestarts(_optimizer(lib), 0),
        lambda lib: _optim(lib).lr_scheduler.SequentialLR(
            _optimizer(lib), [_optim(lib).lr_scheduler.StepLR(_optimizer(lib), 2)], [3]),
    ]
    for check in checks:
        assert_raises_same(check)


def test_one_cycle_raises_after_total_steps(oracle):
    from helpers import assert_raises_same

    def run(lib):
        opt = _optimizer(lib)
        sched = _optim(lib).lr_scheduler.OneCycleLR(opt, 1.0, total_steps=3)
        for _ in range(4):
            opt.step()
            sched.step()
    assert_raises_same(run)
