"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode (thread-local)."""
import functools
import inspect
import threading


class _ModeState(threading.local):
    # class-level defaults: a thread that never set a mode reads them as plain attributes
    # (getattr with a default would raise and catch AttributeError on every op)
    enabled = True
    inference = False


_state = _ModeState()


def is_grad_enabled():
    return _state.enabled


def _set_enabled(flag):
    _state.enabled = flag


def is_inference_mode_enabled():
    return _state.inference


class _GradModeContext:
    """Base for the context managers; also usable as decorators (with or without
    parentheses for no_grad/enable_grad), including on generator functions."""

    def __call__(self, func):
        if inspect.isclass(func):
            import warnings
            warnings.warn("Decorating classes is deprecated and will be disabled in future "
                          "versions. You should only decorate functions or methods. To preserve "
                          "the current behavior of class decoration, you can directly decorate "
                          "the `__init__` method and nothing else.", FutureWarning, stacklevel=2)
            cls = func
            func = lambda *args, **kwargs: cls(*args, **kwargs)   # noqa: E731 (as PyTorch)
        make = self._clone

        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def generator_wrapper(*args, **kwargs):
                gen = func(*args, **kwargs)
                try:
                    with make():
                        response = gen.send(None)
                    while True:
                        try:
                            request = yield response
                        except GeneratorExit:
                            with make():
                                gen.close()
                            raise
                        except BaseException as exc:
                            with make():
                                response = gen.throw(exc)
                        else:
                            with make():
                                response = gen.send(request)
                except StopIteration as stop:
                    return stop.value
            return generator_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with make():
                return func(*args, **kwargs)
        return wrapper

    def _clone(self):
        return self.__class__()


class no_grad(_GradModeContext):
    def __new__(cls, func=None):
        self = super().__new__(cls)
        if callable(func):  # used as @no_grad without parentheses
            return self(func)
        return self

    def __init__(self, func=None):
        self._prev = None

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set_enabled(False)

    def __exit__(self, *exc):
        _set_enabled(self._prev)
        return False


class enable_grad(no_grad):
    def __enter__(self):
        self._prev = is_grad_enabled()
        _set_enabled(True)


class set_grad_enabled(_GradModeContext):
    """Sets the mode at construction (so it works as a plain call) and restores on exit."""

    def __init__(self, mode):
        self._prev = is_grad_enabled()
        self.mode = bool(mode)
        _set_enabled(self.mode)

    def __call__(self, func):
        _set_enabled(self._prev)
        return super().__call__(func)

    def _clone(self):
        return set_grad_enabled(self.mode)

    def clone(self):
        return self._clone()

    def __enter__(self):
        _set_enabled(self.mode)

    def __exit__(self, *exc):
        _set_enabled(self._prev)
        return False


class inference_mode(_GradModeContext):
    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):
            self.__init__(True)
            return self(mode)
        return self

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def _clone(self):
        return inference_mode(self.mode)

    def clone(self):
        return self._clone()

    def __enter__(self):
        self._prev = (is_grad_enabled(), is_inference_mode_enabled())
        if self.mode:
            _set_enabled(False)
        _state.inference = self.mode

    def __exit__(self, *exc):
        _set_enabled(self._prev[0])
        _state.inference = self._prev[1]
        return False
