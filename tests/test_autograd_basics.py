"""Autograd against real torch: recording, grad_fn names, .grad accumulation, backward
options, errors. Every test runs the same code under both libraries."""
import gc
import warnings
import weakref

import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, assert_same, run_both, to_numpy

pytestmark = pytest.mark.usefixtures("oracle")


def _grads_match(ours, theirs):
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None
        else:
            # assert_same's tolerances: these graphs are a few pointwise ops and
            # reductions over at most a few dozen elements (see helpers.assert_same)
            np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-5, atol=1e-6)


# -- the seed walkthrough ---------------------------------------------------------------
def test_seed_walkthrough_prints_like_the_notebook():
    def walk(lib):
        x = lib.ones(3, 3, requires_grad=True)
        y = x + 2
        z = y * y * 3
        out = z.mean()
        lines = [str(x), str(y), str(z), str(out)]
        out.backward()
        lines.append(str(x.grad))
        return "\n".join(lines)
    ours, theirs = run_both(walk)
    assert ours == theirs


# -- grad_fn names and graph structure --------------------------------------------------
GRAPH_CASES = {
    "add_scalar": lambda lib, x, y: x + 2,
    "add": lambda lib, x, y: x + y,
    "radd": lambda lib, x, y: 2 + x,
    "sub": lambda lib, x, y: x - y,
    "rsub": lambda lib, x, y: 2 - x,
    "mul": lambda lib, x, y: x * y,
    "div": lambda lib, x, y: x / y,
    "rdiv": lambda lib, x, y: 2 / x,
    "pow_scalar": lambda lib, x, y: x ** 2,
    "pow_tensor": lambda lib, x, y: x ** y,
    "rpow": lambda lib, x, y: 2 ** x,
    "neg": lambda lib, x, y: -x,
    "exp": lambda lib, x, y: x.exp(),
    "sum": lambda lib, x, y: x.sum(),
    "sum_dim": lambda lib, x, y: x.sum(0),
    "sum_keepdim": lambda lib, x, y: x.sum(1, keepdim=True),
    "mean": lambda lib, x, y: x.mean(),
    "mean_dim": lambda lib, x, y: x.mean(-1),
    "max": lambda lib, x, y: x.max(),
    "max_dim": lambda lib, x, y: x.max(0)[0],
    "select": lambda lib, x, y: x[0],
    "slice": lambda lib, x, y: x[0:1],
    "index": lambda lib, x, y: x[[0, 1]],
    "view": lambda lib, x, y: x.view(6),
    "reshape": lambda lib, x, y: x.reshape(3, 2),
    "t": lambda lib, x, y: x.t(),
    "T": lambda lib, x, y: x.T,
    "mT": lambda lib, x, y: x.mT,
    "transpose": lambda lib, x, y: x.transpose(0, 1),
    "permute": lambda lib, x, y: x.permute(1, 0),
    "unsqueeze": lambda lib, x, y: x.unsqueeze(0),
    "squeeze": lambda lib, x, y: x.unsqueeze(0).squeeze(),
    "squeeze_dim": lambda lib, x, y: x.unsqueeze(0).squeeze(0),
    "expand": lambda lib, x, y: x[:, :1].expand(2, 3),
    "mm": lambda lib, x, y: x @ y.t(),
    "mv": lambda lib, x, y: x @ y[0],
    "dot": lambda lib, x, y: x[0] @ y[0],
    "cat": lambda lib, x, y: lib.cat([x, y]),
    "stack": lambda lib, x, y: lib.stack([x, y]),
    "where": lambda lib, x, y: lib.where(x > 0, x, y),
    "clone": lambda lib, x, y: x.clone(),
    "to_double": lambda lib, x, y: x.double(),
    "abs": lambda lib, x, y: x.abs(),
    "relu": lambda lib, x, y: x.relu(),
    "tanh": lambda lib, x, y: x.tanh(),
    "sigmoid": lambda lib, x, y: x.sigmoid(),
    "unbind": lambda lib, x, y: x.unbind()[1],
    "split": lambda lib, x, y: x.split(1)[1],
    "chunk": lambda lib, x, y: x.chunk(2, 1)[0],
    "narrow": lambda lib, x, y: x.narrow(1, 1, 2),
    "diagonal": lambda lib, x, y: x.diagonal(),
    "flatten": lambda lib, x, y: x.flatten(),
    "clamp": lambda lib, x, y: x.clamp(-0.5, 0.5),
    "clamp_tensor": lambda lib, x, y: x.clamp(min=y),
}


@pytest.mark.parametrize("name", sorted(GRAPH_CASES))
def test_grad_fn_names_values_and_gradients(name):
    fn = GRAPH_CASES[name]

    def run(lib):
        lib.manual_seed(0)
        data = np.random.default_rng(0).standard_normal((2, 2, 3)).astype(np.float32)
        x = lib.tensor(data[0] + 2.5, requires_grad=True)
        y = lib.tensor(data[1] + 2.5, requires_grad=True)
        out = fn(lib, x, y)
        weights = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape))
                             .astype(np.float32))
        (out * weights).sum().backward()
        return out, x.grad, y.grad
    (out, gx, gy), (tout, tgx, tgy) = run_both(run)
    assert_same(out, tout)
    _grads_match([gx, gy], [tgx, tgy])


def test_next_functions_and_accumulate_grad():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        y = lib.ones(3)
        z = x * 2 + y
        fns = z.grad_fn.next_functions
        acc = fns[0][0].next_functions[0][0]
        return ([(None if f is None else f.name(), nr) for f, nr in fns],
                [(None if f is None else f.name(), nr) for f, nr in fns[0][0].next_functions],
                acc.name(), type(acc).__name__, acc.variable is x, x.grad_fn is None, x.is_leaf,
                z.is_leaf, repr(z.grad_fn).startswith(f"<{type(z.grad_fn).__name__} object at 0x"))
    ours, theirs = run_both(run)
    assert ours == theirs


def test_a_leaf_made_for_one_step_is_freed_with_its_graph_without_the_collector():
    # The graph holds its leaves' AccumulateGrad nodes and they hold the leaves; a leaf
    # holds its node only weakly, as in PyTorch: an input made to require grad at every
    # step (adversarial examples, input gradients) and its .grad go when the step's
    # references do, by reference counting, with the cyclic collector off
    def run(lib):
        gc.disable()
        try:
            x = lib.ones(3, 3, requires_grad=True)
            ((x + 2) * (x + 2) * 3).mean().backward()
            leaf, grad = weakref.ref(x), weakref.ref(x.grad)
            del x
            return leaf() is None, grad() is None
        finally:
            gc.enable()
    ours, theirs = run_both(run)
    assert ours == theirs == (True, True)


def test_an_accumulate_grad_node_lives_while_a_graph_or_the_user_holds_it():
    # one node per leaf while held: by two ops of a graph, and by the user across graphs
    # (registering a hook on it, as data-parallel wrappers do); the graph keeps the leaf
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        a, b = x * 2, x + 1
        shared = a.grad_fn.next_functions[0][0] is b.grad_fn.next_functions[0][0]
        held = a.grad_fn.next_functions[0][0]
        calls = []
        held.register_hook(lambda grad_inputs, grad_outputs: calls.append(len(grad_outputs)))
        del a, b
        later = x * 3
        kept = later.grad_fn.next_functions[0][0] is held
        later.sum().backward()
        leaf_alive = weakref.ref(x)
        y = x * 4
        del x
        return shared, kept, calls, held.variable is not None, \
            y.grad_fn.next_functions[0][0].variable is leaf_alive()
    ours, theirs = run_both(run)
    assert ours == theirs == (True, True, [1], True, True)


def test_grad_accumulates_into_the_same_object():
    def run(lib):
        x = lib.ones(2, 2, requires_grad=True)
        (x * 3).sum().backward()
        first = x.grad
        (x * x).sum().backward()
        return first is x.grad, x.grad, x.grad.requires_grad, x.grad.grad_fn
    ours, theirs = run_both(run)
    assert ours[0] == theirs[0] is True
    assert_same(ours[1], theirs[1])
    assert ours[2:] == (False, None) == theirs[2:]


def test_grad_none_assign_and_broadcast_reduction():
    def run(lib):
        x = lib.ones(3, 1, requires_grad=True)
        b = lib.ones(4, requires_grad=True)
        assert x.grad is None
        (x * b).sum().backward()
        gx, gb = x.grad.clone(), b.grad.clone()
        x.grad = None
        (x * 2).sum().backward()
        return gx, gb, x.grad
    ours, theirs = run_both(run)
    assert_same(ours, theirs)


def test_grad_assignment_errors():
    def wrong_shape(lib):
        x = lib.ones(3, requires_grad=True)
        x.grad = lib.ones(2)
    assert_raises_same(wrong_shape)

    def wrong_dtype(lib):
        x = lib.ones(3, requires_grad=True)
        x.grad = lib.ones(3, dtype=lib.float64)
    assert_raises_same(wrong_dtype)


def test_grad_cast_to_leaf_dtype_through_type_conversion():
    def run(lib):
        x = lib.ones(3, dtype=lib.float32, requires_grad=True)
        (x.double() * 2).sum().backward()
        return x.grad
    ours, theirs = run_both(run)
    assert_same(ours, theirs)


def test_nonleaf_grad_warns_and_returns_none():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            g = y.grad
        return g, [(w.category.__name__, str(w.message)) for w in caught]
    ours, theirs = run_both(run)
    assert ours == theirs


def test_retain_grad():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        y.retain_grad()
        z = (y * y).sum()
        z.backward()
        return y.retains_grad, y.grad, x.grad
    ours, theirs = run_both(run)
    assert ours[0] == theirs[0]
    assert_same(ours[1:], theirs[1:])


def test_backward_with_gradient_argument_and_inputs():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = x * w
        y.backward(lib.tensor([1.0, 0.1, 0.01]), inputs=[x])
        return x.grad, w.grad
    ours, theirs = run_both(run)
    assert_same(ours, theirs)


def test_backward_inputs_nonleaf_accumulates_into_its_grad():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        (h * h).sum().backward(inputs=[h])
        return h.grad, x.grad
    ours, theirs = run_both(run)
    assert_same(ours[0], theirs[0])
    assert ours[1] is None and theirs[1] is None


def test_autograd_backward_function_with_several_roots():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, b = x * 2, x ** 2
        lib.autograd.backward([a.sum(), b.sum()])
        return x.grad
    ours, theirs = run_both(run)
    assert_same(ours, theirs)


def test_autograd_grad_and_allow_unused():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0], requires_grad=True)
        out = (x ** 3).sum()
        gx, gy = lib.autograd.grad(out, [x, y], allow_unused=True, retain_graph=True)
        gx2, gy2 = lib.autograd.grad(out, [x, y], materialize_grads=True)
        return gx, gy, gx2, gy2, x.grad
    ours, theirs = run_both(run)
    assert_same(ours[0], theirs[0])
    assert ours[1] is None and theirs[1] is None
    assert_same(ours[2:4], theirs[2:4])
    assert ours[4] is None and theirs[4] is None


def test_autograd_grad_unused_error():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0], requires_grad=True)
        lib.autograd.grad((x * 2).sum(), [x, y])
    assert_raises_same(run)


def test_double_backward_and_hessian_vector_product():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = (x ** 3).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        v = lib.tensor([1.0, 0.5, 0.25])
        (hv,) = lib.autograd.grad((g * v).sum(), x, create_graph=True)
        (third,) = lib.autograd.grad(hv.sum(), x)
        return g, hv, third, g.requires_grad
    ours, theirs = run_both(run)
    assert_same(ours[:3], theirs[:3], check_grad_fn=False)
    assert ours[3] == theirs[3]


def test_create_graph_backward_makes_grad_differentiable():
    def run(lib):
        x = lib.tensor([0.5, -1.5], requires_grad=True)
        (x.sin() * x).sum().backward(create_graph=True)
        first = x.grad.clone()
        g = x.grad
        x.grad = None
        g.sum().backward()
        return first, x.grad
    ours, theirs = run_both(run)
    assert_same(ours, theirs, check_grad_fn=False)


# -- freeing and re-running ------------------------------------------------------------
def test_second_backward_raises():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()
    assert_raises_same(run)


def test_retain_graph_allows_second_backward():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    ours, theirs = run_both(run)
    assert_same(ours, theirs)


def test_graph_that_saved_nothing_runs_twice():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        y = (x + 2).sum()
        y.backward()
        y.backward()
        return x.grad
    ours, theirs = run_both(run)
    assert_same(ours, theirs)


# -- errors ------------------------------------------------------------------------------
ERRORS = {
    "nonscalar_without_gradient": lambda lib: (lib.ones(2, requires_grad=True) * 2).backward(),
    "no_grad_fn": lambda lib: lib.ones(2).sum().backward(),
    "inplace_on_leaf": lambda lib: lib.ones(2, requires_grad=True).add_(1),
    "inplace_on_view_of_leaf": lambda lib: lib.ones(2, requires_grad=True)[0].mul_(2),
    "change_requires_grad_of_nonleaf": lambda lib: setattr(
        lib.ones(2, requires_grad=True) * 2, "requires_grad", False),
    "int_factory_requires_grad": lambda lib: lib.ones(2, dtype=lib.int64, requires_grad=True),
    "int_attribute_requires_grad": lambda lib: setattr(lib.tensor([1, 2]), "requires_grad", True),
    "int_method_requires_grad": lambda lib: lib.tensor([1, 2]).requires_grad_(),
    "gradient_shape_mismatch": lambda lib: (lib.ones(3, requires_grad=True) * 2).backward(lib.ones(2)),
    "hook_without_grad": lambda lib: lib.ones(3).register_hook(lambda g: g),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name):
    assert_raises_same(ERRORS[name])


def test_saved_tensor_modified_in_place():
    def saved_result(lib):
        z = lib.ones(3, requires_grad=True)
        e = z.exp()
        e.add_(1)
        e.sum().backward()

    def saved_input(lib):
        z = lib.ones(3, requires_grad=True)
        q = z * 1
        e = q * q
        q.add_(1)
        e.sum().backward()

    def saved_leaf_like(lib):
        z = lib.ones(3, requires_grad=True)
        w = lib.ones(3)
        e = z * w
        w.add_(1)
        e.sum().backward()
    for fn in (saved_result, saved_input, saved_leaf_like):
        assert_raises_same(fn)


def test_failed_backward_leaves_grads_untouched():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        (x * 2).sum().backward()
        q = x * 1
        e = q * q
        q.add_(1)
        try:
            e.sum().backward()
        except RuntimeError:
            pass
        return x.grad
    ours, theirs = run_both(run)
    assert_same(ours, theirs)


# -- in-place and views under autograd ---------------------------------------------------
def test_inplace_on_nonleaf_keeps_correct_gradients():
    def run(lib):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x * 2
        y.mul_(x * 3)
        y.add_(1)
        y.div_(y.detach() + 1)
        y.pow_(2)
        y.exp_()
        y.sum().backward()
        return y, x.grad
    ours, theirs = run_both(run)
    assert_same(ours, theirs)


def test_inplace_with_an_input_aliasing_self_is_version_checked():
    def run(lib):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x * 2
        y.mul_(y)
        y.sum().backward()
    assert_raises_same(run)

    def saved_result_modified(lib):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        (x * 2).sigmoid_().add_(1).sum().backward()
    assert_raises_same(saved_result_modified)


def test_setitem_rewrites_history_with_copy_slices():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([5.0], requires_grad=True)
        y = x * 1
        y[0] = w[0] * 2
        y[1:] *= 3
        name = y.grad_fn.name()
        (y * lib.tensor([1.0, 10.0, 100.0])).sum().backward()
        return name, x.grad, w.grad
    ours, theirs = run_both(run)
    assert ours[0] == theirs[0]
    assert_same(ours[1:], theirs[1:])


def test_view_history_regenerated_after_base_changes():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 1
        v = y[:2]
        v.mul_(2)
        names = (y.grad_fn.name(), v.grad_fn.name())
        (v.sum() + y.sum()).backward()
        return names, x.grad
    ours, theirs = run_both(run)
    assert ours[0] == theirs[0]
    assert_same(ours[1], theirs[1])


def test_inplace_from_a_requires_grad_source_into_plain_tensor():
    def run(lib):
        w = lib.tensor([2.0, 3.0], requires_grad=True)
        z = lib.zeros(3)
        z[1:] = w * w
        z.sum().backward()
        return z.requires_grad, z.grad_fn.name(), w.grad
    ours, theirs = run_both(run)
    assert ours[:2] == theirs[:2]
    assert_same(ours[2], theirs[2])


def test_index_put_gradient():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        v = lib.tensor([10.0, 20.0], requires_grad=True)
        y = x * 1
        y[lib.tensor([0, 2])] = v
        (y * lib.arange(4.0)).sum().backward()
        return y.grad_fn.name(), x.grad, v.grad
    ours, theirs = run_both(run)
    assert ours[0] == theirs[0]
    assert_same(ours[1:], theirs[1:])


# -- no recursion, memory ---------------------------------------------------------------
def test_long_chain_backward_without_recursion():
    x = torchlike.ones(4, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1e-6
    y.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), np.ones(4))


def test_graph_and_saved_arrays_are_freed_after_backward():
    import weakref
    x = torchlike.ones(8, requires_grad=True)
    refs = []
    for _ in range(50):
        y = (x * 2).exp()
        refs.append(weakref.ref(y.grad_fn))
        y.sum().backward()
        del y
    gc.collect()
    assert sum(r() is not None for r in refs) == 0


def test_memory_of_a_10000_step_loop_stays_flat():
    """A training loop keeps no arrays, graphs or compiled functions per step: the live
    JAX arrays and the compile caches are the same after 10,000 more steps."""
    import jax
    from torchlike import _lazy
    from torchlike.autograd import engine
    x = torchlike.ones(64, requires_grad=True)
    w = torchlike.ones(64, requires_grad=True)

    def step():
        loss = ((x * w).tanh() * 3 + x).mean()
        loss.backward()
        with torchlike.no_grad():
            x.sub_(0.01 * x.grad)
        x.grad = None
        return loss.item()

    def footprint():
        gc.collect()
        return (len(jax.live_arrays()), len(engine._fused_cache), len(_lazy._program_cache),
                len(_lazy._shape_cache))
    for _ in range(10):
        step()
    before = footprint()
    for _ in range(10_000):
        step()
    assert footprint() == before
