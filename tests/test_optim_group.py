"""The group update program (optim/_elementwise.py): parameters with equal scalar rows
share one row, lerp's formula is chosen on the host, and neither changes a bit of what
torch computes."""
import numpy as np
import pytest

import torchlike
from torchlike.optim import _elementwise

# Element counts are multiples of 256 (see test_optim_half.py: PyTorch's CPU kernels
# compute a vector loop's tail elements in Half arithmetic).
SHAPES_AND_DTYPES = [((256,), "float16"), ((2, 256), "bfloat16"), ((512,), "float16")]

# lerp's weight 1 - beta1 (or RMSprop's 1 - alpha) is 0.1 and 0.7: one case per formula.
CONFIGS = [
    ("Adam", dict(lr=1e-2, weight_decay=0.1)),
    ("AdamW", dict(lr=1e-2, betas=(0.3, 0.9), eps=1e-3)),
    ("RMSprop", dict(lr=1e-2, centered=True, eps=1e-3)),
]


def _run(lib, name, kwargs, steps=3):
    """A group of mixed-dtype parameters; the second has no gradient on the first step,
    so its step count lags (its scalar row differs from the others')."""
    rng = np.random.default_rng(0)
    params = [lib.nn.Parameter(lib.tensor(rng.standard_normal(shape).astype(np.float32))
                               .to(getattr(lib, dtype)))
              for shape, dtype in SHAPES_AND_DTYPES]
    opt = getattr(lib.optim, name)(params, **kwargs)
    for step in range(steps):
        for i, p in enumerate(params):
            grad = lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32))
            p.grad = None if step == 0 and i == 1 else grad.to(p.dtype)
        opt.step()
    values = [p.detach().float().numpy() for p in params]
    steps_done = [float(opt.state[p]["step"]) for p in params]
    return values, steps_done


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_mixed_group_with_lagging_step_equals_torch_bit_for_bit(oracle, name, kwargs):
    ours, our_steps = _run(torchlike, name, kwargs)
    theirs, their_steps = _run(oracle, name, kwargs)
    assert our_steps == their_steps
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_array_equal(a, b, err_msg=f"parameter {i}")


def test_equal_rows_are_shared_and_step_tensors_stay_separate(monkeypatch):
    # Why it matters: each distinct row adds its own scalar conversions and outputs to the
    # compiled program, whose compile time dominates a first step.
    tables = []
    run_group = _elementwise._run_group

    def spy(*args, **kwargs):
        tables.append(np.asarray(args[3]))
        return run_group(*args, **kwargs)
    monkeypatch.setattr(_elementwise, "_run_group", spy)
    params = [torchlike.nn.Parameter(torchlike.ones(n)) for n in (3, 4, 5)]
    opt = torchlike.optim.Adam(params, lr=0.1)
    for p in params[:2]:
        p.grad = torchlike.ones_like(p)
    opt.step()                         # the third parameter has no gradient yet
    for p in params:
        p.grad = torchlike.ones_like(p)
    opt.step()                         # steps 2, 2, 1: two distinct rows
    opt.step()
    assert [t.shape[0] for t in tables] == [1, 2, 2]
    # the step tensors of parameters with a shared row are still separate tensors
    opt.state[params[0]]["step"].fill_(7.0)
    assert [float(opt.state[p]["step"]) for p in params] == [7.0, 3.0, 2.0]


def test_lerp_formula_is_decided_in_the_compute_dtype():
    # PyTorch compares |weight| < 0.5 after converting the weight to the kernel's compute
    # type: 0.49999999 is below 0.5 as a double but rounds to 0.5 as a float.
    assert _elementwise.lerp_formula(0.49999999, np.float64) is True
    assert _elementwise.lerp_formula(0.49999999, np.float32) is False
    assert _elementwise.lerp_formula(-0.7, np.float32) is False


@pytest.mark.parametrize("dampening,nesterov", [(0.0, False), (0.3, False), (0.0, True)])
def test_sgd_momentum_first_and_later_steps_share_one_program(dampening, nesterov):
    """The first SGD momentum step copies the gradient into the buffer; later steps
    update it. The choice is a traced flag, so both steps run one compiled program, and
    every step's parameter and buffer equal torch's bit for bit (a -0.0 gradient
    included: the copy keeps its sign, which 0 * momentum + g would lose)."""
    torch = pytest.importorskip("torch", reason="torch is the oracle")
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal((5, 7)).astype(np.float32) for _ in range(3)]
    grads[0][0, 0] = -0.0
    results = []
    for lib in (torch, torchlike):
        w = lib.tensor(np.linspace(-1, 1, 35, dtype=np.float32).reshape(5, 7), requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1, momentum=0.9, dampening=dampening,
                            nesterov=nesterov, weight_decay=0.01)
        if lib is torchlike:
            compiled = _elementwise._run_group._cache_size()
        steps = []
        for g in grads:
            w.grad = lib.tensor(g)
            opt.step()
            steps.append((np.asarray(w.detach()).copy(),
                          np.asarray(opt.state[w]["momentum_buffer"]).copy()))
        results.append(steps)
    assert _elementwise._run_group._cache_size() - compiled <= 1
    for ours, theirs in zip(results[1], results[0]):
        for a, b in zip(ours, theirs):
            assert a.tobytes() == b.tobytes()
