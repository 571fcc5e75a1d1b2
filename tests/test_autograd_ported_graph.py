"""Tensor autograd attributes, graph structure and complex autograd, ported from
PyTorch's test/test_autograd.py (each case names the TestAutograd test it comes from)."""
import pytest

from autograd_port import Behaviours, attempt, values

pytestmark = pytest.mark.usefixtures("oracle")
cases = Behaviours()


def _edges(node):
    return [None if n is None else (n.name(), nr) for n, nr in node.next_functions]


# -- tensor attributes ------------------------------------------------------------------
@cases.add("test_attribute_deletion.data")
def _(lib):
    x = lib.ones(2, requires_grad=True)

    def delete():
        del x.data
    return attempt(delete)


@cases.add("test_attribute_deletion.grad")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    x.grad = lib.ones(2)
    del x.grad
    return x.grad


@cases.add("test_attribute_deletion.grad_fn")
def _(lib):
    x = lib.ones(2, requires_grad=True) * 2

    def delete():
        del x.grad_fn
    return attempt(delete)


@cases.add("test_attribute_deletion.requires_grad")
def _(lib):
    x = lib.ones(2, requires_grad=True)

    def delete():
        del x.requires_grad
    return attempt(delete)


@cases.add("test_grad_assignment.self")
def _(lib):
    x = lib.ones(2, requires_grad=True)

    def assign():
        x.grad = x
    return attempt(assign)


@cases.add("test_grad_assignment.wrong_shape")
def _(lib):
    x = lib.ones(2, requires_grad=True)

    def assign():
        x.grad = lib.ones(3)
    return attempt(assign)


@cases.add("test_grad_assignment.wrong_dtype")
def _(lib):
    x = lib.ones(2, requires_grad=True)

    def assign():
        x.grad = lib.ones(2, dtype=lib.double)
    return attempt(assign)


@cases.add("test_grad_assignment.not_a_tensor")
def _(lib):
    x = lib.ones(2, requires_grad=True)

    def assign():
        x.grad = 3
    return attempt(assign)


@cases.add("test_grad_assignment.then_backward_accumulates")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    x.grad = lib.full((2,), 5.0)
    (x * 2).sum().backward()
    return x.grad


@cases.add("test_set_data_tensorimpl_type")
def _(lib):
    x = lib.ones(2, requires_grad=True)

    def assign():
        x.data = lib.ones(2, dtype=lib.long)
    return attempt(assign), x.dtype


@cases.add("test_set_data_different_shape")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    x.data = lib.zeros(3, 3)
    return x, x.requires_grad, x.is_leaf


@cases.add("test_set_data_preserve_pyobj")
def _(lib):
    a = lib.ones(2, requires_grad=True)
    before = id(a)
    a.data = lib.zeros(2)
    return id(a) == before, a


@cases.add("test_set_data_not_a_tensor")
def _(lib):
    a = lib.ones(2, requires_grad=True)

    def assign():
        a.data = 3
    return attempt(assign)


@cases.add("test_requires_grad")
def _(lib):
    x = lib.ones(5, 5)
    y = lib.ones(5, 5)
    z = lib.ones(5, 5, requires_grad=True)
    a = x + y
    b = a + z
    return a.requires_grad, b.requires_grad, b.grad_fn, a.grad_fn


@cases.add("test_requires_grad_inplace")
def _(lib):
    a = lib.ones(5, 5)
    b = lib.ones(5, 5, requires_grad=True)
    a += b
    return a.requires_grad, a.grad_fn


@cases.add("test_requires_grad_on_non_leaf")
def _(lib):
    x = lib.ones(2, requires_grad=True) * 2
    return attempt(lambda: x.requires_grad_(False)), attempt(lambda: x.requires_grad_(True))


@cases.add("test_requires_grad_integer")
def _(lib):
    def assign():
        lib.ones(2, dtype=lib.long).requires_grad = True
    return attempt(assign)


@cases.add("test_is_leaf_and_grad_fn")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = lib.ones(2)
    z = x * 2
    return x.is_leaf, y.is_leaf, z.is_leaf, x.grad_fn, z.grad_fn


@cases.add("test_output_nr")
def _(lib):
    x = lib.arange(6.0, requires_grad=True)
    a, b, c = x.split(2)
    return a.output_nr, b.output_nr, c.output_nr, (x * 2).output_nr


@cases.add("test_zero_grad_set_to_none_pattern")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    (x * 2).sum().backward()
    x.grad.zero_()
    (x * 3).sum().backward()
    return x.grad


@cases.add("test_leaf_grad_keeps_leaf_strides")
def _(lib):
    x = lib.ones(3, 2).t().requires_grad_()
    (x * 2).sum().backward()
    return x.grad.stride(), x.grad


@cases.add("test_leaf_grad_contiguous_leaf")
def _(lib):
    x = lib.ones(2, 3, requires_grad=True)
    (x.t() * 2).sum().backward()
    return x.grad.stride(), x.grad.is_contiguous()


@cases.add("test_grad_of_integer_output")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x.long()
    return y.requires_grad, y.grad_fn


@cases.add("test_shape_preserved_by_grad")
def _(lib):
    x = lib.ones(2, 1, 3, requires_grad=True)
    (x.squeeze() * 2).sum().backward()
    return x.grad


# -- graph structure ---------------------------------------------------------------------
@cases.add("test_next_functions")
def _(lib):
    x = lib.ones(5, 5, requires_grad=True)
    y = lib.ones(5, 5, requires_grad=True)
    a = x + y
    b = a + lib.ones(5, 5)
    return _edges(a.grad_fn), _edges(b.grad_fn)


@cases.add("test_next_functions_slice")
def _(lib):
    x = lib.ones(4, requires_grad=True)
    return _edges(x[1:].grad_fn)


@cases.add("test_next_functions_pow_scalar")
def _(lib):
    x = lib.ones(4, requires_grad=True)
    return _edges((x ** 2).grad_fn)


@cases.add("test_next_functions_mul_scalar")
def _(lib):
    x = lib.ones(4, requires_grad=True)
    return _edges((x * 2).grad_fn)


@cases.add("test_next_functions_sum")
def _(lib):
    x = lib.ones(4, requires_grad=True)
    return _edges(x.sum().grad_fn), _edges(x.sum(0).grad_fn)


@cases.add("test_next_functions_chain")
def _(lib):
    x = lib.ones(4, requires_grad=True)
    y = (x * 2).exp().sum()
    node = y.grad_fn
    names = []
    while node is not None and node.next_functions:
        names.append(node.name())
        node = node.next_functions[0][0]
    names.append(node.name())
    return names


@cases.add("test_linear_graph_with_bias")
def _(lib):
    lin = lib.nn.Linear(3, 2)
    x = lib.ones(4, 3, requires_grad=True)
    y = lin(x)
    return y.grad_fn, _edges(y.grad_fn)


@cases.add("test_linear_graph_without_bias")
def _(lib):
    lin = lib.nn.Linear(3, 2, bias=False)
    x = lib.ones(4, 3)
    y = lin(x)
    return y.grad_fn, _edges(y.grad_fn)


@cases.add("test_linear_graph_batched")
def _(lib):
    lin = lib.nn.Linear(3, 2)
    x = lib.ones(5, 4, 3)
    y = lin(x)
    return y.grad_fn, _edges(y.grad_fn), _edges(y.grad_fn.next_functions[0][0])


@cases.add("test_linear_graph_batched_without_bias")
def _(lib):
    lin = lib.nn.Linear(3, 2, bias=False)
    x = lib.ones(5, 4, 3, requires_grad=True)
    y = lin(x)
    return y.grad_fn, _edges(y.grad_fn.next_functions[0][0]), lin(x[0, 0]).grad_fn


def test_linear_graph_noncontiguous_batch_is_reshapes():
    """linear flattens a non-contiguous batch with reshape, which copies first, as
    PyTorch's does (UnsafeViewBackward0 over CloneBackward0)."""
    import torch
    import torchlike
    seen = []
    for lib in (torch, torchlike):
        x = lib.ones(4, 5, 3, requires_grad=True).transpose(0, 1)
        y = lib.nn.functional.linear(x, lib.ones(2, 3, requires_grad=True))
        flatten = y.grad_fn.next_functions[0][0].next_functions[0][0]
        seen.append((y.grad_fn.name(), flatten.name(), flatten.next_functions[0][0].name()))
    assert seen[0] == seen[1] == ("UnsafeViewBackward0", "UnsafeViewBackward0", "CloneBackward0")


@cases.add("test_isolated_node")
def _(lib):
    x = lib.ones(5, 5, requires_grad=True)
    y = lib.ones(5, 5, requires_grad=True)
    a = x + y
    b = lib.max(a, 1, True)[1].repeat(1, 5).double()
    o = (b + a).sum()
    o.backward()
    return x.grad, y.grad


@cases.add("test_unique_values_differentiable")
def _(lib):
    x = lib.tensor([3.0, 1.0, 3.0, 2.0], requires_grad=True)
    u = lib.unique(x)
    return u.requires_grad, _edges(u.grad_fn), attempt(lambda: u.sum().backward())


@cases.add("test_unique_values_differentiable.dim_and_consecutive")
def _(lib):
    x = lib.tensor([[3.0, 1.0], [3.0, 1.0], [2.0, 5.0]], requires_grad=True)
    u, c = lib.unique(x, dim=0, return_counts=True)
    v = lib.unique_consecutive(x)
    return u, c, v, attempt(lambda: u.sum().backward()), attempt(lambda: v.sum().backward())


@cases.add("test_stack_backward")
def _(lib):
    x = values(lib, 4, 4, requires_grad=True)
    y = values(lib, 4, 4, requires_grad=True)
    z = lib.stack([x, y], 0)
    grad = values(lib, 2, 4, 4)
    z.backward(grad)
    return z.grad_fn, x.grad, y.grad


@cases.add("test_unbind_backward")
def _(lib):
    stacked = values(lib, 3, 10, 10, requires_grad=True)
    x, y, z = stacked.unbind()
    (x + y + z).sum().backward()
    return x.grad_fn, stacked.grad


@cases.add("test_cat_backward")
def _(lib):
    a = lib.ones(2, 3, requires_grad=True)
    b = lib.ones(1, 3, requires_grad=True)
    c = lib.cat([a, b])
    c.backward(lib.arange(9.0).reshape(3, 3))
    return c.grad_fn, a.grad, b.grad


@cases.add("test_pow_zero_tensor_gradient")
def _(lib):
    a = lib.zeros(2, requires_grad=True)
    b = lib.zeros(2, requires_grad=True)
    c = lib.pow(a, b)
    c.sum().backward()
    return a.grad, b.grad


@cases.add("test_max_ties_gradient")
def _(lib):
    x = lib.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    return x.grad


@cases.add("test_abs_at_zero")
def _(lib):
    x = lib.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.abs().sum().backward()
    return x.grad


@cases.add("test_relu_at_zero")
def _(lib):
    x = lib.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    lib.relu(x).sum().backward()
    return x.grad


@cases.add("test_sqrt_at_zero")
def _(lib):
    x = lib.tensor([0.0, 4.0], requires_grad=True)
    x.sqrt().sum().backward()
    return x.grad


@cases.add("test_norm_subgradient")
def _(lib):
    x = lib.zeros(3, requires_grad=True)
    x.norm().backward()
    return x.grad


@cases.add("test_indexing_backward_duplicates")
def _(lib):
    x = lib.arange(4.0, requires_grad=True)
    y = x[[0, 0, 2]]
    y.sum().backward()
    return y.grad_fn, x.grad


@cases.add("test_masked_fill_backward")
def _(lib):
    x = lib.arange(4.0, requires_grad=True)
    y = x.masked_fill(x > 1, 0.0)
    y.sum().backward()
    return y.grad_fn, x.grad


@cases.add("test_where_backward")
def _(lib):
    x = lib.arange(4.0, requires_grad=True)
    y = lib.where(x > 1, x * 2, x * 3)
    y.sum().backward()
    return y.grad_fn, x.grad


@cases.add("test_expand_backward")
def _(lib):
    x = lib.ones(1, 3, requires_grad=True)
    x.expand(4, 3).sum().backward()
    return x.grad


@cases.add("test_type_conversions_backward")
def _(lib):
    x = lib.ones(2, requires_grad=True)
    y = x.double()
    y.sum().backward()
    return y.grad_fn, x.grad


# -- complex autograd -------------------------------------------------------------------
@cases.add("test_complex_abs_backward")
def _(lib):
    z = lib.tensor([3 + 4j, 1 - 1j], requires_grad=True)
    z.abs().sum().backward()
    return z.grad


@cases.add("test_complex_real_imag_backward")
def _(lib):
    z = lib.tensor([3 + 4j, 1 - 1j], requires_grad=True)
    (z.real * 2 + z.imag * 3).sum().backward()
    return z.grad


@cases.add("test_complex_angle_backward")
def _(lib):
    z = lib.tensor([3 + 4j, 1 - 1j], requires_grad=True)
    z.angle().sum().backward()
    return z.grad


@cases.add("test_complex_view_as_real_backward")
def _(lib):
    z = lib.tensor([3 + 4j, 1 - 1j], requires_grad=True)
    r = lib.view_as_real(z)
    (r * lib.tensor([1.0, 2.0])).sum().backward()
    return r.grad_fn, z.grad


@cases.add("test_complex_mul_conj_convention")
def _(lib):
    z = lib.tensor([1 + 2j, -1 + 0.5j], requires_grad=True)
    w = lib.tensor([2 - 1j, 0.5 + 1j])
    (z * w).abs().sum().backward()
    return z.grad


@cases.add("test_complex_square_abs")
def _(lib):
    z = lib.tensor([1 + 2j, -1 + 0.5j], requires_grad=True)
    (z * z.conj()).real.sum().backward()
    return z.grad


@cases.add("test_complex_grad_with_grad_output")
def _(lib):
    z = lib.tensor([1 + 2j, -1 + 0.5j], requires_grad=True)
    y = z * (2 + 1j)
    y.backward(lib.tensor([1 + 0j, 0 + 1j]))
    return z.grad


@cases.add("test_complex_implicit_grad_refused")
def _(lib):
    z = lib.tensor([1 + 2j], requires_grad=True)
    return attempt(lambda: (z * 2).sum().backward())


@cases.add("test_complex_autograd_grad")
def _(lib):
    z = lib.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    (g,) = lib.autograd.grad(z.abs().pow(2).sum(), z)
    return g


@cases.add("test_complex_autograd_grad.create_graph")
def _(lib):
    # second order through complex inputs: each recorded vjp keeps PyTorch's convention
    z = lib.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    w = lib.tensor([2 - 1j, 0.5 + 1j], requires_grad=True)
    (g,) = lib.autograd.grad((z * w).abs().sum(), z, create_graph=True)
    return g, lib.autograd.grad(g.real.sum(), [z, w])


@cases.add("test_complex_exp_backward")
def _(lib):
    z = lib.tensor([0.5 + 0.25j, -0.5 + 1j], requires_grad=True)
    z.exp().real.sum().backward()
    return z.grad


@pytest.mark.parametrize("name", cases.params())
def test_ported(name):
    cases.check(name)
