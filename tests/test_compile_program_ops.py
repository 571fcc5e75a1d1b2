"""The ops a compiled step's program is made of, written for XLA (issue 10): what they
record and compute must stay PyTorch's.

* A linear layer inside a JAX trace is one node (its backward is the fused op's vjp, which
  XLA compiles into fused dots) instead of PyTorch's t/addmm/view chain; the node carries
  the name PyTorch's output has.
* Attention's masked softmax has softmax's own derivative (a smaller backward program);
  a fully masked row still gives zeros and zero gradients.
"""
import numpy as np
import pytest

import torchlike
from helpers import float_tol, normwise_tol

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("x_shape,bias", [((4, 3), True), ((2, 4, 3), True), ((2, 4, 3), False)])
def test_linear_inside_a_compiled_function_records_torchs_node_and_gradients(x_shape, bias):
    """Inside the trace a linear layer is one node (its backward is the fused op's vjp);
    it carries the name of the node PyTorch's output has, and gives torch's gradients."""
    names = {}

    def run(lib, compiled):
        lib.manual_seed(0)
        layer = lib.nn.Linear(3, 5, bias=bias)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)))
            if bias:
                layer.bias.copy_(lib.tensor(np.linspace(0.5, -0.5, 5, dtype=np.float32)))
        x = lib.tensor(np.linspace(-1, 1, int(np.prod(x_shape)), dtype=np.float32)
                       .reshape(x_shape))

        def f():
            y = layer(x)
            names[lib.__name__, compiled] = y.grad_fn.name()
            loss = (y * y).sum()
            loss.backward()
            return loss
        loss = (lib.compile(f) if compiled else f)()
        return loss.item(), layer.weight.grad.detach().numpy()

    expected_loss, expected_grad = run(torch, False)
    loss, grad = run(torchlike, True)
    assert names["torchlike", True] == names["torch", False]
    # a sum of 5-15 squares of 3-term dot products; the weight gradient sums 4-8 products
    # with cancellation
    np.testing.assert_allclose(loss, expected_loss, **float_tol("float32", steps=16))
    np.testing.assert_allclose(grad, expected_grad, **normwise_tol("float32", 16, expected_grad))


def test_fully_masked_attention_row_gives_torchs_values_and_gradients():
    def run(lib):
        rng = np.random.default_rng(0)
        q, k, v = (lib.tensor(rng.standard_normal((2, 3, 4, 8)).astype(np.float32),
                              requires_grad=True) for _ in range(3))
        mask = np.ones((4, 4), bool)
        mask[1] = False                     # query 1 sees no key: zeros, no gradient
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v,
                                                             attn_mask=lib.tensor(mask))
        weights = lib.tensor(np.linspace(-1, 1, out.numel(), dtype=np.float32)
                             .reshape(out.shape))
        (out * weights).sum().backward()
        return [t.detach().numpy() for t in (out, q.grad, k.grad, v.grad)]

    # 8-term dot products, a 4-term softmax, and its backward: a few dozen roundings,
    # with cancellation in the gradients' sums
    results = run(torchlike)
    for ours, theirs in zip(results, run(torch)):
        np.testing.assert_allclose(ours, theirs, **normwise_tol("float32", 32, theirs))
    assert not results[0][:, :, 1].any()
