"""DistributedDataParallel: one model per rank, gradients averaged across ranks.

Parameters and buffers are broadcast from rank 0 when the wrapper is built. When the
backward runs as one fused program (the common case) on GPUs or TPUs, the gradients are
averaged inside it (_fused_allreduce.py). Otherwise (CPU devices, hooks,
find_unused_parameters, a graph run node by node) a post-accumulate-grad hook notes each parameter's .grad, and once every parameter
expected this iteration is ready, the gradients are averaged across ranks in buckets: one
flat all-reduce per bucket of up to bucket_cap_mb megabytes of one dtype, so a model needs
a few collectives per step, not one per parameter.
"""
import contextlib

from ... import distributed as dist
from ...autograd import engine as _engine
from ...distributed._collectives import run_on_tensors
from ..modules.module import Module
from . import _fused_allreduce

# the fused backward asks DDP whether to average the gradients inside its program
_engine.fused_grad_reducer = _fused_allreduce.reducer_for

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


def _by_dtype(tensors):
    groups = {}
    for t in tensors:
        groups.setdefault(t.dtype, []).append(t)
    return groups


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
        group = process_group if process_group is not None else dist.group.WORLD
        if group is None:
            raise ValueError("Default process group has not been initialized, please make "
                             "sure to call init_process_group.")
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self.module = module
        self.process_group = group
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
        if self.process_group.size() == 1 or not tensors:
            return
        for same_dtype in _by_dtype(tensors).values():
            run_on_tensors("row", [t.detach() for t in same_dtype], self.process_group, 0)

    # -- forward: note which parameters the backward will fill -------------------------------
    def forward(self, *inputs, **kwargs):
        from ...autograd.grad_mode import is_grad_enabled
        if self._expected is not None and self._ready:
            self._unfinished_reduction()
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
                _fused_allreduce.arm(self)
        else:
            self._expected = None
        return output

    def _unfinished_reduction(self):
        """PyTorch's error when the last backward left parameters without gradients."""
        missing = [i for i, p in enumerate(self._ddp_params)
                   if id(p) in self._expected and id(p) not in self._ready]
        self._expected, self._ready = None, set()
        raise RuntimeError(
            "Expected to have finished reduction in the prior iteration before starting a "
            "new one. This error indicates that your module has parameters that were not "
            "used in producing loss. You can enable unused parameter detection by passing "
            "the keyword argument `find_unused_parameters=True` to "
            "`torch.nn.parallel.DistributedDataParallel`, and by \nmaking sure all "
            "`forward` function outputs participate in calculating loss. \nIf you already "
            "have done the above, then the distributed data parallel module wasn't able to "
            "locate the output tensors in the return value of your module's `forward` "
            "function. Please include the loss function and the structure of the return "
            "value of `forward` of your module when reporting this issue (e.g. list, dict, "
            "iterable).\nParameter indices which did not receive grad for rank "
            f"{dist.get_rank()}: {' '.join(map(str, missing))}\n In addition, you can set "
            "the environment variable TORCH_DISTRIBUTED_DEBUG to either INFO or DETAIL to "
            "print out information about which particular parameters did not receive "
            "gradient on this rank as part of this error")

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
        from ... import zeros, zeros_like, float32
        _fused_allreduce.stats.post_backward_averages += 1
        group = self.process_group
        params = self._ddp_params
        used = None
        if self.find_unused_parameters:
            # a parameter no rank used keeps its .grad as it was (None), as in PyTorch
            used = zeros(len(params), dtype=float32)
            used[[i for i, p in enumerate(params) if p.grad is not None]] = 1.0
            dist.all_reduce(used, group=group)
            used = used.tolist()
        index = {id(p): i for i, p in enumerate(params)}
        for bucket in self._ddp_buckets:
            members = [p for p in bucket if used is None or used[index[id(p)]] > 0]
            if not members:
                continue
            for p in members:
                if p.grad is None:       # unused here but used elsewhere: zeros join in
                    p.grad = zeros_like(p)
            if group.size() > 1:
                run_on_tensors("all_reduce", [p.grad for p in members], group, "avg")
