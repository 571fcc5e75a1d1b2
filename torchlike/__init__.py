"""torchlike: PyTorch's API on JAX.  `import torchlike as torch`.

JAX runs with 64-bit types enabled so that float64 and int64 are real; every tensor
carries an explicit dtype, so JAX's own defaults never leak into results.
"""
import builtins as _builtins
import numbers as _numbers

import jax as _jax

_jax.config.update("jax_enable_x64", True)

from . import _xla_options
_xla_options.set_flags()        # (before the first array starts JAX's backend)

from . import _dtype
from ._dtype import (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32,
                     float64, complex64, complex128, dtype, get_default_dtype, promote_types,
                     can_cast)
from ._dtype import set_default_dtype as _set_default_dtype
from ._device import device, get_default_device, set_default_device
from ._tensor import Tensor, Size
from ._symbolic import SymBool, SymFloat, SymInt   # what .item() gives in a compiled trace
from . import _ops
from ._ops.registry import FUNCTIONS as _FUNCTIONS, METHODS as _METHODS
from ._random import (Generator, manual_seed, seed, initial_seed, get_rng_state, set_rng_state,
                      default_generator)
from . import _factories
from ._factories import (memory_format, preserve_format, contiguous_format, channels_last,
                         channels_last_3d)
from ._printing import set_printoptions, get_printoptions
from . import autograd
from .autograd import (no_grad, enable_grad, set_grad_enabled, inference_mode,
                       is_grad_enabled, is_inference_mode_enabled)
from . import cuda
from . import nn
from . import utils
from . import compiler, _dynamo
from . import _inductor, _functorch   # their config modules: options PyTorch programs set
from . import _logging                # set_logs, for the compiler's logs
from .compiler import compile

float = float32
double = float64
half = float16
long = int64
int = int32
short = int16
cfloat = complex64
cdouble = complex128
from ._layout import layout, strided
__version__ = "2.13.0+torchlike"


def set_default_dtype(d):
    _set_default_dtype(d)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def numel(input):
    return input.numel()


def result_type(tensor1, tensor2):
    from ._ops._util import result_dtype
    return result_dtype(tensor1, tensor2)


def _invert(self):
    if self.dtype.is_floating_point or self.dtype.is_complex:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    from ._ops import pointwise as pw
    return pw.FUNCTIONS["logical_not"](self) if self.dtype is bool else pw.bitwise_xor(self, -1)


def _wire():
    """Expose the op table: torchlike.<fn>, Tensor.<method>, operators."""
    g = globals()
    for name, fn in _FUNCTIONS.items():
        g.setdefault(name, fn)
    for name, fn in _METHODS.items():
        if name not in Tensor.__dict__:
            setattr(Tensor, name, fn)
    from ._ops import pointwise as pw, linalg

    # float and int first: they match without the Number ABC's slower instance check
    operands = (Tensor, _builtins.float, _builtins.int, _numbers.Number)

    def forward(fn):
        def op(self, other):
            if not isinstance(other, operands):
                return NotImplemented
            return fn(self, other)
        return op

    def reverse(fn):
        def op(self, other):
            # anything else (a list, None) lets Python raise its own TypeError
            if not isinstance(other, operands):
                return NotImplemented
            if isinstance(other, Tensor):     # x.__rsub__(y) with a tensor y is y - x
                return fn(other, self)
            return fn.reverse(self, other)
        return op

    def tensor_self(name, op):
        """An r-dunder called unbound with a non-tensor self (Tensor.__radd__(1, t)):
        PyTorch's C descriptors refuse it with a TypeError."""
        def checked(self, other):
            if not isinstance(self, Tensor):
                raise TypeError(f"descriptor '{name}' for 'torch._C.TensorBase' objects doesn't "
                                f"apply to a '{type(self).__name__}' object")
            return op(self, other)
        return checked

    def inplace(name):
        def op(self, other):
            return getattr(self, name)(other)
        return op

    for dunder, fn in [("add", pw.add), ("sub", pw.sub), ("mul", pw.mul),
                       ("truediv", pw.true_divide), ("floordiv", pw.floor_divide),
                       ("mod", pw.remainder), ("pow", pw.pow), ("and", pw.bitwise_and),
                       ("or", pw.bitwise_or), ("xor", pw.bitwise_xor),
                       ("lshift", pw.bitwise_left_shift), ("rshift", pw.bitwise_right_shift)]:
        setattr(Tensor, f"__{dunder}__", forward(fn))
        setattr(Tensor, f"__r{dunder}__", tensor_self(f"__r{dunder}__", reverse(fn)))
    Tensor.__radd__ = tensor_self("__radd__", forward(pw.add))
    Tensor.__rmul__ = tensor_self("__rmul__", forward(pw.mul))
    # PyTorch's other / x is reciprocal(x) * other (MulBackward0)
    # (through the method, as PyTorch's: a non-tensor self raises AttributeError)
    Tensor.__rtruediv__ = forward(lambda self, other: pw.mul(self.reciprocal(), other))
    Tensor.__rdiv__ = Tensor.__rtruediv__       # torch keeps the Python 2 name too
    for dunder, method in [("add", "add_"), ("sub", "sub_"), ("mul", "mul_"),
                           ("truediv", "div_"), ("floordiv", "floor_divide_"),
                           ("mod", "remainder_"), ("pow", "pow_"), ("and", "bitwise_and_"),
                           ("or", "bitwise_or_"), ("xor", "bitwise_xor_"),
                           ("lshift", "bitwise_left_shift_"), ("rshift", "bitwise_right_shift_")]:
        setattr(Tensor, f"__i{dunder}__", inplace(method))
    for dunder, fn in [("eq", pw.eq), ("ne", pw.ne), ("lt", pw.lt), ("le", pw.le),
                       ("gt", pw.gt), ("ge", pw.ge)]:
        setattr(Tensor, f"__{dunder}__", forward(fn))
    Tensor.__matmul__ = forward(linalg.matmul)
    Tensor.__rmatmul__ = lambda self, other: linalg.matmul(other, self)
    Tensor.__neg__ = lambda self: pw.FUNCTIONS["neg"](self)
    Tensor.__pos__ = lambda self: self
    Tensor.__abs__ = lambda self: pw.FUNCTIONS["abs"](self)
    Tensor.__invert__ = _invert



_wire()
del _wire

from . import linalg, optim     # namespaces reachable after a plain `import torchlike`
from . import fft, special, signal   # torch.fft, torch.special, torch.signal (spectral helper)
from . import return_types    # torch.return_types (the named tuples of max, sort, ...)
from . import random, types     # torch.random (fork_rng), torch.types (annotation aliases)
from . import profiler          # torch.profiler (record_function regions: _profiling.py)
from . import library           # torch.library.custom_op
from . import overrides         # torch.overrides (__torch_function__ helpers)
from .library import ops        # torch.ops.<namespace>.<op>: custom ops
from . import distributions     # torch.distributions after a plain `import torchlike`
from .serialization import save, load

# JAX interop and function transforms (docs/jax.md)
from ._jax_bridge import from_jax
from .utils.dlpack import from_dlpack
from . import func
from .func import vmap
from ._legacy_tensors import LEGACY_TYPES as _LEGACY_TYPES   # FloatTensor, LongTensor ...
globals().update(_LEGACY_TYPES)
from ._ops.sparse_ops import SPARSE_COO as sparse_coo  # noqa: E402
from . import sparse  # noqa: E402
from .nn.utils import stateless as _stateless   # torchlike.nn.utils.stateless
from .autograd import functional as _autograd_functional   # torchlike.autograd.functional
from .autograd import forward_ad as _forward_ad            # torchlike.autograd.forward_ad

# mixed precision, backends, devices, TorchScript/ONNX/export/hub stand-ins (issue 12)
import math as _math
import sys as _sys
from ._type_info import finfo, iinfo
inf, nan, pi, e = _math.inf, _math.nan, _math.pi, _math.e
newaxis = None
from . import amp, backends, accelerator, cpu, jit, onnx, export, hub
from .amp import autocast, GradScaler
from .amp.autocast_mode import (is_autocast_enabled, set_autocast_enabled, get_autocast_dtype,
                                set_autocast_dtype, is_autocast_cache_enabled,
                                set_autocast_cache_enabled, clear_autocast_cache,
                                autocast_increment_nesting, autocast_decrement_nesting,
                                is_autocast_available, is_autocast_cpu_enabled,
                                set_autocast_cpu_enabled, get_autocast_cpu_dtype,
                                set_autocast_cpu_dtype, get_autocast_gpu_dtype,
                                set_autocast_gpu_dtype)
from .backends._precision import get_float32_matmul_precision, set_float32_matmul_precision
from ._runtime_settings import (get_num_threads, set_num_threads, get_num_interop_threads,
                                set_num_interop_threads, use_deterministic_algorithms,
                                are_deterministic_algorithms_enabled,
                                is_deterministic_algorithms_warn_only_enabled,
                                set_deterministic_debug_mode, get_deterministic_debug_mode,
                                has_lapack, has_mkl, has_openmp, has_spectral, set_warn_always,
                                is_warn_always_enabled, set_flush_denormal, init_num_threads,
                                get_device_module)
from ._streams import Stream, Event
from .cuda import OutOfMemoryError, AcceleratorError
_sys.modules[__name__ + ".cuda.amp"] = cuda.amp    # `import torchlike.cuda.amp` as in torch
_sys.modules[__name__ + ".cpu.amp"] = cpu.amp      # `import torchlike.cpu.amp` as in torch
del _sys
from . import distributed     # torchlike.distributed after a plain import, as torch.distributed

def is_inference(input):          # (autograd helper: inference tensors, see _tensor.py)
    return input.is_inference()


from .autograd.anomaly_mode import (is_anomaly_enabled, is_anomaly_check_nan_enabled,  # noqa: E402
                                    set_anomaly_enabled)
from .utils import checkpoint as _utils_checkpoint  # noqa: E402,F401  (torch.utils.checkpoint)
from . import masked    # torch.masked (issue 15)
from . import multiprocessing   # torch.multiprocessing (issue 12)
from . import testing   # torch.testing: assert_close, make_tensor (issue 12)
from ._toplevel_aliases import NAMES as _ALIASES, TENSOR_METHODS as _METHODS_TOO  # noqa: E402
globals().update({_k: _v for _k, _v in _ALIASES.items() if _k not in globals()})  # torch.conv2d ...
for _k, _v in _METHODS_TOO.items():
    if not hasattr(Tensor, _k):
        setattr(Tensor, _k, _v)
del _ALIASES, _METHODS_TOO, _k, _v
from ._signatures import apply as _apply_signatures   # noqa: E402  help()/inspect (issue 12)
_apply_signatures()
del _apply_signatures

from ._collector import tune_at_import as _tune_collector  # noqa: E402
_tune_collector()   # last: the collector skips what importing made (see _collector.py)
del _tune_collector
