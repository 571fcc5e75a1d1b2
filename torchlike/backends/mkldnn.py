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
