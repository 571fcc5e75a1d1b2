"""torch.distributed.device_mesh: an n-d arrangement of ranks, on a jax.sharding.Mesh.

A DeviceMesh holds the ranks (a tensor of the mesh's shape, as PyTorch's `mesh`) and the
JAX Mesh of their devices with the same axis names (`jax_mesh`), which is what JAX's
shardings and shard_map take. Each dimension's process group (`get_group`) is the set of
ranks that differ only along that dimension.
"""
import numpy as np

from . import _process_group as pg


class DeviceMesh:
    def __init__(self, device_type, mesh=None, *, mesh_dim_names=None, backend_override=None):
        ranks = np.asarray(mesh.numpy() if hasattr(mesh, "numpy") else mesh, dtype=np.int64)
        world = pg.default_group()
        if ranks.size > world.size():
            raise RuntimeError(f"Mesh should not be bigger than default world size "
                               f"{world.size()}, but found {ranks.size} ranks!")
        self.device_type = device_type
        self.mesh_dim_names = tuple(mesh_dim_names) if mesh_dim_names else None
        self._ranks = ranks
        self._jax_mesh = None
        self._groups = {}

    @property
    def mesh(self):
        from .. import tensor, int32
        return tensor(self._ranks, dtype=int32)

    @property
    def jax_mesh(self):
        """The same ranks' devices as a jax.sharding.Mesh (axes named as the mesh's dims,
        or dim_0, dim_1 ...)."""
        if self._jax_mesh is None:
            from jax.sharding import Mesh
            devices = np.vectorize(pg.device_of_rank, otypes=[object])(self._ranks)
            names = self.mesh_dim_names or tuple(f"dim_{i}" for i in range(self.ndim))
            self._jax_mesh = Mesh(devices, names)
        return self._jax_mesh

    @property
    def ndim(self):
        return self._ranks.ndim

    @property
    def shape(self):
        return tuple(self._ranks.shape)

    def size(self, mesh_dim=None):
        return int(self._ranks.size if mesh_dim is None else self._ranks.shape[mesh_dim])

    def get_rank(self):
        return pg.get_rank()

    def get_coordinate(self):
        """This rank's index in the mesh (None if it is not part of it)."""
        found = np.argwhere(self._ranks == pg.get_rank())
        return tuple(int(i) for i in found[0]) if len(found) else None

    def _dim(self, mesh_dim):
        if isinstance(mesh_dim, str):
            if not self.mesh_dim_names or mesh_dim not in self.mesh_dim_names:
                raise KeyError(f"Mesh dimension '{mesh_dim}' does not exist.",
                               f"Available mesh dimensions are: mesh_dim_names={self.mesh_dim_names}")
            return self.mesh_dim_names.index(mesh_dim)
        if mesh_dim is None:
            if self.ndim != 1:
                raise RuntimeError(f"Found the DeviceMesh have {self.ndim} dimensions",
                                   "Optional kwarg `mesh_dim` needs to be specified when "
                                   "device_mesh.ndim > 1.")
            return 0
        return mesh_dim

    def _line(self, dim):
        """The ranks along `dim` through this rank's coordinate."""
        coordinate = list(self.get_coordinate())
        coordinate[dim] = slice(None)
        return self._ranks[tuple(coordinate)].tolist()

    def get_group(self, mesh_dim=None):
        dim = self._dim(mesh_dim)
        if dim not in self._groups:
            world = pg.default_group()
            self._groups[dim] = pg.ProcessGroup(self._line(dim), world.rank(), world.name(),
                                                world.timeout)
        return self._groups[dim]

    def get_all_groups(self):
        return [self.get_group(d) for d in range(self.ndim)]

    def get_local_rank(self, mesh_dim=None):
        return self.get_coordinate()[self._dim(mesh_dim)]

    def __getitem__(self, names):
        """The sub-mesh of the named dimensions that contains this rank."""
        names = (names,) if isinstance(names, str) else tuple(names)
        dims = [self._dim(n) for n in names]
        coordinate = list(self.get_coordinate())
        index = tuple(slice(None) if d in dims else coordinate[d] for d in range(self.ndim))
        return DeviceMesh(self.device_type, self._ranks[index], mesh_dim_names=names)

    def __eq__(self, other):
        return (isinstance(other, DeviceMesh) and self.shape == other.shape
                and (self._ranks == other._ranks).all()
                and self.mesh_dim_names == other.mesh_dim_names)

    def __hash__(self):
        return hash((self._ranks.tobytes(), self.shape, self.mesh_dim_names))

    def __repr__(self):
        names = self.mesh_dim_names or tuple(f"dim_{i}" for i in range(self.ndim))
        dims = ", ".join(f"{n}={s}" for n, s in zip(names, self.shape))
        return f"DeviceMesh(({dims}), '{self.device_type}')"


def init_device_mesh(device_type, mesh_shape, *, mesh_dim_names=None, backend_override=None):
    """A mesh of the first prod(mesh_shape) ranks in row-major order."""
    if mesh_dim_names is not None and len(set(mesh_dim_names)) != len(mesh_dim_names):
        raise RuntimeError("Each mesh_dim_name must be unique.",
                           f"Found repeated mesh_dim_name in mesh_dim_names {mesh_dim_names}")
    if mesh_dim_names is not None and len(mesh_shape) != len(mesh_dim_names):
        raise RuntimeError("mesh_shape and mesh_dim_names should have same length!",
                           f"Found len(mesh_dim_names): {len(mesh_dim_names)} and "
                           f"len(mesh_shape):{len(mesh_shape)}.")
    ranks = np.arange(int(np.prod(mesh_shape))).reshape(tuple(mesh_shape))
    return DeviceMesh(device_type, ranks, mesh_dim_names=mesh_dim_names)
