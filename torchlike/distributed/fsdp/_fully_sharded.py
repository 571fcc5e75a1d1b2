"""FullyShardedDataParallel: each rank stores 1/world of the parameters.

The module's parameters (per dtype) are flattened into one vector, padded to a multiple of
the world size, and each rank keeps only its slice as a Parameter: that slice is what
`parameters()` yields, so an optimizer built on the wrapper keeps its state sharded too
(PyTorch's FlatParameter with use_orig_params=False).

forward: the slices are all-gathered into a full flat vector (a fresh leaf that requires
grad), the module's parameters become views of it, and the module runs. backward: the
full vector's gradient (one leaf, filled by torchlike's fused backward) is averaged and
reduce-scattered back to each rank's slice by a post-accumulate-grad hook. The whole
module is one sharding unit (no auto_wrap_policy), so the full parameters exist during
forward and backward, as for one FSDP unit in PyTorch.
"""
import math

from ... import distributed as dist
from ...nn.modules.module import Module
from ...nn.parameter import Parameter


class _Flat:
    """One dtype's parameters: where each lives in the flat vector."""

    def __init__(self, entries, world):
        self.entries = entries                 # (module, name, shape, offset, numel)
        self.numel = sum(e[4] for e in entries)
        self.shard_numel = math.ceil(self.numel / world)


def _parameter_slots(module):
    """(owner module, attribute name, qualified name, parameter) for every parameter."""
    slots, seen = [], set()
    for owner_name, owner in module.named_modules():
        for name, p in list(owner._parameters.items()):
            if p is None or id(p) in seen:
                continue
            seen.add(id(p))
            slots.append((owner, name, f"{owner_name}.{name}" if owner_name else name, p))
    return slots


class FullyShardedDataParallel(Module):
    def __init__(self, module, process_group=None, sharding_strategy=None, cpu_offload=None,
                 auto_wrap_policy=None, backward_prefetch=None, mixed_precision=None,
                 ignored_modules=None, param_init_fn=None, device_id=None,
                 sync_module_states=False, forward_prefetch=False, limit_all_gathers=True,
                 use_orig_params=False, ignored_states=None, device_mesh=None):
        super().__init__()
        group = process_group if process_group is not None else dist.group.WORLD
        if group is None:
            raise ValueError("Default process group has not been initialized, please make "
                             "sure to call init_process_group.")
        if auto_wrap_policy is not None or use_orig_params:
            raise NotImplementedError("torchlike's FullyShardedDataParallel shards the whole "
                                      "module as one unit (no auto_wrap_policy, "
                                      "use_orig_params=False)")
        self._fsdp_wrapped_module = module
        object.__setattr__(self, "_group", group)
        slots = _parameter_slots(module)
        object.__setattr__(self, "_slots", slots)
        by_dtype = {}
        for owner, name, _, p in slots:
            by_dtype.setdefault(p.dtype, []).append((owner, name, p))
        flats = []
        for i, members in enumerate(by_dtype.values()):
            self._shard(i, members, sync_module_states, flats)
        object.__setattr__(self, "_flats", flats)
        object.__setattr__(self, "_full", [None] * len(flats))

    @property
    def module(self):
        return self._fsdp_wrapped_module

    def _shard(self, index, members, sync, flats):
        from ... import cat, no_grad
        group = self._group
        n, rank = group.size(), group.rank()
        entries, offset = [], 0
        for owner, name, p in members:
            entries.append((owner, name, tuple(p.shape), offset, p.numel()))
            offset += p.numel()
        flat_info = _Flat(entries, n)
        with no_grad():
            flat = cat([p.detach().reshape(-1) for _, _, p in members])
            if sync and n > 1:
                dist.broadcast(flat, dist.get_global_rank(group, 0), group=group)
            padded = flat.new_zeros(flat_info.shard_numel * n)
            padded[:flat.numel()] = flat
            mine = padded[rank * flat_info.shard_numel:(rank + 1) * flat_info.shard_numel]
        self.register_parameter(f"_flat_param_{index}", Parameter(mine.clone()))
        for owner, name, _ in members:
            del owner._parameters[name]      # the module sees views of the gathered vector
        flats.append(flat_info)

    def _gathered(self, index):
        """The full flat vector of dtype group `index` (trimmed of padding)."""
        from ... import no_grad
        shard = getattr(self, f"_flat_param_{index}")
        info = self._flats[index]
        with no_grad():
            full = shard.new_zeros(info.shard_numel * self._group.size())
            dist.all_gather_single(full, shard.detach(), group=self._group)
        return full[:info.numel] if full.numel() != info.numel else full

    def _install(self, index, full):
        for owner, name, shape, offset, numel in self._flats[index].entries:
            owner.__dict__[name] = full[offset:offset + numel].view(shape)

    def forward(self, *inputs, **kwargs):
        from ...autograd.grad_mode import is_grad_enabled
        for i in range(len(self._flats)):
            full = self._gathered(i).detach()
            if is_grad_enabled() and getattr(self, f"_flat_param_{i}").requires_grad:
                full.requires_grad_(True)
                full.register_post_accumulate_grad_hook(
                    lambda leaf, i=i: self._reduce_scatter_grad(i, leaf))
            self._full[i] = full
            self._install(i, full)
        return self.module(*inputs, **kwargs)

    def _reduce_scatter_grad(self, index, leaf):
        """The full gradient, averaged over ranks, reduced onto this rank's slice (added
        to the slice's .grad, as accumulation would)."""
        from ... import no_grad
        shard = getattr(self, f"_flat_param_{index}")
        info = self._flats[index]
        n = self._group.size()
        with no_grad():
            grad = leaf.grad.new_zeros(info.shard_numel * n)
            grad[:info.numel] = leaf.grad
            mine = grad.new_zeros(info.shard_numel)
            dist.reduce_scatter_single(mine, grad, op=dist.ReduceOp.AVG, group=self._group)
            if shard.grad is None:
                shard.grad = mine
            else:
                shard.grad.add_(mine)
        leaf.grad = None

    # -- full state dict: the whole model, under the wrapped module's own names -------------
    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """PyTorch's FULL_STATE_DICT: every parameter gathered, keys as in the module."""
        from ... import no_grad
        with no_grad():
            for i in range(len(self._flats)):
                full = self._gathered(i)
                for owner, name, shape, offset, numel in self._flats[i].entries:
                    owner.__dict__.pop(name, None)
                    owner._parameters[name] = Parameter(full[offset:offset + numel].view(shape).clone())
            try:
                return self.module.state_dict(destination=destination, prefix=prefix,
                                              keep_vars=keep_vars)
            finally:
                for info in self._flats:
                    for owner, name, *_ in info.entries:
                        del owner._parameters[name]
                for i, full in enumerate(self._full):
                    if full is not None:
                        self._install(i, full)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """A full state dict (as state_dict() gives): each rank keeps its slice."""
        from ... import cat, no_grad
        qualified = {(id(owner), name): q for owner, name, q, _ in self._slots}
        rank, n = self._group.rank(), self._group.size()
        with no_grad():
            for i, info in enumerate(self._flats):
                flat = cat([state_dict[qualified[(id(owner), name)]].reshape(-1)
                            for owner, name, *_ in info.entries])
                padded = flat.new_zeros(info.shard_numel * n)
                padded[:flat.numel()] = flat
                getattr(self, f"_flat_param_{i}").copy_(
                    padded[rank * info.shard_numel:(rank + 1) * info.shard_numel])
        parameter_names = set(qualified.values())
        buffers = {k: v for k, v in state_dict.items() if k not in parameter_names}
        return self.module.load_state_dict(buffers, strict=False)
