"""torch._dynamo.exc's exception classes."""
from .._compile.api import InvalidBackend      # noqa: F401
from .._compile.breaks import TorchDynamoException, Unsupported, UserError      # noqa: F401
