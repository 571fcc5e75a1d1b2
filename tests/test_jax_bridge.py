"""torchlike and JAX together: no tracer leaks, tensors wrapping tracers inside
jax.jit/grad/vmap, and the zero-copy bridge (from_jax, .jax(), __jax_array__, DLPack)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import torchlike
from helpers import float_tol, to_numpy

TOL = float_tol("float32", steps=8, scale=4.0)


def _eager_still_works():
    """Fresh Python numbers, cached numbers, implicit grads, random draws, deferred ops."""
    assert to_numpy(torchlike.ones(2) * 2).tolist() == [2.0, 2.0]
    assert to_numpy(torchlike.ones(3) + 7.25).tolist() == [8.25] * 3
    w = torchlike.ones(3, requires_grad=True)
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    assert to_numpy(w.grad).tolist() == [6.0, 6.0, 6.0]
    assert torchlike.randn(2).shape == (2,)


# -- the tracer leak --------------------------------------------------------------------
def test_eager_after_jit_over_torchlike_constants():
    def f(a):       # torchlike code on values that do not depend on `a`
        t = torchlike.ones(2) * 2 + 7.25
        return a + t.jax()
    np.testing.assert_allclose(jax.jit(f)(jnp.zeros(2)), [9.25, 9.25])
    _eager_still_works()


def test_eager_after_many_traces():
    w = torchlike.randn(3, requires_grad=True)
    pending = w * 2             # deferred: materialized inside the traces below
    view = torchlike.arange(6.0).view(2, 3)[1]

    def f(a):
        t = torchlike.from_jax(a)
        g = torchlike.randn(3)              # first draw of a fresh seed: a new key
        k = torchlike.zeros(3) + 5          # cached Python number
        return ((t.sin() * 3 + k + pending + view + g * 0).sum() + 1.5).jax()

    torchlike.manual_seed(123)
    for transform in (jax.jit, jax.grad, jax.jit, jax.vmap, lambda h: jax.jit(jax.grad(h))):
        xs = jnp.ones((4, 3)) if transform is jax.vmap else jnp.ones(3)
        transform(f)(xs)
    _eager_still_works()
    np.testing.assert_allclose(to_numpy(pending), to_numpy(w) * 2)
    assert to_numpy(view).tolist() == [3.0, 4.0, 5.0]


def test_backward_inside_jit_on_concrete_leaves_does_not_leak():
    w = torchlike.ones(2, requires_grad=True)

    def f(a):
        (w * 4).sum().backward()
        return a
    jax.jit(f)(1.0)
    assert to_numpy(w.grad).tolist() == [4.0, 4.0]
    (w * 4).sum().backward()
    assert to_numpy(w.grad).tolist() == [8.0, 8.0]


# -- tensors wrapping tracers, against the same computation in plain JAX -------------
def _torchlike_fn(a):
    t = torchlike.from_jax(a)
    h = torchlike.nn.functional.gelu(t @ t.T + 1).softmax(-1)
    return (h[0] * torchlike.tensor([1.0, 2.0, 3.0])).sum().jax()


def _jax_fn(a):
    h = jax.nn.softmax(jax.nn.gelu(a @ a.T + 1, approximate=False), -1)
    return (h[0] * jnp.array([1.0, 2.0, 3.0], jnp.float32)).sum()


@pytest.mark.parametrize("transform", ["jit", "grad", "vmap", "jit_grad", "vmap_grad"])
def test_tensors_under_jax_transforms_match_plain_jax(transform):
    a = jax.random.normal(jax.random.key(0), (3, 3), jnp.float32)
    batched = jax.random.normal(jax.random.key(1), (5, 3, 3), jnp.float32)
    wrap = {"jit": jax.jit, "grad": jax.grad, "vmap": jax.vmap,
            "jit_grad": lambda f: jax.jit(jax.grad(f)),
            "vmap_grad": lambda f: jax.vmap(jax.grad(f))}[transform]
    x = batched if transform.startswith("vmap") else a
    got, want = wrap(_torchlike_fn)(x), wrap(_jax_fn)(x)
    assert got.shape == want.shape and got.dtype == want.dtype == jnp.float32
    np.testing.assert_allclose(got, want, **TOL)


def test_module_called_from_jax_with_a_dict_of_arrays():
    model = torchlike.nn.Sequential(torchlike.nn.Linear(3, 4), torchlike.nn.Tanh(),
                                    torchlike.nn.Linear(4, 1))
    params = {k: v.jax() for k, v in model.named_parameters()}
    x = jax.random.normal(jax.random.key(2), (6, 3), jnp.float32)

    def loss(params, x):
        out = torchlike.func.functional_call(model, params, (torchlike.from_jax(x),))
        return (out ** 2).mean().jax()

    grads = jax.jit(jax.grad(loss))(params, x)
    expected = torchlike.autograd.grad(
        (model(torchlike.from_jax(x)) ** 2).mean(), list(model.parameters()))
    for (name, _), e in zip(model.named_parameters(), expected):
        np.testing.assert_allclose(grads[name], to_numpy(e), **TOL)
    _eager_still_works()


def test_host_side_checks_skip_tracers():
    def f(a):
        t = torchlike.from_jax(a)
        return torchlike.zeros(4).index_select(0, t).sum().jax()
    assert jax.jit(f)(jnp.array([0, 1])) == 0.0
    with pytest.raises(IndexError):     # eager: the check still runs
        torchlike.zeros(4).index_select(0, torchlike.tensor([9]))


# -- the bridge -------------------------------------------------------------------------
def _pointer(array):
    return array.unsafe_buffer_pointer()


def test_from_jax_and_jax_share_the_buffer():
    a = jnp.arange(6.0, dtype=jnp.float32).reshape(2, 3)
    t = torchlike.from_jax(a)
    assert t.dtype is torchlike.float32 and t.shape == (2, 3)
    assert _pointer(t.jax()) == _pointer(a)
    back = torchlike.from_jax(t.jax())
    assert _pointer(back.jax()) == _pointer(a)
    assert torchlike.as_tensor(a).jax() is a
    with pytest.raises(TypeError, match=r"expected jax.Array \(got list\)"):
        torchlike.from_jax([1.0])


def test_jax_of_a_tensor_requiring_grad_and_in_place_updates():
    w = torchlike.ones(2, requires_grad=True)
    assert to_numpy(torchlike.from_jax(w.jax())).tolist() == [1.0, 1.0]
    t = torchlike.zeros(2)
    before = t.jax()
    t.add_(1)           # JAX arrays are immutable: the exported array keeps its values
    assert np.asarray(before).tolist() == [0.0, 0.0]
    assert np.asarray(t.jax()).tolist() == [1.0, 1.0]


def test_jax_array_protocol():
    """JAX 0.10 honours __jax_array__ only in explicit conversions (jnp.asarray, jnp.array);
    its jitted functions (jnp.sin) refuse such objects, so code passes t.jax() to them."""
    t = torchlike.tensor([0.5, 1.0])
    a = jnp.asarray(t)
    assert a.dtype == jnp.float32 and _pointer(a) == _pointer(t.jax())
    np.testing.assert_allclose(jnp.sin(jnp.asarray(t)), np.sin([0.5, 1.0]), rtol=1e-6)
    np.testing.assert_allclose(jnp.array(t) + 1, [1.5, 2.0])


def test_tensor_of_jax_array_copies(oracle):
    a = jnp.arange(4, dtype=jnp.int32)
    t = torchlike.tensor(a)
    assert t.dtype is torchlike.int32 and to_numpy(t).tolist() == [0, 1, 2, 3]
    assert _pointer(t.jax()) != _pointer(a)
    f = torchlike.tensor(a, dtype=torchlike.float64, requires_grad=True)
    ref = oracle.tensor(np.arange(4, dtype=np.int32), dtype=oracle.float64, requires_grad=True)
    assert str(f.dtype) == str(ref.dtype) and f.requires_grad and f.is_leaf


def test_dlpack_with_real_torch(oracle):
    t = torchlike.arange(6.0).reshape(2, 3)
    ref = oracle.from_dlpack(t)
    assert ref.dtype == oracle.float32 and ref.tolist() == to_numpy(t).tolist()
    assert ref.data_ptr() == _pointer(t.jax())

    src = oracle.arange(8, dtype=oracle.float64).reshape(2, 4)
    back = torchlike.from_dlpack(src)
    assert back.dtype is torchlike.float64 and to_numpy(back).tolist() == src.tolist()
    assert _pointer(back.jax()) == src.data_ptr()

    capsule = torchlike.utils.dlpack.to_dlpack(t)
    again = oracle.utils.dlpack.from_dlpack(capsule)
    assert again.data_ptr() == _pointer(t.jax())
    from_capsule = torchlike.utils.dlpack.from_dlpack(oracle.utils.dlpack.to_dlpack(src))
    assert _pointer(from_capsule.jax()) == src.data_ptr()

    assert t.__dlpack_device__() == tuple(oracle.ones(1).__dlpack_device__())
    w, w_ref = torchlike.ones(2, requires_grad=True), oracle.ones(2, requires_grad=True)
    with pytest.raises(BufferError) as ref_err:
        w_ref.__dlpack__()
    with pytest.raises(BufferError, match=str(ref_err.value)):
        w.__dlpack__()


def test_jax_training_loop_matches_eager_torchlike():
    """A torchlike model trained by a jitted JAX loop (functional_call, value_and_grad,
    SGD as a tree map) lands where eager torchlike with optim.SGD lands."""
    torchlike.manual_seed(0)
    model = torchlike.nn.Sequential(torchlike.nn.Linear(4, 8), torchlike.nn.GELU(),
                                    torchlike.nn.Linear(8, 1))
    x = torchlike.randn(16, 4)
    y = torchlike.randn(16, 1)
    start = {k: v.detach().clone() for k, v in model.named_parameters()}

    def loss(params, x, y):
        out = torchlike.func.functional_call(model, params, (torchlike.from_jax(x),))
        return torchlike.nn.functional.mse_loss(out, torchlike.from_jax(y)).jax()

    @jax.jit
    def step(params, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        return jax.tree.map(lambda p, g: p - 0.1 * g, params, grads), value

    params = {k: v.jax() for k, v in start.items()}
    for _ in range(5):
        params, value = step(params, x.jax(), y.jax())

    opt = torchlike.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(5):
        opt.zero_grad()
        eager = torchlike.nn.functional.mse_loss(model(x), y)
        eager.backward()
        opt.step()
    np.testing.assert_allclose(value, to_numpy(eager), **TOL)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(params[name], to_numpy(p), **TOL)
    _eager_still_works()


def test_scan_and_checkpoint_over_torchlike_code():
    w = torchlike.randn(3, 3)

    def cell(h, x):
        t = (torchlike.from_jax(h) @ w + torchlike.from_jax(x)).tanh()
        return t.jax(), (t * 2).sum().jax()

    def plain(h, x):
        t = jnp.tanh(h @ w.jax() + x)
        return t, (t * 2).sum()

    xs = jax.random.normal(jax.random.key(3), (6, 3), jnp.float32)
    h0 = jnp.zeros(3, jnp.float32)
    got = jax.lax.scan(jax.checkpoint(cell), h0, xs)
    want = jax.lax.scan(plain, h0, xs)
    for g, e in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        np.testing.assert_allclose(g, e, **TOL)
    _eager_still_works()


def test_printing_a_tensor_that_holds_a_tracer():
    seen = []

    def f(a):
        seen.append(repr(torchlike.from_jax(a) * 2))
        return a
    jax.jit(f)(jnp.ones(2, jnp.float32))
    torchlike.vmap(lambda t: seen.append(repr(t)) or t)(torchlike.ones(2, 3))
    assert seen[0].startswith("tensor(") and "float32[2]" in seen[0]
    assert seen[0].endswith("dtype=torch.float32)")
    # inside torchlike's vmap the value is known: PyTorch's BatchedTensor wrapper shows it
    # (tests/test_func.py compares the forms with torch's)
    assert seen[1].startswith("BatchedTensor(lvl=1, bdim=0, value=\n    tensor([[1., 1., 1.],")


def test_writes_of_concrete_values_inside_jit_stay_concrete():
    buf = torchlike.zeros(4)
    five = torchlike.full((2,), 5.0)

    def f(a):
        buf[1:3] = five             # a strided write into a tensor made outside
        view = buf[2:]
        view.mul_(2)
        return a
    jax.jit(f)(1.0)
    assert to_numpy(buf).tolist() == [0.0, 5.0, 10.0, 0.0]
    stale = buf[1:3]
    buf.add_(1)                     # the view's cached value is stale now

    def g(a):
        return a + stale._data().sum()      # re-read (and re-cached) inside the trace
    assert float(jax.jit(g)(1.0)) == 18.0
    assert to_numpy(stale).tolist() == [6.0, 11.0]
    _eager_still_works()
