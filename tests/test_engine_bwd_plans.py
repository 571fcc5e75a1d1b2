"""A plain backward's remembered walk (autograd/_plans.py): a graph that repeats a
structure is walked by its plan, and any graph that differs from it, however slightly,
walks as before, so values, gradients and errors stay PyTorch's."""
import gc

import numpy as np
import pytest

import torchlike
from torchlike import _caches
from torchlike.autograd import _plans, engine
from helpers import float_tol

torch = pytest.importorskip("torch", reason="the torch oracle is needed to compare values")


def _walks(monkeypatch):
    """A list that grows by one at every full walk (engine._plain_walk)."""
    calls, walk = [], engine._plain_walk

    def counting(*args):
        calls.append(1)
        return walk(*args)
    monkeypatch.setattr(engine, "_plain_walk", counting)
    return calls


def _step(lib, x, w):
    x.grad = w.grad = None
    loss = ((x * w + 2).tanh() * 3).sum()
    loss.backward()
    return loss


def test_a_repeated_graph_is_walked_by_its_plan_from_its_third_sight(monkeypatch):
    walks = _walks(monkeypatch)
    planned = _plans.stats.planned
    a, b = np.linspace(-1, 1, 6, dtype=np.float32), np.linspace(2, -3, 6, dtype=np.float32)
    x, w = torchlike.tensor(a, requires_grad=True), torchlike.tensor(b, requires_grad=True)
    tx, tw = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    for _ in range(4):
        loss, t_loss = _step(torchlike, x, w), _step(torch, tx, tw)
        # float32: a product, a sum, tanh (an ulp in each library), its derivative
        # 1 - tanh**2 (which cancels), times 3 and a leaf of magnitude at most 3
        tol = float_tol(torch.float32, 8, 3 * 3)
        np.testing.assert_allclose(loss.item(), t_loss.item(), **float_tol(torch.float32, 8, 18))
        np.testing.assert_allclose(np.asarray(x.grad), tx.grad.numpy(), **tol)
        np.testing.assert_allclose(np.asarray(w.grad), tw.grad.numpy(), **tol)
    assert len(walks) == 2                    # the first two sights; the second made the plan
    assert _plans.stats.planned == planned + 2


def _same_root_graphs(lib):
    """Graphs that all end in a sum and look alike but are wired, or read, differently:
    a plan of one must never serve another."""
    def fresh():
        return (lib.tensor([1.0, 2.0, 3.0], requires_grad=True),
                lib.tensor([2.0, -1.0, 4.0], requires_grad=True))
    c, d = lib.tensor([2.0, 2.0, 2.0]), lib.tensor([3.0, 5.0, 7.0])

    def made_twice(x, w):
        return ((x + 2) * (x + 2)).sum(), (x,)

    def used_twice(x, w):
        y = x + 2
        return (y * y).sum(), (x,)

    def one_leaf_twice(x, w):
        return ((x * 1) * (x * 1)).sum(), (x,)

    def two_leaves(x, w):
        return ((x * 1) * (w * 1)).sum(), (x, w)

    def leaves_swapped(x, w):
        return ((w * 1) * (x * 1)).sum(), (x, w)

    def constant_shared(x, w):
        return ((x + c) * c).sum(), (x,)

    def constants_apart(x, w):
        return ((x + c) * d).sum(), (x,)

    def number_two(x, w):
        return ((x + 2) * 2).sum(), (x,)

    def number_three(x, w):
        return ((x + 2) * 3).sum(), (x,)

    def cat_of_two(x, w):
        return (lib.cat([x * 2, x * 3]) * 1).sum(), (x,)

    def cat_of_three(x, w):
        return (lib.cat([x * 2, x * 3, x * 4]) * 1).sum(), (x,)
    graphs = (made_twice, used_twice, one_leaf_twice, two_leaves, leaves_swapped,
              constant_shared, constants_apart, number_two, number_three, cat_of_two,
              cat_of_three)
    return [(g, fresh) for g in graphs]


def _run_rounds(lib, rounds):
    seen = []
    graphs = _same_root_graphs(lib)
    for order in rounds:
        for i in order:
            graph, fresh = graphs[i]
            loss, leaves = graph(*fresh())
            loss.backward()
            seen.append((graph.__name__, loss.item(), [leaf.grad.tolist() for leaf in leaves]))
    return seen


def test_graphs_that_differ_from_a_plan_walk_and_keep_pytorchs_gradients():
    n = len(_same_root_graphs(torch))
    # each graph twice (a plan of it), then in other orders: every plan is tried on graphs
    # that differ from it (exact small integers: the values must be equal)
    rounds = [[i, i] for i in range(n)] + [list(range(n)), list(reversed(range(n))),
                                         [i for i in range(n) for _ in range(3)]]
    planned = _plans.stats.planned
    assert _run_rounds(torchlike, rounds) == _run_rounds(torch, rounds)
    assert _plans.stats.planned > planned           # plans served the repeated graphs


def test_a_number_that_changes_between_steps_reaches_the_planned_call():
    x, tx = (lib.tensor([1.0, -2.0], requires_grad=True) for lib in (torchlike, torch))
    for scale in (2.0, 2.0, 2.0, 3.0, 0.5, -0.0, 2):
        for t in (x, tx):
            t.grad = None
            ((t + 1) * scale).sum().backward()
        assert x.grad.tolist() == tx.grad.tolist(), scale


def test_a_saved_tensor_modified_in_place_raises_pytorchs_error_after_plans():
    def step(lib, modify):
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        a = x * 2
        loss = a.sin().sum()        # sin saves a
        if modify:
            with lib.no_grad():
                a.mul_(2)
        loss.backward()
        return x.grad.tolist()
    for _ in range(3):              # (a plan of the graph)
        assert step(torchlike, False) == pytest.approx(step(torch, False))
    with pytest.raises(RuntimeError) as ours:
        step(torchlike, True)
    with pytest.raises(RuntimeError) as theirs:
        step(torch, True)
    assert str(ours.value) == str(theirs.value)


def test_a_hook_added_after_plans_runs():
    def steps(lib):
        seen = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        for hooked in (False, False, False, True, False):
            x.grad = None
            h = x * 3
            if hooked:
                h.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
            (h * h).sum().backward()
            seen.append(x.grad.tolist())
        return seen
    assert steps(torchlike) == steps(torch)


def test_a_graph_that_changes_every_step_forgets_its_plans(monkeypatch):
    x = torchlike.tensor([1.0, 2.0], requires_grad=True)

    def chain(n):
        y = x
        for _ in range(n):
            y = y * 1.5
        return y.sum()
    for n in (3, 3):                      # a plan for the root (sum)
        chain(n).backward()
    signature = _plans.root_signature([chain(1).grad_fn.next_functions[0]])
    del signature
    walks = _walks(monkeypatch)
    for n in range(4, 4 + _plans.MISSES_TO_FORGET + 3):
        chain(n).backward()
    assert len(walks) == _plans.MISSES_TO_FORGET + 3
    # the root's plans were forgotten after MISSES_TO_FORGET misses in a row
    loss = chain(2)
    assert _plans._plans.peek(_plans.root_signature([(loss.grad_fn, 0)])) is None


def test_plan_caches_are_bounded(monkeypatch):
    assert isinstance(_plans._plans, _caches.LRU) and _plans._plans.maxsize <= 4096
    # structures live as long as a bounded cache's key or a plan names them
    for cache in ("_fused_cache", "_compile_seconds"):
        monkeypatch.setattr(engine, cache, _caches.LRU(2))
    monkeypatch.setattr(_plans, "_plans", _caches.LRU(2))
    earlier = list(_plans._structures.values())      # (what other tests' caches hold)
    w = torchlike.tensor([1.0], requires_grad=True)
    for k in range(12):                 # twelve structures, each met twice
        for _ in range(2):
            y = w
            for _ in range(k + 1):
                y = y * w
            y.sum().backward()
    gc.collect()
    assert len(_plans._structures) - len(earlier) <= 2 + 2 + 2 * _plans.PLANS_PER_ROOT
    x = torchlike.tensor([1.0], requires_grad=True)
    for k in range(_plans.PLANS_PER_ROOT + 3):      # structures under one root signature
        for _ in range(2):
            y = x
            for _ in range(k + 1):
                y = y * 2.0
            loss = y.sum()
            loss.backward()
    entry = _plans._plans.peek(_plans.root_signature([(loss.grad_fn, 0)]))
    assert entry is not None and len(entry.plans) <= _plans.PLANS_PER_ROOT


def test_a_checkpointed_graph_is_not_served_by_the_plan_of_its_plain_twin():
    """checkpoint(use_reentrant=False) replays its region under jax.checkpoint, which a
    plan (made without regions) would lose: such a graph walks."""
    from torchlike.utils.checkpoint import checkpoint
    x = torchlike.tensor([0.5, 1.5], requires_grad=True)

    def block(a):
        return (a.sin() * a).cos()
    for _ in range(3):                         # a plan of the plain graph
        block(x * 2).sum().backward()
    planned = _plans.stats.planned
    checkpoint(block, x * 2, use_reentrant=False).sum().backward()
    assert _plans.stats.planned == planned


def test_the_diff_flags_a_plan_does_not_compare_follow_from_the_edges_it_does():
    """A plan checks each edge of a node (what it leads to) and their number, not the
    node's diff flags: every op that records (not a custom Function) derives them from
    its edges, diff[k] being whether edge k leads to a node or a leaf."""
    nn = torchlike.nn
    w = torchlike.randn(4, 6, requires_grad=True)
    b = torchlike.zeros(4, requires_grad=True)
    x = torchlike.randn(3, 6)
    h = nn.functional.linear(x, w, b)                       # (linear's own recording)
    h = h * 2 + torchlike.ones(4) - 1.5                     # numbers and a constant
    parts = h.split([1, 3], dim=1)                          # several outputs
    h = torchlike.cat([parts[1] * parts[0], parts[0]], dim=1).t().reshape(12)
    g = h[2:9].clone()
    g[1:3] = g[1:3].exp()                                   # in place through a view
    h = torchlike.where(g > 0, g, g.abs()).relu_()
    m = nn.LayerNorm(7)
    loss = nn.functional.cross_entropy(m(h.unsqueeze(0)).expand(2, 7),
                                       torchlike.tensor([1, 3])) + w.pow(2).sum()
    stack, met, checked = [loss.grad_fn], set(), 0
    while stack:
        node = stack.pop()
        if node is None or node in met or type(node) is torchlike.autograd.graph.AccumulateGrad:
            continue
        met.add(node)
        if node.op is not None:
            assert node.diff == tuple(e[0] is not None for e in node.edges), node.name()
            checked += 1
        stack.extend(n for n, _ in node.edges)
    assert checked > 15


def test_the_same_leaves_read_twice_where_the_plan_read_two_walk():
    """Leaves are usually the same objects step after step (the check then compares their
    ids with the last check's instead of making a set): a graph that ties one to the
    other, as weight tying does, is not served by the plan of the untied graph."""
    def steps(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, -1.0], requires_grad=True)
        seen = []
        for tied in (False, False, False, True, False, True, True, True, False):
            x.grad = w.grad = None
            loss = ((x * 1) * ((x if tied else w) * 1)).sum()
            loss.backward()
            seen.append((loss.item(), x.grad.tolist(), None if w.grad is None else w.grad.tolist()))
        return seen
    planned = _plans.stats.planned
    assert steps(torchlike) == steps(torch)
    assert _plans.stats.planned > planned + 3         # both graphs were served by plans


def _plan_of(loss):
    walked = engine._plain_walk([(loss.grad_fn, 0)], loss._storage.device)
    order, position, program, _, const_vals, slot_leaf, leaves, _ = walked
    structure, _ = _plans.structure_of(program, [(position[loss.grad_fn], 0)], slot_leaf,
                                       len(leaves), ())
    return _plans.Plan(order, position, leaves, program, structure, len(const_vals))


def test_a_plan_refuses_one_node_where_it_had_two_and_one_leaf_where_it_had_two():
    """(Replaying a shared node twice gives the same values, so a test of gradients alone
    cannot see this: the check itself must refuse the graph, as the walk would differ.)"""
    x = torchlike.tensor([1.0, 2.0], requires_grad=True)
    w = torchlike.tensor([3.0, 4.0], requires_grad=True)
    device = x._storage.device

    def check(plan, loss):
        return _plans._check(plan, loss.grad_fn, 0, device)
    made_twice = _plan_of(((x + 2) * (x + 2)).sum())
    assert check(made_twice, ((x + 2) * (x + 2)).sum()) is not None
    y = x + 2
    assert check(made_twice, (y * y).sum()) is None
    two_leaves = _plan_of(((x * 1) * (w * 1)).sum())
    for _ in range(2):              # (the second time, against the ids the first one kept)
        assert check(two_leaves, ((x * 1) * (w * 1)).sum()) is not None
    assert check(two_leaves, ((x * 1) * (x * 1)).sum()) is None
    assert check(two_leaves, ((w * 1) * (w * 1)).sum()) is None
