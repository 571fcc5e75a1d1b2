"""Views and in-place ops under autograd, saved tensors and version counters, ported from
PyTorch's test/test_autograd.py (each case names the TestAutograd test it comes from)."""
import pytest

from autograd_port import Behaviours, attempt

pytestmark = pytest.mark.usefixtures("oracle")
cases = Behaviours()


# -- views and in-place under no_grad ---------------------------------------------------
@cases.add("test_inplace_on_view_under_no_grad_invalid_grad_fn")
def _(lib):
    a = lib.ones(3, requires_grad=True).clone()
    with lib.no_grad():
        v = a[:2]
    with lib.no_grad():
        v.mul_(2)
    return repr(a), attempt(lambda: repr(v))


@cases.add("test_view_made_in_no_grad_modified_with_grad")
def _(lib):
    a = lib.ones(3, requires_grad=True).clone()
    with lib.no_grad():
        v = a[:2]
    return attempt(lambda: v.mul_(2))


@cases.add("test_view_of_view_made_in_no_grad_modified_with_grad")
def _(lib):
    a = lib.ones(4, requires_grad=True).clone()
    with lib.no_grad():
        v = a[:3]
    w = v[:2]
    return attempt(lambda: w.mul_(2))


@cases.add("test_base_modified_after_no_grad_view")
def _(lib):
    a = lib.ones(3, requires_grad=True).clone()
    with lib.no_grad():
        v = a[:2]
    a.mul_(2)
    return attempt(lambda: v.grad_fn)


@cases.add("test_multi_output_view_modified_inplace")
def _(lib):
    a = lib.ones(4, requires_grad=True).clone()
    x, y = a.split(2)
    return attempt(lambda: x.mul_(2))


@cases.add("test_multi_output_view_of_view_modified_inplace")
def _(lib):
    a = lib.ones(4, requires_grad=True).clone()
    x, y = a.unbind()[:2]
    return attempt(lambda: x.mul_(2))


@cases.add("test_inplace_on_view_of_leaf")
def _(lib):
    a = lib.ones(3, requires_grad=True)
    return attempt(lambda: a[:2].mul_(2))


@cases.add("test_inplace_on_leaf")
def _(lib):
    a = lib.ones(3, requires_grad=True)
    return attempt(lambda: a.mul_(2))


@cases.add("test_inplace_on_leaf_under_no_grad_ok")
def _(lib):
    a = lib.ones(3, requires_grad=True)
    with lib.no_grad():
        a.mul_(2)
    return a, a.is_leaf


@cases.add("test_inplace_on_view_backward")
def _(lib):
    root = lib.arange(6.0, requires_grad=True)
    x = root.clone()
    v1 = x.narrow(0, 1, 3)
    v2 = v1.narrow(0, 1, 1)
    v2.mul_(2)
    x.sum().backward()
    return x.grad_fn, v1.grad_fn, v2.grad_fn, root.grad


@cases.add("test_inplace_on_view_gradcheck_values")
def _(lib):
    a = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    b = lib.tensor([5.0, 6.0], requires_grad=True)
    x = a.clone()
    x[1:3].mul_(b)
    (x * x).sum().backward()
    return x, a.grad, b.grad


@cases.add("test_inplace_on_view_multiple_outputs")
def _(lib):
    root = lib.arange(9.0).reshape(3, 3).requires_grad_()
    x = root.clone()
    v1 = x.unbind()
    return attempt(lambda: v1[0].mul_(2))


@cases.add("test_inplace_on_view_makes_base_require_grad")
def _(lib):
    a = lib.ones(4)
    b = lib.ones(2, requires_grad=True)
    v = a[:2]
    v.mul_(b)
    a.sum().backward()
    return a.requires_grad, a.grad_fn, v.grad_fn, b.grad


@cases.add("test_inplace_on_view_python")
def _(lib):
    a = lib.ones(4, requires_grad=True)
    b = a.clone()
    b[0] = 5.0
    b[2:].add_(1)
    (b * b).sum().backward()
    return b, b.grad_fn, a.grad


@cases.add("test_setitem")
def _(lib):
    x = lib.zeros(3, 4)
    v = lib.ones(4, requires_grad=True)
    x[1] = v
    x.sum().backward()
    return x.grad_fn, v.grad


@cases.add("test_setitem_mask")
def _(lib):
    x = lib.arange(6.0, requires_grad=True).clone()
    x[x > 2] = 0
    x.sum().backward()
    return x, x.grad_fn


@cases.add("test_detach_base")
def _(lib):
    x = lib.ones(10, 10, requires_grad=True)
    view = x.narrow(0, 1, 4)
    x = x.detach()
    return view.requires_grad, view.is_leaf, view._is_view()


@cases.add("test_detach_")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    y.detach_()
    return y.requires_grad, y.grad_fn, y.is_leaf


@cases.add("test_detach_view_inplace_refused")
def _(lib):
    x = lib.ones(4, requires_grad=True)
    v = x[:2]
    return attempt(lambda: v.detach_())


@cases.add("test_detach_shares_version_counter")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    d = x.detach()
    v0 = x._version
    d.add_(1)
    return x._version - v0, x


@cases.add("test_detach_inplace_breaks_backward")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x.exp()
    y.detach().zero_()
    return attempt(lambda: y.sum().backward())


@cases.add("test_data_inplace_does_not_bump_version")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x.exp()
    v0 = y._version
    y.data.zero_()
    return y._version - v0, y, attempt(lambda: y.sum().backward())


def test_data_write_after_op_is_invisible_to_backward():
    """Documented difference (docs/design.md, "Deliberate differences from PyTorch's
    autograd"): a node keeps its inputs' values from when it was recorded, so a write
    through .data afterwards (which bumps no version) does not reach the backward. PyTorch's
    ExpBackward0 reads its saved result, which aliases the zeroed storage."""
    import torch
    import torchlike
    grads = []
    for lib in (torch, torchlike):
        x = lib.ones(2, requires_grad=True)
        y = x.exp()
        y.data.zero_()
        y.sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == [0.0, 0.0]                                # PyTorch: grad * (zeroed) result
    assert grads[1] == pytest.approx(torch.ones(2).exp().tolist())   # torchlike: exp(1) replayed


# -- saved tensors and version counters -------------------------------------------------
@cases.add("test_saved_variable_version_counter")
def _(lib):
    a = lib.ones(2, requires_grad=True)
    b = a * 1
    c = b * b
    b.add_(1)
    return attempt(lambda: c.sum().backward())


@cases.add("test_version_counter")
def _(lib):
    x = lib.ones(2)
    out = [x._version]
    x.add_(1)
    out.append(x._version)
    x[0] = 3
    out.append(x._version)
    y = x.view(2)
    y.mul_(2)
    out.append(x._version)
    return out


@cases.add("test_inplace_saved_output_modified")
def _(lib):
    a = lib.ones(3, requires_grad=True)
    b = a.exp()
    b.mul_(2)
    return attempt(lambda: b.sum().backward())


@cases.add("test_mul_by_constant_does_not_save_requires_grad_operand")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    c = lib.tensor([2.0, 3.0])
    y = x * 1
    z = y * c                         # saves c (for y's gradient), not y
    y.add_(1)
    z.sum().backward()
    return x.grad


@cases.add("test_mul_saves_other_operand")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    c = lib.tensor([2.0, 3.0])
    y = x * 1
    z = y * c
    c.add_(1)
    return attempt(lambda: z.sum().backward())


@cases.add("test_add_saves_nothing")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 1
    z = y + 2
    y.add_(1)
    z.sum().backward()
    return x.grad


@cases.add("test_index_backward_does_not_save_tensor")
def _(lib):
    a = lib.tensor([1.0, 0.0, 0.0])
    b = lib.zeros(3, requires_grad=True)
    tensor = b + 0
    tensor[a != 0] = tensor[a != 0]
    tensor.backward(lib.zeros(3))
    return b.grad


@cases.add("test_saved_tensor_modified_message_for_view")
def _(lib):
    a = lib.ones(4, requires_grad=True)
    b = a * 1
    v = b[:2]
    c = v.exp()
    v.mul_(2)
    return attempt(lambda: c.sum().backward())


@cases.add("test_saved_tensors_hooks")
def _(lib):
    packed = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)

    def pack(t):
        packed.append(t.shape)
        return t * 1

    def unpack(t):
        return t
    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = x.exp()
    y.sum().backward()
    return len(packed) > 0, x.grad


@cases.add("test_saved_tensors_hooks_custom_function")
def _(lib):
    seen = []

    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g
    x = lib.tensor([1.0, 2.0], requires_grad=True)

    def pack(t):
        seen.append("pack")
        return t * 10                    # what unpack gets back is what backward sees

    def unpack(t):
        seen.append("unpack")
        return t
    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = Square.apply(x)
    y.sum().backward()
    return seen, x.grad


@cases.add("test_save_on_cpu")
def _(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    with lib.autograd.graph.save_on_cpu():
        y = (x * x).sum()
    y.backward()
    return x.grad


@cases.add("test_disable_saved_tensors_hooks")
def _(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    with lib.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
        def attempt_hooks():
            with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
        return attempt(attempt_hooks)


@cases.add("test_grad_fn_saved_attributes")
def _(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    r = y.grad_fn._saved_result
    return r, r.grad_fn is y.grad_fn, attempt(lambda: y.grad_fn._saved_nothing)


@cases.add("test_grad_fn_saved_self")
def _(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x.sin()
    return y.grad_fn._saved_self is x, y.grad_fn._saved_self


@cases.add("test_grad_fn_attr_bindings.names")
def _(lib):
    # which operand a node saved, under PyTorch's argument names
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    z = x.sin()
    m = lib.ones(2, 2, requires_grad=True)
    p, a = m.mm(m), lib.addmm(lib.ones(2), m, m)
    return ((z * z).grad_fn._saved_other is z, (x * 2).grad_fn._saved_other,
            (x * 2).grad_fn._saved_self, p.grad_fn._saved_mat2 is m, a.grad_fn._saved_mat1 is m)


@cases.add("test_grad_fn_attr_bindings.freed_and_modified")
def _(lib):
    # a saved tensor modified in place, and one whose graph was freed: PyTorch's errors
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    z = x.sin()
    s = z * z
    y = x.exp()
    y.sum().backward()
    z.mul_(2)
    return attempt(lambda: s.grad_fn._saved_self), attempt(lambda: y.grad_fn._saved_result)


@pytest.mark.parametrize("name", cases.params())
def test_ported(name):
    cases.check(name)
