"""Custom autograd.Function, ported from PyTorch's test/test_autograd.py (each case named
after the TestAutograd test it comes from) and run under both libraries."""
import pytest

from autograd_port import Behaviours, attempt, values, warned

pytestmark = pytest.mark.usefixtures("oracle")
cases = Behaviours()


def _identity(lib):
    class Identity(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g
    return Identity


@cases.add("test_function")
def _(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, tensor1, pyscalar, tensor2):
            ctx.pyscalar = pyscalar
            ctx.save_for_backward(tensor1, tensor2)
            return tensor1 + pyscalar * tensor2 + tensor1 * tensor2

        @staticmethod
        def backward(ctx, grad_output):
            var1, var2 = ctx.saved_tensors
            return (grad_output + grad_output * var2, None,
                    grad_output * ctx.pyscalar + grad_output * var1)
    x = values(lib, 5, 5, requires_grad=True)
    y = values(lib, 5, 5, requires_grad=True) * 0.5
    y.retain_grad()
    result = MyFunction.apply(x, 2, y)
    result.sum().backward()
    return result, type(result.grad_fn).__name__, x.grad, y.grad


@cases.add("test_function_returns_input")
def _(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2
    out = []
    for shape in (1, ()):
        v = lib.ones(shape, requires_grad=True)
        MyFunction.apply(v).backward()
        out.append(v.grad)
        with lib.no_grad():
            v.grad.zero_()
        MyFunction.apply(v.clone()).backward()
        out.append(v.grad)
    return out


@cases.add("test_function_returns_undefined_tensor")
def _(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return None
    x = lib.ones(1, requires_grad=True)
    MyFunction.apply(x ** 2).backward()
    first = x.grad
    MyFunction.apply(x ** 2).sum().backward()
    return first, x.grad


@cases.add("test_function_returns_input_under_no_grad")
def _(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad
    x = lib.ones(2, requires_grad=True)
    with lib.no_grad():
        y = MyFunction.apply(x)
    return y is x, y.requires_grad, y.grad_fn


@cases.add("test_function_returns_input_with_grad_gives_new_alias")
def _(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad
    x = lib.ones(2, requires_grad=True)
    y = MyFunction.apply(x)
    return y is x, y, x.is_leaf


@cases.add("test_materialize_grads")
def _(lib):
    seen = []

    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1, g2))
            return g1 + g2
    x = lib.ones(2, requires_grad=True)
    a, b = MyFunction.apply(x)
    a.sum().backward()
    return seen, x.grad


@cases.add("test_dont_materialize_grads")
def _(lib):
    seen = []

    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x.clone(), x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1, g2))
            return g1
    x = lib.ones(2, requires_grad=True)
    a, b = MyFunction.apply(x)
    a.sum().backward()
    return seen, x.grad


@cases.add("test_mark_non_differentiable")
def _(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            output = input > 0
            ctx.mark_non_differentiable(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            return (grad_output * 0).to(lib.double)
    x = values(lib, 5, 5, requires_grad=True)
    mask = MyFunction.apply(x)
    return mask.requires_grad, mask.grad_fn, attempt(lambda: mask.sum().backward())


@cases.add("test_mark_non_differentiable_mixed")
def _(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            a = input + 1
            b = input + 2
            ctx.mark_non_differentiable(a)
            return a, b

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            return grad_b
    x = values(lib, 5, 5, requires_grad=True)
    a, b = MyFunction.apply(x)
    b.sum().backward()
    return a.requires_grad, b.requires_grad, x.grad


@cases.add("test_mark_non_differentiable_none")
def _(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            output = input.clone()
            ctx.mark_non_differentiable(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            return None
    x = values(lib, 5, 5, requires_grad=True)
    r = MyFunction.apply(x * x)
    return r.requires_grad, attempt(lambda: (r * x).sum().backward()), x.grad


@cases.add("test_return_duplicate")
def _(lib):
    class DoubleDuplicate(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            output = x * 2
            return output, output

        @staticmethod
        def backward(ctx, grad1, grad2):
            return grad1 * 2 + grad2 * 2
    x = lib.ones(3, requires_grad=True)
    a, b = DoubleDuplicate.apply(x)
    (a + b).sum().backward()
    return a is b, x.grad


@cases.add("test_return_leaf")
def _(lib):
    class Identity(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a, a + b

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            return grad_a + grad_b, grad_b
    hook_called = [False]
    x = lib.ones(1, requires_grad=True)
    y = lib.ones(1, requires_grad=True)
    q, p = Identity.apply(x, y)

    def hook(grad):
        hook_called[0] = True
    q.register_hook(hook)
    (q + p + x).sum().backward()
    return x.grad, y.grad, hook_called[0]


@cases.add("test_save_none_for_backward")
def _(lib):
    test_case = []

    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(None, input, None)
            return input * input

        @staticmethod
        def backward(ctx, grad_output):
            n1, input, n2 = ctx.saved_tensors
            test_case.append((n1, n2))
            return 2 * input * grad_output
    x = lib.ones(5, 5, requires_grad=True)
    MyFn.apply(x).sum().backward()
    return test_case, x.grad


@cases.add("test_save_non_tensor_for_backward")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input, 3)
            return input * 2

        @staticmethod
        def backward(ctx, g):
            return g
    return attempt(lambda: MyFn.apply(lib.ones(2, requires_grad=True)))


@cases.add("test_too_many_grads")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            return input

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, None, None
    x = lib.ones(5, 5, requires_grad=True)
    MyFn.apply(x).sum().backward()
    return x.grad


@cases.add("test_too_many_non_none_grads")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            return input.clone()

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, grad_output
    x = lib.ones(2, requires_grad=True)
    return attempt(lambda: MyFn.apply(x).sum().backward())


@cases.add("test_too_few_grads")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad_output):
            return (grad_output,)
    x = lib.ones(2, requires_grad=True)
    return attempt(lambda: MyFn.apply(x, x).sum().backward())


@cases.add("test_invalid_gradients")
def _(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return lib.ones(10, dtype=lib.float)
    x = lib.ones(5, requires_grad=True)
    return attempt(lambda: MyFunction.apply(x).sum().backward())


@cases.add("test_gradient_broadcast_reduced")
def _(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return lib.ones(3, 4)
    x = lib.ones(4, requires_grad=True)
    MyFunction.apply(x).sum().backward()
    return x.grad


@cases.add("test_gradient_wrong_dtype_is_cast")
def _(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output.double()
    x = lib.ones(3, requires_grad=True)
    MyFunction.apply(x).sum().backward()
    return x.grad


@cases.add("test_non_tensor_gradient")
def _(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return 3
    x = lib.ones(3, requires_grad=True)
    return attempt(lambda: MyFunction.apply(x).sum().backward())


@cases.add("test_gradient_for_non_tensor_input")
def _(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, n):
            return x * n

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, grad_output
    x = lib.ones(3, requires_grad=True)
    return attempt(lambda: MyFunction.apply(x, 2).sum().backward())


@cases.add("test_needs_input_grad")
def _(lib):
    seen = []

    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, c):
            seen.append(ctx.needs_input_grad)
            return a * b

        @staticmethod
        def backward(ctx, g):
            seen.append(ctx.needs_input_grad)
            return g, None, None
    a = lib.ones(2, requires_grad=True)
    MyFunction.apply(a, lib.ones(2), 3).sum().backward()
    return seen


@cases.add("test_saved_tensors_modified_inplace")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x
    a = lib.ones(2, requires_grad=True)
    b = a * 1
    out = MyFn.apply(b)
    b.add_(1)
    return attempt(lambda: out.sum().backward())


@cases.add("test_saved_tensors_freed")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x
    a = lib.ones(2, requires_grad=True)
    out = MyFn.apply(a)
    out.sum().backward()
    return attempt(lambda: out.grad_fn.saved_tensors), attempt(lambda: out.sum().backward())


@cases.add("test_custom_function_saved_tensors_available_in_forward_ctx")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g
    a = lib.ones(2, requires_grad=True)
    out = MyFn.apply(a)
    return out.grad_fn.saved_tensors


@cases.add("test_custom_function_non_static_forward")
def _(lib):
    class MyFn(lib.autograd.Function):
        def forward(self, x):
            return x

        def backward(self, g):
            return g
    return attempt(lambda: MyFn()(lib.ones(2, requires_grad=True)))


@cases.add("test_custom_function_instantiation_warns")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g
    result, caught = warned(lib, lambda: MyFn())
    return type(result).__name__, caught


@cases.add("test_custom_function_forward_not_implemented")
def _(lib):
    class MyFn(lib.autograd.Function):
        pass
    return attempt(lambda: MyFn.apply(lib.ones(2)))


@cases.add("test_custom_function_backward_not_implemented")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2
    x = lib.ones(2, requires_grad=True)
    return attempt(lambda: MyFn.apply(x).sum().backward())


@cases.add("test_custom_function_vjp_and_backward")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g

        @staticmethod
        def vjp(ctx, g):
            return g
    x = lib.ones(2, requires_grad=True)
    return attempt(lambda: MyFn.apply(x).sum().backward())


@cases.add("test_custom_function_vjp_only")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def vjp(ctx, g):
            return g * 5
    x = lib.ones(2, requires_grad=True)
    MyFn.apply(x).sum().backward()
    return x.grad


@cases.add("test_setup_context")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x * y

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y, g * x
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([3.0, 4.0], requires_grad=True)
    MyFn.apply(x, y).sum().backward()
    return x.grad, y.grad


@cases.add("test_once_differentiable")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g
    x = lib.tensor([1.0, 3.0], requires_grad=True)
    (g,) = lib.autograd.grad(MyFn.apply(x).sum(), x, create_graph=True)
    return g, g.grad_fn, attempt(lambda: g.sum().backward())


@cases.add("test_once_differentiable_delayed_error")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g
    x = lib.tensor([1.0, 3.0], requires_grad=True)
    y = MyFn.apply(x)
    (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
    # (the Error node's edges differ: docs/design.md,
    # "Deliberate differences from PyTorch's autograd")
    return g, g.grad_fn.name(), attempt(lambda: g.sum().backward())


@cases.add("test_once_differentiable_first_order")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g
    x = lib.tensor([1.0, 3.0], requires_grad=True)
    MyFn.apply(x).sum().backward()
    return x.grad


@cases.add("test_custom_function_double_backward")
def _(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g
    x = lib.tensor([1.0, 3.0], requires_grad=True)
    (g,) = lib.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    (gg,) = lib.autograd.grad(g.sum(), x)
    return g, gg


@cases.add("test_mark_dirty")
def _(lib):
    class Inplace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.mark_dirty(a)
            return a.add_(b), b + 2

        @staticmethod
        def backward(ctx, ga, gb):
            return ga, ga + gb
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([3.0, 4.0], requires_grad=True)
    q = x.clone()
    v0 = q._version
    p, r = Inplace.apply(q, y)
    (p + r).sum().backward()
    return p is q, q._version - v0, p.grad_fn is not None, x.grad, y.grad


@cases.add("test_mark_dirty_leaf")
def _(lib):
    class Inplace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.mark_dirty(a)
            return a.mul_(2)

        @staticmethod
        def backward(ctx, g):
            return g * 2
    x = lib.ones(2, requires_grad=True)
    return attempt(lambda: Inplace.apply(x))


@cases.add("test_mark_dirty_not_returned")
def _(lib):
    class Inplace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.mark_dirty(a)
            a.mul_(2)
            return a * 3

        @staticmethod
        def backward(ctx, g):
            return g * 6
    x = lib.ones(2, requires_grad=True).clone()
    return attempt(lambda: Inplace.apply(x))


@cases.add("test_mark_dirty_view_copy_slices")
def _(lib):
    class Inplace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.mark_dirty(a)
            return a.mul_(2)

        @staticmethod
        def backward(ctx, g):
            return g * 2
    x = lib.ones(4, requires_grad=True)
    base = x.clone()
    view = base[:2]
    out = Inplace.apply(view)
    base.sum().backward()
    return out is view, base.grad_fn, x.grad


@cases.add("test_mark_dirty_view_copy_slices.two_inputs")
def _(lib):
    # two inputs, the view in the middle of its base: the other input's gradient comes
    # from the Function, the base's from CopySlices; the graph is freed as PyTorch's
    class ScaleInPlace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, w):
            ctx.mark_dirty(a)
            ctx.save_for_backward(w)
            return a.mul_(w)

        @staticmethod
        def backward(ctx, g):
            (w,) = ctx.saved_tensors
            return g * w, g * 3
    x = lib.ones(4, requires_grad=True)
    w = lib.tensor([2.0, 3.0], requires_grad=True)
    base = x.clone()
    view = base[1:3]
    out = ScaleInPlace.apply(view, w)
    edges = [None if n is None else n.name() for n, _ in base.grad_fn.next_functions]
    (base * lib.arange(4.0)).sum().backward()
    return (out.grad_fn, edges, x.grad, w.grad, base,
            attempt(lambda: base.sum().backward()))


@cases.add("test_mark_dirty_view_copy_slices.transposed_base")
def _(lib):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.mark_dirty(a)
            return a.mul_(2)

        @staticmethod
        def backward(ctx, g):
            return g * 2
    x = lib.ones(3, 2, requires_grad=True)
    base = x.clone().t_()              # a base whose own strides are not row-major
    out = Double.apply(base[0])
    (base * lib.arange(6.0).reshape(2, 3)).sum().backward()
    return base.grad_fn, out.grad_fn, x.grad


@cases.add("test_mark_dirty_view_of_leaf")
def _(lib):
    # a Function writing into a view of a leaf that requires grad: PyTorch's refusal
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.mark_dirty(a)
            return a.mul_(2)

        @staticmethod
        def backward(ctx, g):
            return g * 2
    x = lib.ones(4, requires_grad=True)
    return attempt(lambda: Double.apply(x[:2]))


@cases.add("test_mark_dirty_non_input")
def _(lib):
    # marking dirty a tensor the Function made itself (not an input) and returned
    class MakesAndMarks(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            out = a * 2
            ctx.mark_dirty(out)
            return out

        @staticmethod
        def backward(ctx, g):
            return g * 2
    x = lib.ones(2, requires_grad=True)
    return attempt(lambda: MakesAndMarks.apply(x))


@cases.add("test_custom_function_no_tensor_inputs")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, n):
            return lib.ones(n)

        @staticmethod
        def backward(ctx, g):
            return None
    return MyFn.apply(3)


@cases.add("test_custom_function_non_tensor_outputs")
def _(lib):
    seen = []

    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, 5, "s"

        @staticmethod
        def backward(ctx, g, g_int, g_str):
            seen.append((g_int, g_str))
            return g * 2
    x = lib.ones(2, requires_grad=True)
    a, n, s = MyFn.apply(x)
    a.sum().backward()
    return n, s, seen, x.grad


@cases.add("test_custom_function_grad_fn_name_and_attrs")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g
    x = lib.ones(2, requires_grad=True)
    y = MyFn.apply(x)
    y.grad_fn.custom = 7
    return (type(y.grad_fn).__name__, y.grad_fn.name(), y.grad_fn.custom,
            [n.name() for n, _ in y.grad_fn.next_functions])


@cases.add("test_custom_function_integer_output_not_requires_grad")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.long(), x * 2

        @staticmethod
        def backward(ctx, gi, gf):
            return gf * 2
    x = lib.ones(2, requires_grad=True)
    i, f = MyFn.apply(x)
    return i.requires_grad, f.requires_grad


@cases.add("test_custom_function_no_grad_inside_forward")
def _(lib):
    seen = []

    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(lib.is_grad_enabled())
            return x * 2

        @staticmethod
        def backward(ctx, g):
            seen.append(lib.is_grad_enabled())
            return g
    x = lib.ones(2, requires_grad=True)
    MyFn.apply(x).sum().backward()
    return seen


@cases.add("test_custom_function_inputs_not_requiring_grad")
def _(lib):
    y = _identity(lib).apply(lib.ones(2))
    return y.requires_grad, y.grad_fn


@cases.add("test_custom_function_keyword_arguments")
def _(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale=3.0):
            return x * scale

        @staticmethod
        def backward(ctx, g):
            return g
    return attempt(lambda: MyFn.apply(lib.ones(2), scale=2.0))


@cases.add("test_simple_reentrant")
def _(lib):
    y_data = lib.tensor([[0.5, -1.0], [2.0, 1.5]])

    class Reenter(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            with lib.enable_grad():
                ctx.x = x.detach().requires_grad_()
                ctx.output_var = ctx.x * y_data
            return ctx.output_var.detach()

        @staticmethod
        def backward(ctx, grad_output):
            with lib.enable_grad():
                ctx.output_var.sum().backward()
            return ctx.x.grad * grad_output
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    out = Reenter.apply(x)
    out.sum().backward()
    return x.grad


@pytest.mark.parametrize("name", cases.params())
def test_ported(name):
    cases.check(name)
