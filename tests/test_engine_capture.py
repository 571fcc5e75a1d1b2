"""The execution engine: what stays pending, how many compiled calls a step makes, and
the bounds on everything cached between steps (see docs/performance.md)."""
import numpy as np
import pytest

import torchlike
from torchlike import _caches, _lazy
from torchlike.autograd import engine

from helpers import float_tol

torch = pytest.importorskip("torch", reason="the torch oracle is needed to compare values")


def _views_then_backward(lib, x):
    y = (x * 2).reshape(6, 4).t()[:, 1:3].sin()
    z = y.sum()
    z.backward()
    return z


def test_recorded_views_stay_pending():
    """reshape/t/slicing of a recorded tensor do not run the forward early: forward and
    backward are one compiled call, and the values still equal PyTorch's."""
    data = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    x = torchlike.tensor(data, requires_grad=True)
    _views_then_backward(torchlike, x)                    # first time: compiles
    x.grad = None
    before = (_lazy.stats.materializations, engine.stats.fused_calls)
    z = _views_then_backward(torchlike, x)
    assert _lazy.stats.materializations == before[0]
    assert engine.stats.fused_calls == before[1] + 1
    tx = torch.tensor(data, requires_grad=True)
    tz = _views_then_backward(torch, tx)
    np.testing.assert_allclose(z.item(), tz.item(), rtol=1e-6)   # a few float32 roundings
    np.testing.assert_allclose(np.asarray(x.grad), tx.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_a_view_read_after_later_in_place_writes_sees_them():
    """A pending view is still an alias: writing its base afterwards shows through."""
    for lib in (torch, torchlike):
        x = lib.ones(2, 3, requires_grad=True)
        y = x * 1
        v = y[:, 1]
        y.add_(1)
        assert v.tolist() == [2.0, 2.0]


def test_lru_forgets_the_least_recently_used_entry():
    cache = _caches.LRU(2)
    cache["a"], cache["b"] = 1, 2
    assert cache.get("a") == 1           # "a" is now the most recent
    cache["c"] = 3
    assert list(cache) == ["a", "c"]
    assert cache.get("b") is None


def test_engine_caches_are_bounded():
    for cache in (_lazy._shape_cache, _lazy._program_cache, engine._fused_cache):
        assert isinstance(cache, _caches.LRU) and cache.maxsize <= 16384


def test_compiled_code_is_dropped_past_the_budget_and_work_goes_on(monkeypatch):
    """Past MAX_COMPILES new compiles, every compiled program is released at the next
    safe point; later steps recompile what they need and give the same numbers."""
    monkeypatch.setattr(_caches, "MAX_COMPILES", 3)
    resets = _caches.compiles.resets
    w = torchlike.ones(3, requires_grad=True)
    sums = []
    for n in range(1, 8):                        # a new shape each time: new programs
        loss = (torchlike.arange(n * 3.0).reshape(n, 3) * w).sin().sum()
        loss.backward()
        sums.append(loss.item())
    assert _caches.compiles.resets > resets
    expected = [float(np.sin(np.arange(n * 3.0, dtype=np.float32)).sum()) for n in range(1, 8)]
    np.testing.assert_allclose(sums, expected, rtol=1e-5)      # float32 sums of <= 21 terms
    tw = torch.ones(3, requires_grad=True)
    for n in range(1, 8):
        (torch.arange(n * 3.0).reshape(n, 3) * tw).sin().sum().backward()
    np.testing.assert_allclose(np.asarray(w.grad), tw.grad.numpy(), rtol=1e-5)


def test_dropout_mask_is_drawn_inside_the_fused_backward():
    """The mask is a pending draw: forward, mask and backward are one compiled call.
    With x = ones, y = dropout(2x) = 2 * mask / (1 - p) and d sum(y)/dx is the same
    tensor, so the gradient must equal the output element for element."""
    torchlike.manual_seed(0)
    x = torchlike.ones(8, 16, requires_grad=True)

    def step():
        x.grad = None
        y = torchlike.nn.functional.dropout(x * 2, 0.25)
        y.sum().backward()
        return y
    # a mask is drawn anew every step: from its first sight the graph compiles with its
    # pending inputs inside (other first sights compute them on their own), so the
    # second step traces and compiles nothing
    step()
    before = (_lazy.stats.materializations, engine.stats.fused_calls, engine.stats.fused_traces)
    y = step()
    assert (_lazy.stats.materializations, engine.stats.fused_calls, engine.stats.fused_traces) \
        == (before[0], before[1] + 1, before[2])
    values = np.asarray(y.detach())
    assert set(np.unique(values)) <= {0.0, np.float32(2 / 0.75)}
    np.testing.assert_array_equal(np.asarray(x.grad), values)


def test_a_pending_draw_gives_the_numbers_of_an_eager_draw():
    from torchlike import _dtype, _random
    from torchlike._ops.random_ops import sample_pending
    torchlike.manual_seed(3)
    eager = np.asarray(_random.sample("bernoulli", (5, 7), _dtype.float32, 0.3, 0.0))
    torchlike.manual_seed(3)
    pending = sample_pending("bernoulli", (5, 7), _dtype.float32, 0.3, 0.0)
    np.testing.assert_array_equal(np.asarray(pending.value()), eager)


def test_a_repeated_training_step_compiles_nothing_and_makes_one_fused_call():
    nn, F = torchlike.nn, torchlike.nn.functional
    torchlike.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
    opt = torchlike.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = torchlike.randn(10, 12), torchlike.randint(0, 3, (10,))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x).reshape(10, 3), y)
        loss.backward()
        opt.step()
        return loss
    for _ in range(3):
        step().item()
    compiles = _caches.compiles.total
    before = (_lazy.stats.materializations, engine.stats.fused_calls)
    step().item()
    assert _caches.compiles.total == compiles
    assert (_lazy.stats.materializations, engine.stats.fused_calls) == (before[0], before[1] + 1)


def test_batchnorm_statistics_come_from_the_fused_backward():
    """batch_norm's new running statistics are outputs of its op that the graph does not
    read: the step's fused backward computes them with the forward, so nothing stays
    pending behind a buffer (the step's forward stayed, which the next step's backward
    computed again in a program of its own, and which held the step's inputs), and a
    step compiles nothing new and makes one XLA call."""
    nn, F = torchlike.nn, torchlike.nn.functional
    torchlike.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    opt = torchlike.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = torchlike.randn(10, 12), torchlike.randint(0, 3, (10,))
    compiles = []
    for _ in range(4):
        before = _caches.compiles.total
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        for name in ("running_mean", "running_var"):
            array = getattr(model[1], name)._storage.array
            ops = [] if type(array) is not _lazy.Deferred or array._value is not None else \
                [op.name for op, *_ in _lazy.plan([array])[0]]
            assert ops == [], (name, ops)
        compiles.append(_caches.compiles.total - before)
    assert compiles[2:] == [0, 0], compiles
    before = (_lazy.stats.materializations, engine.stats.fused_calls)
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
    assert (_lazy.stats.materializations, engine.stats.fused_calls) == \
        (before[0], before[1] + 1)


@pytest.mark.parametrize("pattern", ["scaled", "divided", "accuracy", "sequence_logits"])
def test_values_read_after_backward_and_step_come_from_the_backward(pattern):
    # a training loop reads the loss and the model's output after backward() and step():
    # `loss.item()` after `scaler.scale(loss).backward()` or `(loss / n).backward()`, an
    # accuracy count of the logits, a language model's (batch, time, vocabulary) logits
    # viewed for the loss. The fused call hands them back (reading them ran the forward
    # again, after the update); values as torch's
    data = np.random.default_rng(0).standard_normal((10, 12)).astype(np.float32)
    target = np.arange(10) % 3

    def run(lib):
        torch.manual_seed(0)                    # (the same initial weights on both sides)
        init = torch.nn.Linear(12, 3)
        model = lib.nn.Linear(12, 3)
        with lib.no_grad():
            model.weight.copy_(lib.tensor(init.weight.detach().numpy()))
            model.bias.copy_(lib.tensor(init.bias.detach().numpy()))
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        scaler = lib.amp.GradScaler("cpu", init_scale=8.0)
        x, y = lib.tensor(data), lib.tensor(target)
        if pattern == "sequence_logits":
            x, y = x.reshape(2, 5, 12), y.reshape(2, 5)
        reads, counts = [], []
        for _ in range(4):
            opt.zero_grad()
            out = model(x)
            loss = lib.nn.functional.cross_entropy(out.view(-1, 3), y.view(-1))
            if pattern == "scaled":
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                (loss / 4 if pattern == "divided" else loss).backward()
                opt.step()
            if lib is torchlike:
                before = (_lazy.stats.materializations, engine.stats.fused_calls)
            reads.append(loss.item())
            if lib is torchlike:
                counts.append((_lazy.stats.materializations, engine.stats.fused_calls) ==
                              before)
            if pattern in ("accuracy", "sequence_logits"):
                reads.append(np.asarray(out.detach().numpy()))
                if lib is torchlike:
                    counts.append((_lazy.stats.materializations, engine.stats.fused_calls)
                                  == before)
        return reads, counts
    ours, counts = run(torchlike)
    theirs, _ = run(torch)
    assert all(counts)
    # (assert_same's defaults, derived in helpers.py: 84 float32 ulps covers each value's
    # 12-term products, 3-way log-sum-exp and 10-term mean; atol 8 ulps of magnitude 1)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _manual_sgd_losses(lib, arrays, steps):
    """A hand-written MLP step with the update under no_grad, as in PyTorch tutorials."""
    params = [lib.tensor(a, requires_grad=True) for a in arrays[:-1]]
    x = lib.tensor(arrays[-1])
    losses = []
    for _ in range(steps):
        loss = ((x @ params[0] + params[1]).tanh() @ params[2]).pow(2).mean()
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= 0.1 * p.grad
                p.grad = None
        losses.append(loss.item())
    return losses, [p.detach() for p in params]


def test_a_hand_written_update_joins_the_next_steps_compiled_call():
    """Ops under no_grad are pending too: the update of step n runs inside step n+1's
    fused backward, so a whole step is one compiled call, with PyTorch's numbers."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((6, 5), (5,), (5, 2), (4, 6))]
    _manual_sgd_losses(torchlike, arrays, 3)
    before = (_lazy.stats.materializations, engine.stats.fused_calls)
    ours, our_params = _manual_sgd_losses(torchlike, arrays, 4)
    # 4 steps: 4 fused calls; the last update is read by .detach() -> one materialization
    assert engine.stats.fused_calls == before[1] + 4
    assert _lazy.stats.materializations <= before[0] + 1
    theirs, their_params = _manual_sgd_losses(torch, arrays, 4)
    # float32, tens of roundings per step, 4 steps of a contracting update
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    for a, b in zip(our_params, their_params):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-5, atol=1e-6)


def test_small_constant_tensors_share_an_array_but_never_their_writes():
    """ones/zeros/full of a small shape hand out one cached immutable array; a write to
    one tensor (whole, through a view, or via .data) must not reach any other."""
    a, b = torchlike.ones(2, 3), torchlike.ones(2, 3)
    a.add_(1)
    a[0, 1] = 7
    c = torchlike.zeros(2, 3)
    c.data.fill_(4)
    assert b.tolist() == [[1.0] * 3] * 2
    assert a.tolist() == [[2.0, 7.0, 2.0], [2.0, 2.0, 2.0]]
    assert torchlike.ones(2, 3).tolist() == [[1.0] * 3] * 2
    assert torchlike.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    # -0.0 and 0.0 compare equal but are different constants
    assert np.signbit(np.asarray(torchlike.full((2,), -0.0))).all()
    assert not np.signbit(np.asarray(torchlike.full((2,), 0.0))).any()
    assert torchlike.full((2,), 3, dtype=torchlike.int64).dtype == torchlike.int64


def _observed_training(lib, arrays, observe):
    """Two steps of a two-group SGD run, reading values at every point of each step:
    after the forward, inside a gradient hook, after backward, after the update."""
    nn = lib.nn
    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 2))
    with lib.no_grad():
        for p, a in zip(model.parameters(), arrays):
            p.copy_(lib.tensor(a))
    opt = lib.optim.SGD([{"params": model[0].parameters()},
                         {"params": model[2].parameters(), "lr": 0.05}], lr=0.1, momentum=0.9)
    x = lib.tensor(arrays[-1])
    seen = []
    for _ in range(2):
        opt.zero_grad()
        hidden = model[1](model[0](x))
        if observe:
            seen.append(hidden.detach().numpy().copy())              # after part of the forward
            hidden.register_hook(lambda g: seen.append(g.numpy().copy()))   # inside backward
        loss = model[2](hidden).pow(2).sum()
        if observe:
            seen.append(loss.item())                                 # after the forward
        loss.backward()
        if observe:
            seen.extend(p.grad.numpy().copy() for p in model.parameters())   # after backward
        opt.step()
        if observe:
            seen.extend(p.detach().numpy().copy() for p in model.parameters())  # after update
    seen.extend(p.detach().numpy().copy() for p in model.parameters())
    return seen


@pytest.mark.parametrize("observe", [True, False], ids=["observed", "unobserved"])
def test_values_observed_anywhere_in_a_step_are_pytorchs(observe):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(np.float32)
              for s in ((4, 5), (4,), (2, 4), (2,), (3, 5))]
    ours = _observed_training(torchlike, arrays, observe)
    theirs = _observed_training(torch, arrays, observe)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        # float32, a few dozen roundings per value over two small steps
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


def _written_under_no_grad(lib, op):
    x = lib.tensor([0.5, 2.0], requires_grad=True)
    y = x.clone() if op == "clamp" else x * 1
    with lib.no_grad():
        if op == "clamp":
            y.clamp_(min=1)
        else:
            y.mul_(2)
    z = (3 * y * y).sum() if op == "clamp" else y.exp().sum()
    z.backward()
    return x.grad.tolist()


@pytest.mark.parametrize("op", ["clamp", "mul"])
def test_values_written_under_no_grad_reach_the_fused_backward(op):
    """The fused backward replays the forward; a tensor written in place under no_grad
    after its node made it must enter that replay with its written values (PyTorch's
    saved tensors hold them), its gradient still flowing through its node."""
    np.testing.assert_allclose(_written_under_no_grad(torchlike, op),
                               _written_under_no_grad(torch, op), rtol=1e-6)


def test_in_place_ops_with_history_are_not_taken_for_stale_values():
    """In-place ops recorded for autograd (on tensors and through views) keep the replay
    as it is: no input is marked stale."""
    x = torchlike.tensor([0.5, -2.0, 3.0], requires_grad=True)
    y = x * 2
    y.sub_(0.5)
    y[1:].mul_(3)
    y.view(3, 1).add_(1)
    loss = (y * y).sum() + y[1:].sum()
    work, seen = [loss.grad_fn], set()
    while work:
        node = work.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        assert not getattr(node, "stale", None), type(node).__name__
        work.extend(e[0] for e in getattr(node, "edges", ()))
    assert len(seen) > 5


def _deep_graph(lib, x, w, depth):
    """A chain with residual connections that reach back across many ops, a leaf used all
    along it, and a multi-output op (unbind) whose outputs are used at different depths."""
    y, skip = x, x
    for i in range(depth):
        if i % 17 == 0:
            y, skip = (y + skip) * 0.5, y
        # (kept near magnitude 1, so that float64 rounding stays far under the tolerance)
        y = (y * w).sin() * 0.5 + y * 0.5 if i % 3 == 0 else y * 0.999 + 0.001
    a, b = y.reshape(2, 8).unbind(0)
    for _ in range(5):
        a = a.tanh()
    return (a * b).sum() + skip.sum()


@pytest.fixture
def small_segments(monkeypatch):
    """Small limits, so that a graph of a hundred ops exercises the segmented backward
    without the compile time of thousands (the logic does not depend on the sizes)."""
    monkeypatch.setattr(engine, "FUSE_LIMIT", 60)
    monkeypatch.setattr(engine, "SEGMENT", 25)


def test_a_graph_past_the_fuse_limit_runs_in_fused_segments(small_segments):
    """A graph larger than engine.FUSE_LIMIT is replayed as fused vjps over segments of
    engine.SEGMENT nodes, not node by node; gradients crossing segments (residuals, a leaf
    used throughout, a multi-output op) are PyTorch's, and a repeated graph of the same
    structure compiles nothing new."""
    rng = np.random.default_rng(0)
    data = [rng.standard_normal(16) for _ in range(2)]
    depth = 2 * engine.FUSE_LIMIT // 3          # about 1.5 nodes per step: past the limit

    def grads(lib):
        x, w = (lib.tensor(d, requires_grad=True) for d in data)
        _deep_graph(lib, x, w, depth).backward()
        return x.grad, w.grad

    expected = grads(torch)
    grads(torchlike)                                     # first time: compiles
    before = (engine.stats.node_calls, engine.stats.fused_calls, engine.stats.fused_traces)
    got = grads(torchlike)
    assert engine.stats.node_calls == before[0]
    segments = engine.stats.fused_calls - before[1]
    assert segments >= 3                                  # it really was split
    assert engine.stats.fused_traces == before[2]        # nothing traced the second time
    for g, e in zip(got, expected):
        # float64: a few hundred roundings per path, far under 1e-9 relative
        np.testing.assert_allclose(np.asarray(g), e.numpy(), rtol=1e-9, atol=1e-12)


def test_autograd_grad_of_a_large_graph_takes_only_the_asked_inputs(small_segments):
    rng = np.random.default_rng(1)
    data = [rng.standard_normal(16) for _ in range(2)]
    depth = engine.FUSE_LIMIT

    def grad_of_w(lib):
        x, w = (lib.tensor(d, requires_grad=True) for d in data)
        (gw,) = lib.autograd.grad(_deep_graph(lib, x, w, depth), [w])
        return gw, x.grad, w.grad

    gw, xg, wg = grad_of_w(torchlike)
    tgw, _, _ = grad_of_w(torch)
    assert xg is None and wg is None                      # nothing accumulated
    np.testing.assert_allclose(np.asarray(gw), tgw.numpy(), rtol=1e-9, atol=1e-12)


def test_a_first_step_compiles_nothing_the_second_step_compiles_again():
    """A model's parameters are still pending (their initialization) at the first
    backward; the next step's are computed. The first backward computes them on their
    own, so the backward compiled then serves the second step too: one fused trace over
    two steps, not one per step."""
    model = torchlike.nn.Sequential(torchlike.nn.Linear(7, 5), torchlike.nn.Tanh(),
                                    torchlike.nn.Linear(5, 3))
    opt = torchlike.optim.Adam(model.parameters(), lr=0.1)
    x = torchlike.randn(4, 7)
    traces = engine.stats.fused_traces
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert engine.stats.fused_traces == traces + 1
    assert losses[2] < losses[0]                 # the steps did train


def test_zeros_ones_and_missing_grads_compile_nothing():
    """Constants of a new shape are filled on the host (an XLA compile per shape costs
    10-30 ms on CPU): a first backward's implicit ones and the zeros standing for
    missing .grads, and torch.zeros/ones/empty/full themselves."""
    compiles = _caches.compiles.total
    shape = (3, 1, 7, 2, 5)                      # a shape no other test uses
    z, o, f = torchlike.zeros(shape), torchlike.ones(shape), torchlike.full(shape, 2.5)
    e = torchlike.empty(shape, dtype=torchlike.float64)
    assert _caches.compiles.total == compiles
    assert (z.tolist(), o.tolist(), f.tolist(), tuple(e.shape), str(e.dtype)) == (
        torch.zeros(shape).tolist(), torch.ones(shape).tolist(), torch.full(shape, 2.5).tolist(),
        shape, str(torch.float64))
    w = torchlike.ones(2, 9, 4, requires_grad=True)
    compiles = _caches.compiles.total
    (w * 3).sum().backward()                 # compiles the backward, and nothing else
    assert _caches.compiles.total == compiles + 1
    assert w.grad.tolist() == torch.full((2, 9, 4), 3.0).tolist()


def test_reading_the_rows_of_a_pending_tensor_one_by_one_is_one_program():
    """Iterating a tensor is `unbind` (PyTorch's __iter__): reading one row computes the
    others it holds in the same call, so a loop over `int(i) for i in idx` compiles one
    program, not one per row."""
    idx = torchlike.randint(0, 100, (12,))
    expected = np.asarray(idx).tolist()
    pending = idx * 1                               # a pending value to iterate
    before = _lazy.stats.materializations
    assert [int(i) for i in pending] == expected
    assert _lazy.stats.materializations == before + 1


# -- the plain backward's one-walk path (engine._run_plain) ---------------------------------
def _graphs_of_one_shape(lib):
    """Five backward graphs whose nodes all have the same ops and shapes but are wired
    differently (a node used twice or made twice; one leaf or two; equal or different
    numbers; a leaf read before and after an in-place write): a key that ignored the
    wiring would hand one graph another's compiled program."""
    def fresh():
        return lib.ones(3, requires_grad=True), lib.full((3,), 2.0, requires_grad=True)

    def made_twice(x, w):
        return ((x + 2) * (x + 2)).sum(), (x,)

    def used_twice(x, w):
        y = x + 2
        return (y * y).sum(), (x,)

    def two_leaves(x, w):              # (written_between's program, but two leaves)
        return ((x + 1) * w).sum(), (x, w)

    def other_number(x, w):
        return ((x + 2) * (x + 3)).sum(), (x,)

    def written_between(x, w):
        y = x + 1                      # reads x before the write (add saves nothing)
        with lib.no_grad():
            x.mul_(3)
        return (y * x).sum(), (x,)     # ... and after it: two values of one leaf
    return [(f, fresh) for f in (made_twice, used_twice, two_leaves, other_number,
                                 written_between)]


def test_graphs_of_one_shape_but_other_wiring_do_not_share_a_program():
    ours, theirs = _graphs_of_one_shape(torchlike), _graphs_of_one_shape(torch)
    for _ in range(2):                 # the second round finds every program cached
        for (graph, fresh), (t_graph, t_fresh) in zip(ours, theirs):
            loss, leaves = graph(*fresh())
            t_loss, t_leaves = t_graph(*t_fresh())
            loss.backward()
            t_loss.backward()
            assert loss.item() == t_loss.item(), graph.__name__   # exact small integers
            for leaf, t_leaf in zip(leaves, t_leaves):
                assert leaf.grad.tolist() == t_leaf.grad.tolist(), graph.__name__


def _step_variants(lib):
    """One graph run in turn plainly, with a hook on an intermediate, with retain_graph
    (then a second backward), with create_graph (then a gradient of the gradient),
    through freed saved tensors, and with no roots at all: each step after the first finds the plain step's
    program cached and must still take the path its options ask for."""
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    seen = []

    def graph():
        h = x * x
        return h, (h * 3).sum()

    def plain():
        return graph()[1].backward()

    def hooked():
        h, loss = graph()
        h.register_hook(lambda g: g * 2)
        loss.backward()

    def retained():
        loss = graph()[1]
        loss.backward(retain_graph=True)
        loss.backward()

    def higher_order():
        (g,) = lib.autograd.grad(graph()[1], x, create_graph=True)
        g.sum().backward()

    def freed():
        loss = graph()[1]
        loss.backward()
        try:
            loss.backward()
        except RuntimeError as e:
            seen.append(str(e))
    def no_roots():
        lib.autograd.backward([])      # (nothing to do, in both)
    for step in (plain, hooked, plain, retained, plain, higher_order, plain, freed, no_roots,
                 plain):
        step()
        seen.append(x.grad.tolist())
    return seen


def test_a_step_that_changes_hooks_retain_graph_or_create_graph_takes_the_right_path():
    assert _step_variants(torchlike) == _step_variants(torch)   # (exact small integers)


def _transposed_input_step(lib, x, w, pointwise, scale=2):
    """x.t() * scale is a pending input of the graph at every step (x records no
    history); with scale None, the view x.t() alone."""
    w.grad = None
    xt = x.t() if scale is None else x.t() * scale
    loss = getattr(xt @ w, pointwise)().sum()
    loss.backward()
    return loss


def test_a_permuted_input_joins_the_graph_from_its_first_sight():
    """A pending input made by views alone (an input transposed, as MultiheadAttention
    transposes sequence-first inputs) is made anew at every step: the first sight
    compiles the graph with it inside, so the second step compiles nothing and is one
    call (an input computed on its own first would have compiled the graph twice)."""
    a, b = (np.random.default_rng(2).standard_normal(s).astype(np.float32)
            for s in ((6, 7), (6, 3)))
    x, w = torchlike.tensor(a), torchlike.tensor(b, requires_grad=True)
    tx, tw = torch.tensor(a), torch.tensor(b, requires_grad=True)
    expected = _transposed_input_step(torch, tx, tw, "tanh", None).item()
    _transposed_input_step(torchlike, x, w, "tanh", None)
    before = _step_counts()
    loss = _transposed_input_step(torchlike, x, w, "tanh", None)
    assert _step_counts() == (before[0], before[1], before[2] + 1)
    # float32 roundings: 6-term dots, tanh (an ulp each library), the 21-term sum, whose
    # terms are at most 1 in magnitude
    np.testing.assert_allclose(loss.item(), expected, **float_tol(torch.float32, 6 + 2 + 21, 21))
    np.testing.assert_allclose(np.asarray(w.grad), tw.grad.numpy(),
                               **float_tol(torch.float32, 6 + 2 + 1 + 7, np.abs(a).sum(1).max()))


def _step_counts():
    return (_caches.compiles.total, _lazy.stats.materializations, engine.stats.fused_calls)


@pytest.mark.parametrize("job_fails", [False, True])
def test_a_graph_slow_to_compile_takes_its_pending_inputs_in_on_a_worker_thread(
        monkeypatch, job_fails):
    """Seen again with a pending input, a graph whose first compile was slow does not
    wait for the program that computes that input inside it: the step computes it on
    its own while the worker compiles; once that is done, a step is one call that
    compiles nothing. A job that fails leaves the steps split, with the same numbers."""
    from torchlike import _background
    monkeypatch.setattr(engine, "BACKGROUND_COMPILE_SECONDS", 0.0)   # every compile is slow
    if job_fails:
        def fail(jitted, args):
            raise RuntimeError("compile failed")
        monkeypatch.setattr(_background, "_compile", fail)
    pointwise = "cos" if job_fails else "sin"      # (a graph per case: its own programs)
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in ((5, 7), (5, 3)))
    x, w = torchlike.tensor(a), torchlike.tensor(b, requires_grad=True)
    tx, tw = torch.tensor(a), torch.tensor(b, requires_grad=True)
    expected_loss = _transposed_input_step(torch, tx, tw, pointwise).item()
    _transposed_input_step(torchlike, x, w, pointwise)          # first sight: the input on its own
    before = _step_counts()
    _transposed_input_step(torchlike, x, w, pointwise)          # seen again: the worker starts
    after = _step_counts()
    assert after[1:] == (before[1] + 1, before[2] + 1)   # split: the input, then the graph
    _background.wait()
    before = _step_counts()
    loss = _transposed_input_step(torchlike, x, w, pointwise)
    after = _step_counts()
    assert after[0] == before[0]                         # nothing compiled on this thread
    assert after[1:] == (before[1] + job_fails, before[2] + 1)
    # float32 roundings on a path: the 5-term dots, sin or cos (each library's within an
    # ulp: 2), then the loss's 21-term sum, or the gradient's product and 7-term sums;
    # the sums may cancel, so the scale is the sum of their terms' magnitudes
    terms = getattr(tx.t() @ tw, pointwise)().abs().sum().item()
    np.testing.assert_allclose(loss.item(), expected_loss,
                               **float_tol(torch.float32, 5 + 2 + 21, terms))
    grad_terms = (tx.abs().sum(1).max()).item()     # |x| times a derivative of at most 1
    np.testing.assert_allclose(np.asarray(w.grad), tw.grad.numpy(),
                               **float_tol(torch.float32, 5 + 2 + 1 + 7, grad_terms))
