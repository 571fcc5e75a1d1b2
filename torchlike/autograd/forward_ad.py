"""torch.autograd.forward_ad on JAX's forward mode: a dual tensor holds a JAX JVP tracer.

`dual_level()` makes a JVP trace JAX's current trace; `make_dual` wraps a JVPTracer
(primal, tangent); every op on it then runs through the traced path of dispatch
(_jax_bridge.apply_traced), and JAX carries the tangents. On exit, the dual tensors made
inside become plain tensors holding their primals, as in PyTorch.

Uses JAX's internal JVPTrace (jax._src.interpreters.ad), as torchlike's pinned JAX has it.
"""
import weakref
from typing import NamedTuple

import jax
from jax._src import core
from jax._src.interpreters import ad

from .. import _jax_bridge as bridge
from .._tensor import Tensor

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level",
           "make_dual", "unpack_dual"]


class UnpackedDualTensor(NamedTuple):
    primal: Tensor
    tangent: "Tensor | None"


class _Level:
    def __init__(self):
        self.trace = ad.JVPTrace(core.trace_ctx.trace, core.TraceTag())
        self.switch = core.set_current_trace(self.trace)
        self.duals = weakref.WeakSet()     # tensors holding this level's tracers

    def note(self, tensors):
        for t in tensors:
            if self.owns(t._raw()):
                self.duals.add(t)

    def owns(self, array):
        return isinstance(array, ad.JVPTracer) and array._trace is self.trace


_current = None


def enter_dual_level():
    global _current
    if _current is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _current = _Level()
    _current.switch.__enter__()
    bridge.state.on_traced_outputs = _current.note
    bridge.state.dual_level = _current
    return 0


def exit_dual_level(*, level=None):
    global _current
    current_level = -1 if _current is None else 0       # (one level at most)
    if level is None:
        level = current_level
    if level != current_level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    if _current is None:
        raise RuntimeError("Dual level must be a positive number.")
    level_, _current = _current, None
    bridge.state.on_traced_outputs = None
    bridge.state.dual_level = None
    level_.switch.__exit__(None, None, None)
    for t in list(level_.duals):          # dual tensors become plain ones
        array = t._raw()
        if level_.owns(array):
            t._storage.array = array.primal
            t._cache = None
            t._cache_gen = -1


class dual_level:
    """Context manager for forward AD: dual tensors live inside it."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()


def _check_dual_dtypes(primal, tangent=None):
    """make_dual's dtype checks (torch.func's jvp and jacfwd reach them too)."""
    for what, t in (("primal", primal), ("tangent", tangent)):
        if t is not None and not (t.dtype.is_floating_point or t.dtype.is_complex):
            raise ValueError(f"Expected {what} to be floating point or complex, but got: "
                             f"torch.{t.dtype.name}")


def make_dual(tensor, tangent, *, level=None):
    if _current is None or level is not None and level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level "
                           "exists, make sure to enter_dual_level() first.")
    _check_dual_dtypes(tensor, tangent)
    if level not in (None, 0):          # (the only level there is)
        raise RuntimeError("Invalid level given to _make_dual")
    if tuple(tensor.shape) != tuple(tangent.shape):
        raise RuntimeError("Trying to set a forward gradient that has a different size than "
                           "that of the original Tensor, this is not supported. Tensor is of "
                           f"size {list(tensor.shape)} while the given forward gradient is of "
                           f"size {list(tangent.shape)}.")
    with jax.ensure_compile_time_eval():
        primal = tensor._data()
        tangent_array = tangent._data().astype(primal.dtype)
    dual = Tensor._wrap(ad.JVPTracer(_current.trace, primal, tangent_array), tensor.device)
    _current.duals.add(dual)
    return dual


def unpack_dual(tensor, *, level=None):
    array = tensor._raw()
    if _current is None or not _current.owns(array):
        return UnpackedDualTensor(tensor, None)
    tangent = array.tangent
    if type(tangent) is ad.Zero:
        tangent = ad.instantiate_zeros(tangent)
    return UnpackedDualTensor(Tensor._wrap(array.primal, tensor.device),
                              Tensor._wrap(tangent, tensor.device))
