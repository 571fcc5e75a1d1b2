"""Sparse COO tensors against real torch: construction, printing, coalescing, products,
sums, dense + sparse, and gradients of the values."""
import warnings

import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, assert_same

INDICES = [[0, 1, 1, 0], [2, 0, 2, 2]]     # (0, 2) twice: uncoalesced
VALUES = [3.0, 4.0, 5.0, -1.0]
DENSE = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)


@pytest.fixture(autouse=True)
def _quiet_invariant_warning():
    with warnings.catch_warnings():
        # torch warns once that sparse invariant checks are off: not a behaviour to match
        warnings.filterwarnings("ignore", message="Sparse invariant checks")
        yield


def _sparse(L, requires_grad=True, indices=INDICES, values=VALUES, size=(2, 3)):
    v = L.tensor(values, requires_grad=requires_grad)
    return L.sparse_coo_tensor(L.tensor(indices), v, size), v


def test_construction_and_printing(oracle):
    (s, _), (t, _) = _sparse(torchlike), _sparse(oracle)
    assert repr(s) == repr(t)
    assert (s.is_sparse, s.is_coalesced(), s._nnz(), tuple(s.shape), str(s.layout)) == \
        (t.is_sparse, t.is_coalesced(), t._nnz(), tuple(t.shape), str(t.layout))
    assert_same(s.to_dense(), t.to_dense())
    assert_same(s._indices(), t._indices())
    def plain(L):      # size inferred, non-default dtype
        t = L.sparse_coo_tensor(L.tensor([[0, 1]]), L.tensor([1.0, 2.0], dtype=L.float64))
        return repr(t), tuple(t.shape)
    assert plain(torchlike) == plain(oracle)
    assert_raises_same(lambda L: _sparse(L)[0].values())
    assert_raises_same(lambda L: L.sparse_coo_tensor(L.tensor([[0, 1], [1, 0]]), L.ones(2),
                                                       (3,)))


def test_coalesce(oracle):
    (s, _), (t, _) = _sparse(torchlike), _sparse(oracle)
    c, d = s.coalesce(), t.coalesce()
    assert repr(c) == repr(d)
    assert_same(c.indices(), d.indices())
    assert_same(c.values(), d.values(), check_grad_fn=False)   # PyTorch: ValuesBackward0


@pytest.mark.parametrize("case", ["mm", "matmul", "dense+sparse", "sum", "addmm", "to_dense"])
def test_gradients_reach_values(oracle, case):
    fns = {
        "mm": lambda L, s: L.sparse.mm(s, L.tensor(DENSE)),
        "matmul": lambda L, s: s @ L.tensor(DENSE),
        "dense+sparse": lambda L, s: L.ones(2, 3) + s,
        "sum": lambda L, s: L.sparse.sum(s),
        "addmm": lambda L, s: L.sparse.addmm(L.ones(2, 2), s, L.tensor(DENSE), beta=0.5),
        "to_dense": lambda L, s: s.to_dense() * 2,
    }
    (s, v), (t, w) = _sparse(torchlike), _sparse(oracle)
    ours, theirs = fns[case](torchlike, s), fns[case](oracle, t)
    assert_same(ours, theirs)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(np.asarray(v.grad), w.grad.numpy(), rtol=1e-6)


def test_sum_over_dims_and_to_sparse(oracle):
    (s, _), (t, _) = _sparse(torchlike, False), _sparse(oracle, False)
    ours, theirs = torchlike.sparse.sum(s, dim=1), oracle.sparse.sum(t, dim=1)
    assert_same(ours.to_dense(), theirs.to_dense())
    assert_same(torchlike.sparse.sum(s, dim=(0, 1)), oracle.sparse.sum(t, dim=(0, 1)))
    x = np.array([[0.0, 1.5], [-2.0, 0.0]], np.float32)
    a, b = torchlike.tensor(x, requires_grad=True), oracle.tensor(x, requires_grad=True)
    sa, sb = a.to_sparse(), b.to_sparse()
    assert repr(sa) == repr(sb)
    (sa.to_dense() * 3).sum().backward()
    (sb.to_dense() * 3).sum().backward()
    np.testing.assert_allclose(np.asarray(a.grad), b.grad.numpy())


def test_leaf_sparse_tensor_gets_a_dense_grad(oracle):
    def run(L):
        s = L.sparse_coo_tensor(L.tensor(INDICES), L.tensor(VALUES), (2, 3),
                                requires_grad=True)
        (s @ L.tensor(DENSE)).sum().backward()
        return repr(s), s.grad
    (r1, g1), (r2, g2) = run(torchlike), run(oracle)
    assert r1 == r2
    assert_same(g1, g2)
