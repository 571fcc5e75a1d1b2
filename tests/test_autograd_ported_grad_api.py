"""backward()/autograd.grad(): pruning, argument checks and higher-order graphs, ported
from PyTorch's test/test_autograd.py (each case named after its TestAutograd test)."""
import pytest

from autograd_port import Behaviours, attempt, values

pytestmark = pytest.mark.usefixtures("oracle")
cases = Behaviours()


# -- pruning ----------------------------------------------------------------------------
@cases.add("test_grad_unreachable")
def _(lib):
    x = lib.ones(1, requires_grad=True)
    y = lib.ones(1, requires_grad=True)
    z = x * 2
    w = y * 2
    gx, gy = lib.autograd.grad(x * 2, [x, y], allow_unused=True)
    return gx, gy, attempt(lambda: lib.autograd.grad(x * 2, [x, y], allow_unused=False)), z, w


@cases.add("test_grad_unreachable_discovery")
def _(lib):
    class MyFunc(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, x):
            raise AssertionError("should not be called")
    x = MyFunc.apply(values(lib, 1, requires_grad=True) * 2)
    y = values(lib, 1, requires_grad=True)
    (gY,) = lib.autograd.grad(x, (y,), allow_unused=True)
    return gY


@cases.add("test_grad_does_not_free_unneeded_nodes")
def _(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([3.0, 4.0], requires_grad=True)
    a = x.exp()                         # saves its result; not on the path to y
    out = (a * y).sum()
    lib.autograd.grad(out, y)           # runs only what y's gradient needs
    out2 = a.sum()
    out2.backward()                     # a's node is still intact
    return x.grad


@cases.add("test_backward_inputs_does_not_free_unneeded_nodes")
def _(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([3.0, 4.0], requires_grad=True)
    a = x.sin()
    out = (a * y).sum()
    out.backward(inputs=[y])
    a.sum().backward()
    return x.grad, y.grad


@cases.add("test_grad_nonleaf")
def _(lib):
    x_init = values(lib, 2, 2, requires_grad=True)
    x = x_init
    y = values(lib, 2, 2, requires_grad=True)
    grad_output = lib.ones(2, 2)
    out = []
    for _ in range(3):
        (x_grad,) = lib.autograd.grad(x ** 2 + y * x + y ** 2, x, grad_output, create_graph=True)
        out.append(x_grad)
        x = x + 0.05 * x_grad
    return out, x_init.grad, y.grad


@cases.add("test_grad_nonleaf_many_outputs")
def _(lib):
    x = values(lib, 4, 2, requires_grad=True)
    a, b = x.chunk(2)
    seen = []
    x.register_hook(lambda g: seen.append(g))
    ga, gb = lib.autograd.grad(a + 2 * b, [a, b], grad_outputs=lib.ones(2, 2))
    return ga, gb, seen, x.grad


@cases.add("test_grad_nonleaf_register_hook")
def _(lib):
    x = values(lib, 5, requires_grad=True)
    x_list = x.unbind()
    x0 = x_list[0]
    hook_results = [None]
    x0.register_hook(lambda g: hook_results.__setitem__(0, g))
    x_list[0].backward()
    first = hook_results[0]
    expected = lib.zeros_like(x)
    expected[0] = 1
    x_list[4].backward()                # a hook on one output does not fire for another
    return first, x.grad, expected, hook_results[0]


@cases.add("test_grad_to_node")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    z = y.exp()
    (gy,) = lib.autograd.grad(z.sum(), y)
    return gy


@cases.add("test_backward_with_inputs")
def _(lib):
    x = values(lib, 2, 2, requires_grad=True)
    y = values(lib, 2, 2, requires_grad=True)
    z = x ** 2 + 2 * x * y + y ** 2
    z.backward(lib.ones(2, 2), inputs=[x], retain_graph=True)
    first = (x.grad, y.grad)
    x.grad = None
    z.backward(lib.ones(2, 2), inputs=[x, y], retain_graph=True)
    return first, x.grad, y.grad


@cases.add("test_backward_with_nonleaf_inputs")
def _(lib):
    x = values(lib, 2, 2, dtype=lib.double, requires_grad=True)
    x_nonleaf = x * 1
    y = values(lib, 2, 2, dtype=lib.double, requires_grad=True)
    z = values(lib, 2, 2, dtype=lib.double, requires_grad=True)
    out = x_nonleaf ** 2 + y * x_nonleaf + y ** 2
    out.backward(lib.ones(2, 2, dtype=lib.double), create_graph=True,
                 inputs=[x, y, x_nonleaf])
    return x.grad, y.grad, x_nonleaf.grad, z.grad


@cases.add("test_backward_with_inputs_unreachable")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    z = lib.ones(2, requires_grad=True)
    (x * 2).sum().backward(inputs=[z])
    return x.grad, z.grad


@cases.add("test_backward_inputs_single_tensor")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = lib.ones(2, requires_grad=True)
    (x * y).sum().backward(inputs=x)
    return x.grad, y.grad


@cases.add("test_backward_twice_without_saved_values")
def _(lib):
    b = values(lib, 3, requires_grad=True, dtype=lib.double)
    c = b + 1                           # AddBackward0 saves nothing
    c.sum().backward()
    c.sum().backward()
    return b.grad


@cases.add("test_backward_twice_with_saved_values")
def _(lib):
    b = values(lib, 3, requires_grad=True, dtype=lib.double)
    c = lib.zeros(3, dtype=lib.double)
    c[[1, 2]] = b[[1, 1]]
    c.sum().backward()
    return attempt(lambda: c.sum().backward())


@cases.add("test_backward_twice_retained_graph_with_saved_values")
def _(lib):
    b = values(lib, 3, requires_grad=True, dtype=lib.double)
    c = lib.zeros(3, dtype=lib.double)
    c[[1, 2]] = b[[1, 1]]
    c.sum().backward(retain_graph=True)
    c.sum().backward()
    return b.grad


@cases.add("test_backward_twice_exp_freed")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x.exp().sum()
    y.backward()
    return attempt(lambda: y.backward())


@cases.add("test_accumulate_grad")
def _(lib):
    grad_output = lib.ones(5, 5)

    def compute_grad(create_graph):
        x = values(lib, 5, 5, requires_grad=True)
        y = x + 2
        y.backward(grad_output, retain_graph=True)
        x_grad = x.grad
        x_grad_clone = x.grad.clone()
        y.backward(grad_output, create_graph=create_graph)
        return x_grad, x_grad_clone
    x_grad, x_grad_clone = compute_grad(create_graph=False)
    same_object = x_grad  # without create_graph .grad is accumulated in place
    x_grad2, x_grad_clone2 = compute_grad(create_graph=True)
    return same_object, x_grad_clone, x_grad2, x_grad_clone2


@cases.add("test_accumulate_grad_tensor_reference")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    (x * 2).sum().backward()
    g = x.grad
    (x * 3).sum().backward()
    return g is x.grad, g


@cases.add("test_sum_to_with_empty_dim_grad")
def _(lib):
    a = values(lib, 4, 0, requires_grad=True)
    b = values(lib, 4, 1, requires_grad=True)
    c = a + b
    c.backward(lib.ones(4, 0))
    return a.grad, b.grad


@cases.add("test_unused_output")
def _(lib):
    x = values(lib, 10, 10, requires_grad=True)
    outputs = x.chunk(5)
    o = outputs[2]
    o = o * 4 + 2
    o.sum().backward()
    return x.grad


@cases.add("test_dep_nograd")
def _(lib):
    class F1(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            out = lib.ones(input.size())
            ctx.mark_non_differentiable(out)
            return input, out

        @staticmethod
        def backward(ctx, grad_output, ignored):
            return grad_output

    class F2(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input, ignored):
            return input

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, None
    x = values(lib, 5, requires_grad=True)
    a, b = F1.apply(x)
    b = b + 1
    c = F2.apply(a, b)
    c.backward(lib.ones(c.size()))
    return x.grad, a.requires_grad, b.requires_grad


# -- argument checks --------------------------------------------------------------------
@cases.add("test_grad_badcalls.no_grad_fn")
def _(lib):
    x = lib.ones(1)
    y = x ** 2
    return attempt(lambda: y.backward())


@cases.add("test_grad_badcalls.grad_of_no_requires_grad")
def _(lib):
    x = lib.ones(1, requires_grad=True)
    y = x ** 2
    return attempt(lambda: lib.autograd.grad(y, lib.ones(1)))


@cases.add("test_grad_badcalls.empty_inputs")
def _(lib):
    x = lib.ones(1, requires_grad=True)
    return attempt(lambda: lib.autograd.grad(x * 2, []))


@cases.add("test_grad_badcalls.output_without_grad_and_empty_inputs")
def _(lib):
    return attempt(lambda: lib.autograd.grad(lib.ones(1) * 2, []))


@cases.add("test_grad_badcalls.output_without_grad")
def _(lib):
    x = lib.ones(1, requires_grad=True)
    return attempt(lambda: lib.autograd.grad(lib.ones(1) * 2, x))


@cases.add("test_backward_badcalls.empty_inputs")
def _(lib):
    x = lib.ones(1, requires_grad=True)
    return attempt(lambda: (x * 2).sum().backward(inputs=[]))


@cases.add("test_backward_badcalls.non_scalar")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    return attempt(lambda: (x * 2).backward())


@cases.add("test_backward_badcalls.integer_root")
def _(lib):
    return attempt(lambda: lib.autograd.backward(lib.ones(1, dtype=lib.long)))


@cases.add("test_backward_badcalls.grad_tensors_length")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    return attempt(lambda: lib.autograd.backward([x * 2, x * 3], [lib.ones(2)]))


@cases.add("test_backward_badcalls.grad_shape")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    return attempt(lambda: (x * 2).backward(lib.ones(3)))


@cases.add("test_backward_badcalls.grad_dtype_float_to_double_ok")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    (x * 2).backward(lib.ones(2, dtype=lib.double))
    return x.grad


@cases.add("test_grad_grad_outputs_length")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    return attempt(lambda: lib.autograd.grad([x * 2, x * 3], x, grad_outputs=[lib.ones(2)]))


@cases.add("test_grad_materialize_grads")
def _(lib):
    x = lib.tensor(0.5, requires_grad=True)
    a = lib.tensor(1.0, requires_grad=True)
    y = x * a
    dydx = lib.autograd.grad(y, x, create_graph=True)
    d2ydx2_none = lib.autograd.grad(dydx, x, allow_unused=True)
    d2ydx2 = lib.autograd.grad(dydx, x, materialize_grads=True)
    return d2ydx2_none, d2ydx2


@cases.add("test_grad_materialize_grads_allow_unused_false")
def _(lib):
    x = lib.tensor(0.5, requires_grad=True)
    return attempt(lambda: lib.autograd.grad(x * 2, x, materialize_grads=True, allow_unused=False))


@cases.add("test_grad_single_input_returns_tuple")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    g = lib.autograd.grad((x * 3).sum(), x)
    return type(g).__name__, g


@cases.add("test_grad_scalar_grad_output_number")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    return attempt(lambda: lib.autograd.grad((x * 3).sum(), x, grad_outputs=2.0))


@cases.add("test_grad_non_scalar_output")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    return attempt(lambda: lib.autograd.grad(x * 3, x))


@cases.add("test_grad_integer_input")
def _(lib):
    return attempt(lambda: lib.ones(2, dtype=lib.long).requires_grad_())


@cases.add("test_grad_output_none_for_scalar")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    (g,) = lib.autograd.grad((x * 3).sum(), x, grad_outputs=None)
    return g


# -- higher order -----------------------------------------------------------------------
@cases.add("test_hessian_vector")
def _(lib):
    x = lib.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    y = lib.tensor([[1.5, 0.5], [-0.5, 1.0]], requires_grad=True)
    z = x ** 2 + y * x + y ** 2
    z.backward(lib.ones(2, 2), create_graph=True)
    with lib.no_grad():
        x_grad = 2 * x + y
        y_grad = x + 2 * y
    first = (x.grad.clone(), y.grad.clone())
    grad_sum = 2 * x.grad + y.grad
    grad_sum.backward(lib.ones(2, 2))
    return first, x_grad, y_grad, x.grad, y.grad


@cases.add("test_grad_create_graph_node_names")
def _(lib):
    x = lib.tensor([0.5, 1.5], requires_grad=True)
    y = x.tanh()
    (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
    return g, g.grad_fn.name()


@cases.add("test_grad_create_graph_mul_node")
def _(lib):
    x = lib.tensor([0.5, 1.5], requires_grad=True)
    w = lib.tensor([2.0, 3.0], requires_grad=True)
    (g,) = lib.autograd.grad((x * w).sum(), x, create_graph=True)
    # (edge order and None entries differ: docs/design.md,
    # "Deliberate differences from PyTorch's autograd")
    return g, sorted(n.name() for n, _ in g.grad_fn.next_functions if n is not None)


@cases.add("test_grad_create_graph_unused_second_order")
def _(lib):
    x = lib.tensor([0.5, 1.5], requires_grad=True)
    w = lib.tensor([2.0, 3.0], requires_grad=True)
    (g,) = lib.autograd.grad((x * w).sum(), x, create_graph=True)
    gx, gw = lib.autograd.grad(g.sum(), (x, w), allow_unused=True)
    return gx, gw


@cases.add("test_second_order_sin")
def _(lib):
    x = lib.tensor([0.25, 1.0, 2.0], requires_grad=True)
    (g,) = lib.autograd.grad(x.sin().sum(), x, create_graph=True)
    (gg,) = lib.autograd.grad(g.sum(), x)
    return g, gg


@cases.add("test_third_order_pow")
def _(lib):
    x = lib.tensor([0.5, 2.0], requires_grad=True)
    (g1,) = lib.autograd.grad((x ** 4).sum(), x, create_graph=True)
    (g2,) = lib.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = lib.autograd.grad(g2.sum(), x)
    return g1, g2, g3


@cases.add("test_create_graph_grad_requires_grad")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    (x * 2).sum().backward(create_graph=True)
    return x.grad.requires_grad, x.grad


@cases.add("test_create_graph_constant_grad_no_requires_grad")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    (g,) = lib.autograd.grad((x + 2).sum(), x, create_graph=True)
    return g


@cases.add("test_is_grads_batched")
def _(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x ** 2
    (g,) = lib.autograd.grad(y, x, grad_outputs=lib.eye(3), is_grads_batched=True)
    return g


@cases.add("test_is_grads_batched_scalar_output")
def _(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = (x ** 3).sum()
    (g,) = lib.autograd.grad(y, x, grad_outputs=lib.tensor([1.0, 2.0]), is_grads_batched=True)
    return g


@cases.add("test_grad_mode_restored_reentrant")
def _(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp):
            return inp.clone()

        @staticmethod
        def backward(ctx, go):
            original = lib.is_grad_enabled()
            with lib.enable_grad():
                inside = lib.is_grad_enabled()
            return go * 1, original, inside
    seen = []

    class Probe(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp):
            return inp.clone()

        @staticmethod
        def backward(ctx, go):
            seen.append(lib.is_grad_enabled())
            return go
    x = values(lib, 3, requires_grad=True)
    Probe.apply(x).sum().backward()
    Probe.apply(x).sum().backward(create_graph=True)
    return seen


@pytest.mark.parametrize("name", cases.params())
def test_ported(name):
    cases.check(name)
