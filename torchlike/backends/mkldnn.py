"""torch.backends.mkldnn: oneDNN flags, recorded (XLA's CPU backend does its own
kernel selection)."""
import contextlib

enabled = True
deterministic = False


def is_available():
    return True


@contextlib.contextmanager
def flags(enabled=False, deterministic=False):
    module = globals()
    saved = {"enabled": module["enabled"], "deterministic": module["deterministic"]}
    module.update(enabled=enabled, deterministic=deterministic)
    try:
        yield
    finally:
        module.update(saved)


VERBOSE_OFF, VERBOSE_ON, VERBOSE_ON_CREATION = 0, 1, 2


def is_acl_available():
    return False


class verbose:
    """oneDNN's verbose logging for a block: there is no oneDNN to log here."""

    def __init__(self, level):
        self.level = level

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def set_flags(_enabled=None, _deterministic=None):
    module = globals()
    previous = (module["enabled"], module["deterministic"])
    if _enabled is not None:
        module["enabled"] = _enabled
    if _deterministic is not None:
        module["deterministic"] = _deterministic
    return previous
