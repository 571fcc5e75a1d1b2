"""torch.func transforms run as compiled programs, one per guard.

Run eagerly, a transform goes through JAX's transforms op by op: every call traces the
user's function through jax.vmap and jax.grad again, and every new shape compiles each
op's batched and differentiated versions one by one. Per-sample gradients of a small MLP
(vmap(grad(loss)) over functional_call) took 600-680 ms at each new shape and 4-8 ms at
a shape seen before, PyTorch 0.9; the same transform as one program compiles in about
170 ms and then takes 0.25-0.3 ms a call. torch.func asks for pure functions (its "UX
limitations" page), which is what lets one program stand for every call: a transform
called at the top level is torchlike.compile of it (fullgraph), traced and compiled once
per guard (argument shapes and dtypes, the state the function reads: torchlike.compile's
guards). A guard whose trace cannot be one program (a print, a graph break, a result
that is an argument itself, any error, which the eager run then raises as it would)
runs eagerly from then on.

Transforms are told apart by what they are made of: the transform's name and options,
and the user's function (or the transform it wraps), so that `vmap(grad(loss))(...)`
written inside a training loop finds its program although its wrappers are new objects.
`torchlike._dynamo.config.compile_func_transforms = False` keeps every call eager.
"""
import functools
import types

import jax

from . import _jax_bridge as bridge
from ._caches import LRU
from ._compile import breaks, config
from ._compile.breaks import GraphBreak, is_compiling
from ._compile.compiled import CompiledCallable
from ._tensor import Tensor

# transform key -> its _Tier; a key holds the user's function (bounded)
_tiers = LRU(64)
# (options, the function's code) -> how many tiers were made for it: a lambda closing
# over a new object at every call (`lambda p: loss(p) * lr`, a new float `lr` each step)
# is a new key every time, and past this many its calls run eagerly instead of each
# compiling a program of its own
_made = LRU(256)
TIERS_PER_CODE = 8
# a function whose `_tier_key` is this always runs eagerly under a transform (its caller
# reads what it notes while it runs: autograd.functional's _Outputs)
EAGER = "eager"


def transformed(func, eager, options):
    """The function a transform returns: `eager` (the transform, run op by op), which
    at the top level runs as a program. `options`: the transform's name and settings,
    which with `func` tell transforms apart."""
    function = _function_key(func)
    key = None if function is EAGER else (options, function)
    # (functions of one code share a bound; a module or a method is its own family)
    family = (options, getattr(func, "_tier_family", None) or (
        func.__code__ if isinstance(func, types.FunctionType) else function))
    try:
        hash(key), hash(family)
    except TypeError:       # (unhashable options: such a transform always runs eagerly)
        key = None

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if key is None or not config.compile_func_transforms or is_compiling() or \
                not bridge.top_level() or breaks.disabled():
            return eager(*args, **kwargs)
        tier = _tiers.get(key)
        if tier is None:
            made = _made.get(family, 0)
            if made >= TIERS_PER_CODE:
                return eager(*args, **kwargs)
            _made[family] = made + 1
            tier = _tiers[key] = _Tier(eager, func)
        return tier(*args, **kwargs)
    wrapper._tier_key = EAGER if key is None else key      # (what transforms of it see)
    wrapper._tier_family = family
    return wrapper


class _Tier(CompiledCallable):
    """torchlike.compile of one transform, running eagerly, without PyTorch's logs or
    warnings, where it cannot compile."""
    results_as_op = False       # (a transform's results join as its own program's)

    def __init__(self, eager, func):
        def run(*args, **kwargs):
            out = eager(*args, **kwargs)
            if is_compiling() and _returns_an_argument(out, (args, kwargs)):
                # (eager vmap returns the caller's own tensor, a program a new one)
                raise GraphBreak(TypeError("the transform returns an argument"), None)
            return out
        run.__wrapped__ = func          # (the state walk follows it to the user's code)
        super().__init__(run, fullgraph=True)

    def __call__(self, *args, **kwargs):
        # a view argument (`x[i]` of a loop over rows) goes in as a copy: its offset is part
        # of a guard, so each row would trace a program of its own; a write into the
        # copy is written back
        leaves = jax.tree_util.tree_leaves((args, kwargs), is_leaf=_is_leaf)
        if not any(isinstance(x, Tensor) and not x._whole for x in leaves):
            return super().__call__(*args, **kwargs)
        from .func import _rebuild
        copies = [x.clone() if isinstance(x, Tensor) and not x._whole else x for x in leaves]
        copied = {id(c): (x, c, c._version) for x, c in zip(leaves, copies) if c is not x}
        args, kwargs = _rebuild((args, kwargs), iter(copies))
        out = super().__call__(*args, **kwargs)
        for view, copy, version in copied.values():
            if copy._version != version:
                view.copy_(copy)
        # (an argument returned as it is: the caller's own view, as eager vmap gives it)
        out_leaves = jax.tree_util.tree_leaves(out, is_leaf=_is_leaf)
        if any(id(x) in copied for x in out_leaves):
            out = _rebuild(out, iter([copied[id(x)][0] if id(x) in copied else x
                                      for x in out_leaves]))
        return out

    def _trace(self, *args):
        try:
            return super()._trace(*args)
        except GraphBreak:
            raise
        except Exception as exc:        # (the eager run raises it again, as eager does)
            raise GraphBreak(exc, None) from None

    def _break(self, gb, entry, key, args, kwargs):
        entry.eager = True
        self._store(entry, key)
        return self.fn(*args, **kwargs)

    def _warn_limit(self):
        pass


def _function_key(func, depth=0):
    """What tells `func` apart: a transform's own key; for a Python function, its code
    and the objects its closure holds (a function among them by its own key, a few
    levels deep), so that a lambda written inside a loop (`jacrev(lambda a: model(a))(x)`,
    `autograd.functional.hessian(lambda a: f(a, y), x)`) is the same function at every
    iteration (the tier keeps the first one, and so those objects, alive: their ids stay
    theirs); anything else, itself."""
    key = getattr(func, "_tier_key", None)
    if key is not None:
        return key
    if not isinstance(func, types.FunctionType):
        return func
    cells = []
    for cell in func.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:          # (a cell not filled yet)
            cells.append(None)
            continue
        cells.append(_function_key(value, depth + 1)
                     if isinstance(value, types.FunctionType) and depth < 4 else id(value))
    return (func.__code__, id(func.__globals__), tuple(cells), func.__defaults__,
            _frozen(func.__kwdefaults__))


def _frozen(kwdefaults):
    return None if kwdefaults is None else tuple(sorted(kwdefaults.items()))


def _returns_an_argument(out, args):
    given = {id(x) for x in jax.tree_util.tree_leaves(args, is_leaf=_is_tensor)
             if isinstance(x, Tensor)}
    return any(id(x) in given for x in jax.tree_util.tree_leaves(out, is_leaf=_is_tensor))


def _is_tensor(x):
    return isinstance(x, Tensor)


def _is_leaf(x):
    return x is None or isinstance(x, Tensor)
