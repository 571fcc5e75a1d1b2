"""torch.random: the default generator's seeding and state, and fork_rng."""
import contextlib

from ._random import (Generator, default_generator, get_rng_state, initial_seed,
                      manual_seed, seed, set_rng_state)

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed",
           "manual_seed", "seed", "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type=None):
    """Random numbers drawn inside the block leave the generator's state as it was
    before it. (torchlike draws every device's numbers from one generator, so the
    `devices` listed need no state of their own.)"""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
