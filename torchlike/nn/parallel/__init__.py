"""torchlike.nn.parallel: DistributedDataParallel (one process per device, gradients
averaged across processes) and DataParallel (one process, the batch split over its
devices)."""
from .distributed import DistributedDataParallel
from .data_parallel import DataParallel
