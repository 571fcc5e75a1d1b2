"""torch.optim.nadam's path: NAdam lives in adam_variants.py."""
from .adam_variants import NAdam  # noqa: F401
