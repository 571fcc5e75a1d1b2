"""Oracle helpers for the nn tests: build a module under torch and torchlike, give both
the same weights (through state_dict, so that path is exercised too), run the same
inputs and compare outputs, grad_fn names, input gradients and parameter gradients."""
import numpy as np

import torchlike
from helpers import assert_same, to_numpy

try:
    import torch
except ImportError:
    torch = None


def to_torchlike(value):
    """A torch tensor (or nested tuple of them) as the equal torchlike value."""
    if isinstance(value, (tuple, list)):
        return type(value)(to_torchlike(v) for v in value)
    if not isinstance(value, torch.Tensor):
        return value
    out = torchlike.tensor(value.detach().numpy())
    if value.requires_grad:
        out.requires_grad_(True)
    return out


def copy_weights(ours, theirs):
    """Load `theirs` (torch module) state into `ours`; the keys must agree exactly."""
    state = theirs.state_dict()
    assert list(ours.state_dict().keys()) == list(state.keys())
    result = ours.load_state_dict({k: to_torchlike(v) for k, v in state.items()})
    assert not result.missing_keys and not result.unexpected_keys


def make_inputs(spec, seed=0):
    """spec: shapes (float inputs needing grad) or arrays (used as given)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for s in spec:
        if isinstance(s, tuple):
            arrays.append(rng.standard_normal(s).astype(np.float32))
        else:
            arrays.append(np.asarray(s))
    return arrays


def as_inputs(lib, arrays, grad=True):
    out = []
    for a in arrays:
        t = lib.tensor(a)
        if grad and a.dtype.kind == "f":
            t.requires_grad_(True)
        out.append(t)
    return out


def _flat(value):
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _flat(v)]
    return [value]


# check_module's tolerances: one layer's forward and backward pass in float32. The
# longest rounding paths are reductions (a convolution's in_channels x kernel terms, a
# norm's statistics over batch x spatial positions, attention's softmax and two
# products, an LSTM's steps): up to ~100-800 roundings. rtol 1e-4 is 840 ulps; atol 1e-5
# is 84 ulps of a unit-scale term for results that cancel to near zero (normalization
# gradients sum to zero). Both hold for any summation order, FMA or not.
def check_module(make, spec, *, forward=None, train=True, atol=1e-5, rtol=1e-4,
                 check_grad_fn=True, grad=True, seed=0):
    """make(nn) builds the module; forward(module, *inputs) calls it (default: module(*inputs)).
    Returns (ours, theirs) modules for further checks."""
    theirs = make(torch.nn)
    ours = make(torchlike.nn)
    copy_weights(ours, theirs)
    ours.train(train)
    theirs.train(train)
    arrays = make_inputs(spec, seed)
    xs_t, xs_o = as_inputs(torch, arrays, grad), as_inputs(torchlike, arrays, grad)
    forward = forward or (lambda m, *xs: m(*xs))
    out_t, out_o = forward(theirs, *xs_t), forward(ours, *xs_o)
    assert_same(out_o, out_t, atol=atol, rtol=rtol, check_grad_fn=check_grad_fn)
    leaves_t = [o for o in _flat(out_t) if o is not None and o.requires_grad]
    leaves_o = [o for o in _flat(out_o) if o is not None and o.requires_grad]
    assert len(leaves_t) == len(leaves_o)
    if not leaves_t:
        return ours, theirs
    rng = np.random.default_rng(seed + 1)
    cots = [rng.standard_normal(tuple(o.shape)).astype(np.float32) for o in leaves_t]
    total_t = sum((o * torch.tensor(c)).sum() for o, c in zip(leaves_t, cots))
    total_o = sum((o * torchlike.tensor(c)).sum() for o, c in zip(leaves_o, cots))
    total_t.backward()
    total_o.backward()
    for a, b in zip(xs_o, xs_t):
        if b.grad is not None:
            np.testing.assert_allclose(to_numpy(a.grad), to_numpy(b.grad), atol=atol, rtol=rtol)
    grads_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        q = grads_t[name]
        if q.grad is None:
            assert p.grad is None, name
        else:
            assert p.grad is not None, name
            np.testing.assert_allclose(to_numpy(p.grad), to_numpy(q.grad), atol=atol,
                                       rtol=rtol, err_msg=name)
    return ours, theirs
