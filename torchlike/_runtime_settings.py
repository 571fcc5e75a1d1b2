"""Process-wide settings PyTorch keeps in its context: thread counts and deterministic
algorithms. XLA sizes its CPU thread pool when it starts, so the thread counts are
recorded and reported back; XLA's kernels are deterministic on CPU, so the deterministic
flag changes nothing there either."""
import os

_threads = {"intra": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1, "interop": None}
_deterministic = {"enabled": False, "warn_only": False}


def get_num_threads():
    return _threads["intra"]


def set_num_threads(n):
    if isinstance(n, bool) or not isinstance(n, int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _threads["intra"] = n


def get_num_interop_threads():
    return _threads["interop"] or _threads["intra"]


def set_num_interop_threads(n):
    if isinstance(n, bool) or not isinstance(n, int):
        raise RuntimeError(f"set_num_interop_threads expects an int, but got "
                           f"{type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    if _threads["interop"] is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work "
                           "has started or set_num_interop_threads called")
    _threads["interop"] = n


def use_deterministic_algorithms(mode, *, warn_only=False):
    if not isinstance(mode, bool):
        raise TypeError("_set_deterministic_algorithms(): argument 'mode' (position 1) must "
                        f"be bool, not {type(mode).__name__}")
    _deterministic.update(enabled=mode, warn_only=bool(warn_only))


def are_deterministic_algorithms_enabled():
    return _deterministic["enabled"]


def is_deterministic_algorithms_warn_only_enabled():
    return _deterministic["warn_only"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode):
    if not isinstance(debug_mode, (str, int)):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, "
                               f"`warn`, `error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError("invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    if not _deterministic["enabled"]:
        return 0
    return 1 if _deterministic["warn_only"] else 2


# Build facts PyTorch reports: the CPU kernels' LAPACK, MKL, OpenMP and FFT are XLA's here.
has_lapack = has_mkl = has_openmp = has_spectral = True
_warn_always = [False]


def set_warn_always(b):
    _warn_always[0] = bool(b)


def is_warn_always_enabled():
    return _warn_always[0]


def set_flush_denormal(mode):
    """True: XLA's CPU code already flushes denormals in its vectorized kernels."""
    return True


def init_num_threads():
    pass


def get_device_module(device=None):
    """torchlike.cuda for 'cuda' devices; torchlike.cpu is not modelled, so CPU asks get
    this process's accelerator module when there is one, else torchlike.cuda."""
    import torchlike
    from ._device import device as make_device
    if device is None:
        from .accelerator import current_accelerator
        acc = current_accelerator()
        type_ = acc.type if acc is not None else "cpu"
    else:
        type_ = device if isinstance(device, str) else make_device(device).type
        type_ = type_.split(":")[0]
    if type_ == "cpu":
        return torchlike.cpu
    if type_ == "cuda":
        return torchlike.cuda
    raise RuntimeError(f"Device '{type_}' does not have a corresponding module registered "
                       "as 'torch.{type_}'.")
