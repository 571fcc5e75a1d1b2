"""Anomaly detection: with it on, backward runs node by node, a node whose gradients
contain NaN raises PyTorch's error, and an error in a node's backward is preceded by a
warning showing where that node's forward op was called."""
import warnings


class _Anomaly:
    enabled = False
    check_nan = True


state = _Anomaly()


def is_anomaly_enabled():
    return state.enabled


def is_anomaly_check_nan_enabled():
    return state.check_nan


def set_anomaly_enabled(enabled, check_nan=True):
    state.enabled = bool(enabled)
    state.check_nan = bool(check_nan)


class detect_anomaly:
    """Context manager (and decorator) turning anomaly detection on."""

    def __init__(self, check_nan=True):
        self.prev = state.enabled
        self.check_nan = check_nan
        self.prev_check_nan = state.check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Sets anomaly detection on or off, as a call or as a context manager."""

    def __init__(self, mode, check_nan=True):
        self.prev = state.enabled
        self.prev_check_nan = state.check_nan
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
        return False


def forward_traceback():
    """Where the op being recorded was called, for the anomaly warning in backward."""
    import traceback
    return traceback.format_stack()[:-3]


def check_nan(node, input_grads):
    """PyTorch's error for a node whose backward produced NaN."""
    import jax.numpy as jnp
    for i, g in enumerate(input_grads):
        if g is not None and bool(jnp.isnan(g._data()).any()):
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")


def warn_forward_trace(node):
    trace = node._metadata.get("traceback_") if node._metadata else None
    if trace is None:
        return
    warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused "
                  "the error:\n" + "".join(trace), stacklevel=2)
