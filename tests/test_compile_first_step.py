"""A compiled training step compiles once before its steady state, although its first
optimizer step creates the optimizer's state (issue 10; torchlike/_compile/first_step.py).

Values and the optimizer's state (which parameters have state, under which keys) are
compared with eager torch after each call: torch.compile keeps eager's results and
state, and its inductor backend needs a C++ toolchain. Compiles are counted with
torchlike's count of JAX's backend-compile events.
"""
import numpy as np
import pytest

import torchlike
from helpers import float_tol, to_numpy

torch = pytest.importorskip("torch")

# up to three steps of a 3-4-2 tanh network on 5 rows: dot products of 3 and 4 terms, a
# mean of 10 squares, the same backward and an update with a square root per step
TOL = float_tol("float32", steps=3 * 64)
X = np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)
W1 = np.linspace(-0.5, 0.5, 12, dtype=np.float32).reshape(4, 3)
W2 = np.linspace(0.3, -0.4, 8, dtype=np.float32).reshape(2, 4)

OPTIMIZERS = {
    "adam": lambda lib, params: lib.optim.Adam(params, lr=0.01),
    "adamw_amsgrad": lambda lib, params: lib.optim.AdamW(params, lr=0.01, amsgrad=True),
    "sgd_nesterov": lambda lib, params: lib.optim.SGD(params, lr=0.1, momentum=0.9,
                                                      nesterov=True, weight_decay=0.01),
    # dampening: the first step's buffer is not an update from any fixed buffer, so the
    # first call traces the step that makes it (a second compile, results the same)
    "sgd_dampening": lambda lib, params: lib.optim.SGD(params, lr=0.1, momentum=0.9,
                                                       dampening=0.5),
}


def _net(lib, unused_layer=False):
    nn = lib.nn
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    with lib.no_grad():
        net[0].weight.copy_(lib.tensor(W1))
        net[0].bias.fill_(0.1)
        net[2].weight.copy_(lib.tensor(W2))
        net[2].bias.fill_(-0.2)
    unused = nn.Linear(2, 2) if unused_layer else None      # given to the optimizer only
    if unused is not None:
        with lib.no_grad():
            unused.weight.fill_(0.3)
            unused.bias.fill_(0.2)
    return net, unused


def _copy(t):
    # (torch's .numpy() shares the tensor's memory, which later steps update in place)
    return np.array(to_numpy(t))


def _state_of(opt, params):
    """Per parameter: its state's keys and values (None: no state), and len(opt.state)."""
    keys = [sorted(opt.state[p]) if p in opt.state else None for p in params]
    values = [{k: _copy(v) for k, v in opt.state[p].items()} if p in opt.state else None
              for p in params]
    return len(opt.state), keys, values


def _run(lib, opt_name, compiled, unused_layer=False, calls=3):
    """Per call: the loss, the parameters, the optimizer's state, and (compiled) how many
    backend compiles the call made."""
    net, unused = _net(lib, unused_layer)
    params = list(net.parameters()) + (list(unused.parameters()) if unused else [])
    opt = OPTIMIZERS[opt_name](lib, params)
    x = lib.tensor(X)

    def step():
        opt.zero_grad()
        loss = net(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    f = lib.compile(step) if compiled else step
    out = []
    for _ in range(calls):
        before = torchlike._caches.compiles.total
        loss = f()
        out.append((_copy(loss), [_copy(p) for p in params], _state_of(opt, params),
                    torchlike._caches.compiles.total - before))
    return out


def _compare(got, want):
    for (loss, params, (n, keys, values), _), (t_loss, t_params, (t_n, t_keys, t_values), _) \
            in zip(got, want):
        np.testing.assert_allclose(loss, t_loss, **TOL)
        for a, b in zip(params, t_params):
            np.testing.assert_allclose(a, b, **TOL)
        assert (n, keys) == (t_n, t_keys)
        for mine, theirs in zip(values, t_values):
            for k in mine or ():
                np.testing.assert_allclose(mine[k], theirs[k], **TOL)


@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
def test_first_calls_give_torchs_state_and_later_calls_compile_nothing(opt_name):
    compiled = _run(torchlike, opt_name, compiled=True)
    _compare(compiled, _run(torch, opt_name, compiled=False))
    compiles = [c[-1] for c in compiled]
    if opt_name != "sgd_dampening":
        # the first call compiles the pending parameters and the step; then nothing
        assert compiles[0] <= 2 and compiles[1:] == [0, 0], compiles
    else:
        assert compiles[2] == 0, compiles


def test_a_parameter_without_a_gradient_gets_no_state():
    """The unused layer's parameters get no `.grad`, so eager step() makes no state for
    them: the state made ahead for them is taken back, and the rest still compiles once."""
    compiled = _run(torchlike, "adam", compiled=True, unused_layer=True)
    reference = _run(torch, "adam", compiled=False, unused_layer=True)
    _compare(compiled, reference)
    assert compiled[0][2][0] == 4       # (len(opt.state): the net's 4 parameters)
    assert [c[-1] for c in compiled][1:] == [0, 0]


def test_a_function_that_does_not_step_leaves_no_state():
    """A compiled function reaching an optimizer without calling step(), and one whose
    trace breaks before step() with fullgraph=True, leave the state empty, as eager."""
    net, _ = _net(torchlike)
    opt = torchlike.optim.Adam(net.parameters(), lr=0.01)
    x = torchlike.tensor(X)

    @torchlike.compile
    def backward_only():
        opt.zero_grad()
        net(x).sum().backward()

    @torchlike.compile(fullgraph=True)
    def breaks_before_step():
        opt.zero_grad()
        loss = net(x).sum()
        loss.backward()
        if loss > 0:            # a value on the host: a graph break
            opt.step()

    for _ in range(2):
        backward_only()
    assert len(opt.state) == 0
    with pytest.raises(torchlike._dynamo.exc.Unsupported):
        breaks_before_step()
    assert len(opt.state) == 0


def test_a_step_the_grad_scaler_skips_leaves_no_state():
    """An inf in the loss: GradScaler skips optimizer.step(), so no state exists after
    the call, in torch and here (the scaler's calls are graph breaks)."""
    def run(lib, compiled):
        net, _ = _net(lib)
        opt = lib.optim.Adam(net.parameters(), lr=0.01)
        scaler = lib.amp.GradScaler("cpu")
        x = lib.tensor(np.where(X > 0.9, np.inf, X).astype(np.float32))

        def step():
            opt.zero_grad()
            scaler.scale(net(x).pow(2).mean()).backward()
            scaler.step(opt)
            scaler.update()
        (lib.compile(step) if compiled else step)()
        return len(opt.state), [to_numpy(p) for p in net.parameters()]

    (n, params), (t_n, t_params) = run(torchlike, True), run(torch, False)
    assert n == t_n == 0
    for a, b in zip(params, t_params):
        np.testing.assert_array_equal(a, b)


def test_first_momentum_buffer_keeps_a_negative_zero_gradient():
    """SGD's first step copies the gradient into the buffer; the compiled first call
    updates from a buffer of -0.0, which must give the same bits (-0.0 stays -0.0)."""
    def run(lib, compiled):
        w = lib.nn.Parameter(lib.tensor([1.0, 2.0, 3.0]))
        opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
        x = lib.tensor([1.0, -0.0, 0.5])

        def step():
            opt.zero_grad()
            (w * x).sum().backward()        # the gradient is x
            opt.step()
        (lib.compile(step) if compiled else step)()
        return to_numpy(opt.state[w]["momentum_buffer"]), to_numpy(w)

    (buf, w), (t_buf, t_w) = run(torchlike, True), run(torch, False)
    np.testing.assert_array_equal(buf, t_buf)
    assert np.signbit(buf).tolist() == np.signbit(t_buf).tolist() == [False, True, False]
    np.testing.assert_array_equal(w, t_w)


def test_a_learning_rate_set_inside_the_step_makes_the_first_state():
    """Rprop's first state holds the lr (`step_size`): a step that sets the lr before
    step() gets the state from that lr, as in eager torch."""
    def run(lib, compiled):
        net, _ = _net(lib)
        opt = lib.optim.Rprop(net.parameters(), lr=0.01)
        x = lib.tensor(X)

        def step():
            for group in opt.param_groups:
                group["lr"] = 0.05
            opt.zero_grad()
            net(x).pow(2).mean().backward()
            opt.step()
        f = lib.compile(step) if compiled else step
        f()
        f()
        return [_copy(opt.state[p]["step_size"]) for p in net.parameters()]

    for got, want in zip(run(torchlike, True), run(torch, False)):
        np.testing.assert_allclose(got, want, **TOL)
