"""torch.export: graph capture into an ExportedProgram is not available in torchlike."""


def _unsupported(name):
    raise NotImplementedError(
        f"torchlike.export.{name}: torch.export's ExportedProgram is not supported by "
        "torchlike. Instead: to compile, use torchlike.compile; to serialize a compiled program, "
        "use jax.export on a function built with torchlike.func.functional_call; to save "
        "weights, use torchlike.save(model.state_dict(), f).")


def export(*args, **kwargs):
    _unsupported("export")


def save(*args, **kwargs):
    _unsupported("save")


def load(*args, **kwargs):
    _unsupported("load")


def draft_export(*args, **kwargs):
    _unsupported("draft_export")


class ExportedProgram:
    """Only a type to check against: export() never returns one."""


class Dim:
    """Shape-symbol marker accepted for import compatibility; export() itself raises."""

    def __init__(self, name, *, min=None, max=None):
        self.__name__, self.min, self.max = name, min, max
