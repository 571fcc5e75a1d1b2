"""torchlike.optim: PyTorch's optimizers and learning-rate schedulers."""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam, AdamW
from .rmsprop import RMSprop, Adagrad
from .adam_variants import Adamax, NAdam, RAdam
from .adadelta import Adadelta
from .rprop import Rprop
from .asgd import ASGD
from .sparse_adam import SparseAdam
from .lbfgs import LBFGS
from .adafactor import Adafactor
from .muon import Muon
from ._stateless import swap_in_optimizer_params_and_state
from . import lr_scheduler
from . import swa_utils

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam",
           "RAdam", "Adadelta", "Rprop", "ASGD", "SparseAdam", "LBFGS", "Adafactor", "Muon",
           "swap_in_optimizer_params_and_state", "lr_scheduler", "swa_utils"]
