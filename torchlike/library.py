"""torch.library.custom_op and torch.ops: a user's Python function as an operator.

As in PyTorch, a custom op is opaque to autograd: its function runs without recording,
and its output's grad_fn is the op's own node, whose backward is the one registered
with `register_autograd` (or PyTorch's error when there is none). Under vmap its
kernel runs one level down, as PyTorch's: by the rule registered with `register_vmap`,
else once per sample with the results stacked (PyTorch's fallback), so a kernel that
leaves torchlike (numpy) works there; under forward mode (jvp, jacfwd) its outputs get
zero tangents, as PyTorch's. Under torchlike.compile the kernel is traced like any other
code. `register_fake` is kept (torchlike infers shapes by running the kernel under JAX's
abstract evaluation, which needs no fake).
"""
import inspect
import sys

from ._infer_schema import infer_schema
from .autograd.function import Function

__all__ = ["custom_op", "CustomOpDef", "register_autograd", "register_fake",
           "register_kernel", "register_vmap", "Library", "define", "impl", "impl_abstract",
           "infer_schema"]


class CustomOpDef:
    """A custom operator `namespace::name` (what custom_op returns); calling it runs it."""

    def __init__(self, namespace, name, fn, mutates_args, device_types):
        self._namespace, self._name, self._init_fn = namespace, name, fn
        self._mutates_args = mutates_args
        self._kernels = {}                 # device type -> kernel (None: every device)
        for device_type in _device_types(device_types):
            self._kernels[device_type] = fn
        self._backward = self._setup_context = self._fake = self._vmap = None
        self._signature = inspect.signature(fn)
        self._node = type(f"GeneratedBackwardFor_{namespace}_{name}_default", (_OpNode,),
                          {"op": self})
        self.__name__ = name
        self.__doc__ = fn.__doc__

    def __repr__(self):
        return f"<CustomOpDef({self._namespace}::{self._name})>"

    @property
    def default(self):
        return _Overload(self)

    def register_autograd(self, backward, /, *, setup_context=None):
        """backward(ctx, *output_grads) -> one gradient per input (None for those
        without); setup_context(ctx, inputs, output) saves what it needs."""
        self._backward, self._setup_context = backward, setup_context

    def register_fake(self, fn, /):
        self._fake = fn
        return fn

    def register_vmap(self, func=None, /):
        """func(info, in_dims, *args) -> (output, out_dims): the op under vmap, as an
        autograd.Function's vmap staticmethod (used as a decorator too)."""
        def register(func):
            self._vmap = func
            return func
        return register if func is None else register(func)

    def register_kernel(self, device_types, fn=None, /):
        def register(kernel):
            for device_type in _device_types(device_types):
                self._kernels[device_type] = kernel
            return kernel
        return register if fn is None else register(fn)

    def _kernel_for(self, args):
        from ._tensor import Tensor
        device = next((a.device.type for a in args if isinstance(a, Tensor)), None)
        return self._kernels.get(device) or self._kernels.get(None) or self._init_fn

    def __call__(self, *args, **kwargs):
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return self._node.apply(*bound.args)


class _Overload:
    """torch.ops.ns.name.default: the same operator."""

    def __init__(self, op):
        self._op = op

    def __call__(self, *args, **kwargs):
        return self._op(*args, **kwargs)

    def __repr__(self):
        return f"<OpOverload(op='{self._op._namespace}.{self._op._name}', overload='default')>"

    def __str__(self):
        return f"{self._op._namespace}.{self._op._name}.default"


class _OpNode(Function):
    """The autograd node of a custom op's call (subclassed per op: its name is the
    grad_fn's, as PyTorch's)."""
    op = None
    _custom_op_node = True

    @classmethod
    def forward(cls, ctx, *args):
        out = cls.op._kernel_for(args)(*args)
        if cls.op._setup_context is not None:
            cls.op._setup_context(ctx, args, out)
        return out

    @classmethod
    def vmap(cls, info, in_dims, *args):
        """The op under vmap: its registered rule, else PyTorch's fallback, the op on
        each sample with the results stacked along dim 0."""
        op = cls.op
        if op._vmap is not None:
            return op._vmap(info, in_dims, *args)
        from . import stack
        samples = [op(*[a if d is None else a.select(d, i) for a, d in zip(args, in_dims)])
                   for i in range(info.batch_size)]
        if isinstance(samples[0], tuple):
            return tuple(stack(list(outs)) for outs in zip(*samples)), 0
        return stack(samples), 0

    @classmethod
    def backward(cls, ctx, *grads):
        op = cls.op
        if op._backward is None:
            raise RuntimeError(f"Trying to backward through {op._namespace}.{op._name}.default "
                               "but no autograd formula was registered. Please use "
                               "register_autograd to add one.")
        grads = op._backward(ctx, *grads)
        return grads if isinstance(grads, tuple) else (grads,)


def _device_types(device_types):
    if device_types is None:
        return [None]
    return [device_types] if isinstance(device_types, str) else list(device_types)


_OPS = {}      # namespace -> {name: CustomOpDef}


def custom_op(name, fn=None, /, *, mutates_args, device_types=None, schema=None):
    """torch.library.custom_op: `@custom_op("mylib::op", mutates_args=())` over a
    function with annotated parameters; the op is also torch.ops.mylib.op."""
    def define(fn):
        namespace, opname = name.split("::")
        if schema is None:      # (PyTorch's errors for annotations it cannot read)
            infer_schema(fn, mutates_args=mutates_args)
        op = CustomOpDef(namespace, opname, fn, mutates_args, device_types)
        _OPS.setdefault(namespace, {})[opname] = op
        return op
    return define if fn is None else define(fn)


def register_autograd(op, backward, /, *, setup_context=None, lib=None):
    _resolve(op).register_autograd(backward, setup_context=setup_context)


def register_fake(op, fn=None, /, *, lib=None, _stacklevel=1):
    op = _resolve(op)
    return op.register_fake if fn is None else op.register_fake(fn)


def register_vmap(op, func=None, /, *, lib=None):
    return _resolve(op).register_vmap(func)


def register_kernel(op, device_types, fn=None, /, *, lib=None):
    return _resolve(op).register_kernel(device_types, fn)


def _resolve(op):
    """A CustomOpDef, from itself, its torch.ops overload, or its name 'ns::name'."""
    if isinstance(op, _Overload):
        return op._op
    if isinstance(op, str):
        namespace, name = op.split("::")
        return _OPS[namespace][name]
    return op


class _OpNamespace:
    """torch.ops.<namespace>: its custom ops as attributes."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, name):
        op = _OPS.get(self._name, {}).get(name)
        if op is None:
            raise AttributeError(f"'_OpNamespace' '{self._name}' object has no attribute "
                                 f"'{name}'")
        return op


class _Ops:
    """torch.ops: a namespace per library."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _OpNamespace(name)


ops = _Ops()


# -- torch.library.Library, define and impl: operators declared by a schema ----------------
_DEVICE_KEYS = {"cpu": "CPU", "cuda": "CUDA", "meta": "Meta"}
# where a call on a device without a kernel of its own looks next, in PyTorch's order
_FALLBACK_KEYS = ("CompositeExplicitAutograd", "CompositeImplicitAutograd", "Autograd")
_DEFINED_NAMESPACES = {}        # namespace -> where its Library of kind "DEF" was made


class OpOverloadPacket:
    """An operator declared by a schema (Library.define, torch.library.define), whose
    Python kernels are registered per dispatch key (impl). A kernel runs as plain
    torchlike code, so autograd records through its ops, as PyTorch does for a Python
    kernel (with a deprecation warning at backward for a device key, not shown here)."""

    def __init__(self, schema):
        self._schema = schema
        self._namespace, self._name = schema.qualname.split("::")
        self._kernels = {}
        self._fake = None

    def __repr__(self):
        return f"{self._namespace}.{self._name}"

    @property
    def default(self):
        return _Overload(self)

    def register_fake(self, fn, /):
        self._fake = fn
        return fn

    def __call__(self, *args, **kwargs):
        values = self._schema.bind(args, dict(kwargs))
        kernel, key = self._kernel_for(values)
        if kernel is None:
            raise NotImplementedError(f"Could not run '{self._schema.qualname}' with "
                                      f"arguments from the '{key}' backend.")
        arguments = self._schema.arguments
        return kernel(*[v for a, v in zip(arguments, values) if not a.kwarg_only],
                      **{a.name: v for a, v in zip(arguments, values) if a.kwarg_only})

    def _kernel_for(self, values):
        from ._tensor import Tensor
        device = next((v.device.type for v in values if isinstance(v, Tensor)), "cpu")
        key = _DEVICE_KEYS.get(device, device.upper())
        for k in (key,) + _FALLBACK_KEYS:
            if k in self._kernels:
                return self._kernels[k], key
        return None, key


class Library:
    """torch.library.Library(ns, kind, dispatch_key=""): kind "DEF" (one per namespace)
    or "FRAGMENT" defines operators; those and "IMPL" register kernels."""

    def __init__(self, ns, kind, dispatch_key=""):
        if kind not in ("DEF", "IMPL", "FRAGMENT"):
            raise ValueError(f"Unsupported kind: {kind}")
        self.ns, self.kind, self.dispatch_key = ns, kind, dispatch_key
        self._created_at = _caller()
        if kind == "DEF":
            if ns in _DEFINED_NAMESPACES:
                raise RuntimeError(
                    f"Only a single TORCH_LIBRARY can be used to register the namespace {ns}; "
                    "please put all of your definitions in a single TORCH_LIBRARY block.  If "
                    "you were trying to specify implementations, consider using "
                    "TORCH_LIBRARY_IMPL (which can be duplicated).  If you really intended to "
                    "define operators for a single namespace in a distributed way, you can use "
                    "TORCH_LIBRARY_FRAGMENT to explicitly indicate this.  Previous "
                    "registration of TORCH_LIBRARY was registered at "
                    f"{_DEFINED_NAMESPACES[ns]}; latest registration was registered at "
                    f"{self._created_at}")
            _DEFINED_NAMESPACES[ns] = self._created_at

    def define(self, schema, alias_analysis="", *, tags=()):
        """Declares `name(arguments) -> returns` in this namespace; returns the name."""
        from ._op_schema import Schema
        if self.kind == "IMPL":
            name = schema.split("(")[0]
            raise RuntimeError(f'def("{name}"): Cannot define an operator inside of a '
                               "TORCH_LIBRARY_IMPL block.  All def()s should be placed in "
                               "the (unique) TORCH_LIBRARY block for their namespace.  (Error "
                               "occurred while processing TORCH_LIBRARY_IMPL block at "
                               f"{self._created_at})")
        parsed = Schema(f"{self.ns}::", schema)
        ops = _OPS.setdefault(self.ns, {})
        here = self._created_at       # (PyTorch names the library's site for its defs)
        if parsed.name in ops:
            raise RuntimeError(f"Tried to register an operator ({parsed}) with the same name "
                               "and overload name multiple times. Each overload's schema "
                               "should only be registered with a single call to def(). "
                               f"Duplicate registration: registered at {here}. Original "
                               f"registration: registered at {ops[parsed.name]._defined_at}")
        ops[parsed.name] = OpOverloadPacket(parsed)
        ops[parsed.name]._defined_at = here
        return parsed.name

    def impl(self, op_name, fn, dispatch_key="", *, with_keyset=False, allow_override=False):
        """Registers `fn` as the operator's kernel for `dispatch_key` ("CPU", "CUDA",
        "CompositeImplicitAutograd", ...; none: the library's, else
        CompositeImplicitAutograd)."""
        if isinstance(op_name, str) and "::" not in op_name:     # (a name in this namespace)
            op_name = f"{self.ns}::{op_name}"
        op = _resolve(op_name)
        op._kernels[dispatch_key or self.dispatch_key or "CompositeImplicitAutograd"] = fn

    def _destroy(self):
        if self.kind == "DEF":
            _DEFINED_NAMESPACES.pop(self.ns, None)


def _caller():
    """file:line of the user's code that called into this module."""
    frame = sys._getframe(1)
    while frame.f_code.co_filename == __file__:
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def define(qualname, schema, *, lib=None, tags=()):
    """torch.library.define("ns::name", "(arguments) -> returns")."""
    namespace, name = qualname.split("::")
    return (lib or Library(namespace, "FRAGMENT")).define(name + schema, tags=tags)


def impl(qualname, types, func=None, *, lib=None):
    """torch.library.impl("ns::name", "cpu" | "cuda" | "default" | a dispatch key, fn),
    or as a decorator without fn."""
    keys = [types] if isinstance(types, str) else list(types)
    keys = ["CompositeExplicitAutograd" if k == "default" else _DEVICE_KEYS.get(k, k)
            for k in keys]

    def register(fn):
        for key in keys:
            _resolve(qualname)._kernels[key] = fn
        return fn
    return register if func is None else register(func)


def impl_abstract(qualname, func=None, *, lib=None, _stacklevel=1):
    """The older name of register_fake."""
    return register_fake(qualname, func, lib=lib)
