"""torch.func on JAX's transforms: grad, vjp, jvp, jacrev, jacfwd, hessian, vmap ...

Each transform unwraps its Tensor arguments to jax arrays, runs the matching JAX
transform over a function that wraps them back into Tensors (inside, Tensors hold
tracers: see _jax_bridge.py) and calls the user's function, and wraps the results.
Arguments, results and errors follow PyTorch's torch.func. Transforms nest
(`vmap(grad(f))`, `jacfwd(jacrev(f))`) because each one sees only jax arrays.

Results join torchlike's autograd graph (_func_autograd.py). Differences from PyTorch
are listed in docs/jax.md. A function must not write into tensors it did not receive
(PyTorch's error: _own_tensors_only), and reverse-mode results for complex inputs are
conjugated to PyTorch's convention here (_conjugated).
"""
import contextlib
import functools
import threading

import jax
import jax.numpy as jnp
from jax._src.interpreters import ad, batching     # (tracer classes, for debug_unwrap)

from . import _jax_bridge as bridge
from .autograd.engine import _conj
from .autograd.forward_ad import _check_dual_dtypes
from .autograd.grad_mode import enable_grad
from ._func_autograd import joined
from . import _func_tier
from ._func_tier import transformed
from ._tensor import Tensor

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian",
           "vmap", "functional_call", "stack_module_state", "functionalize", "debug_unwrap",
           "replace_all_batch_norm_modules_", "rearrange"]


# -- pytrees of Tensors <-> pytrees of arrays -------------------------------------------
def _is_leaf(x):
    return x is None or isinstance(x, Tensor)


def _leaves(tree):
    return jax.tree_util.tree_flatten(tree, is_leaf=_is_leaf)


def _to_arrays(tree):
    return jax.tree_util.tree_map(lambda x: x.jax() if isinstance(x, Tensor) else x, tree,
                                  is_leaf=_is_leaf)


def _to_tensors(tree, device):
    return jax.tree_util.tree_map(
        lambda x: bridge.wrap(x, device) if isinstance(x, (jax.Array, jax.core.Tracer)) else x,
        tree)


def _rebuild(template, leaves):
    """The next values of `leaves` (an iterator, in jax's flattening order) in
    `template`'s structure; dicts keep the template's key order (jax's sorts them)."""
    if isinstance(template, dict):
        values = {k: _rebuild(template[k], leaves) for k in sorted(template)}
        return type(template)((k, values[k]) for k in template)
    if isinstance(template, (tuple, list)) and not _is_leaf(template):
        items = [_rebuild(t, leaves) for t in template]
        return type(template)(*items) if hasattr(template, "_fields") else type(template)(items)
    return next(leaves)


def _tracked(tensors):
    """The inputs a reverse-mode transform differentiates, as its function sees them:
    leaves that require grad, as PyTorch's GradTrackingTensors are (so `a.requires_grad`
    is True there, and an in-place op on one, or an `out=` op reading one, raises
    PyTorch's error instead of losing the gradient). Nothing records: a transform's
    ops run traced (_jax_bridge.apply_traced)."""
    for t in _leaves(tensors)[0]:
        t._requires_grad = True
    return tensors


def _like(result, template):
    """A result of a JAX transform shaped like `template` (see _rebuild)."""
    return _rebuild(template, iter(jax.tree_util.tree_leaves(result, is_leaf=_is_leaf)))


def _device_of(tree):
    for x in _leaves(tree)[0]:
        if isinstance(x, Tensor):
            return x.device
    return None


def _check_tensors(tree):
    """Every leaf a differentiable transform takes must be a Tensor."""
    for x in _leaves(tree)[0]:
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")


def _check_float(tree):
    for x in _leaves(tree)[0]:
        if not (x.dtype.is_floating_point or x.dtype.is_complex):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")


def _argnums(argnums, n_args):
    """argnums as a tuple of non-negative ints, with PyTorch's errors."""
    single = isinstance(argnums, int)      # (a bool too, as in PyTorch: True is 1)
    if not single:
        if not isinstance(argnums, tuple) or not all(isinstance(a, int) for a in argnums):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        if len(set(argnums)) != len(argnums):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    out = []
    for a in ((argnums,) if single else argnums):
        if not -n_args <= a < n_args:
            raise RuntimeError(f"Got argnum={a}, but only {n_args} positional inputs")
        out.append(a % n_args)
    return tuple(out), single


def _with_args(args, argnums, values):
    args = list(args)
    for i, v in zip(argnums, values):
        args[i] = v
    return tuple(args)


def _conjugated(tree):
    """A pytree of reverse-mode results (or of cotangents) in PyTorch's convention for
    complex numbers: the conjugates of JAX's (engine._conj); real arrays unchanged."""
    return jax.tree_util.tree_map(_conj, tree)


def _split_aux(out, has_aux, api):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{_SIGNATURE.get(api, api + '(f)(*args)')}: output of function f "
                           "should be a tuple: (output, aux) if has_aux is True")
    for x in _leaves(out[1])[0]:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
    return out


_SIGNATURE = {"vjp": "vjp(f, *primals)", "jacrev": "vjp(f, *primals)",
              "jvp": "jvp(f, primals, tangents)", "jacfwd": "jvp(f, primals, tangents)",
              "linearize": "jvp(f, primals, tangents)"}


def _check_outputs(out, api, differentiable=False):
    """Outputs must be tensors; `differentiable` ones (torch.func's reverse mode) floating
    point or complex."""
    for x in _leaves(out)[0]:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{_SIGNATURE[api]}: expected f(*primals) to return only "
                               f"tensors, got unsupported type {type(x)}")
        if differentiable and not (x.is_floating_point() or x.is_complex()):
            raise RuntimeError("vjp(f, ...): All outputs of f must be floating-point or "
                               f"complex Tensors, got Tensor with dtype {x.dtype}")


def _float0_as_zeros(tangents, outputs):
    """JAX's tangents of integer outputs (float0, no values) as PyTorch's: zeros of the
    output's dtype."""
    return jax.tree_util.tree_map(
        lambda t, o: jnp.zeros(o.shape, o.dtype) if t.dtype == jax.dtypes.float0 else t,
        tangents, outputs)


def _own_tensors_only(array_fn):
    """A transform's function of arrays, run in a bridge.transform_scope: an in-place op
    on a tensor made outside it raises PyTorch's error (it would keep a tracer),
    unless autograd.functional, which allows what is not traced, runs the transform."""
    @functools.wraps(array_fn)
    def scoped(*arrays):
        with bridge.transform_scope(strict=not _functional.depth):
            return array_fn(*arrays)
    return scoped


class _Functional(threading.local):
    depth = 0       # > 0 while an autograd.functional entry runs these transforms


_functional = _Functional()


@contextlib.contextmanager
def functional_api():
    """Around autograd.functional's entries, which PyTorch builds on eager autograd:
    there, a write into a captured tensor is refused only where it would keep a tracer."""
    _functional.depth += 1
    try:
        yield
    finally:
        _functional.depth -= 1


@contextlib.contextmanager
def _forward_mode(batched=False, forward_ad=False):
    """User code under jvp/jacfwd/linearize: grad mode does not stop tangents there.
    `batched`: jacfwd's, which PyTorch runs as vmap of jvp (what a custom Function
    must allow: autograd/_function_in_transforms.py). `forward_ad`: autograd.functional's
    forward-mode jacobian, which PyTorch runs on forward AD (a Function's jvp is called)."""
    state = bridge.state
    outer_scopes, state.forward_scopes = state.forward_scopes, len(state.transform_scopes)
    state.forward += 1
    state.batching += batched
    state.functional_forward += forward_ad
    try:
        yield
    finally:
        state.forward -= 1
        state.batching -= batched
        state.functional_forward -= forward_ad
        state.forward_scopes = outer_scopes


# -- grad -------------------------------------------------------------------------------
def grad_and_value(func, argnums=0, has_aux=False):
    """torch.func.grad_and_value: (gradients, value), or (gradients, (value, aux))."""
    def transform(*args, **kwargs):
        nums, single = _argnums(argnums, len(args))
        diff = tuple(args[i] for i in nums)
        _check_tensors(diff)
        _check_float(diff)
        device = _device_of(diff)

        captured = {}

        @_own_tensors_only
        def scalar_fn(*diff_arrays):
            diff_tensors = _tracked(_like(_to_tensors(diff_arrays, device), diff))
            with enable_grad():     # an outer no_grad does not apply inside, as in torch
                out = func(*_with_args(args, nums, diff_tensors), **kwargs)
            out, aux = _split_aux(out, has_aux, "grad_and_value")
            captured["aux"] = aux
            if not isinstance(out, Tensor):
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"Tensor, got {type(out)}")
            if out.dim() != 0:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got tensor with {out.dim()} dims. Maybe "
                                   "you wanted to use the vjp or jacrev APIs instead?")
            value = out.jax()
            # an integer or bool output is a constant to autograd: zero gradients, as in
            # PyTorch (jax.grad differentiates real outputs only)
            differentiated = value if jnp.issubdtype(value.dtype, jnp.inexact) else \
                jnp.zeros((), jnp.float32)
            return differentiated, (value, _to_arrays(aux))

        grads, (value, aux) = jax.grad(scalar_fn, argnums=tuple(range(len(nums))),
                                       has_aux=True)(*_to_arrays(diff))
        grads = _conjugated(grads)
        grads = _like(_to_tensors(grads[0] if single else grads, device),
                      diff[0] if single else diff)
        value = _to_tensors(value, device)
        if has_aux:
            return grads, (value, _like(_to_tensors(aux, device), captured["aux"]))
        return grads, value

    def eager(*args, **kwargs):
        # (its results join the autograd graph of tensors that require grad)
        return joined(lambda a: transform(*a, **kwargs), args)
    return transformed(func, eager, ("grad_and_value", argnums, has_aux))


def grad(func, argnums=0, has_aux=False):
    """torch.func.grad: the gradient of a scalar function (and its aux output)."""
    inner = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        grads, value = inner(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    # (inner runs as a program, or eagerly, and so do transforms of this: _func_tier)
    wrapper._tier_key = inner._tier_key if inner._tier_key is _func_tier.EAGER else \
        ("grad", inner._tier_key)
    wrapper._tier_family = ("grad", inner._tier_family)
    return wrapper


# -- vjp, jvp, linearize ----------------------------------------------------------------
class _Star:
    def __repr__(self):
        return "*"


def _structure(tree):
    """A pytree's structure as PyTorch prints it in messages: '(*, *)', '{'a': *}'."""
    star = _Star()
    return repr(jax.tree_util.tree_map(lambda x: star, tree, is_leaf=_is_leaf))


def _shape_str(shape):
    return f"torch.Size([{', '.join(str(n) for n in shape)}])"


def _on_arrays(func, primals, device, has_aux, api, mode, differentiable=False):
    """func as a function of arrays, returning (output arrays, aux arrays), for jax.vjp
    and jax.jvp; it runs under `mode()` and keeps the Tensor outputs it made in the
    returned dict (keys 'out' and 'aux'), whose structure the results take.
    `differentiable`: its outputs must be floating point or complex (_check_outputs)."""
    captured = {}

    @_own_tensors_only
    def array_fn(*arrays):
        with mode():
            inputs = _like(_to_tensors(arrays, device), primals)
            out = func(*(_tracked(inputs) if mode is enable_grad else inputs))
        out, aux = _split_aux(out, has_aux, api)
        _check_outputs(out, api, differentiable)
        captured.update(out=out, aux=aux)
        return _to_arrays(out), _to_arrays(aux)
    return array_fn, captured


def vjp(func, *primals, has_aux=False, _integer_outputs=False):
    """torch.func.vjp: (output, vjp_fn) or (output, vjp_fn, aux); vjp_fn(cotangents)
    returns one gradient per primal, as a tuple. The output (and aux) and vjp_fn's
    results join the autograd graph, as in PyTorch. (`_integer_outputs`: allowed, their
    gradients zeros, as in torch.autograd.functional.vjp, which is built on this one.)"""
    _check_tensors(primals)
    _check_float(primals)
    device = _device_of(primals)

    def run(prims):
        array_fn, captured = _on_arrays(func, prims, device, has_aux, "vjp", enable_grad,
                                        differentiable=not _integer_outputs)
        out, pullback, aux = jax.vjp(array_fn, *_to_arrays(prims), has_aux=True)
        return out, pullback, aux, captured

    first = {}

    def forward(prims):
        out, pullback, aux, captured = run(prims)
        first.setdefault("run", (out, pullback, captured))
        return (_like(_to_tensors(out, device), captured["out"]),
                _like(_to_tensors(aux, device), captured["aux"]))

    out_tensors, aux_tensors = joined(forward, primals)
    out, _, captured = first["run"]
    out_leaves, out_tree = jax.tree_util.tree_flatten(out)

    def backward(args):
        cotangents, prims = args
        pullback = run(prims)[1]
        ct_leaves = _leaves(cotangents)[0]
        cts = [_conj(c.jax().astype(o.dtype)) for c, o in zip(ct_leaves, out_leaves)]
        grads = _conjugated(pullback(jax.tree_util.tree_unflatten(out_tree, cts)))
        return _like(_to_tensors(grads, device), prims)

    def vjp_fn(cotangents):
        ct_leaves, ct_tree = _leaves(cotangents)
        if ct_tree != out_tree:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as "
                               f"pytree structure of outputs to the function. cotangents: "
                               f"{_structure(cotangents)}, primal output: "
                               f"{_structure(captured['out'])}")
        for i, (c, o) in enumerate(zip(ct_leaves, out_leaves)):
            if not isinstance(c, Tensor):
                raise TypeError("gradients can be either Tensors or None, but got "
                                f"{type(c).__name__}")
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{_shape_str(c.shape)} and output[{i}] has a shape of "
                                   f"{_shape_str(o.shape)}.")
        return joined(backward, (cotangents, primals))

    result = (out_tensors, vjp_fn)
    return result + (aux_tensors,) if has_aux else result


def _check_primals_tangents(primals, tangents, api):
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}(f, primals, tangents): Expected primals to be a tuple. "
                           "E.g. it should be valid to call f(*primals).")
    from ._func_vmap import _spec
    p_leaves, p_tree = _leaves(primals)
    t_leaves, t_tree = _leaves(tangents)
    for what, leaves in (("primals", p_leaves), ("tangents", t_leaves)):
        for x in leaves:
            if not isinstance(x, Tensor):
                raise RuntimeError(f"{api}(f, primals, tangents): Expected {what} to only "
                                   f"contain Tensors, got {type(x)}")
    if p_tree != t_tree:
        raise RuntimeError(f"{api}(f, primals, tangents): Expected primals and tangents to "
                           f"have the same python structure. For example, if primals is a "
                           f"tuple of 3 tensors, tangents also must be. Got primals with "
                           f"structure {_spec(primals)} and tangents with structure "
                           f"{_spec(tangents)}")
    if not p_leaves:
        raise RuntimeError(f"{api}(f, primals, tangents): Expected primals to contain at "
                           "least one Tensor.")
    for p, t in zip(p_leaves, t_leaves):
        if api == "jvp":
            _check_dual_dtypes(p, t)
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError("Trying to set a forward gradient that has a different size "
                               "than that of the original Tensor, this is not supported. "
                               f"Tensor is of size {list(p.shape)} while the given forward "
                               f"gradient is of size {list(t.shape)}.")


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """torch.func.jvp: (output, jvp_out) or (output, jvp_out, aux); the results join the
    autograd graph of primals and tangents that require grad."""
    return transformed(func, functools.partial(_jvp, func, strict, has_aux),
                       ("jvp", strict, has_aux))(primals, tangents)


def _jvp(func, strict, has_aux, primals, tangents):
    _check_primals_tangents(primals, tangents, "jvp")
    device = _device_of(primals)

    def run(args):
        prims, tans = args
        array_fn, captured = _on_arrays(func, prims, device, has_aux, "jvp", _forward_mode)
        p = _to_arrays(prims)
        t = jax.tree_util.tree_map(lambda a, b: b.astype(a.dtype), p, _to_arrays(tans))
        out_arrays, out_tangent, aux_arrays = jax.jvp(array_fn, p, t, has_aux=True)
        out, aux = captured["out"], captured["aux"]
        out_tangent = _float0_as_zeros(out_tangent, out_arrays)
        return (_like(_to_tensors(out_arrays, device), out),
                _like(_to_tensors(out_tangent, device), out),
                _like(_to_tensors(aux_arrays, device), aux))

    out, out_tangent, aux = joined(run, (primals, tangents))
    return (out, out_tangent, aux) if has_aux else (out, out_tangent)


def linearize(func, *primals):
    """torch.func.linearize: (output, jvp_fn), jvp_fn(*tangents) -> output tangent; both
    join the autograd graph, as in PyTorch."""
    _check_tensors(primals)
    device = _device_of(primals)

    def on_arrays(prims):
        @_own_tensors_only
        def array_fn(*arrays):
            with _forward_mode():
                out = func(*_like(_to_tensors(arrays, device), prims))
            _check_outputs(out, "linearize")
            captured["out"] = out
            return _to_arrays(out)
        return array_fn

    def as_output(arrays):          # (the output's structure, its dicts in their order)
        return _like(_to_tensors(arrays, device), captured["out"])

    captured = {}
    p = _to_arrays(primals)
    out_arrays, f_jvp = jax.linearize(on_arrays(primals), *p)
    out = joined(lambda prims: as_output(jax.linearize(on_arrays(prims),
                                                       *_to_arrays(prims))[0]),
                 primals) if _any_requires_grad(primals) else as_output(out_arrays)

    def tangent_out(tangents):
        return as_output(_float0_as_zeros(f_jvp(*jax.tree_util.tree_map(
            lambda t, a: t.astype(a.dtype), _to_arrays(tangents), p)), out_arrays))

    def jvp_fn(*tangents):
        _check_primals_tangents(primals, tangents, "linearize")
        # differentiable in the tangents only: PyTorch's jvp_fn holds the linearization
        # point as a constant
        return joined(tangent_out, tangents)
    return out, jvp_fn


def _any_requires_grad(tensors):
    return any(isinstance(t, Tensor) and t.requires_grad for t in _leaves(tensors)[0])


# -- Jacobians --------------------------------------------------------------------------
def _jacobian(jax_jac, api, func, argnums, has_aux, functional=False):
    """jacrev or jacfwd; `functional`: as autograd.functional.jacobian, which takes
    complex inputs, where torch.func's refuse them, and gives an integer output zero
    derivatives of the inputs' dtypes, where torch.func's jacrev refuses it."""
    def transform(*args):
        nums, single = _argnums(argnums, len(args))
        diff = tuple(args[i] for i in nums)
        _check_tensors(diff)
        if not functional:
            for i, t in enumerate(_leaves(diff)[0]):
                if t.is_complex():
                    raise RuntimeError(f"{api}: Expected all inputs to be real but received "
                                       f"complex tensor at flattened input idx: {i}")
        if api == "jacrev":             # (its vjp's requires_grad_)
            _check_float(diff)
        else:                           # (its make_dual)
            for t in _leaves(diff)[0]:
                _check_dual_dtypes(t)
        device = _device_of(diff)

        @_own_tensors_only
        def array_fn(*diff_arrays):
            diff_tensors = _like(_to_tensors(diff_arrays, device), diff)
            if api == "jacrev":
                _tracked(diff_tensors)
            with (enable_grad() if api == "jacrev" else
                  _forward_mode(batched=True, forward_ad=functional)):
                out = func(*_with_args(args, nums, diff_tensors))
            out, aux = _split_aux(out, has_aux, api)
            _check_outputs(out, api, differentiable=api == "jacrev" and not functional)
            captured["out"], captured["aux"] = out, aux
            out = _to_arrays(out)
            if api == "jacrev" and functional:  # (zeros: made float here, typed below)
                out = jax.tree_util.tree_map(
                    lambda a: a if a.dtype.kind in "fc" else a.astype(jnp.float32), out)
            return out, _to_arrays(aux)

        captured = {}
        # one argnum: no inner tuple per output, as in PyTorch
        jac, aux = jax_jac(_opaque_basis(array_fn, api), has_aux=True,
                           argnums=0 if single else tuple(range(len(nums))))(*_to_arrays(diff))
        if api == "jacrev":
            jac = jax.tree_util.tree_map(
                lambda a: _unsigned_zeros(_conj(a)) if a.dtype.kind == "c" else a, jac)
        jac = _jacobian_like(_to_tensors(jac, device), captured["out"],
                             diff[0] if single else diff,
                             integers_as_inputs=api == "jacrev" and functional)
        return (jac, _like(_to_tensors(aux, device), captured["aux"])) if has_aux else jac

    def eager(*args):
        # (its results join the autograd graph of tensors that require grad)
        return joined(lambda a: transform(*a), args)
    return transformed(func, eager, (api, argnums, has_aux, functional))


def _opaque_basis(array_fn, api):
    """array_fn, with the basis that jacrev (cotangents of its outputs) or jacfwd
    (tangents of its inputs) feeds it hidden from XLA. Compiled, XLA turns a product with
    a one-hot basis row into a select, which drops the sign of a zero: the Jacobian of
    sin at 2.0 printed 0.0000 where PyTorch's (and eager JAX's) has -0.0000."""
    if api == "jacrev":
        def hidden(*arrays):
            out, aux = array_fn(*arrays)
            return jax.tree_util.tree_map(_opaque_cotangent, out), aux
    else:
        def hidden(*arrays):
            return array_fn(*jax.tree_util.tree_map(_opaque_tangent, arrays))
    return hidden


@jax.custom_vjp
def _opaque_cotangent(y):
    return y


_opaque_cotangent.defvjp(lambda y: (y, None),
                         lambda _, ct: (jax.lax.optimization_barrier(ct),))


@jax.custom_jvp
def _opaque_tangent(x):
    return x


@_opaque_tangent.defjvp
def _opaque_tangent_jvp(primals, tangents):
    return primals[0], jax.lax.optimization_barrier(tangents[0])


def _unsigned_zeros(c):
    """A conjugated structural zero has a -0 imaginary part, which prints as -0.0000j
    where PyTorch's prints +: zeros made +0 (by a select: inside a compiled program XLA
    folds an added 0 away)."""
    return jax.lax.complex(jnp.where(c.real == 0, 0, c.real).astype(c.real.dtype),
                           jnp.where(c.imag == 0, 0, c.imag).astype(c.imag.dtype))


def _jacobian_like(jac, out_template, in_template, integers_as_inputs=False):
    """A Jacobian from JAX (an `out_template`-shaped tree of `in_template`-shaped
    trees, every dict's keys sorted) with both levels in the templates' key order, as
    PyTorch's: its blocks follow the order of the outputs and of the inputs.
    `integers_as_inputs`: an integer output's blocks take their input's dtype."""
    out_leaves, out_def = jax.tree_util.tree_flatten(_to_arrays(out_template))
    blocks = [_like(block, in_template) for block in out_def.flatten_up_to(jac)]
    if integers_as_inputs:
        blocks = [block if o.dtype.kind in "fc" else jax.tree_util.tree_map(
            lambda b, t: b.to(t.dtype), block, in_template, is_leaf=_is_leaf)
            for o, block in zip(out_leaves, blocks)]
    return _rebuild(out_template, iter(blocks))


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """torch.func.jacrev: the Jacobian by reverse mode (vmap over vjp)."""
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    return _jacobian(jax.jacrev, "jacrev", func, argnums, has_aux)


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """torch.func.jacfwd: the Jacobian by forward mode (vmap over jvp)."""
    _check_randomness(randomness)
    return _jacobian(jax.jacfwd, "jacfwd", func, argnums, has_aux)


def hessian(func, argnums=0):
    """torch.func.hessian: jacfwd(jacrev(func))."""
    return jacfwd(jacrev(func, argnums), argnums)


def functionalize(func, *, remove="mutations"):
    """torch.func.functionalize: inside torchlike's transforms every in-place op is
    already a functional update, so the function is returned as it is."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(f"functionalize(f, remove='mutations'): received invalid argument "
                           f"for remove={remove}. Valid options are:\n"
                           "     remove='mutations': all inplace and out= operators will be "
                           "removed from the program, and replaced with their out-of-place "
                           "equivalents.\n"
                           "     remove='mutations_and_views': In addition to the above, "
                           "all aliasing operators {view} will be replaced with their "
                           "non-aliasing counterparts, {view}_copy.\n")
    return func


def debug_unwrap(tensor, *, recurse=True):
    """torch.func.debug_unwrap: inside vmap, the whole batch behind a per-sample tensor
    (the array JAX's BatchTracer holds, its batch dimension where it lies); inside
    grad/jvp, the primal. Outside transforms, or under a trace that holds no value
    (jit), the tensor itself. For debugging only, as in PyTorch."""
    if not isinstance(tensor, Tensor):
        return tensor
    array = tensor._raw()
    unwrapped = False
    while isinstance(array, (batching.BatchTracer, ad.JVPTracer, ad.LinearizeTracer)):
        if isinstance(array, batching.BatchTracer):
            array = array.val
        else:
            array = array.primal
        unwrapped = True
        if not recurse:
            break
    return bridge.wrap(array, tensor.device) if unwrapped else tensor


from ._func_vmap import vmap, _check_randomness             # noqa: E402
from ._func_module import (functional_call, replace_all_batch_norm_modules_,  # noqa: E402
                           stack_module_state)
from ._func_rearrange import rearrange                          # noqa: E402
