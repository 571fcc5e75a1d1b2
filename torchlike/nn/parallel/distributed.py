"""DistributedDataParallel: one model per rank, gradients averaged across ranks.

Parameters and buffers are broadcast from rank 0 when the wrapper is built. A backward
pass fills each parameter's .grad (torchlike's fused backward computes them all in one
compiled call); a post-accumulate-grad hook notes each one, and once every parameter
expected this iteration is ready, the gradients are averaged across ranks in buckets: one
flat all-reduce per bucket of up to bucket_cap_mb megabytes of one dtype, so a model needs
a few collectives per step, not one per parameter.
"""
import contextlib

from ... import distributed as dist
from ..modules.module import Module

_DEFAULT_BUCKET_MB = 25      # PyTorch's default bucket_cap_mb


def _flatten_outputs(output):
    """The tensors in a forward's output (tensors, lists, tuples, dicts), iteratively."""
    from ..._tensor import Tensor
    found, stack = [], [output]
    while stack:
        x = stack.pop()
        if isinstance(x, Tensor):
            found.append(x)
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
    return found


def _reached_parameters(tensors):
    """ids of the leaf tensors an autograd graph from `tensors` reaches (no recursion)."""
    reached, seen = set(), set()
    stack = [t.grad_fn for t in tensors if t.grad_fn is not None]
    leaves = [t for t in tensors if t.grad_fn is None and t.requires_grad]
    reached.update(id(t) for t in leaves)
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            reached.add(id(variable))
        stack.extend(n for n, _ in node.next_functions)
    return reached


def _buckets(params, cap_bytes):
    """Parameters grouped for one all-reduce each: same dtype, at most cap_bytes (a
    parameter larger than the cap gets a bucket of its own). Reverse order, as PyTorch:
    the last layers' gradients are ready first."""
    buckets, current, size = [], [], 0
    for p in reversed(params):
        nbytes = p.numel() * p.element_size()
        if current and (p.dtype is not current[0].dtype or size + nbytes > cap_bytes):
            buckets.append(current)
            current, size = [], 0
        current.append(p)
        size += nbytes
    if current:
        buckets.append(current)
    return buckets


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, init_sync=True, process_group=None,
                 bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self.module = module
        self.process_group = process_group if process_group is not None else dist.group.WORLD
        if self.process_group is None:
            raise ValueError("Default process group has not been initialized, please make "
                             "sure to call init_process_group.")
        self.device_ids = device_ids
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.static_graph = static_graph
        cap = (_DEFAULT_BUCKET_MB if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024
        object.__setattr__(self, "_ddp_params", params)
        object.__setattr__(self, "_ddp_buckets", _buckets(params, cap))
        self._expected = None      # ids of the parameters this iteration's backward fills
        self._ready = set()
        if init_sync:
            self._sync_module_states()
        for p in params:
            p.register_post_accumulate_grad_hook(self._grad_ready)

    # -- construction: every rank starts from rank 0's weights -------------------------------
    def _sync_module_states(self):
        tensors = list(self.module.parameters()) + list(self.module.buffers())
        self._broadcast_flat(tensors)

    def _broadcast_flat(self, tensors):
        """Broadcast from the group's first rank, one collective per dtype."""
        from ... import cat, no_grad
        if self.process_group.size() == 1 or not tensors:
            return
        src = dist.get_global_rank(self.process_group, 0)
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t.dtype, []).append(t)
        with no_grad():
            for group in by_dtype.values():
                flat = cat([t.detach().reshape(-1) for t in group])
                dist.broadcast(flat, src, group=self.process_group)
                offset = 0
                for t in group:
                    t.copy_(flat[offset:offset + t.numel()].view(t.shape))
                    offset += t.numel()

    # -- forward: note which parameters the backward will fill -------------------------------
    def forward(self, *inputs, **kwargs):
        from ...autograd.grad_mode import is_grad_enabled
        if self._expected is not None and self._ready:
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a "
                "new one. This error indicates that your module has parameters that were not "
                "used in producing loss. You can enable unused parameter detection by passing "
                "the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all "
                "`forward` function outputs participate in calculating loss.")
        if self.broadcast_buffers:
            self._broadcast_flat(list(self.module.buffers()))
        output = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            ids = {id(p) for p in self._ddp_params}
            if self.find_unused_parameters:
                ids &= _reached_parameters(_flatten_outputs(output))
            self._expected, self._ready = ids, set()
            if self.find_unused_parameters and not ids:
                self._expected = None
        else:
            self._expected = None
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Gradients accumulate locally inside; the first synced backward after it
        averages the accumulated gradients."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # -- backward: average once every expected gradient is in --------------------------------
    def _grad_ready(self, param):
        if self._expected is None or id(param) not in self._expected:
            return
        self._ready.add(id(param))
        if len(self._ready) == len(self._expected):
            self._expected, self._ready = None, set()
            self._average_gradients()

    def _average_gradients(self):
        from ... import cat, no_grad, zeros, float32
        group = self.process_group
        n = group.size()
        with no_grad():
            used = None
            if self.find_unused_parameters:
                # a parameter no rank used keeps its .grad as it was (None), as in PyTorch
                used = zeros(len(self._ddp_params), dtype=float32)
                for i, p in enumerate(self._ddp_params):
                    if p.grad is not None:
                        used[i] = 1.0
                dist.all_reduce(used, group=group)
                used = used.tolist()
            index = {id(p): i for i, p in enumerate(self._ddp_params)}
            for bucket in self._ddp_buckets:
                members = [p for p in bucket if used is None or used[index[id(p)]] > 0]
                if not members:
                    continue
                flat = cat([(p.grad if p.grad is not None else zeros(p.shape, dtype=p.dtype))
                            .reshape(-1) for p in members])
                if n > 1:
                    dist.all_reduce(flat, group=group)
                    flat.div_(n)
                offset = 0
                for p in members:
                    averaged = flat[offset:offset + p.numel()].view(p.shape)
                    offset += p.numel()
                    if p.grad is None:
                        p.grad = averaged.clone()
                    else:
                        p.grad.copy_(averaged)
