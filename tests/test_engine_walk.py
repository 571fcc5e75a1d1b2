"""The plain backward's walk and the segmented backward's programs: what they pass to the
compiled call, and what a graph shows after backward freed it (autograd/engine.py)."""
import numpy as np
import pytest

import torchlike
from torchlike import _lazy
from torchlike.autograd import engine
from helpers import float_tol, planned_program_sizes

torch = pytest.importorskip("torch", reason="the torch oracle is needed to compare values")


def _edge_names(fn):
    """The grad_fn names of the graph below `fn`, edge by edge, in one iterative walk."""
    names, stack = [], [fn]
    while stack:
        node = stack.pop()
        for nxt, nr in node.next_functions:
            names.append((type(node).__name__, None if nxt is None else type(nxt).__name__, nr))
            if nxt is not None:
                stack.append(nxt)
    return names


def test_next_functions_after_backward_are_pytorchs():
    # the walk notes the nodes whose arguments are all tensors, so that freeing them does
    # not read their arrays again; nodes that took a Python number show one edge fewer
    # (pow) or wrap it (mul), as in PyTorch, before and after the graph is freed
    def graph(lib):
        x = lib.ones(2, 3, requires_grad=True)
        w = lib.ones(3, 2, requires_grad=True)
        loss = ((x * 2).pow(2) @ w).tanh().sum()
        before = _edge_names(loss.grad_fn)
        loss.backward()
        return before, _edge_names(loss.grad_fn)
    ours, theirs = graph(torchlike), graph(torch)
    assert ours == theirs
    assert ours[0] == ours[1]


@pytest.fixture
def small_segments(monkeypatch):
    """Small limits, so that a graph of a hundred ops takes the segmented backward
    without the compile time of thousands (the logic does not depend on the sizes)."""
    monkeypatch.setattr(engine, "FUSE_LIMIT", 40)
    monkeypatch.setattr(engine, "SEGMENT", 16)


def test_a_segment_passes_each_float_once(small_segments, monkeypatch):
    constants = []
    fused_call = engine._fused_call

    def counting(program, regions, root_refs, slot_target, old, wanted, diff_vals,
                 const_vals, *rest, **kw):
        constants.append(len(const_vals))
        return fused_call(program, regions, root_refs, slot_target, old, wanted, diff_vals,
                          const_vals, *rest, **kw)
    monkeypatch.setattr(engine, "_fused_call", counting)

    def grad(lib):
        x = lib.linspace(-1.0, 1.0, 8, dtype=lib.float64, requires_grad=True)
        y = x
        for _ in range(60):              # 120 nodes: 8 segments of 16
            y = y * 1.001 + 0.001
        y.sum().backward()
        return x.grad
    ours, theirs = grad(torchlike), grad(torch)
    assert len(constants) >= 3                 # it really ran in segments
    assert max(constants) == 2                 # 1.001 and 0.001, not one per node
    # float64: 240 roundings in the forward, as many in the gradient (a product of
    # factors near 1: nothing cancels)
    np.testing.assert_allclose(np.asarray(ours), theirs.numpy(),
                               **float_tol(torch.float64, 240 + 240))


def test_a_deep_chain_backward_leaves_saved_values_pending_until_read(small_segments,
                                                                      monkeypatch):
    # the depth cuts compute only what tensors hold; a segmented backward computes the
    # values it reads from earlier segments in small calls of its own, and a second
    # backward of the same structure traces nothing
    monkeypatch.setattr(_lazy, "MAX_DEPTH", 6)
    planned = planned_program_sizes(monkeypatch)

    def grad(lib):
        x = lib.linspace(-1.0, 1.0, 8, dtype=lib.float64, requires_grad=True)
        y = x
        for i in range(50):
            y = (y * 1.01).sin()
            if i == 2:
                early = y.grad_fn.next_functions[0][0]        # a MulBackward0
        if lib is torchlike:
            # the input the mul node keeps, several cuts back, is still pending: no tensor
            # holds it (a mul by a number saves no tensor for backward; sin does)
            assert early.arrays[0]._value is None
        y.sum().backward()
        return x.grad
    expected = grad(torch)
    grad(torchlike)                                      # first time: compiles
    traces = engine.stats.fused_traces
    planned.clear()
    got = grad(torchlike)
    assert engine.stats.fused_traces == traces
    # each call the cuts and the segments' inputs make: at most MAX_DEPTH ops (and the
    # root's sum); the whole chain would be 101
    assert planned and max(planned) <= 6 + 1
    # float64, 50 steps forward (a mul, and sin: 4, an ulp or two each library) and
    # backward (cos: 4, two muls); the gradient is a product of cosines of arguments
    # below 1.01 (each above 0.5): nothing cancels
    np.testing.assert_allclose(np.asarray(got), expected.numpy(),
                               **float_tol(torch.float64, 50 * (1 + 4) + 50 * (4 + 2)))
