"""Hooks and retain_grad, ported from PyTorch's test/test_autograd.py (each case is named
after the TestAutograd test it comes from) and run under both libraries."""
import pytest

from autograd_port import Behaviours, attempt, values

pytestmark = pytest.mark.usefixtures("oracle")
cases = Behaviours()


# -- tensor hooks ---------------------------------------------------------------------
@cases.add("test_hooks.counter_and_return")
def _(lib):
    x = lib.ones(5, 5, requires_grad=True)
    y = lib.ones(5, 5) * 4
    y.requires_grad_(True)
    counter = [0]

    def bw_hook(inc, grad):
        counter[0] += inc
    z = x ** 2 + x * 2 + x * y + y
    x.register_hook(lambda *args: bw_hook(0, *args))
    test = z.register_hook(lambda *args: bw_hook(1, *args))
    z.backward(lib.ones(5, 5), retain_graph=True)
    first = counter[0]
    z.register_hook(lambda *args: bw_hook(2, *args))
    z.backward(lib.ones(5, 5), retain_graph=True)
    second = counter[0]
    test.remove()
    z.backward(lib.ones(5, 5), retain_graph=True)
    return first, second, counter[0], x.grad, y.grad


@cases.add("test_hooks.modifying_hook")
def _(lib):
    x = lib.ones(5, 5, requires_grad=True)
    y = lib.ones(5, 5, requires_grad=True)
    z = x * y + y
    z.register_hook(lambda grad: grad * 2)
    z.sum().backward()
    return x.grad, y.grad


@cases.add("test_hook_with_no_name")
def _(lib):
    class NoName:                      # a callable without __name__
        def __call__(self, grad):
            return grad * 3
    x = values(lib, 5, requires_grad=True)
    y = x * 2
    y.register_hook(NoName())
    y.sum().backward()
    return x.grad


@cases.add("test_hook_none")
def _(lib):
    class MultiOut(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b, a - b

        @staticmethod
        def backward(ctx, ga, gb):
            return ga, None if gb is None else -gb
    seen = []
    x = values(lib, 3, requires_grad=True)
    y = values(lib, 3, requires_grad=True)
    p, q = MultiOut.apply(x, y)
    q.register_hook(lambda g: seen.append(g))
    p.sum().backward()
    return seen, x.grad


@cases.add("test_tensor_hooks_inplace")
def _(lib):
    seen = []
    a = lib.tensor(1.0, requires_grad=True)
    b = a.clone()
    b.register_hook(lambda g: seen.append(("first", g.item())) or g * 2)
    b.mul_(2)
    b.register_hook(lambda g: seen.append(("second", g.item())) or g * 3)
    b.sum().backward()
    return seen, a.grad


@cases.add("test_tensor_hooks_inplace_over_view")
def _(lib):
    seen = []
    base = lib.tensor([1.0, 2.0], requires_grad=True).clone()
    view = base[0]
    view.register_hook(lambda g: seen.append(("view", g.item())))
    view.mul_(2)
    base.sum().backward()
    return seen


@cases.add("test_gradient_edge_node_hooks")
def _(lib):
    # hooks on the AccumulateGrad node reached through get_gradient_edge run, in order
    seen = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    node = lib.autograd.graph.get_gradient_edge(x).node
    node.register_prehook(lambda grads: seen.append(("pre", grads[0])))
    node.register_hook(lambda grads_in, grads_out: seen.append(("post", grads_out[0])))
    (x * 3).sum().backward()
    return seen, x.grad


@cases.add("test_hook_edge_case_when_called_with_grad")
def _(lib):
    seen = []
    a = lib.tensor(1.0, requires_grad=True)
    b = a * 2
    c = b * 2
    a.register_hook(lambda g: seen.append("a"))
    b.register_hook(lambda g: seen.append("b"))
    c.register_hook(lambda g: seen.append("c"))
    lib.autograd.grad(c, inputs=(b,), retain_graph=True)
    first = list(seen)
    seen.clear()
    lib.autograd.grad(c, inputs=(a, b), retain_graph=True)
    second = list(seen)
    seen.clear()
    c.backward(inputs=(a, b), retain_graph=True)
    return first, second, list(seen), a.grad, b.grad


@cases.add("test_hooks_on_leaf_run_under_autograd_grad")
def _(lib):
    seen = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
    (g,) = lib.autograd.grad((x * 3).sum(), x)
    return seen, g, x.grad


@cases.add("test_hook_remove_twice")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    h = y.register_hook(lambda g: g * 100)
    h.remove()
    h.remove()
    y.sum().backward()
    return x.grad


@cases.add("test_hook_on_tensor_without_grad")
def _(lib):
    return attempt(lambda: lib.ones(2).register_hook(lambda g: g))


@cases.add("test_hook_changes_shape")
def _(lib):
    x = lib.ones(3, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g.sum())
    return attempt(lambda: y.sum().backward())


@cases.add("test_hook_changes_dtype")
def _(lib):
    x = lib.ones(3, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g.double())
    return attempt(lambda: y.sum().backward())


@cases.add("test_hooks_order_tensor_then_retain")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 5)     # runs before retain_grad's capture in PyTorch
    y.sum().backward()
    return y.grad, x.grad


@cases.add("test_hooks_order_retain_then_tensor")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g * 5)
    y.retain_grad()
    y.sum().backward()
    return y.grad, x.grad


@cases.add("test_tensor_hook_before_node_prehook")
def _(lib):
    seen = []
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    y.grad_fn.register_prehook(lambda go: seen.append(("pre", go[0].tolist())))
    y.register_hook(lambda g: seen.append(("tensor", g.tolist())) or g + 1)
    (y * 3).sum().backward()
    return seen, x.grad


@cases.add("test_node_prehook_replaces_grad")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    y.grad_fn.register_prehook(lambda go: (go[0] * 7,))
    y.sum().backward()
    return x.grad


@cases.add("test_node_posthook_replaces_grad")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 7,))
    y.sum().backward()
    return x.grad


@cases.add("test_node_posthook_sees_both_sides")
def _(lib):
    seen = []
    x = lib.ones(2, requires_grad=True)
    w = lib.full((2,), 3.0, requires_grad=True)
    y = x * w
    y.grad_fn.register_hook(lambda gi, go: seen.append((list(gi), list(go))))
    y.sum().backward()
    return seen


@cases.add("test_node_hook_remove")
def _(lib):
    seen = []
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    h = y.grad_fn.register_hook(lambda gi, go: seen.append(1))
    h.remove()
    y.sum().backward()
    return seen


# -- hooks on AccumulateGrad nodes ------------------------------------------------------
@cases.add("test_accumulate_grad_posthook_via_next_functions")
def _(lib):
    seen = []
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    acc = y.grad_fn.next_functions[0][0]
    acc.register_hook(lambda gi, go: seen.append((gi, [g.tolist() for g in go])))
    y.sum().backward()
    return acc, seen


@cases.add("test_accumulate_grad_prehook_via_next_functions")
def _(lib):
    seen = []
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    acc = y.grad_fn.next_functions[0][0]
    acc.register_prehook(lambda go: seen.append(go[0].tolist()))
    y.sum().backward()
    return seen, x.grad


@cases.add("test_accumulate_grad_node_is_shared")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    a = (x * 2).grad_fn.next_functions[0][0]
    b = (x + 2).grad_fn.next_functions[0][0]
    return a is b, a.variable is x, a.next_functions


# -- post-accumulate-grad hooks ---------------------------------------------------------
@cases.add("test_post_accumulate_grad_hook_on_non_leaf")
def _(lib):
    x = lib.ones(2, requires_grad=True) * 2
    return attempt(lambda: x.register_post_accumulate_grad_hook(lambda t: None))


@cases.add("test_post_accumulate_grad_hook_no_requires_grad")
def _(lib):
    return attempt(lambda: lib.ones(2).register_post_accumulate_grad_hook(lambda t: None))


@cases.add("test_post_accumulate_grad_hook_returns_not_None")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    x.register_post_accumulate_grad_hook(lambda t: t)
    return attempt(lambda: (x * 2).sum().backward())


@cases.add("test_post_accumulate_grad_hook_runs_under_no_grad")
def _(lib):
    seen = []
    x = lib.ones(2, requires_grad=True)
    x.register_post_accumulate_grad_hook(lambda t: seen.append(lib.is_grad_enabled()))
    (x * 2).sum().backward()
    return seen


@cases.add("test_post_accumulate_grad_hook_e2e_sgd")
def _(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)

    def step(t):
        t.sub_(0.5 * t.grad)
        t.grad = None
    x.register_post_accumulate_grad_hook(step)
    (x * x).sum().backward()
    (x * x).sum().backward()
    return x, x.grad


@cases.add("test_post_accumulate_grad_hook_ordered_after_tensor_hook")
def _(lib):
    seen = []
    x = lib.ones(2, requires_grad=True)
    x.register_post_accumulate_grad_hook(lambda t: seen.append(("post", t.grad.tolist())))
    x.register_hook(lambda g: seen.append(("pre", g.tolist())) or g * 2)
    (x * 3).sum().backward()
    return seen


@cases.add("test_post_accumulate_grad_hook_not_run_by_autograd_grad")
def _(lib):
    seen = []
    x = lib.ones(2, requires_grad=True)
    x.register_post_accumulate_grad_hook(lambda t: seen.append(1))
    lib.autograd.grad((x * 2).sum(), x)
    return seen


# -- retain_grad ------------------------------------------------------------------------
@cases.add("test_retain_grad")
def _(lib):
    x = values(lib, 5, 5, requires_grad=True)
    y = x * 2 + 1
    y.retain_grad()
    y.retain_grad()                    # a second call changes nothing
    out = y.sum() * 2
    out.backward(retain_graph=True)
    first = y.grad.clone()
    out.backward()
    return first, y.grad, y.retains_grad


@cases.add("test_retain_grad_on_leaf_is_noop")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    x.retain_grad()
    (x * 2).sum().backward()
    return x.retains_grad, x.grad


@cases.add("test_retain_grad_no_requires_grad")
def _(lib):
    return attempt(lambda: lib.ones(2).retain_grad())


@cases.add("test_retain_grad_inplace")
def _(lib):
    a = lib.tensor([1.0], requires_grad=True).clone()
    a.retain_grad()
    a.mul_(2)
    a.sum().backward()
    return a.grad


@cases.add("test_retain_grad_inplace_twice")
def _(lib):
    a = lib.tensor([1.0], requires_grad=True).clone()
    a.retain_grad()
    a.mul_(2)
    a.mul_(3)
    (a * a).sum().backward()
    return a.grad


@cases.add("test_retain_grad_inplace_over_view")
def _(lib):
    base = lib.tensor([1.0, 2.0], requires_grad=True).clone()
    view = base[:1]
    view2 = base[1:]
    base.retain_grad()
    view.retain_grad()
    view2.retain_grad()
    view.mul_(2)
    (base * 3).sum().backward()
    return base.grad, view.grad, view2.grad


@cases.add("test_retains_grad_can_always_observe_tensor_prehook")
def _(lib):
    a = lib.tensor([1.0], requires_grad=True)
    b = a.clone()
    b.register_hook(lambda g: g * 2)
    b.retain_grad()
    b.register_hook(lambda g: g * 5)
    (b * 3).sum().backward()
    return b.grad, a.grad


@cases.add("test_retain_grad_accumulates_over_backwards")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward(retain_graph=True)
    (y * y).sum().backward()
    return y.grad


@cases.add("test_retain_grad_under_autograd_grad")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    lib.autograd.grad((y * 3).sum(), x)
    return y.grad


@cases.add("test_retain_grad_multi_output")
def _(lib):
    x = lib.arange(4.0, requires_grad=True)
    a, b = x.split(2)
    a.retain_grad()
    b.retain_grad()
    (a * 2).sum().backward()
    return a.grad, b.grad


@cases.add("test_non_leaf_grad_warning")
def _(lib):
    import warnings
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = y.grad
    return g, [(w.category.__name__, str(w.message)) for w in caught]


@pytest.mark.parametrize("name", cases.params())
def test_ported(name):
    cases.check(name)
