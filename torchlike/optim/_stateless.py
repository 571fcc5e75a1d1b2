"""optim.swap_in_optimizer_params_and_state: run an optimizer's step on other parameters
and another state_dict-shaped state, then put the live ones back."""
import contextlib
from collections import defaultdict

from .._tensor import Tensor

__all__ = ["swap_in_optimizer_params_and_state"]

_NAME = "swap_in_optimizer_params_and_state"


def _checked_state(swapin_optim_state):
    if not isinstance(swapin_optim_state, dict):
        raise RuntimeError(f"{_NAME} requires a DCP-style optimizer state_dict.")
    state = swapin_optim_state.get("state")
    if not isinstance(state, dict):
        raise RuntimeError(f"{_NAME} requires swapin_optim_state['state'] to be a dict mapping "
                           "packed parameter ids to per-param state dicts, got "
                           f"{type(state).__name__}.")
    if any(isinstance(k, Tensor) for k in state):
        raise RuntimeError(f"{_NAME} requires optimizer.state_dict()-style state keyed by "
                           "packed parameter ids.")
    if any(isinstance(k, int) and not isinstance(v, dict) for k, v in state.items()):
        raise RuntimeError(f"{_NAME} requires per-parameter optimizer state entries to be "
                           "dictionaries.")
    return state


def _checked_groups(optimizer, swapin_optim_state):
    groups = swapin_optim_state.get("param_groups")
    if not isinstance(groups, list):
        raise RuntimeError(f"{_NAME} requires swapin_optim_state['param_groups'] to be a list "
                           f"of param-group dicts, got {type(groups).__name__}.")
    if len(optimizer.param_groups) != len(groups):
        raise RuntimeError("swapin_optim_state has a different number of parameter groups than "
                           "the live optimizer.")
    for idx, (live, group) in enumerate(zip(optimizer.param_groups, groups)):
        if not isinstance(group, dict):
            raise RuntimeError(f"{_NAME} requires each optimizer param group to be a "
                               "dictionary.")
        ids = group.get("params")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise RuntimeError(f"{_NAME} requires optimizer.state_dict()-style "
                               "param_groups[*]['params'] entries keyed by packed parameter ids.")
        if len(live["params"]) != len(ids):
            raise RuntimeError(f"swapin_optim_state param group {idx} has a different number of "
                               "params than the live optimizer param group.")
        swapin_only = [k for k in group if k not in live]
        live_only = [k for k in live if k not in group]
        if swapin_only or live_only:
            raise RuntimeError(f"{_NAME} requires optimizer.state_dict()-style param group keys "
                               "to exactly match the live optimizer group keys for group "
                               f"{idx}. Keys only in swap-in: {swapin_only}. Keys only in "
                               f"live: {live_only}.")
    return groups


@contextlib.contextmanager
def swap_in_optimizer_params_and_state(optimizer, swapin_parameters, swapin_optim_state):
    if not optimizer.state:
        raise RuntimeError(f"{_NAME} requires initialized optimizer state.")
    state = _checked_state(swapin_optim_state)
    groups = _checked_groups(optimizer, swapin_optim_state)
    params = list(swapin_parameters.values())
    per_group, offset, seen = [], 0, set()
    for group in groups:
        end = offset + len(group["params"])
        if end > len(params):
            raise RuntimeError(f"{_NAME} requires the explicit parameter state to match "
                               "optimizer.param_groups ordering.")
        per_group.append(params[offset:end])
        offset = end
        seen.update(group["params"])
    extra = [k for k in state if k not in seen]
    if extra:
        raise RuntimeError(f"{_NAME} requires swapin_optim_state['state'] to be keyed only by "
                           f"packed parameter ids from param_groups[*]['params']; got extra "
                           f"keys {extra!r}.")
    live_state = optimizer.state
    snapshots = [dict(g) for g in optimizer.param_groups]
    try:
        # the per-parameter dicts are copied, their tensors are not: in-place updates reach
        # the caller's state, rebinding an entry does not (as in PyTorch)
        swapped = defaultdict(dict)
        for live, group, swapin in zip(optimizer.param_groups, groups, per_group):
            live.update({k: v for k, v in group.items() if k != "params"}, params=swapin)
            for param, param_id in zip(swapin, group["params"]):
                swapped[param] = dict(state.get(param_id, {}))
        optimizer.state = swapped
        yield
    finally:
        for live, snapshot in zip(optimizer.param_groups, snapshots):
            live.clear()
            live.update(snapshot)
        optimizer.state = live_state
