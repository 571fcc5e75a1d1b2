"""torchlike.compile of a training step: which Python objects a step keeps or replaces
(`.grad`, optimizer state), against torch (issue 10).

Identity is compared with eager torch: torch.compile keeps eager's object semantics (a
`.grad` set to None comes back as a new tensor, one zeroed in place stays the same
object), and its inductor backend needs a C++ toolchain.
"""
import numpy as np
import pytest

import torchlike
from helpers import float_tol

torch = pytest.importorskip("torch")


def _identities(lib, compiled, set_to_none, steps=4):
    """Losses of `steps` SGD-momentum steps, and for each step after the first whether
    the weight's `.grad` and momentum buffer are the objects the step before left."""
    lib.manual_seed(0)
    model = lib.nn.Linear(3, 2)
    with lib.no_grad():          # the same start in both libraries
        model.weight.copy_(lib.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)))
        model.bias.copy_(lib.tensor([0.5, -0.5]))
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = lib.tensor(np.linspace(-2, 2, 12, dtype=np.float32).reshape(4, 3))

    def step():
        opt.zero_grad(set_to_none=set_to_none)
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    f = lib.compile(step) if compiled else step
    losses, grads, buffers = [], [], []
    for _ in range(steps):
        losses.append(f().item())
        grads.append(model.weight.grad)
        buffers.append(opt.state[model.weight]["momentum_buffer"])
    same = [(a is b, c is d) for a, b, c, d in zip(grads, grads[1:], buffers, buffers[1:])]
    return losses, same, f


@pytest.mark.parametrize("set_to_none", [True, False])
def test_grad_and_state_identity_across_compiled_steps_matches_torch(set_to_none):
    expected_losses, expected_same, _ = _identities(torch, False, set_to_none)
    losses, same, f = _identities(torchlike, True, set_to_none)
    assert same == expected_same
    # losses after up to 4 steps: each step's forward (3-term dot products, a mean of 8
    # squares), backward and update put about 16 roundings on a value's path
    np.testing.assert_allclose(losses, expected_losses, **float_tol("float32", steps=64))
    # the program is passed only what it reads (each argument costs dispatch time):
    # weight, bias, their momentum buffers and x; not the previous `.grad`s, which
    # zero_grad drops or overwrites with zeros, nor the unused generator counter
    assert len(f._plan.entry.pick(range(100))) == 5
