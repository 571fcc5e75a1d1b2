"""Tensor: a handle on a Storage, a strided view of it, and autograd metadata.

Ops live in the op table (`_ops/`) and are attached to Tensor as methods by
`torchlike/__init__.py`; this file holds only what is intrinsic to a tensor: its
metadata, conversions, the in-place write-back through views, and the autograd API.
"""
import numbers
import re
import warnings
import weakref

import jax
import jax.numpy as jnp
import numpy as np

from . import _device, _layout, _meta
from ._host_ops import HOST_VIEW_UNREAD, gathered_on_host, unread_view_values
from . import _dtype as dt
from ._lazy import Deferred, force, top_level as _top_level
from ._storage import (Storage, VersionCounter, contiguous_strides, is_contiguous,
                       overlaps_itself, strided_gather, strided_scatter)
from .autograd.graph import accumulator_edge
from .autograd.grad_mode import is_grad_enabled, is_inference_mode_enabled
from .autograd.grad_mode import _state as _modes     # (thread-local; read per op output)
from jax._src.array import ArrayImpl as _ArrayImpl   # a concrete jax.Array's class
from jax import ShapeDtypeStruct as _MetaArray       # a meta tensor's "array" (_meta.py)
from . import autograd          # (its backward(); autograd imports this module too)


_tuple_item = tuple.__getitem__
_new_object = object.__new__


class Size(tuple):
    """torch.Size: a tuple of ints printed as torch.Size([2, 3])."""
    __slots__ = ()      # (immutable, so tensors of one shape can share one: size_of)

    def __repr__(self):
        return f"torch.Size([{', '.join(str(int(n)) for n in self)}])"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        out = _tuple_item(self, item)
        return Size(out) if type(item) is slice else out

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __reduce__(self):
        return (Size, (tuple(self),))


_sizes = {}     # shape tuple -> its Size (a Size per tensor would outlive it in its node)


def size_of(shape):
    """The shared Size of `shape` (a tuple of ints)."""
    size = _sizes.get(shape)
    if size is None:
        if len(_sizes) >= 4096:     # bounded: forget them all (they are cheap to make)
            _sizes.clear()
        size = _sizes[shape] = Size(shape)
    return size


_LEGACY_TYPE = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
                "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
                "bool": "BoolTensor", "complex64": "ComplexFloatTensor",
                "complex128": "ComplexDoubleTensor"}
_LEGACY_BY_NAME = {v: k for k, v in _LEGACY_TYPE.items()}
# PyTorch's scalar-type names used in error messages ("result type Float ...").
SCALAR_NAME = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
               "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
               "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
               "complex128": "ComplexDouble"}


# What CPU-only PyTorch says when a legacy 'torch.cuda.*' type is asked for.
_NO_CUDA_LIBRARY = (
    "Cannot initialize CUDA without ATen_cuda library. PyTorch splits its backend into two "
    "shared libraries: a CPU library and a CUDA library; this error has occurred because you "
    "are trying to use some CUDA functionality, but the CUDA library has not been loaded by "
    "the dynamic linker for some reason.  The CUDA library MUST be loaded, EVEN IF you don't "
    "directly use any symbols from the CUDA library! One common culprit is a lack of "
    "-Wl,--no-as-needed in your link arguments; many dynamic linkers will delete dynamic "
    "library dependencies if you don't depend on any of their symbols.  You can check if "
    "this has occurred by using ldd on your binary to see if there is a dependency on "
    "*_cuda.so library.")


# How a view was made (PyTorch's CreationMeta): decides which in-place ops it allows.
VIEW_DEFAULT, VIEW_MULTI_OUTPUT, VIEW_NO_GRAD = "default", "multi_output", "no_grad"
VIEW_INFERENCE = "inference_mode"


def legacy_type_name(tensor):
    return legacy_type_name_of(tensor._dtype, tensor.device)


def legacy_type_name_of(dtype, device=None):
    prefix = "torch.cuda." if device is not None and device.type == "cuda" else "torch."
    return prefix + _LEGACY_TYPE[dtype.name]


def tensor_desc(t):
    """What PyTorch's saved-tensor error needs to describe a tensor."""
    return (legacy_type_name(t), list(t.shape))


def _grad_fn_display(node):
    """The name repr shows in grad_fn=<...>: the node's class name, which for C++ nodes is
    shorter than name() (<CopySlices>, while name() is 'torch::autograd::CopySlices')."""
    if node is None:
        return None
    return node.name().rsplit("::", 1)[-1]


def _grad_fn_display_of(t):
    """grad_fn's display name; a view whose history can't be rebuilt prints <Invalid>."""
    try:
        return _grad_fn_display(t.grad_fn)
    except RuntimeError:
        return "Invalid"


def _grad_fn_short_name(node):
    return re.sub(r"Backward\d*$", "", node.name())


class Tensor:
    __slots__ = ("_storage", "_shape", "_stride", "_offset", "_dtype", "_cache", "_cache_gen",
                 "_whole", "_requires_grad", "_grad_fn", "_output_nr", "_grad", "_retains_grad",
                 "_hooks", "_post_acc_hooks", "_accumulator", "_base", "_version_counter",
                 "_view_version", "_creation_meta", "__dict__", "__weakref__")

    # -- construction -------------------------------------------------------------------
    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, device=None, dtype=None):
        """Legacy constructor: Tensor(data), Tensor(*sizes), Tensor() (float, default dtype)."""
        from ._factories import legacy_construct
        legacy_construct(self, args, device=device, dtype=dtype)

    def _init_from_array(self, array, device, requires_grad=False):
        # (Storage's and VersionCounter's __init__ inlined: this runs for every op's
        # output, and each __init__ is a Python call)
        st = _new_object(Storage)
        st.array = array
        st.generation = 0
        st.device = device
        st.born = Storage.epoch
        self._storage = st
        # (size_of and the aval read inlined: this runs for every op's output)
        aval = array.aval if type(array) is _ArrayImpl else array
        size = _sizes.get(aval.shape)
        self._shape = size if size is not None else size_of(aval.shape)
        self._stride = None                     # computed on demand for fresh storage
        self._offset = 0
        self._dtype = dt._BY_NP[aval.dtype]
        self._cache = None
        self._cache_gen = -1
        self._whole = True
        self._requires_grad = requires_grad
        self._grad_fn = None
        self._output_nr = 0
        self._grad = None
        self._retains_grad = False
        self._hooks = None
        self._post_acc_hooks = None
        self._accumulator = None
        self._base = None
        if _modes.inference:
            self._version_counter = InferenceCounter()
        else:
            counter = self._version_counter = _new_object(VersionCounter)
            counter.value = 0
        self._view_version = 0
        self._creation_meta = VIEW_DEFAULT

    @classmethod
    def _wrap(cls, array, device=None):
        t = object.__new__(cls)
        if device is None:
            # a tracer (torchlike.compile's trace) has no devices: JAX's default one
            device = _device.from_jax(jax.local_devices()[0] if isinstance(array, jax.core.Tracer)
                                      else next(iter(array.devices())))
        t._init_from_array(array, device)
        return t

    @staticmethod
    def _make_subclass(cls, data, require_grad=False):
        """torch.Tensor._make_subclass: a `cls` instance sharing data's storage (a detached
        alias, as PyTorch makes it), the usual way to build Parameter-like subclasses."""
        t = object.__new__(cls)
        alias = data.detach()
        for name in Tensor.__slots__:
            if name not in ("__dict__", "__weakref__"):
                setattr(t, name, getattr(alias, name))
        t._set_requires_grad(require_grad, "Only Tensors of floating point and complex dtype "
                                           "can require gradients")
        return t

    def _make_view(self, array, shape, strides, offset):
        """A tensor aliasing self's storage, seeing (shape, strides, offset); `array` is
        its current value, computed by the view op that made it."""
        v = object.__new__(Tensor)
        st = self._storage
        v._storage = st
        v._shape = size_of(tuple(shape))
        v._stride = tuple(strides)
        v._offset = offset
        v._dtype = self._dtype
        v._cache = array
        v._cache_gen = st.generation
        v._whole = (offset == 0 and tuple(shape) == st.array.shape
                    and is_contiguous(shape, strides))
        v._requires_grad = False
        v._grad_fn = None
        v._output_nr = 0
        v._grad = None
        v._retains_grad = False
        v._hooks = None
        v._post_acc_hooks = None
        v._accumulator = None
        v._base = self._base if self._base is not None else self
        v._version_counter = self._version_counter
        v._view_version = self._version_counter.value
        # how the view was made decides which in-place ops PyTorch allows on it later;
        # a view of a special view stays special
        made = VIEW_DEFAULT if _modes.enabled else VIEW_NO_GRAD
        if made == VIEW_NO_GRAD and _modes.inference:
            made = VIEW_INFERENCE
        v._creation_meta = made if made != VIEW_DEFAULT or self._base is None \
            else self._creation_meta
        return v

    def _adopt_layout(self, strides):
        """Store a fresh tensor (no views of it yet) in the dense layout `strides`
        describes, as PyTorch's preserve_format results are: its values are unchanged."""
        strides = tuple(strides)
        if strides == self.stride() or self.numel() == 0 or self._base is not None:
            return self
        value = self._data()
        # storage order: dims by decreasing stride (size-1 dims' strides do not matter)
        order = sorted(range(self.ndim), key=lambda d: (-strides[d], d))
        self._storage = Storage(jnp.transpose(value, order), self._storage.device)
        self._stride = strides
        self._whole = False
        self._cache, self._cache_gen = value, self._storage.generation
        return self

    # -- the value ----------------------------------------------------------------------
    def _data(self):
        """The current jax.Array of this tensor (running pending ops if needed)."""
        a = self._raw()
        if type(a) is Deferred:
            a = a.value()
            if self._whole:
                self._storage.array = a
            else:
                self._cache = a
        elif type(a) is _MetaArray:
            raise NotImplementedError(_meta.NO_DATA)
        return a

    def _raw(self):
        """The current array, which may still be a pending `Deferred` (see _lazy.py)."""
        if self._whole:
            return self._storage.array
        st = self._storage
        if self._cache_gen != st.generation:
            if not _top_level():     # the cache outlives a JAX trace
                with jax.ensure_compile_time_eval():
                    return self._regather()
            return self._regather()
        return self._cache

    def _regather(self):
        """A stale view's value read again from its storage (and cached)."""
        st = self._storage
        st.array = force(st.array)
        value = None
        if type(st.array) is _MetaArray:
            value = _meta.meta_array(self._shape, st.array.dtype)
        elif self._cache_gen == HOST_VIEW_UNREAD and _top_level():   # (numpy made the view)
            value = gathered_on_host(st, self._shape, self.stride(), self._offset)
        self._cache = value if value is not None else strided_gather(
            st.array, shape=tuple(self._shape), strides=self.stride(), offset=self._offset)
        self._cache_gen = st.generation
        return self._cache

    def _write(self, value):
        """Replace this tensor's elements with `value` (same shape and dtype)."""
        if not _top_level():      # inside a JAX trace: _jax_bridge decides
            from ._jax_bridge import write_in_trace
            return write_in_trace(self, value)
        return self._write_now(value)

    def _write_now(self, value):
        st = self._storage
        if self._whole:
            st.array = value
        elif type(st.array) is _MetaArray:
            pass                # (a meta tensor's elements: nothing to write)
        else:
            value = force(value)
            st.array = force(st.array)
            if overlaps_itself(self._shape, self.stride()):
                raise RuntimeError(
                    "unsupported operation: more than one element of the written-to tensor "
                    "refers to a single memory location. Please clone() the tensor before "
                    "performing the operation.")
            st.array = strided_scatter(st.array, value, shape=tuple(self._shape),
                                       strides=self.stride(), offset=self._offset)
            self._cache = value
            self._cache_gen = st.generation + 1
        st.generation += 1
        self._version_counter.value += 1

    # -- metadata -----------------------------------------------------------------------
    @property
    def shape(self):
        return self._shape

    def size(self, dim=None):
        if dim is None:
            return self._shape
        return self._shape[self._wrap_dim(dim)]

    def stride(self, dim=None):
        if self._stride is None:
            self._stride = contiguous_strides(self._shape)
        if dim is None:
            return self._stride
        return self._stride[self._wrap_dim(dim)]

    def storage_offset(self):
        return self._offset

    def is_contiguous(self, memory_format=None):
        if self._stride is None:        # a fresh tensor's own storage: dense
            return True
        return is_contiguous(self._shape, self._stride)

    def _wrap_dim(self, dim):
        """For size(dim)/stride(dim): unlike ops, these accept no dim of a 0-dim tensor."""
        if not self._shape:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        from ._ops._util import wrap_dim
        return wrap_dim(dim, self.ndim)

    def dim(self):
        return len(self._shape)

    ndimension = dim

    @property
    def ndim(self):
        return len(self._shape)

    def numel(self):
        return self._shape.numel()

    nelement = numel

    def element_size(self):
        return self._dtype.itemsize

    @property
    def itemsize(self):
        return self._dtype.itemsize

    @property
    def nbytes(self):
        return self.numel() * self._dtype.itemsize

    @property
    def dtype(self):
        return self._dtype

    @property
    def device(self):
        return self._storage.device

    @property
    def is_cuda(self):
        return self._storage.device.type == "cuda"

    @property
    def is_cpu(self):
        return self._storage.device.type == "cpu"

    is_sparse = False
    is_quantized = False
    @property
    def is_meta(self):
        return self._storage.device is _device.META
    layout = _layout.strided

    def is_floating_point(self):
        return self._dtype.is_floating_point

    def is_complex(self):
        return self._dtype.is_complex

    def is_signed(self):
        return self._dtype.is_signed

    def get_device(self):
        return -1 if self.device.type == "cpu" else self.device.index

    def data_ptr(self):
        if self._storage.device is _device.META:
            return 0                        # (PyTorch's: no memory)
        return id(self._storage) * 16 + self._offset * self._dtype.itemsize

    def untyped_storage(self):
        return self._storage

    def is_set_to(self, other):
        """Same storage, offset, sizes and strides."""
        return (self._storage is other._storage and self._offset == other._offset
                and tuple(self._shape) == tuple(other._shape) and self.stride() == other.stride())

    def dim_order(self):
        """Dims from outermost to innermost in memory (largest stride first, stable)."""
        strides = self.stride()
        return tuple(sorted(range(self.ndim), key=lambda d: -strides[d]))

    def is_nonzero(self):
        if self.numel() == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._read_item())

    def apply_(self, callable):
        """Python function applied to every element, in place. Like PyTorch, a raw data
        write: no autograd and no version bump."""
        if self.requires_grad:
            raise RuntimeError("Can't call apply_() on Variable that requires grad. Use "
                               "var.detach().apply_() instead.")
        return self._raw_elementwise(lambda values: [callable(v) for v in values])

    def map_(self, tensor, callable):
        if self.requires_grad:
            raise RuntimeError("Can't call map_() on Variable that requires grad. Use "
                               "var.detach().map_() instead.")
        from ._ops.views import expand
        others = expand(tensor, tuple(self._shape)).tolist() if self.ndim else [tensor.item()]
        return self._raw_elementwise(
            lambda values: [callable(a, b) for a, b in zip(values, _flat(others))])

    def _raw_elementwise(self, fn):
        values = np.asarray(self.detach()).reshape(-1).tolist()
        new = np.asarray(fn(values), dtype=self._dtype.np).reshape(tuple(self._shape))
        version = self._version_counter.value
        self._write(_device.place(new, self.device))
        self._version_counter.value = version
        return self

    def _is_view(self):
        return self._base is not None

    @property
    def _version(self):
        if type(self._version_counter) is InferenceCounter:
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._version_counter.value

    def is_inference(self):
        return type(self._version_counter) is InferenceCounter

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return legacy_type_name(self)
        if isinstance(dtype, str):
            prefix, _, name = dtype.rpartition(".")
            if prefix not in ("torch", "torch.cuda") or name not in _LEGACY_BY_NAME:
                raise ValueError(f"invalid type: '{dtype}'")
            target = dt._BY_NAME[_LEGACY_BY_NAME[name]]
            if prefix == "torch.cuda":
                from .cuda import is_available
                if not is_available():
                    raise RuntimeError(_NO_CUDA_LIBRARY)
                return self.to("cuda", target)
            return self.to(target) if self.device.type == "cpu" else self.to("cpu", target)
        return self.to(dtype)

    def __repr__(self, *, tensor_contents=None):
        from ._printing import format_tensor
        from . import nn
        if self._storage.device is _device.META:
            return format_tensor(None, dtype_name=self._dtype.name, shape=tuple(self._shape),
                                 default_float_dtype_name=dt.get_default_dtype().name,
                                 device="meta", requires_grad=self.requires_grad,
                                 grad_fn_name=_grad_fn_display_of(self),
                                 is_parameter=isinstance(self, nn.Parameter), no_data=True)
        if isinstance(self._raw(), jax.core.Tracer):    # inside a JAX transform
            from ._printing_traced import traced_repr
            shown = traced_repr(self._raw(), self.device)
            if shown is not None:
                return shown
            from ._compile.breaks import is_compiling, printed_tensor
            if is_compiling():      # (torchlike.compile's trace: a graph break, as torch)
                raise printed_tensor()
            return f"tensor({self._raw()!r}, dtype=torch.{self._dtype.name})"
        values = np.asarray(self._data().astype(np.float32)) if self._dtype is dt.bfloat16 \
            else np.asarray(self._data())
        dev = None if self.device.type == "cpu" else str(self.device)
        return format_tensor(values, dtype_name=self._dtype.name, shape=tuple(self._shape),
                             default_float_dtype_name=dt.get_default_dtype().name,
                             device=dev, requires_grad=self.requires_grad,
                             grad_fn_name=_grad_fn_display_of(self),
                             is_parameter=isinstance(self, nn.Parameter),
                             # subclasses print their own name: MyTensor([1., 2.])
                             prefix="tensor(" if type(self) in (Tensor, nn.Parameter)
                             else f"{type(self).__name__}(")

    __str__ = __repr__

    def __format__(self, spec):
        # as PyTorch: a plain 0-dim tensor formats as its number, requiring grad or not
        if self.dim() == 0 and type(self) is Tensor:
            return self._read_item().__format__(spec)
        return object.__format__(self, spec)

    # -- conversions --------------------------------------------------------------------
    def item(self):
        return self._read_item(capture=True)

    def _read_item(self, capture=False):
        """item(); a traced value gives a symbol only where `capture` (item() itself,
        not bool() or float(), which must give a real Python value) and the compiled
        function's trace captures them (_symbolic.py)."""
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
        if self._storage.device is _device.META:
            raise RuntimeError(_meta.NO_ITEM)
        a = self._host_readable()
        if isinstance(a, jax.core.Tracer):
            from . import _jax_bridge as bridge, _symbolic
            if capture and bridge.state.capture_scalars and not bridge.state.transforms \
                    and not self._dtype.is_complex:
                from ._compile.breaks import captured
                captured("item")
                return _symbolic.from_traced(a, self._dtype)
            return a.reshape(()).item()     # (JAX's error, which transforms translate)
        # (numpy's reshape: a jax.Array's compiles a program per shape and dtype)
        return np.asarray(a).reshape(()).item()

    def tolist(self):
        a = self._host_readable()
        if isinstance(a, jax.core.Tracer) and not self._dtype.is_floating_point \
                and not self._dtype.is_complex and self._dtype is not dt.bool:
            from . import _jax_bridge as bridge, _symbolic
            if bridge.state.capture_scalars and not bridge.state.transforms:
                from ._compile.breaks import captured
                captured("tolist")
                return _symbolic.listed(a, self._dtype)     # (integers: PyTorch's too)
        return np.asarray(a).tolist() if self._dtype is not dt.bfloat16 \
            else np.asarray(a.astype(np.float32)).tolist()

    def _host_readable(self):
        """The value item() and tolist() read: a view numpy made and nothing read yet is
        read in place from its storage (`x[i, j].item()`: no copy to the device and back,
        _host_ops.unread_view_values); anything else is this tensor's array."""
        if self._cache_gen == HOST_VIEW_UNREAD:
            a = unread_view_values(self)
            if a is not None:
                return a
        return self._data()

    def numpy(self, *, force=False):
        """The values as an ndarray sharing this tensor's memory (_numpy_sharing.py)."""
        if not force:
            self._check_numpy()
        from ._numpy_sharing import numpy_of
        shared = numpy_of(self) if self.device.type == "cpu" else None
        return shared if shared is not None else self._host_copy()

    def _host_copy(self):
        """The values as a new ndarray (what torchlike's own code reads)."""
        return np.array(self._data())     # (a copy: jax.device_get costs 10 us more)

    def _check_numpy(self):
        """PyTorch's refusals to hand a tensor to numpy (checked in this order)."""
        if self.device.type != "cpu":
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                            "Tensor.cpu() to copy the tensor to host memory first.")
        # (only while grad mode is on: under no_grad, and inside an autograd.Function's
        # forward, a tensor that requires grad may be read)
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if self._dtype is dt.bfloat16:      # numpy has no bfloat16
            raise TypeError("Got unsupported ScalarType BFloat16")

    def __array__(self, dtype=None, copy=None):
        self._check_numpy()
        a = np.asarray(self._data())
        return a if dtype is None else a.astype(dtype)

    # -- JAX interop (see _jax_bridge.py and docs/jax.md) --------------------------------
    def jax(self):
        """The values as a jax.Array (a tracer inside a JAX transform), no copy: the
        tensor's own buffer when it sees its whole storage. Like `detach()`, it leaves
        autograd behind; a later in-place op on the tensor does not change it (JAX arrays
        are immutable)."""
        from ._jax_bridge import value
        return value(self)

    def __jax_array__(self):
        """So that jnp.asarray(t) and jnp.array(t) accept tensors (JAX 0.10's jitted
        functions, jnp.sin among them, no longer call it: pass t.jax() to those)."""
        return self.jax()

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        from ._jax_bridge import dlpack_of
        return dlpack_of(self, stream=stream, max_version=max_version, dl_device=dl_device,
                         copy=copy)

    def __dlpack_device__(self):
        from ._jax_bridge import dlpack_device_of
        return dlpack_device_of(self)

    def __float__(self):
        return float(self._scalar_value("double"))

    def __int__(self):
        return int(self._scalar_value("int64_t"))

    def __complex__(self):
        return complex(self._scalar_value())

    def _scalar_value(self, kind=None):
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        value = self._read_item()
        if kind is not None and isinstance(value, complex) and value.imag != 0:
            raise RuntimeError(f"value cannot be converted to type {kind} without overflow")
        return value.real if kind is not None and isinstance(value, complex) else value

    def __index__(self):
        if self.numel() != 1 or self._dtype.is_floating_point or self._dtype.is_complex:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._read_item())

    def __bool__(self):
        if self.numel() == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._read_item())

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __contains__(self, element):
        # PyTorch's test: any element equal (broadcasting), not Python's iteration
        if isinstance(element, (Tensor, numbers.Number)):
            return bool((element == self).any()._read_item())
        raise RuntimeError("Tensor.__contains__ only supports Tensor or scalar, but you "
                           f"passed in a {type(element)}.")

    def __hash__(self):
        return id(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor, (self._host_copy(), self._dtype.name, self.requires_grad,
                                  type(self)))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        new = object.__new__(type(self))
        new._init_from_array(self._raw() if self.is_meta else self._data(), self.device,
                             self._requires_grad)
        new.__dict__.update(self.__dict__)
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new

    def to(self, *args, **kwargs):
        from ._factories import parse_to_args
        device, dtype, copy = parse_to_args(args, kwargs)
        out = self
        if dtype is not None and dtype is not self._dtype:
            from ._ops.basic import convert_dtype
            out = convert_dtype(out, dtype)
        if device is not None:
            device = _device.canonical(device)
            if device != out.device:
                from ._ops.basic import move_to_device
                out = move_to_device(out, device)
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        if isinstance(device, int):         # an index means the current accelerator's
            return self.to(_device.device(device))
        return self.to(device or "cuda")

    def type_as(self, other):
        return self.to(other._dtype)

    def float(self, memory_format=None):
        return self.to(dt.float32, memory_format=memory_format)

    def double(self, memory_format=None):
        return self.to(dt.float64, memory_format=memory_format)

    def half(self, memory_format=None):
        return self.to(dt.float16, memory_format=memory_format)

    def bfloat16(self, memory_format=None):
        return self.to(dt.bfloat16, memory_format=memory_format)

    def long(self, memory_format=None):
        return self.to(dt.int64, memory_format=memory_format)

    def int(self, memory_format=None):
        return self.to(dt.int32, memory_format=memory_format)

    def short(self, memory_format=None):
        return self.to(dt.int16, memory_format=memory_format)

    def char(self, memory_format=None):
        return self.to(dt.int8, memory_format=memory_format)

    def byte(self, memory_format=None):
        return self.to(dt.uint8, memory_format=memory_format)

    def bool(self, memory_format=None):
        return self.to(dt.bool, memory_format=memory_format)

    def cfloat(self, memory_format=None):
        return self.to(dt.complex64, memory_format=memory_format)

    # -- autograd -----------------------------------------------------------------------
    def _sync_view_history(self):
        """A view whose storage was modified in place since its grad_fn was recorded gets
        a fresh history: a strided read of its base's current history (as PyTorch)."""
        counter = self._version_counter
        if self._view_version == counter.value:
            return
        base = self._base
        if base.requires_grad and is_grad_enabled():
            if self._creation_meta != VIEW_DEFAULT:
                # the base (or another view of it) was written: this view's history
                # can't be rebuilt, as PyTorch refuses (every time it is asked)
                raise RuntimeError(self._view_rebase_message(indirect=True))
            self._view_version = counter.value
            from ._ops.views import as_strided_of_base
            as_strided_of_base(self, base)
        else:
            self._view_version = counter.value

    def _view_rebase_message(self, indirect):
        """PyTorch's refusal to write in place into a view made by a multi-output op or
        in no_grad mode (handle_view_on_rebase)."""
        what = "its base or another view of its base has been" if indirect else "is being"
        mode = {VIEW_NO_GRAD: "no_grad mode", VIEW_INFERENCE: "inference mode"}.get(
            self._creation_meta)
        if self._grad_fn is not None and mode is not None:
            # a view recorded from a view that was made without grad tracking
            normal = "in normal mode" if mode == "inference mode" else "with grad mode enabled"
            msg = (f"Output {self._output_nr} of {_grad_fn_short_name(self._grad_fn)} is a view "
                   f"of a view which was created in {mode} and {what} modified inplace {normal}.")
        elif self._grad_fn is not None:
            msg = (f"Output {self._output_nr} of {_grad_fn_short_name(self._grad_fn)} is a view "
                   f"and {what} modified inplace.")
        elif self._creation_meta == VIEW_INFERENCE:
            msg = f"A view was created in inference mode and {what} modified inplace in normal mode."
        else:
            msg = f"A view was created in no_grad mode and {what} modified inplace with grad mode enabled."
        if self._creation_meta == VIEW_MULTI_OUTPUT:
            return msg + (" This view is the output of a function that returns multiple views. "
                          "Such functions do not allow the output views to be modified inplace. "
                          "You should replace the inplace operation by an out-of-place one.")
        block = "inference_mode" if self._creation_meta == VIEW_INFERENCE else "no_grad"
        return msg + (" Given that this use case is ambiguous and error-prone, it is forbidden. "
                      "You can clarify your code by moving both the view and the inplace either "
                      f"both inside the {block} block (if you don't want the inplace to be "
                      "tracked) or both outside (if you want the inplace to be tracked).")

    @property
    def requires_grad(self):
        # a view requires grad whenever its base does, even one made under no_grad
        if self._requires_grad or self._grad_fn is not None:
            return True
        base = self._base
        return base is not None and (base._requires_grad or base._grad_fn is not None)

    @requires_grad.setter
    def requires_grad(self, flag):
        self._set_requires_grad(flag, "only Tensors of floating point and complex dtype can require gradients")

    def requires_grad_(self, requires_grad=True):
        self._set_requires_grad(requires_grad, "only Tensors of floating point dtype can require gradients")
        return self

    def _set_requires_grad(self, flag, dtype_message):
        if not self.is_leaf:
            if not flag:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().")
            return
        if flag and not (self._dtype.is_floating_point or self._dtype.is_complex):
            raise RuntimeError(dtype_message)
        if flag and self.is_inference() and not is_inference_mode_enabled():
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed.")
        self._requires_grad = bool(flag)

    @property
    def grad_fn(self):
        if self._base is not None:
            self._sync_view_history()
        return self._grad_fn

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                "Its .grad attribute won't be populated during autograd.backward(). If you "
                "indeed want the .grad field to be populated for a non-leaf Tensor, use "
                ".retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by "
                "mistake, make sure you access the leaf Tensor instead. See "
                "github.com/pytorch/pytorch/pull/30531 for more information. (Triggered "
                "internally at /__w/pytorch/pytorch/build/aten/src/ATen/core/TensorBody.h:493.)",
                UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value is self:
                raise RuntimeError("can't assign Variable as its own grad")
            if value.shape != self.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the tensor "
                    "are the same size")
            if value.dtype is not self.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_c_type_name(value.dtype)}' to "
                    f"a tensor with grad_dtype '{SCALAR_NAME[self.dtype.name]}'. The gradient must "
                    "match the tensor's grad_dtype (defaults to the tensor's dtype). You can set "
                    "the tensor's grad_dtype attribute with a specific dtype, or None to allow any "
                    "dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and its "
                    "gradient may break downstream systems that assume they match.")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @grad_fn.deleter
    def grad_fn(self):
        raise AttributeError("attribute 'grad_fn' of 'torch._C.TensorBase' objects is not writable")

    @requires_grad.deleter
    def requires_grad(self):
        raise RuntimeError("requires_grad must be a bool")

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.is_leaf or self._retains_grad:
            return
        self._retains_grad = True
        node = self.grad_fn
        if node.retained is None:
            node.retained = {}
        node.retained[self._output_nr] = weakref.ref(self)

    def register_hook(self, hook):
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            if not _top_level():        # (torchlike.compile's trace: _function_in_transforms)
                from .autograd._function_in_transforms import hook_in_program
                hook_in_program(self, hook)
            return self.grad_fn.add_tensor_hook(self._output_nr, hook)
        from .utils.hooks import RemovableHandle
        if self._hooks is None:
            self._hooks = {}
        return RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if not self.is_leaf:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        from .utils.hooks import RemovableHandle
        if self._post_acc_hooks is None:
            self._post_acc_hooks = {}
        return RemovableHandle(self._post_acc_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        if not _top_level():     # a tracer's detach stops its gradient
            from ._jax_bridge import detached
            out = detached(self)
            if out is not None:
                return out
        out = object.__new__(Tensor)
        out._init_from_array(self._raw(), self.device)     # (a pending value stays pending)
        out._storage = self._storage
        out._shape, out._stride, out._offset, out._whole = (self._shape, self._stride,
                                                              self._offset, self._whole)
        out._cache, out._cache_gen = self._cache, self._cache_gen
        out._version_counter = self._version_counter
        return out

    def detach_(self):
        if self._base is not None and self._base.requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead. If you are "
                               "using DistributedDataParallel (DDP) for training, and "
                               "gradient_as_bucket_view is set as True, gradients are views of "
                               "DDP buckets, and hence detach_() cannot be called on these "
                               "gradients. To fix this error, please refer to the "
                               "Optimizer.zero_grad() function in torch/optim/optimizer.py as "
                               "the solution.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        out = self.detach()
        if not out.is_inference():
            out._version_counter = VersionCounter()
        return out

    @data.setter
    def data(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(other).__name__}")
        if self.requires_grad and not (other._dtype.is_floating_point or other._dtype.is_complex):
            raise RuntimeError("data set to a tensor that requires gradients must be floating "
                               "point or complex dtype")
        self._storage = other._storage
        self._shape, self._stride, self._offset, self._whole = (other._shape, other._stride,
                                                                other._offset, other._whole)
        self._cache, self._cache_gen = other._cache, other._cache_gen
        self._dtype = other._dtype

    @data.deleter
    def data(self):
        raise RuntimeError("Deleting tensor data is not allowed. Delete tensor instead!")

    # -- in-place machinery -------------------------------------------------------------
    def _check_inplace(self, *others):
        """PyTorch refuses in-place ops that need grad (self or any other tensor input
        requires it) on leaves, on views of leaves, and on views made by multi-output
        ops or in no_grad mode."""
        if type(self._version_counter) is InferenceCounter and not is_inference_mode_enabled():
            raise RuntimeError(INFERENCE_INPLACE)
        if not is_grad_enabled():
            return
        if not (self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad
                                          for o in others)):
            return
        base = self._base
        if base is not None and self._dtype.is_floating_point | self._dtype.is_complex:
            if self._creation_meta != VIEW_DEFAULT:
                raise RuntimeError(self._view_rebase_message(indirect=False))
            # (PyTorch asks only whether the base is a leaf: a view made to require grad
            # on its own, of a base that doesn't, gets this message too)
            if base._grad_fn is None and self.requires_grad:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used "
                                   "in an in-place operation.")
        if self._grad_fn is None and self._requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")

    def _assign_result(self, result):
        """Make `result` (computed out of place from self) the new value of self, in place:
        the write goes through to the storage, and the history moves onto self (or, for a
        view, onto its base as CopySlices)."""
        value = result._raw()
        if result._dtype is not self._dtype:
            if not dt.can_cast(result._dtype, self._dtype):
                raise RuntimeError(f"result type {SCALAR_NAME[result._dtype.name]} can't be cast "
                                   f"to the desired output type {SCALAR_NAME[self._dtype.name]}")
        if tuple(value.shape) != tuple(self._shape):
            raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the "
                               f"broadcast shape {list(value.shape)}")
        if result._dtype is not self._dtype:
            from ._ops.basic import convert_dtype
            result = convert_dtype(result, self._dtype)
            value = result._raw()
        node = result._grad_fn if is_grad_enabled() else None
        base_before = self._base._data() if (node is not None and self._base is not None) else None
        self._write(value)
        if node is None:
            return self
        # As PyTorch: an in-place op keeps the original self it needs (here the immutable
        # array captured before the write), so self is not version-checked; its saved
        # result now lives in self and is checked from the version after this write; other
        # inputs, even ones aliasing self, keep their pre-write versions.
        counter = self._version_counter
        node.saved = tuple((i, counter, counter.value, d) if i == "result" else (i, c, v, d)
                           for i, c, v, d in node.saved if i != 0)
        owner = self if self._base is None else self._base      # whose history changes
        old_edge = (owner._grad_fn, owner._output_nr)
        if self._base is None:
            self._grad_fn, self._output_nr = node, result._output_nr
            node.out_versions = _with_version(node.out_versions, result._output_nr,
                                              counter.value)
        else:
            from ._ops.views import record_copy_slices
            record_copy_slices(self, node, base_before)
        if owner._retains_grad:
            _move_retention(owner, *old_edge)
        return self

    def _inplace(self, fn, *args, **kwargs):
        self._check_inplace(*args, *kwargs.values())
        return self._assign_result(fn(self, *args, **kwargs))

    __array_priority__ = 1000


def _with_version(versions, nr, value):
    """A node's output versions once output `nr` lives in a tensor at `value` (an in-place
    op's result, now self): later uses of self are not stale (see dispatch.record)."""
    if versions[nr] == value:       # (the usual case: a fresh view of a fresh tensor)
        return versions
    versions = list(versions)
    versions[nr] = value
    return tuple(versions)


def _move_retention(t, old_node, old_nr):
    """retain_grad follows a tensor whose history an in-place op replaced, as PyTorch
    moves its retains_grad hook onto the new grad_fn."""
    if old_node is not None and old_node.retained:
        old_node.retained.pop(old_nr, None)
    node = t._grad_fn
    if node.retained is None:
        node.retained = {}
    node.retained[t._output_nr] = weakref.ref(t)


class InferenceCounter(VersionCounter):
    """The version counter of a tensor made in inference mode (its views and detached
    aliases share it): PyTorch's inference tensors have none, which is what refuses
    their in-place updates, _version and saving them for backward outside the mode."""
    __slots__ = ()


INFERENCE_INPLACE = ("Inplace update to inference tensor outside InferenceMode is not allowed."
                     "You can make a clone to get a normal tensor before doing inplace update."
                     "See https://github.com/pytorch/rfcs/pull/17 for more details.")


def _c_type_name(d):
    return {"float64": "double", "float32": "float", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int"}.get(d.name, d.name)


def _flat(nested):
    """A nested list's leaves in order (iteratively)."""
    out, stack = [], [nested]
    while stack:
        x = stack.pop()
        if isinstance(x, list):
            stack.extend(reversed(x))
        else:
            out.append(x)
    return out


def edge_of(t):
    """The (node, output_nr) through which a gradient reaches tensor `t`."""
    node = t.grad_fn
    if node is not None:
        return (node, t._output_nr)
    if t._requires_grad:
        return accumulator_edge(t)
    return (None, 0)


def _rebuild_tensor(values, dtype_name, requires_grad, cls=Tensor):
    from ._factories import tensor_from_numpy
    t = tensor_from_numpy(values, dt._BY_NAME[dtype_name])
    if cls is not Tensor:
        t = cls(t, requires_grad) if requires_grad is not None else cls(t)
    elif requires_grad:
        t.requires_grad_(True)
    return t
