"""torchlike.compiler.set_stance: how compiled functions behave for a while (PyTorch's
stances), as a function, a context manager or a decorator."""
import dataclasses
import functools

from .breaks import is_compiling

STANCES = ("default", "force_eager", "eager_on_recompile", "fail_on_recompile",
           "eager_then_compile", "aot_eager_then_compile")


@dataclasses.dataclass
class DynamoStance:
    stance: str = "default"
    skip_guard_eval_unsafe: bool = False
    backend: object = None


_current = [DynamoStance()]        # (process-wide, as PyTorch's)


def current():
    """The stance in force; PyTorch's error, at a compiled call, for one it does not know."""
    stance = _current[0]
    if stance.stance not in STANCES:
        raise RuntimeError(f"invalid torch.compile stance '{stance}'")
    return stance.stance


def _set(stance):
    if is_compiling():
        raise RuntimeError("attempted to set_stance in a torch.compile region")
    prior, _current[0] = _current[0], stance
    return prior


def recompile_error(fn):
    """PyTorch's error for a trace needed under "fail_on_recompile" (a first one too)."""
    code = getattr(fn, "__code__", None)
    where = "" if code is None else (f"filename: '{code.co_filename}', function name: "
                                     f"'{code.co_name}', line number: {code.co_firstlineno}")
    return RuntimeError("Detected recompile when torch.compile stance is "
                        f"'fail_on_recompile'. {where}")


class set_stance:
    """Sets the stance now; as a context manager, for its block (then puts back the one
    before); as a decorator, for each call of the function. Stances: "default";
    "force_eager" (compiled functions run eagerly); "eager_on_recompile" (a call that
    would trace runs eagerly instead, programs traced already still run);
    "fail_on_recompile" (a call that would trace raises); "eager_then_compile" (the
    first call that would trace runs eagerly, later ones trace); "aot_eager_then_compile"
    (PyTorch's first call is compiled by its aot_eager backend: every backend here is the
    same XLA compile, so it compiles from the first call, as "default").
    skip_guard_eval_unsafe is accepted: a guard here is one dictionary lookup.
    force_backend: as every backend, the same XLA compile."""

    def __init__(self, stance="default", *, skip_guard_eval_unsafe=False, force_backend=None):
        if force_backend is not None and stance != "default":
            raise RuntimeError("non-default stance cannot have force_backend set")
        self.stance = DynamoStance(stance, skip_guard_eval_unsafe, force_backend)
        self.prev = _set(self.stance)

    def __call__(self, fn):
        _set(self.prev)

        @functools.wraps(fn)
        def with_stance(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return with_stance

    def __enter__(self):
        _set(self.stance)

    def __exit__(self, *exc):
        _set(self.prev)

    def clone(self):
        return type(self)(self.stance.stance, force_backend=self.stance.backend)
