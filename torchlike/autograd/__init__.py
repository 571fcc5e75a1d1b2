"""torchlike.autograd: backward(), grad(), grad modes and custom Functions."""
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled, no_grad, set_grad_enabled)
from .graph import AccumulateGrad, Node
from . import graph
from .engine import _accumulate, leaf_hooks, run_backward
from .. import _tensor       # (a module reference: _tensor itself imports this package)
from .._caches import LRU
from .._device import filled
import jax
import jax.numpy as jnp
from .function import Function, FunctionCtx, once_differentiable
from . import function
from . import profiler          # torch.autograd.profiler (torchlike/_profiling.py)
from .anomaly_mode import (detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled,
                           set_detect_anomaly)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .compat import (NestedIOFunction, SavedTensor, Variable, enforce_grad_layout_policy,
                     handle_torch_function, has_torch_function, is_multithreading_enabled,
                     is_tensor_like, is_view_replay_enabled, set_multithreading_enabled,
                     variable)

__all__ = ["backward", "grad", "Function", "no_grad", "enable_grad", "set_grad_enabled",
           "inference_mode", "graph", "gradcheck", "gradgradcheck", "detect_anomaly",
           "set_detect_anomaly"]


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, (_tensor.Tensor, graph.GradientEdge)):
        return (x,)
    return tuple(x)      # (anything else must be a sequence: PyTorch's TypeError if not)


_ONES = LRU(256)


def _implicit_grad(out):
    """The implicit gradient 1 of a scalar output. JAX arrays are immutable, so one
    cached array per (dtype, shape, device) serves every backward."""
    device = out._storage.device
    key = (out._dtype, out._shape, device)
    array = _ONES.peek(key)       # (recency-free: a hit costs no Python call)
    if array is None:
        with jax.ensure_compile_time_eval():     # a cached array is never a tracer
            array = _ONES[key] = filled(tuple(out._shape), 1, out._dtype.np, device)
    return _tensor.Tensor._wrap(array, device)


def _make_grads(outputs, grad_outputs):
    """Root gradients: given ones checked for shape, implicit ones only for scalars."""
    Tensor = _tensor.Tensor
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if out._grad_fn is None and not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if out._shape and out._shape.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out._dtype.is_floating_point:
                raise RuntimeError("grad can be implicitly created only for real scalar outputs "
                                   f"but got {out.dtype}")
            g = _implicit_grad(out)
        elif isinstance(g, Tensor):
            if tuple(g.shape) != tuple(out.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} "
                                   f"and output[{i}] has a shape of {out.shape}.")
        else:
            from .._factories import full_like
            g = full_like(out, g)
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    edge_of = _tensor.edge_of
    tensors = _as_tuple(tensors)
    inputs = _as_tuple(inputs)
    if inputs is not None and not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    grad_tensors = _as_tuple(grad_tensors) or (None,) * len(tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"got {len(tensors)} tensors and {len(grad_tensors)} gradients")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(tensors, grad_tensors)
    roots = [edge_of(t) for t in tensors]
    if inputs is None:
        run_backward(roots, grads, retain_graph=retain_graph, create_graph=create_graph,
                     root_tensors=tensors)
        return
    targets = [edge_of(t) for t in inputs]
    results = run_backward(roots, grads, retain_graph=retain_graph, create_graph=create_graph,
                           targets=targets, accumulate=False)
    for t, g in zip(inputs, results):
        if g is not None:
            _accumulate(t, g, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    from .._tensor import edge_of
    from .._factories import zeros_like
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    grad_outputs = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    for t in inputs:
        if not isinstance(t, graph.GradientEdge) and not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(outputs, grad_outputs)
    roots = [edge_of(t) for t in outputs]
    targets = [tuple(t) if isinstance(t, graph.GradientEdge) else edge_of(t) for t in inputs]
    results = run_backward(roots, grads, retain_graph=retain_graph, create_graph=create_graph,
                           targets=targets, accumulate=False)
    out = []
    for i, (t, g) in enumerate(zip(inputs, results)):
        if isinstance(t, graph.GradientEdge):
            out.append(g)
            continue
        if g is not None and t.grad_fn is None:
            g = leaf_hooks(t, g)       # a leaf's tensor hooks run when its grad is captured
        if g is None:
            if materialize_grads:
                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
        out.append(g)
    return tuple(out)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    """is_grads_batched: the first dimension of each grad_output indexes independent
    vector-Jacobian products. PyTorch vmaps the backward; here each row is one backward
    through the retained graph and the results are stacked (same values, slower)."""
    from .. import stack
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is not None and tuple(g.shape[1:]) != tuple(out.shape):
            raise RuntimeError(f"If `is_grads_batched=True`, we interpret the first dimension of "
                               f"each grad_output as the batch dimension. The sizes of the "
                               f"remaining dimensions are expected to match the shape of "
                               f"corresponding output, but a mismatch was detected: "
                               f"grad_output[{i}] has a shape of {g.shape} and output[{i}] has a "
                               f"shape of {out.shape}. If you only want some tensors in "
                               f"`grad_output` to be considered batched, consider using vmap.")
    batch = next(g.shape[0] for g in grad_outputs if g is not None)
    rows = []
    for b in range(batch):
        last = b == batch - 1
        rows.append(grad(outputs, inputs, [None if g is None else g[b] for g in grad_outputs],
                         retain_graph=retain_graph if last else True, create_graph=create_graph,
                         allow_unused=allow_unused, materialize_grads=materialize_grads))
    return tuple(None if column[0] is None else stack(column) for column in zip(*rows))
