"""torchlike.distributed.fsdp: FullyShardedDataParallel (one flat, sharded parameter per
dtype; see _fully_sharded.py)."""
from ._fully_sharded import FullyShardedDataParallel

__all__ = ["FullyShardedDataParallel"]
