"""torchlike.cuda: 'cuda' means JAX's GPU platform."""
from . import _device, _random


def is_available():
    return _device.accelerator_count("cuda") > 0


def device_count():
    return _device.accelerator_count("cuda")


def current_device():
    if not is_available():
        raise _device._absent("cuda")
    return 0


def manual_seed(seed):
    _random.default_generator.manual_seed(seed)


manual_seed_all = manual_seed


def synchronize(device=None):
    """Wait for queued work (JAX dispatches asynchronously)."""
    import jax
    jax.effects_barrier()


def get_device_name(device=None):
    import jax
    if not is_available():
        raise _device._absent("cuda")
    return jax.devices("gpu")[0].device_kind
