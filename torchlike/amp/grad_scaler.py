"""torch.amp.GradScaler: loss scaling for float16 training, with PyTorch's state machine.

Per iteration: `scale(loss)` multiplies by the scale; `unscale_(opt)` divides the
gradients by it and records whether any was inf/NaN; `step(opt)` skips the optimizer
step when one was; `update()` backs the scale off after a skipped step and grows it
after `growth_interval` clean steps in a row. The scale and growth tracker are tensors
as in PyTorch; the skip decision reads the inf flag on the host, as PyTorch does.
"""
import enum
import functools
import warnings
from collections import abc, defaultdict

import jax.numpy as jnp
import numpy as np

from .. import _dtype as dt
from .._ops import batched_inplace
from .._ops.registry import Op
from .._compile.breaks import disable, is_compiling


class OptState(enum.Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _unscale_impl(inv_scale, flag, *grads):
    """_unscale_grads_'s loop for the gradients of one device as one op: the flag is 1
    where a gradient holds an inf or NaN (checked before scaling), and each gradient is
    multiplied by the (float32, 0-dim) inv_scale in the promoted dtype and stored in
    its own, as `mul_` does."""
    for g in grads:
        flag = jnp.maximum(flag, jnp.logical_not(jnp.all(jnp.isfinite(g))).astype(flag.dtype))
    return (flag,) + tuple([(g * inv_scale).astype(g.dtype) for g in grads])


_unscale_op = Op("amp_unscale", _unscale_impl, differentiable=False)


def _fresh_state():
    return {"stage": OptState.READY, "found_inf_per_device": {}}


def _eager_only(method):
    """GradScaler's bookkeeping (tensors made on first use, per-optimizer stages, an
    .item() on the inf check) cannot be part of one compiled program, and the scaler is
    not state torchlike.compile follows: inside a compiled function an enabled scaler's
    call is a graph break, raised before it changes anything, and runs eagerly."""
    breaks = disable(method)

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        if self._enabled and is_compiling():
            return breaks(self, *args, **kwargs)
        return method(self, *args, **kwargs)
    return call


class GradScaler:
    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if device == "cuda":
            from .. import cuda
            if enabled and not cuda.is_available():
                warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not "
                              "available.  Disabling.", stacklevel=2)
                self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale = None                 # made on the first scale() call
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = defaultdict(_fresh_state)

    # -- scale ------------------------------------------------------------------------
    def _check_scale_growth_tracker(self, funcname):
        fix = "This may indicate your script did not use scaler.scale(loss or outputs) " \
              "earlier in the iteration."
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + fix)
        if self._growth_tracker is None:
            raise AssertionError(f"Attempted {funcname} but _growth_tracker is None.  " + fix)
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self, dev):
        import torchlike
        self._scale = torchlike.full((), self._init_scale, dtype=dt.float32, device=dev)
        self._growth_tracker = torchlike.full((), self._init_growth_tracker, dtype=dt.int32,
                                              device=dev)

    @_eager_only
    def scale(self, outputs):
        """outputs (a tensor or nested lists/tuples/iterables of them) times the scale."""
        from .._tensor import Tensor
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            if self._scale is None:
                self._lazy_init_scale_growth_tracker(outputs.device)
            return outputs * self._scale.to(device=outputs.device)

        def apply_scale(value):
            if isinstance(value, Tensor):
                if self._scale is None:
                    self._lazy_init_scale_growth_tracker(value.device)
                return value * self._scale.to(device=value.device)
            if isinstance(value, abc.Iterable):
                scaled = map(apply_scale, value)
                return type(value)(scaled) if isinstance(value, (list, tuple)) else scaled
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")
        return apply_scale(outputs)

    # -- unscale / step -------------------------------------------------------------------
    def _unscale_grads_(self, optimizer, inv_scale, found_inf, allow_fp16):
        """Divide every gradient by the scale; found_inf[device] = 1 if any was inf/NaN."""
        import torchlike
        per_device = {}
        with torchlike.no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    grad = param.grad
                    if grad is None:
                        continue
                    if not allow_fp16 and grad.dtype is dt.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    per_device.setdefault(grad.device, []).append(grad)
            found = {}
            for dev, grads in per_device.items():
                flag = found_inf.to(dev).clone()
                if batched_inplace.batchable(grads):
                    flag, *unscaled = batched_inplace.run(
                        _unscale_op, [inv_scale.to(dev), flag], grads)
                    # (PyTorch's fused unscale kernel leaves the versions as they were)
                    batched_inplace.write_back(grads, unscaled, versions=0)
                    found[dev] = flag
                    continue
                for grad in grads:
                    # checked before scaling, as PyTorch's kernel does
                    bad = torchlike.logical_not(torchlike.isfinite(grad)).any()
                    flag = torchlike.maximum(flag, bad.to(dt.float32))
                    grad.mul_(inv_scale.to(dev))
                found[dev] = flag
        return found

    @_eager_only
    def unscale_(self, optimizer):
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        import torchlike
        # the reciprocal in float64, then float32, as PyTorch computes it
        inv_scale = self._scale.double().reciprocal().float()
        found_inf = torchlike.full((), 0.0, dtype=dt.float32, device=self._scale.device)
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, found_inf,
                                                             False)
        state["stage"] = OptState.UNSCALED

    def _maybe_opt_step(self, optimizer, state, *args, **kwargs):
        if not sum(v.item() for v in state["found_inf_per_device"].values()):
            return optimizer.step(*args, **kwargs)
        return None

    @_eager_only
    def step(self, optimizer, *args, **kwargs):
        """optimizer.step() unless the unscaled gradients held an inf or NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._check_scale_growth_tracker("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(state["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = self._maybe_opt_step(optimizer, state, *args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    # -- update ---------------------------------------------------------------------------
    @_eager_only
    def update(self, new_scale=None):
        """Back off after an inf/NaN, grow after growth_interval clean steps."""
        if not self._enabled:
            return
        scale, tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                scale.fill_(new_scale)
            else:
                reason = ("new_scale should be a float or a 1-element torch.cuda.FloatTensor "
                          "or torch.FloatTensor with requires_grad=False.")
                if (new_scale.device.type != self._device or new_scale.numel() != 1
                        or new_scale.requires_grad is True):
                    raise AssertionError(reason)
                scale.copy_(new_scale)
        else:
            found_infs = [flag for state in self._per_optimizer_states.values()
                          for flag in state["found_inf_per_device"].values()]
            if len(found_infs) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            found_inf = sum(float(f.item()) for f in found_infs)
            self._update_scale(scale, tracker, found_inf)
        self._per_optimizer_states = defaultdict(_fresh_state)

    def _update_scale(self, scale, tracker, found_inf):
        """PyTorch's _amp_update_scale_: products in double, stored as float32."""
        current = float(scale.item())
        if found_inf:
            scale.fill_(float(np.float32(current * self._backoff_factor)))
            tracker.fill_(0)
            return
        successful = int(tracker.item()) + 1
        if successful == self._growth_interval:
            grown = np.float32(current * self._growth_factor)
            if np.isfinite(grown):
                scale.fill_(float(grown))
            tracker.fill_(0)
        else:
            tracker.fill_(successful)

    # -- accessors and state ----------------------------------------------------------------
    def _get_scale_async(self):
        return self._scale

    def get_scale(self):
        if self._enabled:
            return self._init_scale if self._scale is None else float(self._scale.item())
        return 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if self._enabled:
            return self._init_growth_tracker if self._growth_tracker is None \
                else int(self._growth_tracker.item())
        return 0

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        if self._enabled:
            return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                    "backoff_factor": self._backoff_factor,
                    "growth_interval": self._growth_interval,
                    "_growth_tracker": self._get_growth_tracker()}
        return {}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(state_dict["_growth_tracker"])
