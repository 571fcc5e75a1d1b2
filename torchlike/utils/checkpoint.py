"""torch.utils.checkpoint: trade compute for memory by recomputing a segment in backward.

use_reentrant=True is PyTorch's CheckpointFunction: the segment runs under no_grad (so
none of its activations are kept), and backward re-runs it with grad enabled, with the
random state of the first run, and back-propagates through the recomputed graph.
use_reentrant=False records the segment normally (PyTorch's graph), its nodes marked as
one region: the fused backward replays the region as a jax.checkpoint call, so XLA keeps
only the region's inputs and recomputes its intermediates during the backward.
"""
import warnings

from .. import autograd

_REENTRANT_WITH_GRAD = (
    "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing "
    "an `inputs` parameter to .backward(). To resolve this error, you can either set "
    "use_reentrant=False, or call .backward() without passing the `inputs` argument.")


def _default_use_reentrant(where):
    warnings.warn(f"{where}: the use_reentrant parameter should be passed explicitly. "
                  + ("Starting in PyTorch 2.9, calling checkpoint without use_reentrant will "
                     "raise an exception. " if where == "torch.utils.checkpoint" else
                     "In version 2.9 we will raise an exception if use_reentrant is not "
                     "passed. ")
                  + "use_reentrant=False is recommended, but if you need to preserve the "
                  "current default behavior, you can pass use_reentrant=True. Refer to docs "
                  "for more details on the differences between the two variants.",
                  stacklevel=3)
    return True


class CheckpointFunction(autograd.Function):
    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        from .. import get_rng_state
        from .._tensor import Tensor
        ctx.run_function = run_function
        ctx.rng_state = get_rng_state() if preserve_rng_state else None
        ctx.inputs = list(args)
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*[args[i] for i in ctx.tensor_indices])
        with autograd.no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        from .. import get_rng_state, set_rng_state
        from .._tensor import Tensor
        from ..autograd import engine
        if not engine.checkpoint_valid():
            raise RuntimeError(_REENTRANT_WITH_GRAD)
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t.detach().requires_grad_(t.requires_grad)
        outer_state = get_rng_state()
        if ctx.rng_state is not None:
            set_rng_state(ctx.rng_state)          # the same random draws as the first run
        try:
            with autograd.enable_grad():
                outputs = ctx.run_function(*inputs)
        finally:
            set_rng_state(outer_state)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")
        autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(t.grad if isinstance(t, Tensor) else None for t in inputs)


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    if use_reentrant is None:
        use_reentrant = _default_use_reentrant("torch.utils.checkpoint")
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not None or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    from ..autograd.graph import remat_region
    with remat_region():     # the fused backward recomputes these nodes (jax.checkpoint)
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    if use_reentrant is None:
        use_reentrant = _default_use_reentrant("torch.utils.checkpoint.checkpoint_sequential")
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())

    def segment(start, end):
        def run(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return run
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(segment(start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return segment(end + 1, len(functions) - 1)(input)
