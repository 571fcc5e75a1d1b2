"""torch.distributed's exception classes, and the translation of a failed collective
(a peer that raised, died or cannot be reached) into PyTorch's DistBackendError."""
import jax


class DistError(RuntimeError):
    """Raised when an error occurs in the distributed library."""


class DistBackendError(DistError):
    """Raised when a backend error occurs in distributed."""


class DistStoreError(DistError):
    """Raised when an error occurs in the distributed store."""


class DistNetworkError(DistError):
    """Raised when a network error occurs in distributed."""


# XLA reports a collective whose peer is gone as a runtime error (gloo: "Connection reset
# by peer", status UNKNOWN, which jax raises as ValueError)
_PEER_FAILURE_TYPES = (jax.errors.JaxRuntimeError, ValueError)
_PEER_FAILURE_WORDS = ("gloo", "nccl", "connection", "peer", "unavailable", "deadline")


def is_peer_failure(error):
    if not isinstance(error, _PEER_FAILURE_TYPES):
        return False
    text = str(error).lower()
    return isinstance(error, jax.errors.JaxRuntimeError) or any(w in text for w in _PEER_FAILURE_WORDS)


def peer_failure(what, group, error):
    """The DistBackendError a rank raises when `what` failed because of another rank."""
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return DistBackendError(
        f"torchlike.distributed: {what} failed on rank {group.ranks[group.rank()]} of a group "
        f"of {group.size()} ranks {list(group.ranks)}: another rank stopped, failed or cannot "
        f"be reached (check the other ranks' logs for the first error). Backend error: "
        f"{first_line}")
