"""Hook handles, as torch.utils.hooks.RemovableHandle."""
import itertools

_ids = itertools.count()


class RemovableHandle:
    """Returned by register_*hook; `remove()` unregisters (also as a context manager)."""

    def __init__(self, hooks_dict, hook):
        self.id = next(_ids)
        self._hooks = hooks_dict
        hooks_dict[self.id] = hook

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
