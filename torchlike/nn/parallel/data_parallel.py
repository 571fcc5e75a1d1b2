"""DataParallel: one process drives all its local devices.

PyTorch's DataParallel copies the module to every GPU and splits the batch in Python
threads. Here the parameters and buffers are replicated over a one-axis mesh of the local
devices and each input is sharded along `dim`: the module's ops then run as single XLA
programs over every device (JAX's SPMD partitioning), and the gradients of the replicated
parameters come back already summed over the batch shards. With one device (or none
listed), the module is called as it is, as PyTorch does without GPUs.
"""
import numpy as np

from ..modules.module import Module


def _mesh(devices):
    from jax.sharding import Mesh
    return Mesh(np.array(devices), ("batch",))


def _placed(tensor, sharding):
    import jax
    from ..._jax_bridge import wrap
    return wrap(jax.device_put(tensor.jax(), sharding))


def replicate_(module, mesh):
    """Every parameter and buffer of `module` replicated over `mesh`, in place (the
    Parameter objects stay the same, so optimizers built before still see them)."""
    from jax.sharding import NamedSharding, PartitionSpec
    from ... import no_grad
    everywhere = NamedSharding(mesh, PartitionSpec())
    with no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            t.data = _placed(t, everywhere)
    return module


def shard(tensor, mesh, dim=0):
    """`tensor` split along `dim` over the mesh (left whole and replicated when that
    dimension does not divide evenly)."""
    from jax.sharding import NamedSharding, PartitionSpec
    n = mesh.devices.size
    if tensor.dim() == 0 or tensor.shape[dim] % n:
        return _placed(tensor, NamedSharding(mesh, PartitionSpec()))
    spec = [None] * tensor.dim()
    spec[dim] = "batch"
    return _placed(tensor, NamedSharding(mesh, PartitionSpec(*spec)))


def _shard_inputs(value, mesh, dim):
    from ..._tensor import Tensor
    if isinstance(value, Tensor):
        return shard(value, mesh, dim)
    if isinstance(value, (list, tuple)):
        return type(value)(_shard_inputs(v, mesh, dim) for v in value)
    if isinstance(value, dict):
        return {k: _shard_inputs(v, mesh, dim) for k, v in value.items()}
    return value


class DataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        import jax
        super().__init__()
        self.module = module
        self.dim = dim
        local = jax.local_devices()
        if device_ids is None:
            devices = local
        else:
            devices = [local[i if isinstance(i, int) else i.index or 0] for i in device_ids]
        self.device_ids = list(range(len(devices))) if len(devices) > 1 else []
        self.output_device = output_device
        object.__setattr__(self, "_mesh", _mesh(devices) if len(devices) > 1 else None)
        if self._mesh is not None:
            replicate_(module, self._mesh)

    def forward(self, *inputs, **kwargs):
        if self._mesh is None:
            return self.module(*inputs, **kwargs)
        inputs = _shard_inputs(inputs, self._mesh, self.dim)
        kwargs = _shard_inputs(kwargs, self._mesh, self.dim)
        return self.module(*inputs, **kwargs)
