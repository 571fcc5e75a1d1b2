"""torchlike.compile's guard plan (torchlike/_compile/plan.py): a steady-state call skips
the walk over the state and the full guard, yet every change that alters the guard (or
the tensors the program reads) between calls still gives eager torch's numbers.

Each case trains a tiny model compiled in torchlike and eagerly in real torch, side by
side; after the plan is in use (third call), the same change is made to both, and the
next calls must agree with torch.
"""
import numpy as np
import pytest

import torchlike
from helpers import float_tol, normwise_tol, to_numpy
from torchlike._compile import compiled as compiled_module

torch = pytest.importorskip("torch")

W = np.linspace(-0.5, 0.5, 6, dtype=np.float32).reshape(2, 3)
B = np.array([0.1, -0.2], dtype=np.float32)
X = np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)
# a few steps of a 3-term dot product, a square and a mean of 10, and the same backward
STEP_TOL = float_tol("float32", steps=32 * 5)


def _net(lib):
    class Net(lib.nn.Module):
        """A linear layer scaled by a buffer, plus any parameter added later as `extra`
        (the new-parameter case)."""

        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(3, 2)
            # a buffer whose metadata the metadata cases change in place
            self.register_buffer("gain", lib.tensor([1.5, -2.0]))

        def forward(self, x):
            out = self.lin(x) * self.gain
            extra = self._parameters.get("extra")
            return out if extra is None else out + extra

    net = Net()
    with lib.no_grad():
        net.lin.weight.copy_(lib.tensor(W))
        net.lin.bias.copy_(lib.tensor(B))
    return net


def _trainer(lib):
    net = _net(lib)
    opt = lib.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

    def step(x, scale=1.0):
        opt.zero_grad()
        loss = (net(x) * scale).square().mean()
        loss.backward()
        opt.step()
        return loss
    return net, opt, step


# each change takes (lib, net, opt, call) and returns the call's new arguments
def _new_parameter(lib, net, opt, call):
    net.extra = lib.nn.Parameter(lib.ones(2))
    opt.add_param_group({"params": [net.extra]})
    return call


def _argument_shape(lib, net, opt, call):
    return (lib.tensor(X[:4]),) + call[1:]


def _python_argument(lib, net, opt, call):
    return (call[0], 2.0)


def _learning_rate(lib, net, opt, call):
    opt.param_groups[0]["lr"] = 0.05
    return call


def _state_tensor_new_values(lib, net, opt, call):
    # same shape and dtype (the full guard is unchanged): the program must read the new
    # tensor's storage, not the old one (made without touching the old tensor, whose
    # metadata then stays as the plan saw it)
    opt.state[net.lin.weight]["momentum_buffer"] = lib.ones(2, 3)
    return call


def _state_tensor_new_dtype(lib, net, opt, call):
    buf = opt.state[net.lin.bias]["momentum_buffer"]
    opt.state[net.lin.bias]["momentum_buffer"] = buf.double()
    return call


def _parameter_data_replaced(lib, net, opt, call):
    net.lin.weight.data = lib.tensor(W[::-1].copy())     # a new storage, same guard
    return call


def _requires_grad_off(lib, net, opt, call):
    net.lin.bias.requires_grad_(False)
    return call


# metadata changed in place on a tensor the plan keeps (each setter the guard reads:
# what a change counter standing in for the plan's metadata reads would have to count)
def _buffer_strides_in_place(lib, net, opt, call):
    net.gain.as_strided_((2,), (0,))    # an in-place view op: now [1.5, 1.5], one storage
    return call


def _buffer_resized(lib, net, opt, call):
    net.gain.resize_(1, 2)      # (broadcast as before: the same numbers, a new shape)
    return call


def _requires_grad_attribute_off(lib, net, opt, call):
    net.lin.weight.requires_grad = False
    return call


def _parameter_detached_in_place(lib, net, opt, call):
    net.lin.bias.detach_()
    return call


def _grads_emptied(lib, net, opt, call):
    opt.zero_grad()         # (`.grad` slots now hold None: a different guard)
    return call


# (change, whether a new program is traced)
CHANGES = [(_new_parameter, True), (_argument_shape, True), (_python_argument, True),
           (_learning_rate, True), (_state_tensor_new_values, False),
           (_state_tensor_new_dtype, True), (_parameter_data_replaced, False),
           (_requires_grad_off, True), (_buffer_strides_in_place, True),
           (_buffer_resized, True), (_requires_grad_attribute_off, True),
           (_parameter_detached_in_place, True),
           # (a new guard, but the call fills placeholder `.grad`s and finds the program
           # of the steady calls, which does not read them: first_grads.py)
           (_grads_emptied, False)]


@pytest.mark.parametrize("change,retraces", CHANGES, ids=[c.__name__[1:] for c, _ in CHANGES])
def test_a_change_between_steady_calls_gives_torchs_numbers(change, retraces):
    net, opt, step = _trainer(torchlike)
    tnet, topt, tstep = _trainer(torch)
    f = torchlike.compile(step)
    call, tcall = (torchlike.tensor(X),), (torch.tensor(X),)
    for _ in range(3):      # trace (first SGD step), trace (later steps), plan in use
        np.testing.assert_allclose(f(*call).item(), tstep(*tcall).item(), **STEP_TOL)
    assert f._plan is not None
    programs = len(f.entries)
    call, tcall = change(torchlike, net, opt, call), change(torch, tnet, topt, tcall)
    for _ in range(2):
        np.testing.assert_allclose(f(*call).item(), tstep(*tcall).item(), **STEP_TOL)
        for (name, p), q in zip(net.named_parameters(), tnet.parameters()):
            want = q.detach().numpy()
            np.testing.assert_allclose(to_numpy(p), want, err_msg=name,
                                       **normwise_tol("float32", 32 * 5, want))
    assert (len(f.entries) > programs) == retraces


def test_grad_mode_is_checked_by_the_plan():
    net, tnet = _net(torchlike), _net(torch)
    f = torchlike.compile(lambda x: net(x).sum())
    x, tx = torchlike.tensor(X), torch.tensor(X)
    for _ in range(2):
        got = f(x)
    assert f._plan is not None and got.requires_grad
    with torchlike.no_grad():
        got = f(x)
    with torch.no_grad():
        want = tnet(tx).sum()
    assert got.requires_grad == want.requires_grad == False      # noqa: E712
    np.testing.assert_allclose(got.item(), want.item(), **STEP_TOL)


def test_a_steady_call_neither_walks_nor_collects_the_state(monkeypatch):
    calls = {"discover": 0, "collect": 0}

    def counting(name, fn):
        def counted(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return counted
    for name in calls:
        monkeypatch.setattr(compiled_module, name, counting(name, getattr(compiled_module, name)))
    net, opt, step = _trainer(torchlike)
    tnet, topt, tstep = _trainer(torch)
    f = torchlike.compile(step)
    for _ in range(3):
        f(torchlike.tensor(X), 0.5), tstep(torch.tensor(X), 0.5)
    before = dict(calls)
    assert before["collect"] > 0        # (the counters see the full path)
    for _ in range(3):      # a fresh argument tensor each call, as a data loader gives,
        # and a float object made anew each call (same value: same guard)
        np.testing.assert_allclose(f(torchlike.tensor(X), float("0.5")).item(),
                                   tstep(torch.tensor(X), 0.5).item(), **STEP_TOL)
    assert calls == before
