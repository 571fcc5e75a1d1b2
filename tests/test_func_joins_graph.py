"""torch.func.vjp / jvp / linearize results join the autograd graph (issue 10): the
gradients that flow through them equal PyTorch's. The node is one per transform here
(`_TransformBackward` eagerly, `CompiledFunctionBackward` where the transform runs as a
program), where PyTorch records the ops inside (docs/jax.md)."""
import numpy as np
import pytest

import torchlike

torch = pytest.importorskip("torch")


def _f(a):
    return a.sin() * a


def _vjp_case(lib):
    x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
    out, vjp_fn = lib.func.vjp(_f, x)
    (g,) = vjp_fn(lib.ones(3))
    (out.sum() + g.sum()).backward()     # through the output and the vjp's result
    return x.grad


def _jvp_case(lib):
    x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
    t = lib.tensor([1.0, -1.0, 0.5], requires_grad=True)
    out, tangent = lib.func.jvp(_f, (x,), (t,))
    (out.sum() + tangent.pow(2).sum()).backward()
    return x.grad, t.grad


def _linearize_case(lib):
    x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
    t = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out, jvp_fn = lib.func.linearize(_f, x)
    (out.sum() * 2 + jvp_fn(t).sum()).backward()
    # jvp_fn's result depends on the tangent, not on the linearization point
    return x.grad, t.grad


@pytest.mark.parametrize("case", [_vjp_case, _jvp_case, _linearize_case])
def test_gradients_through_transform_results_match_torch(case):
    ours, theirs = case(torchlike), case(torch)
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.tolist(), b.tolist(), rtol=1e-6)


def test_results_require_grad_only_when_inputs_do():
    x = torchlike.tensor([0.5, 1.0])
    out, vjp_fn = torchlike.func.vjp(_f, x)
    assert out.grad_fn is None and vjp_fn(torchlike.ones(2))[0].grad_fn is None
    with torchlike.no_grad():
        y = torchlike.tensor([0.5, 1.0], requires_grad=True)
        assert torchlike.func.jvp(_f, (y,), (torchlike.ones(2),))[0].grad_fn is None


@pytest.mark.parametrize("transform", ["vmap", "jacfwd", "grad"])
def test_detached_captures_do_not_join_the_graph(transform):
    """A transform whose function reads a captured tensor that requires grad only through
    detach() (or .data) gives results outside the graph, as PyTorch's; reading it
    directly joins them."""
    def run(lib, read):
        w = lib.tensor([2.0, 3.0], requires_grad=True)
        x = lib.tensor([0.5, 1.5])
        f = {"vmap": lambda r: r * read(w),
             "jacfwd": lambda r: (r * read(w)).sin(),
             "grad": lambda r: (r * read(w)).sin().sum()}[transform]
        arg = x.expand(3, 2) if transform == "vmap" else x
        out = getattr(lib.func, transform)(f)(arg)
        return out.requires_grad, out.grad_fn is None, out.tolist()
    for read in (lambda w: w.detach(), lambda w: w.data, lambda w: w):
        ours, theirs = run(torchlike, read), run(torch, read)
        assert ours[:2] == theirs[:2]
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-6)


@pytest.mark.parametrize("transform", ["vmap", "jacrev", "grad"])
def test_compiled_transform_results_join_the_graph(transform):
    """torchlike.compile of a transform over a module: the results require grad and
    backward fills the module's `.grad`s, as PyTorch's eager transform does (the
    compiled function found the module through the transform's wrapper)."""
    def run(lib, compiled):
        lib.manual_seed(0)
        model = lib.nn.Linear(3, 2)
        model.weight.data = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])
        model.bias.data = lib.tensor([0.1, -0.2])
        f = {"vmap": lib.func.vmap(model),
             "jacrev": lib.func.jacrev(lambda a: model(a).tanh()),
             "grad": lib.func.grad(lambda a: model(a).tanh().sum())}[transform]
        f = lib.compile(f) if compiled else f
        x = lib.tensor([[0.5, 1.0, -1.0], [2.0, 0.0, 1.0]])
        for _ in range(2):      # (the second call runs the compiled program)
            out = f(x if transform == "vmap" else x[0])
            assert out.requires_grad
            out.pow(2).sum().backward()
        return model.weight.grad.tolist(), model.bias.grad.tolist()
    ours, theirs = run(torchlike, compiled=True), run(torch, compiled=False)
    for a, b in zip(ours, theirs):
        # (3-term dot products, tanh, squares summed over 2 calls and accumulated: a few
        # dozen float32 roundings, 84 eps; atol for gradients that cancel to about 0)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_results_constant_in_the_tensors_that_require_grad_have_no_grad_fn():
    """A transform's (or a compiled function's) result that does not depend on any
    tensor requiring grad is outside the graph, as PyTorch's (the gradient of a linear
    function is constant in its input); one that depends on one joins it."""
    def run(lib, compile_):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x = lib.tensor([0.5, -1.0, 2.0])
        results = [lib.func.grad(lambda a: (a * 2).sum())(w),
                   lib.func.grad(lambda a: (a * a).sum())(w),
                   lib.vmap(lambda a: a * 2)(x.expand(2, 3)),
                   lib.vmap(lambda a: a * w)(x.expand(2, 3)),
                   lib.func.jacrev(lambda a: a * x)(w)]
        results += list(compile_(lambda a: ((a * w).sum(), a * 2))(x))
        return [(r.requires_grad, r.grad_fn is None) for r in results]
    assert run(torchlike, torchlike.compile) == run(torch, lambda f: f)
