"""torchlike.nn: modules, parameters, init and utils (built on the public Tensor API
plus the layer ops in _functional_layers)."""
from .parameter import (Parameter, Buffer, UninitializedParameter, UninitializedBuffer,
                        UninitializedTensorMixin)
from .modules import *  # noqa: F401,F403  (every Module class)
from . import functional
from . import init
from . import utils
from . import modules
from .parallel import DataParallel  # noqa: F401  (binds nn.parallel too)
from . import attention
