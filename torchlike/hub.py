"""torch.hub: downloading code and weights from GitHub repositories.

torchlike does not run other repositories' hubconf.py (they import torch, not
torchlike) and does not fetch anything; `get_dir`/`set_dir` work, the loaders raise."""
import os

_hub_dir = None


def get_dir():
    if _hub_dir is not None:
        return _hub_dir
    torch_home = os.path.expanduser(os.getenv(
        "TORCH_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch")))
    return os.path.join(torch_home, "hub")


def set_dir(d):
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


def _unsupported(name):
    raise NotImplementedError(
        f"torchlike.hub.{name}: torch.hub is not supported by torchlike (hub models are "
        "PyTorch code). Instead, download the checkpoint yourself and load it "
        "with torchlike.load(path) into a torchlike model with load_state_dict.")


def load(repo_or_dir, model, *args, **kwargs):
    _unsupported("load")


def list(github, force_reload=False, skip_validation=False, trust_repo=None, verbose=True):  # noqa: A001
    _unsupported("list")


def help(github, model, force_reload=False, skip_validation=False, trust_repo=None):  # noqa: A001
    _unsupported("help")


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True,
                             check_hash=False, file_name=None, weights_only=False):
    _unsupported("load_state_dict_from_url")


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    _unsupported("download_url_to_file")
