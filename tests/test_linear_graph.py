"""A recorded F.linear (nn/_functional_layers/linear_graph.py) against real torch through
every backward path of the engine: its graph (grad_fn names, next_functions, _saved_*),
values and gradients, fused, in segments, node by node with hooks, with create_graph,
with a custom Function, a frozen weight and saved-tensor hooks; and that its product is
one pending call."""
import pytest

from autograd_port import same_behaviour, values

pytestmark = pytest.mark.usefixtures("oracle")

# (input shape, bias): the 2-D addmm and mm paths, a batch flattened by views, a vector
SHAPES = [((4, 3), True), ((4, 3), False), ((2, 4, 3), True), ((2, 4, 3), False), ((3,), True)]


def _graph(node):
    """The names of the graph below `node`, breadth first (edges as (name, output_nr))."""
    out, queue = [], [node]
    while queue:
        n = queue.pop(0)
        out.append((n.name(), [None if m is None else (m.name(), nr)
                               for m, nr in n.next_functions]))
        queue.extend(m for m, _ in n.next_functions if m is not None)
    return out


def _layer(lib, bias=True, in_features=3, out_features=2):
    """Leaves as nn.Linear makes them (not views: values() reshapes)."""
    weight = values(lib, out_features, in_features).clone().requires_grad_()
    b = values(lib, out_features).mul(0.5).requires_grad_() if bias else None
    return weight, b


def test_graph_values_and_fused_gradients():
    def run(lib):
        out = []
        for shape, has_bias in SHAPES:
            x = values(lib, *shape, requires_grad=True)
            weight, bias = _layer(lib, has_bias)
            y = lib.nn.functional.linear(x, weight, bias)
            (y * y).sum().backward()
            out.append((y, _graph(y.grad_fn), x.grad, weight.grad,
                        None if bias is None else bias.grad))
        return out
    same_behaviour(run)


def test_segmented_backward(monkeypatch):
    """A graph over FUSE_LIMIT nodes is replayed in segments (limits shrunk for speed):
    the cut falls between a TBackward0 node and its AddmmBackward0."""
    from torchlike.autograd import engine
    monkeypatch.setattr(engine, "FUSE_LIMIT", 3)
    monkeypatch.setattr(engine, "SEGMENT", 2)

    def run(lib):
        w1, b1 = _layer(lib, True, 3, 4)
        w2, b2 = _layer(lib, True, 4, 2)
        x = values(lib, 5, 3, requires_grad=True)
        loss = lib.nn.functional.linear(lib.relu(lib.nn.functional.linear(x, w1, b1)), w2, b2)
        loss.pow(2).sum().backward()
        return loss, x.grad, w1.grad, b1.grad, w2.grad, b2.grad
    same_behaviour(run)


def test_hooks_on_the_graph_nodes():
    """Node hooks on TBackward0, AddmmBackward0 and the batch's ViewBackward0 see
    PyTorch's gradients (those of weight.t() and of the flattened input), and a
    tensor hook and retain_grad run as PyTorch runs them (node by node)."""
    def run(lib):
        seen = []
        x = values(lib, 2, 4, 3, requires_grad=True)
        weight, bias = _layer(lib)
        y = lib.nn.functional.linear(x, weight, bias)
        addmm = y.grad_fn.next_functions[0][0]
        view_in, t_node = addmm.next_functions[1][0], addmm.next_functions[2][0]
        for node in (y.grad_fn, addmm, view_in, t_node):
            node.register_hook(lambda gi, go, n=node.name(): seen.append((n, gi, go)))
        t_node.register_prehook(lambda go: (go[0] * 3,))
        y.retain_grad()
        y.register_hook(lambda g: g * 2)
        (y * y).sum().backward()
        return seen, y.grad, x.grad, weight.grad, bias.grad
    same_behaviour(run)


def test_create_graph_double_backward():
    def run(lib):
        out = []
        for shape, has_bias in ((4, 3), True), ((2, 4, 3), False):
            x = values(lib, *shape, requires_grad=True)
            weight, bias = _layer(lib, has_bias)
            y = lib.tanh(lib.nn.functional.linear(x, weight, bias))
            gx, gw = lib.autograd.grad(y.pow(2).sum(), (x, weight), create_graph=True)
            (gx.pow(2).sum() + gw.pow(2).sum()).backward()
            out.append((gx.detach(), gw.detach(), gx.requires_grad, x.grad, weight.grad,
                        None if bias is None else bias.grad))
        return out
    same_behaviour(run)


def test_inplace_on_batched_output():
    """A batched layer's output is a view of addmm's result: an in-place op on it
    moves the history onto that base (CopySlices), as in PyTorch."""
    def run(lib):
        x = values(lib, 2, 4, 3, requires_grad=True)
        weight, bias = _layer(lib)
        y = lib.nn.functional.linear(x, weight, bias)
        y.mul_(2)
        y.sum().backward()
        return y, y._base.grad_fn, _graph(y.grad_fn)[:1], x.grad, weight.grad, bias.grad
    same_behaviour(run)


def test_custom_function_after_linear():
    def run(lib):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a ** 3

            @staticmethod
            def backward(ctx, g):
                a, = ctx.saved_tensors
                return g * 3 * a * a
        x = values(lib, 4, 3, requires_grad=True)
        weight, _ = _layer(lib, False)
        y = Cube.apply(lib.nn.functional.linear(x, weight))
        y.sum().backward()
        return y, _graph(y.grad_fn), x.grad, weight.grad
    same_behaviour(run)


def test_saved_tensors_and_inplace_error():
    """_saved_mat1 / _saved_mat2 (weight.t(), made by the TBackward0 node) as PyTorch
    shows them, and the error when the weight changed in place before backward."""
    def run(lib):
        x = values(lib, 4, 3, requires_grad=True)
        weight, bias = _layer(lib)
        y = lib.nn.functional.linear(x, weight, bias)
        mat2 = y.grad_fn._saved_mat2
        saved = (y.grad_fn._saved_mat1, mat2, mat2.grad_fn, mat2.grad_fn is
                 y.grad_fn.next_functions[2][0])
        with lib.no_grad():
            weight.add_(1)
        try:
            y.sum().backward()
        except RuntimeError as e:
            return saved, str(e)
        return saved, None
    same_behaviour(run)


def test_frozen_weight_and_saved_tensor_hooks():
    """A weight that does not require grad has no TBackward0 node (its transpose is a
    recorded constant of the fused replay); addmm saves only the weight's transpose, which
    saved_tensors_hooks pack, so changing the input in place afterwards is allowed."""
    def run(lib):
        packed = []
        x = values(lib, 4, 3, requires_grad=True)
        weight, bias = _layer(lib)
        weight.requires_grad_(False)
        with lib.autograd.graph.saved_tensors_hooks(
                lambda t: packed.append(tuple(t.shape)) or t, lambda t: t):
            y = lib.nn.functional.linear(x, weight, bias)
        not_saved = y.grad_fn._saved_mat1
        with lib.no_grad():
            x.mul_(2)
        (y * y).sum().backward()
        return _graph(y.grad_fn), packed, not_saved, x.grad, bias.grad
    same_behaviour(run)


def test_recorded_product_is_one_pending_call():
    """The cost this module removes: the product of a recorded layer is one pending call
    (the fused linear op of input, weight and bias), not a transpose feeding an addmm.
    (A property of torchlike alone; the graph it shows is compared with torch above.)"""
    import torchlike
    from torchlike import _lazy
    from torchlike.nn.functional import _linear_op
    lin = torchlike.nn.Linear(3, 2)
    for x, grad_fn in ((torchlike.ones(4, 3), "AddmmBackward0"),
                       (torchlike.ones(5, 4, 3), "ViewBackward0")):
        y = lin(x)
        assert y.grad_fn.name() == grad_fn
        pending = y._cache if y._base is not None else y._storage.array
        assert type(pending) is _lazy.Deferred and _lazy._call_of(pending).op is _linear_op
        ops = [entry[0] for entry in _lazy.plan([pending])[0]]     # (and the pending inits)
        assert ops[-1] is _linear_op and ops.count(_linear_op) == 1
        assert not {op.name for op in ops} & {"addmm", "matmul", "permute", "view"}
