"""nn.utils added for issue 12 against real torch: parametrize, parametrizations
(orthogonal, weight_norm, spectral_norm), hook-based weight_norm / spectral_norm, prune,
fusion, skip_init."""
import warnings

import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, assert_same

R = np.random.default_rng(0)
W44 = R.standard_normal((4, 4)).astype(np.float32)
W35 = R.standard_normal((3, 5)).astype(np.float32)
X = R.standard_normal((2, 5)).astype(np.float32)


@pytest.fixture
def torch(oracle):
    import torch.nn.utils.parametrize  # noqa: F401  (submodules torch does not import)
    import torch.nn.utils.prune  # noqa: F401
    return oracle


def _linear(L, weight):
    m = L.nn.Linear(weight.shape[1], weight.shape[0])
    with L.no_grad():
        m.weight.copy_(L.tensor(weight))
        m.bias.zero_()
    return m


def _check_grads(ours, theirs, atol=1e-5):
    for (name, p), (name_t, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == name_t
        np.testing.assert_allclose(np.asarray(p.grad), q.grad.numpy(), atol=atol, rtol=1e-4)


# -- parametrize --------------------------------------------------------------------------
def _symmetric(L):
    class Symmetric(L.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).mT

        def right_inverse(self, a):
            return a.triu()
    return Symmetric()


def test_register_parametrization(torch):
    def run(L):
        m = _linear(L, W44)
        P = L.nn.utils.parametrize
        P.register_parametrization(m, "weight", _symmetric(L))
        out = m(L.tensor(W44)).sum()
        out.backward()
        return m, out
    (ours, o), (theirs, t) = run(torchlike), run(torch)
    assert repr(ours) == repr(theirs) and type(ours).__name__ == type(theirs).__name__
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_same(ours.weight, theirs.weight)
    assert_same(o, t)
    _check_grads(ours, theirs)
    for L, m in ((torchlike, ours), (torch, theirs)):
        P = L.nn.utils.parametrize
        assert P.is_parametrized(m) and P.is_parametrized(m, "weight")
        assert not P.is_parametrized(m, "bias")
        assert P.type_before_parametrizations(m) is L.nn.Linear
        with P.cached():
            assert m.weight is m.weight         # computed once inside cached()
        m.weight = L.tensor(W44)                # the setter runs right_inverse
    assert_same(ours.parametrizations.weight.original, theirs.parametrizations.weight.original)
    for leave in (True, False):
        results = []
        for L in (torchlike, torch):
            m = _linear(L, W44)
            L.nn.utils.parametrize.register_parametrization(m, "weight", _symmetric(L))
            original = m.parametrizations.weight.original
            L.nn.utils.parametrize.remove_parametrizations(m, "weight", leave_parametrized=leave)
            assert type(m) is L.nn.Linear and m.weight is original
            results.append(m.weight)
        assert_same(*results)


def test_parametrization_errors(torch):
    assert_raises_same(lambda L: L.nn.utils.parametrize.remove_parametrizations(
        _linear(L, W44), "weight"))
    assert_raises_same(lambda L: L.nn.utils.parametrize.register_parametrization(
        _linear(L, W44), "nothing", _symmetric(L)))


# -- parametrizations ---------------------------------------------------------------------
@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_square(torch, orthogonal_map):
    def run(L):
        m = _linear(L, W44)
        L.nn.utils.parametrizations.orthogonal(m, orthogonal_map=orthogonal_map)
        out = m(L.tensor(W44)).square().sum()
        out.backward()
        return m, out
    (ours, o), (theirs, t) = run(torchlike), run(torch)
    assert_same(ours.weight, theirs.weight)
    assert_same(o, t, rtol=1e-4)
    _check_grads(ours, theirs, atol=1e-4)


def test_orthogonal_tall_is_orthogonal():
    # the completion to a square matrix is random (not torch's generator): check the property
    m = torchlike.nn.utils.parametrizations.orthogonal(torchlike.nn.Linear(5, 3))
    gram = (m.weight @ m.weight.mT).detach()
    np.testing.assert_allclose(np.asarray(gram), np.eye(3), atol=1e-5)


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley"])
def test_orthogonal_without_trivialization(torch, orthogonal_map):
    def run(L):
        m = _linear(L, W44)
        L.nn.utils.parametrizations.orthogonal(m, orthogonal_map=orthogonal_map,
                                               use_trivialization=False)
        return m
    ours, theirs = run(torchlike), run(torch)
    assert_same(ours.weight, theirs.weight)
    np.testing.assert_allclose(np.asarray((ours.weight @ ours.weight.mT).detach()),
                               np.eye(4), atol=1e-5)
    assert_raises_same(lambda L: setattr(run(L), "weight", L.eye(4)))


def test_orthogonal_householder_without_trivialization_is_refused():
    # PyTorch starts it from geqrf's reflectors, which torchlike lacks: a clear error
    with pytest.raises(NotImplementedError, match="use_trivialization=True"):
        torchlike.nn.utils.parametrizations.orthogonal(
            torchlike.nn.Linear(3, 3), orthogonal_map="householder", use_trivialization=False)


def test_orthogonal_errors(torch):
    assert_raises_same(lambda L: L.nn.utils.parametrizations.orthogonal(
        L.nn.Linear(3, 3), orthogonal_map="qr"))
    assert_raises_same(lambda L: L.nn.utils.parametrizations.orthogonal(L.nn.Linear(3, 3),
                                                                        "bias"))


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization(torch, dim):
    def run(L):
        m = L.nn.utils.parametrizations.weight_norm(_linear(L, W35), dim=dim)
        out = m(L.tensor(X)).sum()
        out.backward()
        return m, out
    (ours, o), (theirs, t) = run(torchlike), run(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_same(ours.weight, theirs.weight)
    assert_same(o, t)
    _check_grads(ours, theirs)


def _copy_buffers(ours, theirs):
    with torchlike.no_grad():
        for (name, b), (_, c) in zip(ours.named_buffers(), theirs.named_buffers()):
            b.copy_(torchlike.tensor(c.numpy()))


def test_spectral_norm_parametrization(torch):
    theirs = torch.nn.utils.parametrizations.spectral_norm(_linear(torch, W35))
    ours = torchlike.nn.utils.parametrizations.spectral_norm(_linear(torchlike, W35))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy_buffers(ours, theirs)          # u and v start random: start both from torch's
    for step in range(3):
        if step == 2:
            ours.eval(), theirs.eval()
        assert_same(ours(torchlike.tensor(X)), theirs(torch.tensor(X)))
    assert_same(ours.parametrizations.weight[0]._u, theirs.parametrizations.weight[0]._u)


def test_weight_norm_hooks(torch):
    def run(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m = L.nn.utils.weight_norm(_linear(L, W35))
        out = m(L.tensor(X)).sum()
        out.backward()
        grads = m.weight_g.grad, m.weight_v.grad
        names = list(dict(m.named_parameters()))
        weight = m.weight
        L.nn.utils.remove_weight_norm(m)
        return [str(w.message) for w in caught], names, weight, out, grads, m.weight
    ours, theirs = run(torchlike), run(torch)
    assert ours[:2] == theirs[:2]
    for a, b in zip(ours[2:], theirs[2:]):
        assert_same(a, b)
    assert_raises_same(lambda L: L.nn.utils.remove_weight_norm(_linear(L, W35)))


def test_spectral_norm_hooks(torch):
    theirs = torch.nn.utils.spectral_norm(_linear(torch, W35))
    ours = torchlike.nn.utils.spectral_norm(_linear(torchlike, W35))
    assert list(dict(ours.named_buffers())) == list(dict(theirs.named_buffers()))
    _copy_buffers(ours, theirs)
    for _ in range(3):
        assert_same(ours(torchlike.tensor(X)), theirs(torch.tensor(X)))
    torch.nn.utils.remove_spectral_norm(theirs)
    torchlike.nn.utils.remove_spectral_norm(ours)
    assert_same(ours.weight, theirs.weight)
    assert_raises_same(lambda L: L.nn.utils.spectral_norm(L.nn.utils.spectral_norm(
        L.nn.Linear(2, 2))))


# -- prune --------------------------------------------------------------------------------
# distinct magnitudes: which entry a tie prunes is up to each library's topk
W_DISTINCT = (np.random.default_rng(1).permutation(24).reshape(4, 6) - 11.5).astype(np.float32)


def test_prune_iterative_and_remove(torch):
    def run(L):
        m = _linear(L, W_DISTINCT)
        P = L.nn.utils.prune
        P.l1_unstructured(m, "weight", 0.25)
        P.ln_structured(m, "weight", 1, 2, 0)
        P.l1_unstructured(m, "weight", 3)
        names = list(dict(m.named_parameters())), list(dict(m.named_buffers()))
        weight, mask = m.weight.detach().clone(), m.weight_mask.clone()
        m(L.ones(1, 6)).sum().backward()
        grad = m.weight_orig.grad
        pruned_before = P.is_pruned(m)
        P.remove(m, "weight")
        return names, pruned_before, P.is_pruned(m), weight, mask, grad, m.weight
    ours, theirs = run(torchlike), run(torch)
    assert ours[:3] == theirs[:3]
    for a, b in zip(ours[3:], theirs[3:]):
        assert_same(a, b)


def test_prune_global_and_custom(torch):
    def run(L):
        P = L.nn.utils.prune
        a, b = _linear(L, W_DISTINCT[:3] * 0.3), _linear(L, W_DISTINCT + 0.25)
        P.global_unstructured([(a, "weight"), (b, "weight")], P.L1Unstructured, amount=10)
        c = L.nn.Linear(2, 2)
        P.custom_from_mask(c, "bias", L.tensor([0.0, 1.0]))
        P.identity(c, "weight")
        return a.weight_mask, b.weight_mask, c.bias_mask, c.weight_mask, a.weight
    for x, y in zip(run(torchlike), run(torch)):
        assert_same(x, y)


def test_prune_random_counts():
    # random choices (torchlike's generator): check how many entries / channels go
    m = torchlike.nn.Linear(6, 4)
    torchlike.nn.utils.prune.random_unstructured(m, "weight", 0.5)
    assert int(m.weight_mask.sum()) == 12
    n = torchlike.nn.Linear(6, 4)
    torchlike.nn.utils.prune.random_structured(n, "weight", 2, 1)
    assert int((n.weight_mask.sum(0) == 0).sum()) == 2


@pytest.mark.parametrize("case", ["negative", "too-big-float", "type", "too-many", "1-d"])
def test_prune_errors(torch, case):
    calls = {
        "negative": lambda L: L.nn.utils.prune.l1_unstructured(L.nn.Linear(2, 2), "weight", -1),
        "too-big-float": lambda L: L.nn.utils.prune.l1_unstructured(L.nn.Linear(2, 2),
                                                                    "weight", 1.5),
        "type": lambda L: L.nn.utils.prune.l1_unstructured(L.nn.Linear(2, 2), "weight", "a"),
        "too-many": lambda L: L.nn.utils.prune.l1_unstructured(L.nn.Linear(2, 2), "weight", 9),
        "1-d": lambda L: L.nn.utils.prune.ln_structured(L.nn.Linear(2, 2), "bias", 1, 2, 0),
    }
    assert_raises_same(calls[case])


# -- fusion, skip_init --------------------------------------------------------------------
def test_fuse_conv_bn_eval(torch):
    xs = R.standard_normal((2, 3, 5, 5)).astype(np.float32)

    def run(L):
        L.manual_seed(0)
        conv, bn = L.nn.Conv2d(3, 4, 3), L.nn.BatchNorm2d(4)
        state = {"weight": R2.standard_normal((4, 3, 3, 3)), "bias": R2.standard_normal(4)}
        with L.no_grad():
            conv.weight.copy_(L.tensor(state["weight"]))
            conv.bias.copy_(L.tensor(state["bias"]))
            bn.running_mean.copy_(L.tensor([0.1, -0.2, 0.3, 0.0]))
            bn.running_var.copy_(L.tensor([1.5, 0.5, 2.0, 1.0]))
            bn.weight.copy_(L.tensor([1.0, 2.0, -1.0, 0.5]))
        conv.eval(), bn.eval()
        fused = L.nn.utils.fuse_conv_bn_eval(conv, bn)
        return fused(L.tensor(xs)), bn(conv(L.tensor(xs)))
    R2 = np.random.default_rng(5)
    ours = run(torchlike)
    R2 = np.random.default_rng(5)
    theirs = run(torch)
    assert_same(ours[0], theirs[0], atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(np.asarray(ours[0].detach()), np.asarray(ours[1].detach()),
                               atol=1e-4, rtol=1e-4)


def test_fuse_linear_bn_eval(torch):
    def run(L):
        linear, bn = _linear(L, W35), L.nn.BatchNorm1d(3)
        with L.no_grad():
            bn.running_mean.copy_(L.tensor([0.1, -0.2, 0.3]))
            bn.running_var.copy_(L.tensor([1.5, 0.5, 2.0]))
        linear.eval(), bn.eval()
        return L.nn.utils.fusion.fuse_linear_bn_eval(linear, bn)(L.tensor(X))
    assert_same(run(torchlike), run(torch), atol=1e-5)
    assert_raises_same(lambda L: L.nn.utils.fuse_conv_bn_eval(L.nn.Conv2d(1, 1, 1),
                                                              L.nn.BatchNorm2d(1)))


def test_skip_init(torch):
    m = torchlike.nn.utils.skip_init(torchlike.nn.Linear, 4, 3, bias=False)
    assert repr(m) == repr(torch.nn.utils.skip_init(torch.nn.Linear, 4, 3, bias=False))
    assert_raises_same(lambda L: L.nn.utils.skip_init(L.nn.ReLU))
    # built on the meta device, as PyTorch's: no initializer runs, so no random numbers
    # are drawn (the next draw is the one after the seed), and the module gets memory
    torchlike.manual_seed(0)
    first = torchlike.rand(2)
    torchlike.manual_seed(0)
    m = torchlike.nn.utils.skip_init(torchlike.nn.Linear, 4, 3)
    assert torchlike.equal(torchlike.rand(2), first)
    assert (m.weight.device.type, tuple(m.weight.shape), m.weight.requires_grad) == \
        ("cpu", (3, 4), True)


def test_invert_permutation(torch):
    import torch.nn.utils.rnn  # noqa: F401
    perm = [2, 0, 3, 1]
    assert_same(torchlike.nn.utils.rnn.invert_permutation(torchlike.tensor(perm)),
                 torch.nn.utils.rnn.invert_permutation(torch.tensor(perm)))
    assert torchlike.nn.utils.rnn.invert_permutation(None) is None


def test_consume_prefix_in_state_dict_if_present(torch):
    """A DataParallel/DDP checkpoint's "module." keys (and its _metadata's) stripped in
    place, as PyTorch's; the model then loads it."""
    import collections
    from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present as theirs
    from torchlike.nn.modules.utils import consume_prefix_in_state_dict_if_present as ours

    def wrapped_state(lib):
        class Wrapper(lib.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.module = inner
        inner = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        return inner, Wrapper(inner).state_dict()
    (inner, state), (t_inner, t_state) = wrapped_state(torchlike), wrapped_state(torch)
    ours(state, "module.")
    theirs(t_state, "module.")
    assert list(state) == list(t_state) and dict(state._metadata) == dict(t_state._metadata)
    assert str(inner.load_state_dict(state)) == str(t_inner.load_state_dict(t_state))
    plain, t_plain = (collections.OrderedDict([("a.x", 1), ("b", 2)]) for _ in range(2))
    ours(plain, "a.")
    theirs(t_plain, "a.")
    assert plain == t_plain
