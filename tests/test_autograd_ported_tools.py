"""gradcheck, anomaly detection, checkpointing, gradient edges, multi-grad hooks and node
names, ported from PyTorch's test/test_autograd.py (TestAutograd and the checkpoint and
anomaly tests; each case names the test it comes from)."""
import re

import pytest

from autograd_port import Behaviours, attempt, values, warned

pytestmark = pytest.mark.usefixtures("oracle")
cases = Behaviours()


# -- gradcheck ---------------------------------------------------------------------------
@cases.add("test_gradcheck_passes")
def _(lib):
    x = values(lib, 2, 3, dtype=lib.double, requires_grad=True)
    y = values(lib, 3, dtype=lib.double, requires_grad=True)
    return lib.autograd.gradcheck(lambda a, b: (a * b).sin().sum(1), (x, y))


@cases.add("test_gradcheck_single_input")
def _(lib):
    x = values(lib, 4, dtype=lib.double, requires_grad=True)
    return lib.autograd.gradcheck(lambda a: a.exp() * a, x)


@cases.add("test_gradcheck_multiple_outputs")
def _(lib):
    x = values(lib, 3, dtype=lib.double, requires_grad=True)
    return lib.autograd.gradcheck(lambda a: (a * 2, a.tanh()), (x,))


@cases.add("test_gradcheck_wrong_backward")
def _(lib):
    class Wrong(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3
    x = values(lib, 3, dtype=lib.double, requires_grad=True)
    err = attempt(lambda: lib.autograd.gradcheck(Wrong.apply, (x,)))
    return type(err).__name__, isinstance(err, RuntimeError), str(err).split("\n")[0]


@cases.add("test_gradcheck_raise_exception_false")
def _(lib):
    class Wrong(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3
    x = values(lib, 3, dtype=lib.double, requires_grad=True)
    return lib.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)


@cases.add("test_gradcheck_no_input_requires_grad")
def _(lib):
    return attempt(lambda: lib.autograd.gradcheck(lambda a: a * 2, (values(lib, 3, dtype=lib.double),)))


@cases.add("test_gradcheck_single_precision_warns")
def _(lib):
    x = lib.tensor([0.5, 1.0], requires_grad=True)
    result, caught = warned(lib, lambda: lib.autograd.gradcheck(
        lambda a: a * 2, (x,), eps=1e-3, atol=1e-2, raise_exception=False))
    return result, caught


@cases.add("test_gradcheck_stride_zero_input")
def _(lib):
    x = lib.ones(1, dtype=lib.double).expand(3).requires_grad_()
    return attempt(lambda: lib.autograd.gradcheck(lambda a: a * 2, (x,)))


@cases.add("test_gradcheck_non_tensor_args")
def _(lib):
    x = values(lib, 3, dtype=lib.double, requires_grad=True)
    return lib.autograd.gradcheck(lambda a, n: a ** n, (x, 3))


@cases.add("test_gradgradcheck_passes")
def _(lib):
    x = values(lib, 3, dtype=lib.double, requires_grad=True)
    return lib.autograd.gradgradcheck(lambda a: (a ** 3).sin(), (x,))


@cases.add("test_gradgradcheck_once_differentiable_fails")
def _(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g + 0 * x.detach()   # correct first derivative
    x = values(lib, 3, dtype=lib.double, requires_grad=True)
    return lib.autograd.gradcheck(Square.apply, (x,)), lib.autograd.gradgradcheck(Square.apply, (x,))


# -- anomaly detection -------------------------------------------------------------------
@cases.add("test_anomaly_detect_nan")
def _(lib):
    class MyFunc(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp1, inp2, fail_0th):
            ctx.fail_0th = fail_0th
            return inp1.sum(0, keepdim=True)

        @staticmethod
        def backward(ctx, gO):
            gI = gO.clone().expand(3)
            gI[0] = 0
            gI[0] /= 0                       # NaN in the gradient
            if ctx.fail_0th:
                return gI, None, None
            return None, gI, None
    inp = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = MyFunc.apply(inp, inp, True)
    out.backward()                            # no check without anomaly mode
    first = inp.grad
    inp.grad = None

    def with_anomaly():
        with lib.autograd.detect_anomaly():
            o = MyFunc.apply(inp, inp, True)
            o.backward()
    err, caught = warned(lib, lambda: attempt(with_anomaly))
    return first, err, caught[0]


@cases.add("test_anomaly_detect_nan_builtin_op")
def _(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)

    def run():
        with lib.autograd.set_detect_anomaly(True):
            (x.sqrt() * 0).sum().backward()
    return attempt(run)


@cases.add("test_anomaly_mode_flags")
def _(lib):
    out = [lib.is_anomaly_enabled()]
    with lib.autograd.set_detect_anomaly(True, check_nan=False):
        out.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
    out.append((lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()))
    return out


@cases.add("test_anomaly_check_nan_false")
def _(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    with lib.autograd.set_detect_anomaly(True, check_nan=False):
        (x.sqrt() * 0).sum().backward()
    return x.grad


@cases.add("test_anomaly_mode_no_check_nan_for_values")
def _(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    with lib.autograd.set_detect_anomaly(True):
        (x * 3).sum().backward()
    return x.grad


@cases.add("test_anomaly_grad_warnings")
def _(lib):
    class MyFunc(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            raise RuntimeError("Some error in backward")

    def run():
        with lib.autograd.detect_anomaly():
            a = lib.ones(2, requires_grad=True)
            MyFunc.apply(a).sum().backward()
    err, caught = warned(lib, lambda: attempt(run))
    return err, [c[0] for c in caught], caught[1][1].split("\n")[0]


# -- checkpoint --------------------------------------------------------------------------
def _checkpointed(lib, use_reentrant):
    from_utils = __import__(lib.__name__ + ".utils.checkpoint", fromlist=["checkpoint"])
    x = values(lib, 3, 4, requires_grad=True)
    w = values(lib, 4, 4, requires_grad=True)

    def segment(a):
        return (a @ w).tanh() * 2
    out = from_utils.checkpoint(segment, x, use_reentrant=use_reentrant)
    out.sum().backward()
    return out.grad_fn, x.grad, w.grad


@cases.add("test_checkpointing.reentrant")
def _(lib):
    return _checkpointed(lib, True)


@cases.add("test_checkpointing.non_reentrant_gradients")
def _(lib):
    return _checkpointed(lib, False)


@cases.add("test_checkpointing_without_reentrant_input_requires_grad_False")
def _(lib):
    # non-reentrant checkpoint works under autograd.grad, and with inputs that need no grad
    from_utils = __import__(lib.__name__ + ".utils.checkpoint", fromlist=["checkpoint"])
    x = values(lib, 3, 4)
    w = values(lib, 4, 2, requires_grad=True)
    out = from_utils.checkpoint(lambda a: (a @ w).sin() * a.sum(), x, use_reentrant=False)
    return out, lib.autograd.grad(out.sum(), w)


@cases.add("test_checkpoint_sequential.non_reentrant")
def _(lib):
    from_utils = __import__(lib.__name__ + ".utils.checkpoint", fromlist=["checkpoint"])
    model = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.Tanh(), lib.nn.Linear(3, 2))
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(values(lib, *p.shape) * (0.5 + 0.1 * i))
    x = values(lib, 2, 3, requires_grad=True)
    out, caught = warned(lib, lambda: from_utils.checkpoint_sequential(model, 2, x,
                                                                      use_reentrant=False))
    out.sum().backward()
    return out, caught, x.grad, [p.grad for p in model.parameters()]


@cases.add("test_checkpoint_use_reentrant_not_passed_warns")
def _(lib):
    from_utils = __import__(lib.__name__ + ".utils.checkpoint", fromlist=["checkpoint"])
    x = lib.ones(2, requires_grad=True)
    out, caught = warned(lib, lambda: from_utils.checkpoint(lambda a: a * 2, x))
    return out, caught


@cases.add("test_checkpoint_reentrant_with_grad_refused")
def _(lib):
    from_utils = __import__(lib.__name__ + ".utils.checkpoint", fromlist=["checkpoint"])
    x = lib.ones(2, requires_grad=True)
    out = from_utils.checkpoint(lambda a: a * 2, x, use_reentrant=True)
    return attempt(lambda: lib.autograd.grad(out.sum(), x))


@cases.add("test_checkpoint_reentrant_unexpected_kwargs")
def _(lib):
    from_utils = __import__(lib.__name__ + ".utils.checkpoint", fromlist=["checkpoint"])
    x = lib.ones(2, requires_grad=True)
    return attempt(lambda: from_utils.checkpoint(lambda a, b=1: a * b, x, use_reentrant=True, b=2))


@cases.add("test_checkpoint_non_reentrant_kwargs")
def _(lib):
    from_utils = __import__(lib.__name__ + ".utils.checkpoint", fromlist=["checkpoint"])
    x = lib.ones(2, requires_grad=True)
    out = from_utils.checkpoint(lambda a, b=1: a * b, x, use_reentrant=False, b=2.0)
    out.sum().backward()
    return x.grad


@cases.add("test_checkpoint_no_grad_outputs")
def _(lib):
    from_utils = __import__(lib.__name__ + ".utils.checkpoint", fromlist=["checkpoint"])
    x = lib.ones(2)
    out = from_utils.checkpoint(lambda a: a * 2, x, use_reentrant=True)
    return out


@cases.add("test_checkpoint_sequential")
def _(lib):
    from_utils = __import__(lib.__name__ + ".utils.checkpoint", fromlist=["checkpoint"])
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.Tanh(), lib.nn.Linear(3, 3),
                              lib.nn.Tanh())
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(values(lib, *p.shape) * (0.5 + 0.1 * i))
    x = values(lib, 2, 3, requires_grad=True)
    out = from_utils.checkpoint_sequential(model, 2, x, use_reentrant=True)
    out.sum().backward()
    return out, x.grad, [p.grad for p in model.parameters()]


# -- gradient edges, multi-grad hooks, node names -----------------------------------------
@cases.add("test_gradient_edge_graph")
def _(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    a = x.exp()
    b = a * 2
    edge = lib.autograd.graph.get_gradient_edge(a)
    (ga,) = lib.autograd.grad(b.sum(), edge)
    return edge.node, edge.output_nr, ga


@cases.add("test_gradient_edge_leaf")
def _(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    edge = lib.autograd.graph.get_gradient_edge(x)
    (gx,) = lib.autograd.grad((x * 3).sum(), edge)
    return edge.node, gx


@cases.add("test_gradient_edge_no_requires_grad")
def _(lib):
    return attempt(lambda: lib.autograd.graph.get_gradient_edge(lib.ones(2)))


@cases.add("test_multi_grad_all_hooks")
def _(lib):
    seen = []
    t1 = lib.tensor([1.0, 2.0], requires_grad=True)
    t2 = lib.tensor([3.0, 4.0], requires_grad=True)
    t3 = lib.tensor([5.0, 6.0], requires_grad=True)
    lib.autograd.graph.register_multi_grad_hook((t1, t2, t3), lambda grads: seen.append(grads))
    (t1 * 2 + t2 * 3).sum().backward()
    (t3 * 4).sum().backward()
    return seen


@cases.add("test_multi_grad_any_hooks")
def _(lib):
    seen = []
    t1 = lib.tensor([1.0, 2.0], requires_grad=True)
    t2 = lib.tensor([3.0, 4.0], requires_grad=True)
    lib.autograd.graph.register_multi_grad_hook((t1, t2), lambda g: seen.append(g), mode="any")
    (t1 * 2 + t2 * 3).sum().backward()
    return len(seen)


@cases.add("test_multi_grad_hook_remove")
def _(lib):
    seen = []
    t1 = lib.tensor([1.0], requires_grad=True)
    h = lib.autograd.graph.register_multi_grad_hook((t1,), lambda grads: seen.append(grads))
    h.remove()
    (t1 * 2).sum().backward()
    return seen


@cases.add("test_multi_grad_hook_bad_mode")
def _(lib):
    t1 = lib.tensor([1.0], requires_grad=True)
    return attempt(lambda: lib.autograd.graph.register_multi_grad_hook((t1,), print, mode="x"))


@cases.add("test_node_name")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = (x * 2).sum()
    return (y.grad_fn.name(), y.grad_fn.next_functions[0][0].name(),
            y.grad_fn.next_functions[0][0].next_functions[0][0].name())


@cases.add("test_node_metadata")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    y.grad_fn.metadata["tag"] = "mine"
    same = y.grad_fn.metadata is y.grad_fn.metadata
    return y.grad_fn.metadata, same


@cases.add("test_node_metadata_on_accumulate_grad")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    acc = (x * 2).grad_fn.next_functions[0][0]
    acc.metadata["k"] = 1
    return (x * 3).grad_fn.next_functions[0][0].metadata


@cases.add("test_grad_fn_call_directly_name")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    return repr(x * 2).split("grad_fn=")[1]




def test_checkpoint_non_reentrant_calls_function_once():
    """Documented difference (docs/design.md, "Deliberate differences from PyTorch's
    autograd"): PyTorch's non-reentrant checkpoint calls the function again in backward;
    torchlike's backward recomputes the recorded ops inside XLA, so the function (and any
    Python side effect in it) runs once. Gradients agree."""
    import torch
    import torchlike
    calls, grads = [], []
    for lib in (torch, torchlike):
        ck = __import__(lib.__name__ + ".utils.checkpoint", fromlist=["checkpoint"])
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        count = [0]

        def segment(a):
            count[0] += 1
            return a.sin() * a
        ck.checkpoint(segment, x, use_reentrant=False).sum().backward()
        calls.append(count[0])
        grads.append(x.grad.tolist())
    assert calls == [2, 1]
    assert grads[1] == pytest.approx(grads[0])


# -- checkpoint(use_reentrant=False) is a jax.checkpoint region in the fused backward ------
def _fused_program_of_backward(monkeypatch, use_checkpoint):
    """Run a backward through a chain of sin/mul, capturing the fused program it compiles:
    its jaxpr and XLA's temporary-memory figure."""
    import jax
    import torchlike
    from torchlike.autograd import engine
    from torchlike.utils.checkpoint import checkpoint
    real_jit, seen = jax.jit, []

    def spying_jit(fn, *args, **kwargs):
        if getattr(fn, "func", None) is not engine._fused_vjp:     # (a partial of it)
            return real_jit(fn, *args, **kwargs)

        def call(*values):
            seen.append((str(jax.make_jaxpr(fn)(*values)),
                         real_jit(fn).lower(*values).compile().memory_analysis()))
            return real_jit(fn, *args, **kwargs)(*values)
        return call

    def block(a):
        for _ in range(8):
            a = torchlike.sin(a) * a
        return a
    w = torchlike.ones(1 << 15, requires_grad=True)
    x = w * 2
    # (the block's output is not held here: the backward would hand it back, an output
    # buffer in place of scratch)
    loss = (checkpoint(block, x, use_reentrant=False) if use_checkpoint else block(x)).sum()
    monkeypatch.setattr(engine, "_fused_cache", engine.LRU(4))
    monkeypatch.setattr(engine.jax, "jit", spying_jit)
    loss.backward()
    monkeypatch.undo()
    ((jaxpr, memory),) = seen          # one fused call for the whole backward
    return jaxpr, memory.temp_size_in_bytes, w.grad


def test_checkpoint_non_reentrant_is_remat_in_fused_backward(monkeypatch):
    plain_jaxpr, plain_temp, plain_grad = _fused_program_of_backward(monkeypatch, False)
    remat_jaxpr, remat_temp, remat_grad = _fused_program_of_backward(monkeypatch, True)
    remat_equation = re.compile(r"\b(remat\w*|checkpoint)\[")   # JAX's name for jax.checkpoint
    assert remat_equation.search(remat_jaxpr) and not remat_equation.search(plain_jaxpr)
    # the region's eight intermediates are recomputed, not kept: XLA's scratch shrinks
    # (measured 1.75 MB -> 0.5 MB for 2**16 floats)
    assert remat_temp < plain_temp / 2, (remat_temp, plain_temp)
    assert remat_grad.allclose(plain_grad)


# -- the rest of the torch.autograd and torch.utils.checkpoint namespaces --------------------
# (named after the API they check; test_set_multithreading_enabled_as_context_manager_and_function
# and test_view_replay_enabled are PyTorch's own)
@cases.add("api.Variable", check_warnings=True)
def _(lib):
    x = lib.ones(2)
    v = lib.autograd.Variable(x, requires_grad=True)
    return (v, v is x, isinstance(x, lib.autograd.Variable), isinstance(1, lib.autograd.Variable),
            lib.autograd.Variable(x, volatile=True), lib.autograd.Variable(),
            attempt(lambda: lib.autograd.Variable([1.0])), attempt(lambda: lib.autograd.variable(1)))


@cases.add("api.SavedTensor_and_NestedIOFunction")
def _(lib):
    class Legacy(lib.autograd.NestedIOFunction):
        pass
    return (attempt(lambda: lib.autograd.SavedTensor()),
            issubclass(Legacy, lib.autograd.Function),
            attempt(lambda: Legacy().forward_extended(lib.ones(1))),
            attempt(lambda: Legacy().backward_extended(lib.ones(1))))


@cases.add("api.torch_function_helpers", check_warnings=True)
def _(lib):
    class Overrides:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return "Overrides", func.__name__, len(args), [t.__name__ for t in types]

    class Declines(Overrides):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    def public_api(a, b):
        return "plain"
    x, o = lib.ones(1), Overrides()
    return (lib.autograd.has_torch_function((x, 1)), lib.autograd.has_torch_function([x, o]),
            attempt(lambda: lib.autograd.has_torch_function(x)),
            lib.autograd.is_tensor_like(x), lib.autograd.is_tensor_like(o),
            lib.autograd.is_tensor_like(Overrides), lib.autograd.is_tensor_like(2),
            lib.autograd.handle_torch_function(public_api, (x, o), x, o),
            lib.autograd.handle_torch_function(public_api, (Declines(), o), 1, 2),
            str(attempt(lambda: lib.autograd.handle_torch_function(public_api, (Declines(),),
                                                                    1, 2))).split(":")[0])


@cases.add("test_set_multithreading_enabled_as_context_manager_and_function")
def _(lib):
    seen = [lib.autograd.is_multithreading_enabled()]
    with lib.autograd.set_multithreading_enabled(False):
        seen.append(lib.autograd.is_multithreading_enabled())
    seen.append(lib.autograd.is_multithreading_enabled())
    lib.autograd.set_multithreading_enabled(False)
    seen.append(lib.autograd.is_multithreading_enabled())
    lib.autograd.set_multithreading_enabled(True)

    @lib.autograd.set_multithreading_enabled(False)
    def inside():
        return lib.autograd.is_multithreading_enabled()
    seen += [inside(), lib.autograd.is_multithreading_enabled()]
    lib.autograd.set_multithreading_enabled(True)
    return seen


@cases.add("test_view_replay_enabled.and_grad_layout_policy")
def _(lib):
    p = lib.ones(2, 3, requires_grad=True)
    with lib.autograd.enforce_grad_layout_policy(False):
        (p * 2).sum().backward()
    return lib.autograd.is_view_replay_enabled(), p.grad


@cases.add("api.checkpoint_helpers", check_warnings=True)
def _(lib):
    ck = __import__(lib.__name__ + ".utils.checkpoint", fromlist=["checkpoint"])
    x = lib.ones(2, requires_grad=True)
    detached = ck.detach_variable((x, 1))
    policy = ck.CheckpointPolicy
    with ck.set_checkpoint_early_stop(False), ck.set_checkpoint_debug_enabled(True):
        out = ck.checkpoint(lambda a: a.sin() * 2, x, use_reentrant=False,
                            context_fn=ck.noop_context_fn)
    out.sum().backward()
    return (detached[0], detached[0] is x, detached[1],
            attempt(lambda: ck.detach_variable([x])),
            ck.check_backward_validity([lib.ones(1), 2]), ck.check_backward_validity([x]),
            [p.name for p in policy], policy.MUST_SAVE.value,
            issubclass(ck.CheckpointError, RuntimeError),
            ck.SelectiveCheckpointContext(is_recompute=False).op_output,
            ck.DefaultDeviceType.get_device_type(), ck.get_device_states(x, [x]),
            ck.set_device_states([], []), len(ck.noop_context_fn()), x.grad,
            ck.tree_map(lambda t: t * 2, {"a": [x, (x,)], "b": 3}),
            attempt(lambda: ck.SavedTensor()), _nested_groups(ck))


def _nested_groups(ck):
    with ck.GraphExecGroup():
        return str(attempt(lambda: ck.GraphExecGroup().__enter__())).split(" Already")[0]


@cases.add("test_checkpoint_selective.arguments")
def _(lib):
    ck = __import__(lib.__name__ + ".utils.checkpoint", fromlist=["checkpoint"])
    contexts = ck.create_selective_checkpoint_contexts(
        lambda ctx, op, *args, **kwargs: ck.CheckpointPolicy.PREFER_RECOMPUTE)
    x = lib.ones(3, requires_grad=True)
    out = ck.checkpoint(lambda a: a.exp().sin(), x, use_reentrant=False,
                        context_fn=lambda: ck.create_selective_checkpoint_contexts(
                            lambda ctx, op, *a, **k: ck.CheckpointPolicy.PREFER_RECOMPUTE))
    out.sum().backward()
    return (len(contexts), attempt(lambda: ck.create_selective_checkpoint_contexts(3)),
            attempt(lambda: ck.create_selective_checkpoint_contexts(["mm"])), out, x.grad)


@pytest.mark.parametrize("name", cases.params())
def test_ported(name):
    cases.check(name)
