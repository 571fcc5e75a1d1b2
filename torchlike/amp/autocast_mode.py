"""torch.autocast: ops on PyTorch's cast lists run in a lower precision (or float32).

PyTorch casts at the top of its dispatcher, before an op checks its arguments. The
same point in torchlike is the public function, not the op table: the Python layer
checks dtypes (`mm` of bfloat16 and float32 raises) before an op reaches dispatch, and
one op-table entry serves functions with different policies (the matmul op runs `mm`,
lower precision on CPU, and `dot`, float32 on CPU). So while an autocast region is
active, and only then, the listed public functions (in torchlike, Tensor,
nn.functional, linalg, fft) are replaced by wrappers that cast their tensor arguments
by `_policy`; leaving the outermost region puts the originals back. Outside autocast
nothing is wrapped, so the ordinary path costs nothing. Inside a wrapped call the
inner functions are not cast again (PyTorch excludes its autocast key the same way).

The state is process-wide (PyTorch's is per thread): autocast regions in two threads
at once see each other's settings.
"""
import functools
import types
import warnings

from .. import _dtype as dt
from . import _policy

_enabled = {"cpu": False, "cuda": False}
_dtype = {"cpu": dt.bfloat16, "cuda": dt.float16}
_cache = {"enabled": True, "nesting": 0, "casts": {}}   # casts: id(weight) -> (weight, cast)
_busy = [False]           # True inside a wrapped call: inner calls are not cast again
_installed = []           # (owner, name, original or None) for every wrapper put in place

_SUPPORTED = {"cpu": (dt.bfloat16, dt.float16), "cuda": (dt.float16, dt.bfloat16)}


def _device_type(device_type):
    if device_type is None:
        return "cuda"
    from .._device import device
    return device(device_type).type


def is_autocast_available(device_type):
    return device_type in ("cpu", "cuda")


def is_autocast_enabled(device_type=None):
    return _enabled.get(_device_type(device_type), False)


def set_autocast_enabled(device_type, enabled=None):
    if enabled is None:                       # the legacy one-argument form means CUDA
        device_type, enabled = "cuda", device_type
    _enabled[_device_type(device_type)] = bool(enabled)
    _sync_wrappers()


def get_autocast_dtype(device_type):
    return _dtype[_device_type(device_type)]


def set_autocast_dtype(device_type, dtype):
    _dtype[_device_type(device_type)] = dtype


def is_autocast_cache_enabled():
    return _cache["enabled"]


def set_autocast_cache_enabled(enabled):
    _cache["enabled"] = bool(enabled)


def clear_autocast_cache():
    _cache["casts"].clear()


def autocast_increment_nesting():
    _cache["nesting"] += 1
    return _cache["nesting"]


def autocast_decrement_nesting():
    _cache["nesting"] -= 1
    return _cache["nesting"]


# PyTorch's older per-device spellings, which it keeps with a DeprecationWarning
def _deprecated(old, new):
    warnings.warn(f"torch.{old} is deprecated. Please use torch.{new} instead.",
                  DeprecationWarning, stacklevel=3)


def is_autocast_cpu_enabled():
    _deprecated("is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')")
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled):
    _deprecated("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype():
    _deprecated("get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')")
    return get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype):
    _deprecated("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype():
    _deprecated("get_autocast_gpu_dtype()", "get_autocast_dtype('cuda')")
    return get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype):
    _deprecated("set_autocast_gpu_dtype(dtype)", "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", dtype)


class autocast:
    """Context manager and decorator: run the listed ops of `device_type` tensors in
    `dtype` (default: bfloat16 on CPU, float16 on CUDA)."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        from .._device import device
        device(device_type)                   # PyTorch's error for an unknown device string
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None \
            else cache_enabled
        if not is_autocast_available(device_type):
            raise RuntimeError(f"User specified an unsupported autocast device_type "
                               f"'{device_type}'")
        if device_type == "cuda":
            from .. import cuda
            if enabled and not cuda.is_available():
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                              "autocast.", stacklevel=2)
                enabled = False
            elif enabled and self.fast_dtype is dt.bfloat16 and not cuda.is_bf16_supported():
                raise RuntimeError("Current CUDA Device does not support bfloat16. Please "
                                   "switch dtype to float16.")
        if enabled and self.fast_dtype not in _SUPPORTED[device_type]:
            name = "CPU" if device_type == "cpu" else "CUDA"
            supported = ", ".join(repr(d) for d in _SUPPORTED[device_type])
            warnings.warn(f"In {name} autocast, but the target dtype is not supported. "
                          f"Disabling autocast.\n{name} Autocast only supports dtypes of "
                          f"{supported} currently.", stacklevel=2)
            enabled = False
        self._enabled = enabled

    def __enter__(self):
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        self.prev_cache_enabled = is_autocast_cache_enabled()
        set_autocast_dtype(self.device, self.fast_dtype)
        set_autocast_cache_enabled(self._cache_enabled)
        autocast_increment_nesting()
        set_autocast_enabled(self.device, self._enabled)
        return self

    def __exit__(self, *exc):
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


# -- casting -----------------------------------------------------------------------------
def _eligible(x, device_type):
    from .._tensor import Tensor
    return (isinstance(x, Tensor) and x.dtype.is_floating_point and x.dtype is not dt.float64
            and x.device.type == device_type)


def _cast(x, dtype):
    """x in `dtype`; a float32 weight (a leaf that requires grad) is cast once per region."""
    if x.dtype is dtype:
        return x
    from ..autograd.grad_mode import is_grad_enabled
    # a cast made under no_grad has no history, so it must not serve later grad-mode calls
    cacheable = (_cache["enabled"] and dtype is not dt.float32 and x.dtype is dt.float32
                 and x.requires_grad and x.is_leaf and x._base is None and is_grad_enabled())
    if cacheable:
        hit = _cache["casts"].get(id(x))
        if hit is not None and hit[0] is x:
            return hit[1]
    out = x.to(dtype)
    if cacheable:
        _cache["casts"][id(x)] = (x, out)     # emptied when the outermost region ends
    return out


def _map_tensors(fn, args, kwargs):
    """Apply fn to every tensor in args/kwargs, one level into lists and tuples."""
    from .._tensor import Tensor

    def one(v):
        if isinstance(v, Tensor):
            return fn(v)
        if isinstance(v, (list, tuple)) and any(isinstance(e, Tensor) for e in v):
            return type(v)(fn(e) if isinstance(e, Tensor) else e for e in v)
        return v
    return [one(a) for a in args], {k: one(v) for k, v in kwargs.items()}


def _first_device_type(args, kwargs):
    from .._tensor import Tensor
    for v in list(args) + list(kwargs.values()):
        for e in (v if isinstance(v, (list, tuple)) else (v,)):
            if isinstance(e, Tensor):
                return e.device.type
    return None


def _prepare(name, device_type, args, kwargs):
    """args and kwargs cast by `name`'s policy under `device_type`'s autocast."""
    if device_type == "cuda" and name in _policy.CUDA_BANNED:
        raise RuntimeError(_policy.CUDA_BANNED[name])
    kind = _policy.policy(device_type, name, args)
    tensors = []
    _map_tensors(tensors.append, args, kwargs)
    eligible = [t for t in tensors if _eligible(t, device_type)]
    if kind == "FP32_OPT_DTYPE":
        if eligible and kwargs.get("dtype") is None and not any(
                isinstance(a, dt.dtype) for a in args):
            kwargs = dict(kwargs, dtype=dt.float32)
        return args, kwargs
    if kind == "LOWER":
        target = _dtype[device_type]
    elif kind == "FP32":
        target = dt.float32
    else:                                         # PROMOTE: the widest eligible type
        target = (dt.float32 if any(t.dtype is dt.float32 for t in eligible)
                  else _dtype[device_type])
    return _map_tensors(lambda t: _cast(t, target) if _eligible(t, device_type) else t,
                        args, kwargs)


def _wrap(name, fn):
    @functools.wraps(fn)
    def autocast_wrapper(*args, **kwargs):
        if _busy[0]:
            return fn(*args, **kwargs)
        device_type = _first_device_type(args, kwargs)
        if not _enabled.get(device_type, False) or (
                _policy.policy(device_type, name, args) is None
                and not (device_type == "cuda" and name in _policy.CUDA_BANNED)):
            return fn(*args, **kwargs)      # not on this device's lists: inner calls may be
        args, kwargs = _prepare(name, device_type, args, kwargs)
        _busy[0] = True
        try:
            return fn(*args, **kwargs)
        finally:
            _busy[0] = False
    autocast_wrapper.__wrapped_by_autocast__ = fn
    return autocast_wrapper


def _namespaces():
    import torchlike
    from .. import linalg
    from ..nn import functional, _functional_layers
    from ..nn._functional_layers import rnn
    owners = [torchlike, torchlike.Tensor, functional, _functional_layers, linalg, rnn]
    fft = getattr(torchlike, "fft", None)
    if isinstance(fft, types.ModuleType):
        owners.append(fft)
    return owners


_plan = []      # [owner, name, original, wrapper] for every listed function, built once


def _build_plan():
    for owner in _namespaces():
        for name in sorted(_policy.ALL_NAMES):
            fn = owner.__dict__.get(name) if isinstance(owner, type) else \
                getattr(owner, name, None)
            if fn is None or isinstance(fn, (type, types.ModuleType)) or not callable(fn):
                continue
            _plan.append([owner, name, fn, _wrap(name, fn)])


def _sync_wrappers():
    """Wrappers in place exactly while some device's autocast is enabled. The wrappers
    are made once; entering and leaving a region only swaps attributes."""
    active = any(_enabled.values())
    if active and not _installed:
        if not _plan:
            _build_plan()
        for entry in _plan:
            owner, name, original, wrapper = entry
            current = owner.__dict__.get(name) if isinstance(owner, type) else \
                getattr(owner, name, None)
            if current is not original:         # replaced since the plan was made
                if current is None or not callable(current):
                    continue
                entry[2], entry[3] = current, _wrap(name, current)
                original, wrapper = entry[2], entry[3]
            _installed.append((owner, name, original))
            setattr(owner, name, wrapper)
    elif not active and _installed:
        while _installed:
            owner, name, fn = _installed.pop()
            setattr(owner, name, fn)
