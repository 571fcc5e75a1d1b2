"""torchlike.compile against eager torchlike and real torch (issue 10).

A compiled function must give the eager function's numbers; where PyTorch's compiled
behaviour is visible (errors, module wrapping, node names) it is compared with torch.
Values are compared with eager torch: torch.compile itself would need a C++ toolchain
for inductor, and its results equal eager torch's within rounding by design.
"""
import warnings

import numpy as np
import pytest

import torchlike
from helpers import float_tol, normwise_tol, to_numpy

torch = pytest.importorskip("torch")

# Tolerances (helpers.py's rules): one pass of the small MLP below, forward and backward,
# puts ~64 roundings on an element's path (dot products of 4 and 8 terms, tanh, a mean of
# 32 squares, and the same again backward); a training step adds a few for the update.
# The compiled program and the eager step round differently only where XLA fuses
# differently, so the same counts bound both comparisons.
PASS = 64


def step_tol(steps):
    """Losses after `steps` training steps (positive terms: no cancellation)."""
    return float_tol("float32", steps=PASS * steps)


def _mlp(lib, dropout=0.0, batchnorm=False):
    lib.manual_seed(0)
    nn = lib.nn
    layers = [nn.Linear(4, 8)]
    if batchnorm:
        layers.append(nn.BatchNorm1d(8))
    layers += [nn.Tanh(), nn.Dropout(dropout), nn.Linear(8, 2)]
    return nn.Sequential(*layers)


def _copy_weights(src, dst):
    with torch.no_grad():
        for (name, p), q in zip(src.state_dict().items(), dst.state_dict().values()):
            q.copy_(torch.tensor(np.asarray(to_numpy(p))))


def _training(lib, model, opt_name, compiled, steps=5):
    opt = (lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if opt_name == "sgd"
           else lib.optim.AdamW(model.parameters(), lr=0.01))
    x = lib.tensor(np.linspace(-1, 1, 64, dtype=np.float32).reshape(16, 4))
    y = lib.tensor(np.linspace(1, -1, 32, dtype=np.float32).reshape(16, 2))

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    f = lib.compile(step) if compiled else step
    losses = [f(x, y).item() for _ in range(steps)]
    return losses, f


@pytest.mark.parametrize("opt_name", ["sgd", "adamw"])
def test_training_step_matches_eager_and_torch(opt_name):
    eager_model, compiled_model = _mlp(torchlike), _mlp(torchlike)
    torch_model = _mlp(torch)
    _copy_weights(eager_model, torch_model)
    eager, _ = _training(torchlike, eager_model, opt_name, compiled=False)
    compiled, f = _training(torchlike, compiled_model, opt_name, compiled=True)
    reference, _ = _training(torch, torch_model, opt_name, compiled=False)
    # float32 steps: a few roundings apart at most (XLA fuses differently inside one
    # program than across the eager step's calls)
    np.testing.assert_allclose(compiled, eager, **step_tol(5))
    np.testing.assert_allclose(compiled, reference, **step_tol(5))
    for a, b in zip(compiled_model.parameters(), torch_model.parameters()):
        want = b.detach().numpy()    # (updates cancel: relative to the largest weight)
        np.testing.assert_allclose(to_numpy(a), want, **normwise_tol("float32", PASS * 5, want))
    # one trace and one XLA program for every call: the first trace takes the optimizer
    # state as the first step makes it (first_step.py) and the `.grad`s as placeholders
    # (first_grads.py), so the second call finds the first call's guard
    assert len(f.entries) == 1 and len(f.programs) == 1


def test_batchnorm_buffers_and_dropout_match_eager():
    results = []
    for compiled in (False, True):
        model = _mlp(torchlike, dropout=0.5, batchnorm=True)
        # (SGD: Adam's first steps divide by sqrt of tiny second moments, which turns the
        # rounding differences of a fused program into visible ones)
        losses, _ = _training(torchlike, model, "sgd", compiled)
        results.append((losses, to_numpy(model[1].running_mean),
                        int(model[1].num_batches_tracked), torchlike.default_generator._counter))
    (l0, m0, n0, c0), (l1, m1, n1, c1) = results
    np.testing.assert_allclose(l1, l0, **step_tol(5))
    np.testing.assert_allclose(m1, m0, **normwise_tol("float32", PASS * 5, m0))
    assert n1 == n0 == 5
    assert c1 == c0          # the same draws: dropout masks equal eager ones


def test_compiled_module_joins_autograd_graph():
    model = _mlp(torchlike)
    torch_model = _mlp(torch)
    _copy_weights(model, torch_model)
    compiled = torchlike.compile(model)
    x_np = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    x = torchlike.tensor(x_np, requires_grad=True)
    out = compiled(x)
    # PyTorch's node for a compiled region's results (inductor + AOTAutograd)
    assert type(out.grad_fn).__name__ == "CompiledFunctionBackward"
    (out ** 2).sum().backward()
    tx = torch.tensor(x_np, requires_grad=True)
    (torch_model(tx) ** 2).sum().backward()
    want = tx.grad.numpy()
    np.testing.assert_allclose(to_numpy(x.grad), want, **normwise_tol("float32", PASS, want))
    for a, b in zip(model.parameters(), torch_model.parameters()):
        want = b.grad.numpy()
        np.testing.assert_allclose(to_numpy(a.grad), want, **normwise_tol("float32", PASS, want))
    torch_compiled = torch.compile(torch_model)
    assert type(compiled).__name__ == type(torch_compiled).__name__ == "OptimizedModule"
    assert list(compiled.state_dict()) == list(torch_compiled.state_dict())
    assert compiled._orig_mod is model


def test_second_backward_through_a_consumed_graph_raises_torchs_error():
    model = _mlp(torchlike)

    @torchlike.compile
    def step(x):
        loss = model(x).sum()
        loss.backward()
        return loss
    loss = step(torchlike.ones(2, 4))
    assert type(loss.grad_fn).__name__ == "CompiledFunctionBackward"
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
        loss.backward()


def _branchy(lib):
    def f(x):
        if x.sum() > 0:
            return x * 2
        return x - 1
    return f


def test_graph_break_gives_the_right_answer_and_counts():
    counters = torchlike._dynamo.utils.counters
    counters.clear()
    f = torchlike.compile(_branchy(torchlike))
    g = _branchy(torch)
    for values in ([1.0, 2.0], [-1.0, -3.0]):
        np.testing.assert_array_equal(to_numpy(f(torchlike.tensor(values))),
                                      g(torch.tensor(values)).numpy())
    # one break, noted once: the guard (shape, dtype) is the same for both calls
    assert dict(counters["graph_break"]) == {"Data-dependent branching": 1}


def _break_cases(lib):
    @lib.compiler.disable
    def on_host(x):
        return x + 1

    def branch(x):
        if x.sum() > 0:
            return x * 2
        return x

    def tolist(x):
        return x * len(x.tolist())

    def disabled(x):
        return on_host(x) * 2
    return [branch, tolist, disabled]


def test_fullgraph_names_the_break_and_its_line_as_torch():
    """fullgraph=True: torch._dynamo.exc.Unsupported, PyTorch's first line for the kind
    of break, and the user's file, line and source."""
    for ours, theirs in zip(_break_cases(torchlike), _break_cases(torch)):
        with pytest.raises(torchlike._dynamo.exc.Unsupported) as got:
            torchlike.compile(ours, fullgraph=True)(torchlike.ones(2))
        with pytest.raises(torch._dynamo.exc.Unsupported) as want:
            torch.compile(theirs, fullgraph=True, backend="eager")(torch.ones(2))
        first = str(want.value).splitlines()[0].replace("torch.", "torchlike.")
        assert str(got.value).splitlines()[0] == first
        assert f"line {ours.__code__.co_firstlineno + 1}, in {ours.__name__}" in str(got.value)
    # (.item() is no break with fullgraph=True: test_compile_item.py)


def test_graph_break_in_a_training_step_gives_the_eager_losses():
    def run(compiled):
        model = _mlp(torchlike)
        opt = torchlike.optim.SGD(model.parameters(), lr=0.1)
        x = torchlike.ones(4, 4)
        seen = []

        def step():
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            seen.append(loss.item())          # the break: a value needed on the host
            loss.backward()
            opt.step()
            return loss
        f = torchlike.compile(step) if compiled else step
        return [f().item() for _ in range(3)], seen
    assert run(True) == run(False)


def test_recompile_limit_logs_once_then_runs_eagerly(caplog):
    f = torchlike.compile(lambda x: x * 2, dynamic=False)
    with caplog.at_level("WARNING", logger="torchlike._dynamo"):
        outs = [f(torchlike.ones(n)) for n in range(1, 12)]
    assert len(f.entries) == torchlike._dynamo.config.recompile_limit == 8
    # PyTorch logs (torch._dynamo's logger, not warnings) "torch._dynamo hit
    # config.recompile_limit (8)" once, at the 9th shape, with dynamic=False
    messages = [r.getMessage() for r in caplog.records if "recompile_limit" in r.getMessage()]
    assert len(messages) == 1 and "hit config.recompile_limit (8)" in messages[0]
    assert [o.tolist() for o in outs] == [[2.0] * n for n in range(1, 12)]


@pytest.mark.parametrize("dynamic", [None, True])
def test_dynamic_shapes_trace_per_shape_without_hitting_the_limit(dynamic, caplog):
    """PyTorch marks a changing size dynamic and compiles once more; XLA compiles static
    shapes, so each new shape traces its own program, but none counts against the limit
    (only guards that differ in more than sizes do). (A limit of 2 keeps this short.)"""
    f = torchlike.compile(lambda x: x.sum(0) * 2, dynamic=dynamic, recompile_limit=2)
    with caplog.at_level("WARNING", logger="torchlike._dynamo"):
        for n in range(1, 5):
            got = f(torchlike.ones(n, 3))
            np.testing.assert_array_equal(to_numpy(got), torch.ones(n, 3).sum(0).numpy() * 2)
        assert not [r for r in caplog.records if "recompile_limit" in r.getMessage()]
        assert len(f.entries) == 4 and len(f.families) == 1
        f(torchlike.ones(2, 3, dtype=torchlike.float64))     # a new dtype: a second family
        assert len(f.families) == 2
        f(torchlike.ones(2, 3, dtype=torchlike.int32))       # a third: over the limit
        assert len(f.families) == 2
    assert len([r for r in caplog.records if "recompile_limit (2)" in r.getMessage()]) == 1


def test_python_side_effects_replay_on_every_call():
    calls = {"n": 0}
    model = _mlp(torchlike)

    def f(x):
        calls["n"] += 1
        model.steps = getattr(model, "steps", 0)
        return model(x)
    compiled = torchlike.compile(f)
    for _ in range(4):
        compiled(torchlike.ones(1, 4))
    # the dict is reached through the closure: its counter is state, replayed per call
    assert calls["n"] == 4


def test_bad_arguments_match_torch():
    cases = [dict(backend="nope"), dict(mode="fastest"), dict(mode="default", options={})]
    for kwargs in cases:
        with pytest.raises(Exception) as ours:
            torchlike.compile(lambda x: x, **kwargs)
        with pytest.raises(Exception) as theirs:
            torch.compile(lambda x: x, **kwargs)
        assert type(ours.value).__name__ == type(theirs.value).__name__
        assert str(ours.value).replace("torchlike", "torch") == str(theirs.value)
    with pytest.raises(AssertionError) as ours:
        torchlike.compile(3)
    with pytest.raises(AssertionError) as theirs:
        torch.compile(3)
    assert str(ours.value) == str(theirs.value)


def test_signature_matches_torch():
    import inspect
    ours = inspect.signature(torchlike.compile).parameters
    theirs = inspect.signature(torch.compile).parameters
    assert [(p.name, p.kind, p.default) for p in ours.values()] == \
        [(p.name, p.kind, p.default) for p in theirs.values()]
    with pytest.raises(TypeError) as got:
        torchlike.compile(lambda x: x, nonsense=1)
    with pytest.raises(TypeError) as want:
        torch.compile(lambda x: x, nonsense=1)
    assert str(got.value) == str(want.value)


def _scaled(lib):
    def f(x, scale, shift=0):
        return x * scale + shift
    return f


def test_python_arguments_and_grad_mode_are_guards():
    f, g = torchlike.compile(_scaled(torchlike)), _scaled(torch)
    values = np.linspace(-1, 1, 6, dtype=np.float32)
    x, tx = torchlike.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    for scale, shift in ((2.0, 0), (3.0, 0), (3.0, 1)):
        got, want = f(x, scale, shift=shift), g(tx, scale, shift=shift)
        np.testing.assert_array_equal(to_numpy(got), want.detach().numpy())
        assert got.requires_grad == want.requires_grad
    assert len(f.entries) == 3          # each Python value traced its own program
    with torchlike.no_grad():
        got = f(x, 3.0, shift=1)
    with torch.no_grad():
        want = g(tx, 3.0, shift=1)
    assert got.requires_grad == want.requires_grad == False      # noqa: E712
    assert len(f.entries) == 4          # grad mode is part of the guard


def test_decorator_forms_disable_and_is_compiling():
    seen = []

    @torchlike.compile
    def bare(x):
        seen.append(torchlike.compiler.is_compiling())
        return x + 1

    @torchlike.compile(fullgraph=True, mode="max-autotune")
    def with_args(x):
        return x * 3

    @torchlike.compiler.disable
    def on_host(x):
        return x.sum().item()

    uses_host = torchlike.compile(lambda x: x * on_host(x))
    assert bare(torchlike.ones(2)).tolist() == [2.0, 2.0]
    assert seen == [True]            # traced once; the trace saw is_compiling()
    assert with_args(torchlike.ones(2)).tolist() == [3.0, 3.0]
    assert uses_host(torchlike.ones(3)).tolist() == [3.0, 3.0, 3.0]
    assert not torchlike.compiler.is_compiling()
    assert torchlike.compile(bare.fn, disable=True) is bare.fn


def test_module_compile_in_place_and_eager_afterwards():
    model = _mlp(torchlike)
    x = torchlike.ones(2, 4)
    expected = model(x).tolist()
    model.compile()
    np.testing.assert_allclose(model(x).tolist(), expected, **step_tol(1))
    assert model.__dict__["_compiled_call_impl"].entries
    # nothing of the traces leaks into eager code
    assert (torchlike.ones(2) * 2).tolist() == [2.0, 2.0]


def test_values_held_elsewhere_are_not_donated():
    model = _mlp(torchlike)
    opt = torchlike.optim.SGD(model.parameters(), lr=0.5)
    x = torchlike.ones(3, 4)

    @torchlike.compile
    def step():
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()

    step()
    step()
    weight = model[0].weight
    before = weight.clone()
    doubled = weight * 2          # may still be pending: it holds the weight's array
    alias = weight.detach()       # shares the storage: sees the update, as in PyTorch
    step()
    np.testing.assert_array_equal(to_numpy(doubled), to_numpy(before) * 2)
    np.testing.assert_array_equal(to_numpy(alias), to_numpy(weight))
    assert not np.array_equal(to_numpy(weight), to_numpy(before))


def _scheduled(lib, compiled, tensor_lr, scheduler_inside):
    model = lib.nn.Linear(3, 1)
    with lib.no_grad():     # the same start in both libraries
        model.weight.copy_(lib.tensor([[0.1, -0.2, 0.3]]))
        model.bias.fill_(0.05)
    lr = lib.tensor(0.1) if tensor_lr else 0.1
    opt = lib.optim.Adam(model.parameters(), lr=lr)
    sched = lib.optim.lr_scheduler.ExponentialLR(opt, 0.5)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).sum()
        loss.backward()
        opt.step()
        return loss

    # (the scheduler is part of the function's state only where the function names it:
    # every Python value reachable is guarded, its last_epoch too)
    def step_and_schedule(x):
        loss = step(x)
        sched.step()
        return loss
    body = step_and_schedule if scheduler_inside else step
    f = lib.compile(body) if compiled else body
    losses = []
    for _ in range(5):
        losses.append(f(lib.ones(2, 3)).item())
        if not scheduler_inside:
            sched.step()
    return losses, f


def test_tensor_lr_is_a_traced_input():
    eager, _ = _scheduled(torchlike, False, tensor_lr=True, scheduler_inside=False)
    compiled, f = _scheduled(torchlike, True, tensor_lr=True, scheduler_inside=False)
    reference, _ = _scheduled(torch, False, tensor_lr=True, scheduler_inside=False)
    np.testing.assert_allclose(compiled, eager, **step_tol(5))
    np.testing.assert_allclose(compiled, reference, **step_tol(5))
    # the scheduler's new lr does not retrace: one program (for two guards, the first
    # call's without `.grad`s and the later calls')
    assert len(f.programs) == 1


def test_scheduler_inside_replays_its_python_state():
    eager, _ = _scheduled(torchlike, False, tensor_lr=False, scheduler_inside=True)
    compiled, f = _scheduled(torchlike, True, tensor_lr=False, scheduler_inside=True)
    reference, _ = _scheduled(torch, False, tensor_lr=False, scheduler_inside=True)
    np.testing.assert_allclose(compiled, eager, **step_tol(5))
    np.testing.assert_allclose(compiled, reference, **step_tol(5))
    # a float lr is a guard (as in PyTorch): each new value traces anew
    assert len(f.entries) >= 3


def _clipped(lib, compile_):
    lib.manual_seed(0)
    model = _mlp(lib)
    opt = lib.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).sum()
        loss.backward()
        norm = lib.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        return loss, norm
    return model, (compile_(step) if compile_ else step)


def test_clip_grad_norm_inside_a_full_graph_matches_torch():
    model, step = _clipped(torchlike, lambda f: torchlike.compile(f, fullgraph=True))
    torch_model, torch_step = _clipped(torch, None)
    _copy_weights(model, torch_model)
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    for _ in range(3):
        (loss, norm), (t_loss, t_norm) = step(torchlike.tensor(x)), torch_step(torch.tensor(x))
        np.testing.assert_allclose([loss.item(), norm.item()], [t_loss.item(), t_norm.item()],
                                   **step_tol(3))


def test_non_leaf_argument_and_module_mode_changes():
    """A non-leaf argument gets no .grad warning (the compiled call reads its grad slot
    internally; torch.compile warns nothing either), and module.training is a guard."""
    model = _mlp(torchlike)
    f = torchlike.compile(lambda x: model(x) * (2 if model.training else 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = torchlike.ones(2, 4, requires_grad=True) * 1
        train = f(x)
        model.eval()
        evaluated = f(x)
    np.testing.assert_allclose(to_numpy(evaluated), to_numpy(train) * 1.5, **step_tol(1))
    assert len(f.entries) == 2


def test_first_call_compiles_the_pending_state_and_the_step_only():
    """A first call compiles no per-op or per-shape pieces before its program: the
    state's pending values (here the fresh parameters) are one program, the step one."""
    torchlike.manual_seed(0)
    nn = torchlike.nn
    model = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))    # shapes new here
    opt = torchlike.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = torchlike.randn(6, 5), torchlike.randint(0, 3, (6,))

    def step():
        opt.zero_grad()
        loss = torchlike.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    compiled = torchlike.compile(step)
    before = torchlike._caches.compiles.total
    compiled()
    assert torchlike._caches.compiles.total - before <= 2


def test_a_concrete_graph_inside_a_compiled_function_compiles_in_one_program():
    """A leaf made inside the compiled function is concrete, so its graph is evaluated
    at trace time (constant folding). The folded ops go pending and compute as one
    program when backward() reads them, and the backward nodes of constants are staged
    into the function's program: at most 3 compiles (the pending forward, a shape
    evaluation of the mean, the program), where folding op by op and vjp by vjp
    compiled 11. The gradient is PyTorch's."""
    import torch

    def step(lib):
        x = lib.ones(3, 7, 2, requires_grad=True)      # a shape new to this process
        ((x + 2) * (x + 2) * 3).mean().backward()
        return x.grad
    before = torchlike._caches.compiles.total
    grad = torchlike.compile(lambda: step(torchlike))()
    assert torchlike._caches.compiles.total - before <= 3
    # 6 (x + 2) / 42 in float32: a product, a sum and a division, a few roundings of 6e-8
    np.testing.assert_allclose(to_numpy(grad), step(torch).numpy(), rtol=1e-6)


def test_python_control_flow_on_folded_values_stays_in_one_program():
    """Folded values stay concrete where Python reads them (`.item()`, `bool`, a
    shape from a value), so the branch is taken at trace time: one program, no graph
    break, PyTorch's values."""
    import torch

    def fn(lib, x):
        scale = lib.ones(4) * 3
        n = int(scale.sum().item())         # 12, read in Python
        if (scale > 2).all():
            x = x * scale.sum()
        return x.repeat(n // 6, 1) + lib.arange(n // 4)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    torchlike._dynamo.utils.counters.clear()
    compiled = torchlike.compile(lambda x: fn(torchlike, x), fullgraph=True)
    for _ in range(2):
        got = compiled(torchlike.tensor(x))
    np.testing.assert_array_equal(to_numpy(got), fn(torch, torch.tensor(x)).numpy())
    assert torchlike._dynamo.utils.counters["stats"]["unique_graphs"] == 1
    assert not torchlike._dynamo.utils.counters["graph_break"]


def test_the_garbage_collector_rests_while_a_new_guard_traces_only():
    """A trace makes many short-lived objects and each collection they trigger walks the
    whole heap, so the collector is paused while a new guard traces, lowers and compiles
    (_compile/compiled.py), and on again afterwards, even when the trace raises."""
    import gc
    seen = []

    def fn(x, fail):
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("boom")
        return x * 2
    compiled = torchlike.compile(fn)
    x = torchlike.ones(3)
    compiled(x, False)
    compiled(x, False)               # the same guard: not traced again
    assert seen == [False] and gc.isenabled()
    with pytest.raises(ValueError, match="boom"):
        compiled(x, True)            # a new guard (a Python argument) traces and raises
    assert seen == [False, False] and gc.isenabled()


def test_a_compiled_method_binds_to_its_instance_as_torchs():
    """@compile in a class body binds as a method (torch.compile returns a function):
    the instance comes first, its attributes are guarded like any other state, and a
    Module's compiled forward trains as its plain forward does."""
    def run(lib):
        class Scaled:
            def __init__(self):
                self.k = 3.0

            @lib.compile(**({"backend": "eager"} if lib is torch else {}))
            def apply(self, a):
                return a * self.k + 1

        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(3, 2)

            @lib.compile(**({"backend": "eager"} if lib is torch else {}))
            def forward(self, x):
                return self.lin(x).relu()

        s = Scaled()
        results = [s.apply(lib.ones(2)), s.apply(lib.arange(2.0))]
        s.k = 5.0
        results.append(s.apply(lib.ones(2)))
        net = Net()
        with lib.no_grad():
            net.lin.weight.copy_(lib.tensor([[1.0, -1.0, 0.5], [0.2, 0.3, -2.0]]))
            net.lin.bias.fill_(0.1)
        out = net(lib.arange(12.0).reshape(4, 3) / 10)
        out.sum().backward()
        return results + [out.detach(), net.lin.weight.grad, net.lin.bias.grad]
    # at most 8 roundings on an element's path (x's /10, three products and their sums,
    # the bias; a weight's gradient sums 4 rows), with terms up to |x| |w| <= 2.2 that may
    # cancel in the 3-term sum: scale 3 x 2.2
    tol = float_tol("float32", steps=8, scale=6.6)
    for got, want in zip(run(torchlike), run(torch)):
        np.testing.assert_allclose(to_numpy(got), want.numpy(), **tol)


def test_backend_list_and_exception_classes_are_torchs():
    assert torchlike._dynamo.list_backends() == torch._dynamo.list_backends()
    assert torchlike.compiler.list_backends() == torch.compiler.list_backends()
    for name in ("Unsupported", "InvalidBackend"):
        ours = getattr(torchlike._dynamo.exc, name)
        theirs = getattr(torch._dynamo.exc, name)
        assert [c.__name__ for c in ours.__mro__] == [c.__name__ for c in theirs.__mro__]
        assert issubclass(ours, torchlike._dynamo.exc.TorchDynamoException)
    with pytest.raises(Exception) as theirs:
        torch.compile(lambda a: a + 1, backend="nope")(torch.ones(2))
    with pytest.raises(torchlike._dynamo.exc.InvalidBackend) as ours:
        torchlike.compile(lambda a: a + 1, backend="nope")(torchlike.ones(2))
    assert str(ours.value) == str(theirs.value)


def _printed(lib, fullgraph, show_tensor, calls=3, branch=False):
    """What a compiled function that prints prints over `calls` calls, and its results
    (`branch`: a graph break after the print)."""
    import contextlib
    import io
    options = {"backend": "eager"} if lib is torch else {}

    @lib.compile(fullgraph=fullgraph, **options)
    def f(x):
        y = x * 2
        if show_tensor:
            print("inside, the sum is", y.sum())
        else:
            print("inside")
        if branch and y.sum() > 2:
            return y - 1
        return y + 1
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        results = [f(lib.ones(2) * i).tolist() for i in range(calls)]
    return out.getvalue(), results


@pytest.mark.parametrize("show_tensor", [True, False])
def test_print_inside_a_compiled_function_runs_at_every_call_as_torchs(show_tensor):
    """A print runs at every call, as PyTorch's does (a tensor's print is a graph break
    there, and here; Python values print without one), never once at trace time."""
    torch._dynamo.reset()       # (torch's cache is per code object: another test's entry)
    assert _printed(torchlike, False, show_tensor) == _printed(torch, False, show_tensor)


def test_a_print_before_a_graph_break_prints_once_a_call_as_torchs():
    """The split's prefix program does not print: the eager run after it does (the
    prefix printed too, so each call printed twice)."""
    torch._dynamo.reset()
    assert _printed(torchlike, False, False, branch=True) == \
        _printed(torch, False, False, branch=True)


@pytest.mark.parametrize("show_tensor", [True, False])
def test_print_with_fullgraph_raises_torchs_unsupported(show_tensor):
    torch._dynamo.reset()       # (torch's cache is per code object: another test's entry)
    with pytest.raises(torch._dynamo.exc.Unsupported) as theirs:
        _printed(torch, True, show_tensor)
    with pytest.raises(torchlike._dynamo.exc.Unsupported) as ours:
        _printed(torchlike, True, show_tensor)
    assert str(ours.value).splitlines()[0] == str(theirs.value).splitlines()[0]


def _dynamo_names(lib):
    def f(x):
        y = x * 2
        lib._dynamo.graph_break()
        return y + 1
    x = lib.ones(3, 4)
    marks = [lib._dynamo.mark_dynamic(x, 0), lib._dynamo.maybe_mark_dynamic(x, 1),
             lib._dynamo.mark_static(x, 0)]
    compiled = lib.compile(f, backend="eager") if lib is torch else lib.compile(f)
    module = lib.compile(lib.nn.Linear(2, 2))
    return [lib._dynamo.allow_in_graph(f) is f, lib._dynamo.disallow_in_graph(f) is f,
            lib._dynamo.assume_constant_result(f) is f, marks,
            to_numpy(compiled(x)).tolist(), to_numpy(compiled(lib.ones(5, 4))).tolist(),
            to_numpy(lib._dynamo.optimize("eager")(f)(lib.ones(2))).tolist(),
            lib._dynamo.is_compiling(), lib.compiler.cudagraph_mark_step_begin(),
            isinstance(module, lib._dynamo.eval_frame.OptimizedModule),
            isinstance(module, lib._dynamo.OptimizedModule), list(module.state_dict())]


def test_dynamo_names_scripts_use_as_torch():
    """isinstance(model, torch._dynamo.eval_frame.OptimizedModule) (to reach _orig_mod),
    the dynamic/static hints, graph_break and the older optimize() spelling."""
    assert _dynamo_names(torchlike) == _dynamo_names(torch)


def _logging_step(lib):
    import logging
    log = logging.getLogger("test_compile.logging_step")

    def f(x):
        log.warning("calls so far: %d", 3)
        log.debug("below the level: not logged, no break")
        return x * 2
    return f


def test_logging_inside_logs_at_every_call_as_torchs(caplog):
    """A logging call that makes a record is a graph break, as PyTorch's (its reason
    counted): the record is made at every call, not once when the function is traced."""
    seen = {}
    for lib in (torch, torchlike):
        lib._dynamo.utils.counters.clear()
        options = {"backend": "eager"} if lib is torch else {}
        f = lib.compile(_logging_step(lib), **options)
        caplog.clear()
        results = [f(lib.ones(2)).tolist() for _ in range(3)]
        seen[lib] = (results, [r.getMessage() for r in caplog.records
                               if r.name == "test_compile.logging_step"],
                     {k.splitlines()[0] for k in lib._dynamo.utils.counters["graph_break"]})
    assert seen[torchlike] == seen[torch]
    assert len(seen[torch][1]) == 3


def _train_compiled_model(lib, model, steps=4, compiled=True):
    """PyTorch's usual recipe: the model compiled, the training loop eager."""
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    compiled = model if not compiled else lib.compile(model, backend="aot_eager") \
        if lib is torch else lib.compile(model)
    x = lib.tensor(np.linspace(-1, 1, 64, dtype=np.float32).reshape(16, 4))
    y = lib.tensor(np.linspace(1, -1, 32, dtype=np.float32).reshape(16, 2))
    losses, names, compiles = [], set(), []
    for _ in range(steps):
        before = torchlike._caches.compiles.total
        opt.zero_grad()
        out = compiled(x)
        names.add(type(out.grad_fn).__name__)
        loss = ((out - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        compiles.append(torchlike._caches.compiles.total - before)
    _train_compiled_model.compiles = compiles       # (torchlike's XLA compiles per step)
    return losses, names


@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_compiled_model_in_an_eager_loop_fuses_its_backward(dropout):
    """A compiled forward that writes no state is one pending op of the eager engine:
    the step's backward is one fused program (the forward was a second program and the
    backward ran node by node, slower than eager). Its losses are eager torch's; with
    dropout, whose draws are torchlike's own, the eager torchlike model's."""
    from torchlike.autograd import engine
    model, torch_model = _mlp(torchlike, dropout), _mlp(torch, dropout)
    _copy_weights(model, torch_model)
    fused = engine.stats.fused_calls
    ours, names = _train_compiled_model(torchlike, model)
    fused = engine.stats.fused_calls - fused
    assert names == {"CompiledFunctionBackward"}
    assert fused == 4                   # one fused backward a step
    # the step repeats from the second on: no trace, no compile (dropout's counters are
    # program inputs, not constants)
    assert _train_compiled_model.compiles[1:] == [0, 0, 0], _train_compiled_model.compiles
    if dropout:     # (_mlp seeds: the same weights, then the same generator state)
        eager, _ = _train_compiled_model(torchlike, _mlp(torchlike, dropout), compiled=False)
        np.testing.assert_allclose(ours, eager, **step_tol(4))
        return
    theirs, torch_names = _train_compiled_model(torch, torch_model)
    assert torch_names == names
    np.testing.assert_allclose(ours, theirs, **step_tol(4))


def test_compiled_batchnorm_model_in_an_eager_loop_fuses_and_updates_its_buffers():
    """A compiled forward whose only writes are BatchNorm's buffers (running statistics,
    num_batches_tracked) is one pending op too: its new buffers are outputs of the op,
    computed by the step's fused backward with the forward (it ran as a program of its own
    whose backward ran the forward again, and the loss's nodes one by one: slower than
    eager). Losses and buffers are torch's; after the backward no buffer is pending."""
    from torchlike._lazy import Deferred
    from torchlike.autograd import engine
    model, torch_model = _mlp(torchlike, batchnorm=True), _mlp(torch, batchnorm=True)
    _copy_weights(model, torch_model)
    fused = engine.stats.fused_calls
    ours, names = _train_compiled_model(torchlike, model)
    assert engine.stats.fused_calls - fused == 4        # one fused backward a step
    assert _train_compiled_model.compiles[1:] == [0, 0, 0], _train_compiled_model.compiles
    pending = [name for name, b in model.named_buffers()
               if type(b._storage.array) is Deferred and b._storage.array._value is None]
    assert pending == [], pending
    theirs, torch_names = _train_compiled_model(torch, torch_model)
    assert names == torch_names == {"CompiledFunctionBackward"}
    np.testing.assert_allclose(ours, theirs, **step_tol(4))
    for (name, b), tb in zip(model.named_buffers(), torch_model.buffers()):
        assert b.dtype == getattr(torchlike, str(tb.dtype).split(".")[1]), name
        np.testing.assert_allclose(to_numpy(b), tb.numpy(), **step_tol(4), err_msg=name)


def _no_grad_inside(lib, in_place):
    """A compiled function computing under no_grad, differentiated outside: a scale
    taken without gradient, or a weight clamped in place (a leaf keeps its identity:
    its gradient is that of its new value)."""
    w = lib.tensor(np.array([[0.5, -2.0, 3.0], [1.5, 0.25, -0.75]], np.float32),
                   requires_grad=True)
    x = lib.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))

    def f(x):
        with lib.no_grad():
            if in_place:
                w.clamp_(-1.0, 1.0)
                scale = 2.0
            else:
                scale = w.norm()
        return ((x @ w.t()) * scale).tanh().sum()
    compiled = lib.compile(f, backend="aot_eager") if lib is torch else lib.compile(f)
    losses = [compiled(x) for _ in range(2)]
    for loss in losses:
        loss.backward()
    return [loss.item() for loss in losses], w.grad, w.detach()


@pytest.mark.parametrize("in_place", [False, True])
def test_no_grad_inside_a_compiled_function_blocks_gradients_as_pytorch(in_place):
    """The compiled program's backward is the vjp of the whole trace: what no_grad
    computed carried gradient (the scale's own, or none through the clamp)."""
    torch._dynamo.reset()
    ours, theirs = _no_grad_inside(torchlike, in_place), _no_grad_inside(torch, in_place)
    np.testing.assert_allclose(ours[0], theirs[0], **float_tol("float32", steps=8))
    for a, b in zip(ours[1:], theirs[1:]):      # (the grads: sums of signed terms)
        np.testing.assert_allclose(to_numpy(a), b.numpy(),
                                   **normwise_tol("float32", 16, b.numpy()))


def _straight_through(lib, inside):
    """A custom Function (a straight-through rounding: its backward is not its forward's
    derivative) in a compiled model, with backward() outside the compiled function or
    inside it (a compiled training step); a second output left without gradient."""
    class Round(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            ctx.sign = x.sign()         # (tensors kept as attributes, not saved)
            ctx.parts = [x.abs() < 1.5, x * 0 + 0.5]
            return (x * scale).round() / scale, x.abs()

        @staticmethod
        def backward(ctx, g, g_abs):
            x, = ctx.saved_tensors
            inside, half = ctx.parts
            return g * inside * (x.abs() < 1.5) + g_abs * half * ctx.sign, None
    lib.manual_seed(0)
    model = lib.nn.Linear(4, 3)
    with lib.no_grad():
        model.weight.copy_(lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)))
        model.bias.copy_(lib.tensor([0.1, -0.2, 0.3]))
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    x = lib.tensor(np.linspace(-2, 2, 20, dtype=np.float32).reshape(5, 4))

    def loss_of(x):
        rounded, size = Round.apply(model(x), 4.0)
        return (rounded ** 2).sum() + size.sum()

    def step(x):
        opt.zero_grad()
        loss = loss_of(x)
        loss.backward()
        opt.step()
        return loss.detach()
    fn = step if inside else loss_of
    compiled = lib.compile(fn, backend="aot_eager") if lib is torch else lib.compile(fn)
    losses = []
    for _ in range(3):
        if inside:
            losses.append(compiled(x).item())
        else:
            opt.zero_grad()
            loss = compiled(x)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses, model.weight.detach(), model.bias.detach()


@pytest.mark.parametrize("inside", [False, True])
def test_custom_function_in_a_compiled_model_runs_its_backward(inside):
    """The program's vjp (a compiled model's results differentiated outside) ran JAX's
    derivative of the Function's forward, under no_grad: every gradient was zero."""
    torch._dynamo.reset()
    ours, theirs = _straight_through(torchlike, inside), _straight_through(torch, inside)
    np.testing.assert_allclose(ours[0], theirs[0], **float_tol("float32", steps=16))
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(to_numpy(a), b.numpy(),
                                   **normwise_tol("float32", 32, b.numpy()))


def _head_on_views(lib):
    """A compiled module applied to views: of an eager encoder's output (a non-leaf) and
    of a leaf that requires grad."""
    encoder, head = lib.nn.Linear(4, 6), lib.nn.Linear(3, 2)
    with lib.no_grad():
        for i, p in enumerate([*encoder.parameters(), *head.parameters()]):
            p.copy_(lib.tensor(np.linspace(-1, 1, p.numel(), dtype=np.float32).reshape(
                tuple(p.shape)) * (i + 1)))
    compiled = lib.compile(head, backend="aot_eager") if lib is torch else lib.compile(head)
    x = lib.tensor(np.linspace(-2, 2, 20, dtype=np.float32).reshape(5, 4))
    leaf = lib.tensor(np.linspace(-1, 3, 15, dtype=np.float32).reshape(5, 3),
                      requires_grad=True)
    h = encoder(x)
    loss = compiled(h[:, :3]).pow(2).sum() + compiled(leaf[1:]).sin().sum()
    loss.backward()
    return [loss.detach(), encoder.weight.grad, encoder.bias.grad, head.weight.grad, leaf.grad]


def test_a_compiled_module_on_views_differentiates_their_bases():
    """A view argument's storage is its base's: the gradient goes to the base's history
    (the encoder's gradients and the leaf's were None)."""
    torch._dynamo.reset()
    for ours, theirs in zip(_head_on_views(torchlike), _head_on_views(torch)):
        np.testing.assert_allclose(to_numpy(ours), theirs.numpy(),
                                   **normwise_tol("float32", 16, theirs.numpy()))


def _hooked(lib, inside):
    """A hook registered on an intermediate inside a compiled function, backward()
    outside the function or inside it."""
    model = lib.nn.Linear(4, 3)
    with lib.no_grad():
        model.weight.copy_(lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)))
        model.bias.copy_(lib.tensor([0.1, -0.2, 0.3]))
    x = lib.tensor(np.linspace(-2, 2, 20, dtype=np.float32).reshape(5, 4))

    def loss_of(x):
        h = model(x)
        h.register_hook(lambda g: g * 3)
        return h.relu().pow(2).sum()

    def step(x):
        loss = loss_of(x)
        loss.backward()
        return loss.detach()
    compiled = lib.compile(step if inside else loss_of, backend="aot_eager") \
        if lib is torch else lib.compile(step if inside else loss_of)
    for _ in range(2):
        loss = compiled(x)
        if not inside:
            loss.backward()
    return [loss.detach(), model.weight.grad, model.bias.grad]


@pytest.mark.parametrize("inside", [False, True])
def test_a_hook_on_an_intermediate_in_a_compiled_function_runs_once(inside):
    """The program's vjp (its results differentiated outside) did not run the hook."""
    torch._dynamo.reset()
    for ours, theirs in zip(_hooked(torchlike, inside), _hooked(torch, inside)):
        np.testing.assert_allclose(to_numpy(ours), theirs.numpy(),
                                   **normwise_tol("float32", 16, theirs.numpy()))
