"""THE op table: one `Op` per JAX implementation, and what torchlike exposes.

An Op is a pure JAX function of arrays plus hashable static parameters, defined at
module level so its jit caches stay warm. Everything else hangs off the table:
`FUNCTIONS` (torchlike.fn), `METHODS` (Tensor.fn, in-place fn_, dunders) and
`DOCS_ROWS` (the supported-ops page), so that adding an op is one entry.
"""
import functools

import jax

from .._caches import LRU

OPS = {}          # op name -> Op
FUNCTIONS = {}    # torchlike.<name> -> python function
METHODS = {}      # Tensor.<name> -> python function (self first)


class Op:
    __slots__ = ("name", "impl", "grad_fn", "saves", "differentiable", "_compiled",
                 "_vjps", "node_class", "__weakref__")

    def __init__(self, name, impl, grad_fn=None, saves=(), differentiable=True):
        self.name = name
        self.impl = impl                 # impl(*arrays, **params) -> array | tuple of arrays
        self.grad_fn = grad_fn           # default PyTorch grad_fn name
        self.saves = saves               # input indices (and/or 'result') PyTorch saves
        self.differentiable = differentiable
        # jitted forms per static parameters (shape parameters make these grow)
        self._compiled = LRU(64)
        self._vjps = LRU(64)
        self.node_class = None           # its Node class, made when first recorded (dispatch)

    def __repr__(self):
        return f"Op({self.name})"

    def bind(self, params):
        """The pure function with its static parameters fixed (stable identity)."""
        return functools.partial(self.impl, **dict(params)) if params else self.impl

    def compiled(self, params):
        fn = self._compiled.get(params)
        if fn is None:
            fn = self._compiled[params] = jax.jit(self.bind(params))
        return fn

    def compiled_vjp(self, params, diff):
        """jit(inputs, cotangents) -> gradients of the inputs flagged in `diff`."""
        key = (params, diff)
        fn = self._vjps.get(key)
        if fn is None:
            fn = self._vjps[key] = jax.jit(functools.partial(_vjp_of, self.bind(params), diff))
        return fn


def _vjp_of(fn, diff, arrays, cotangents):
    def restricted(*diff_inputs):
        it = iter(diff_inputs)
        full = [next(it) if d else a for a, d in zip(arrays, diff)]
        return fn(*full)
    primals = [a for a, d in zip(arrays, diff) if d]
    out, pullback = jax.vjp(restricted, *primals)
    return pullback(fill_cotangents(out, cotangents))


def fill_cotangents(out, cotangents):
    """Match cotangents to outputs: float0 zeros for integer outputs, zeros for None."""
    if isinstance(out, (tuple, list)):
        return type(out)(_one_cotangent(o, c) for o, c in zip(out, cotangents))
    return _one_cotangent(out, cotangents[0])


def _one_cotangent(out, ct):
    import numpy as np
    import jax.numpy as jnp
    if not jnp.issubdtype(out.dtype, jnp.inexact):
        return np.zeros(out.shape, dtype=jax.dtypes.float0)
    if ct is None:
        return jnp.zeros(out.shape, out.dtype)
    return ct.astype(out.dtype)


def register_op(name, grad_fn=None, saves=(), differentiable=True):
    """Decorator: add a JAX implementation to the table."""
    def deco(impl):
        OPS[name] = Op(name, impl, grad_fn, saves, differentiable)
        return OPS[name]
    return deco


def torch_function(*names, method=False, function=True):
    """Decorator: expose a Python function as torchlike.<name> and/or Tensor.<name>."""
    def deco(fn):
        for name in names:
            if function:
                FUNCTIONS[name] = fn
            if method:
                METHODS[name] = fn
        return fn
    return deco


def tensor_method(*names):
    return torch_function(*names, method=True, function=False)
