"""torch.optim.adagrad's path: Adagrad lives in rmsprop.py."""
from .rmsprop import Adagrad  # noqa: F401
