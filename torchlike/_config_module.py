"""Configuration modules with PyTorch's option names: torchlike._inductor.config,
torchlike._functorch.config and torchlike._dynamo.config.

Programs written for PyTorch set these to tune PyTorch's own compiler
(`torch._inductor.config.coordinate_descent_tuning = True`, `triton.unique_kernel_names`,
`fx_graph_cache`, `torch._functorch.config.activation_memory_budget`). XLA compiles here,
so the options change nothing (but for the few of _dynamo.config that torchlike.compile
reads: _compile/config.py); they exist so that such a program runs: every PyTorch
option can be set and read back (its default until set), a name PyTorch does not have
raises its AttributeError, `patch` changes options for a block or a function, and
torchlike.compile(options=...) checks names and types as PyTorch does. The names, defaults
and types are PyTorch 2.13's (`_torch_config_defaults.py`, generated from it by
tests/test_config_modules.py).
"""
import contextlib
import copy
import sys
import types

_TYPES = {"bool": bool, "int": int, "float": float, "str": str, "list": list,
          "tuple": tuple, "dict": dict, "NoneType": type(None)}


class ConfigModule(types.ModuleType):
    """A module whose attributes are the options in `defaults` (dotted name ->
    (default, type name or None)); the parts of a dotted name before its last are
    sub-configs (`config.triton.cudagraphs`). A top-level option is an entry of the
    module's __dict__, as a module's global is (read without a call; what pytest's
    monkeypatch puts back), a dotted one an entry of `_dotted`."""

    def _install(self, name, defaults, aliases):
        d = self.__dict__
        d["_defaults"], d["_aliases"], d["_name"] = defaults, aliases, name
        d["_dotted"] = {}
        for key, (default, _) in defaults.items():
            (d["_dotted"] if "." in key else d)[key] = copy.deepcopy(default)
        parts = [key.split(".")[:-1] for key in defaults]
        d["_prefixes"] = {".".join(p[:n]) + "." for p in parts for n in range(1, len(p) + 1)}

    def _option(self, name):
        """An option's name (an alias resolved), or AttributeError: PyTorch's."""
        name = self.__dict__["_aliases"].get(name, name)
        if name not in self.__dict__["_defaults"]:
            raise AttributeError(f"{self._name}.{name} does not exist")
        return name

    def _get(self, name):
        return (self._dotted if "." in name else self.__dict__)[name]

    def _set(self, name, value):
        (self._dotted if "." in name else self.__dict__)[name] = value

    def __getattr__(self, name):        # (names not in __dict__: aliases, sub-configs)
        if name + "." in self.__dict__["_prefixes"]:
            return SubConfig(self, name + ".")
        return self._get(self._option(name))

    def __setattr__(self, name, value):
        self._set(self._option(name), value)

    def __delattr__(self, name):        # (puts the default back)
        name = self._option(name)
        self._set(name, copy.deepcopy(self._defaults[name][0]))

    def get_config_copy(self):
        return {name: copy.deepcopy(self._get(name)) for name in self._defaults}

    def get_type(self, name):
        """The option's type where it is one plain class (else None: not checked)."""
        return _TYPES.get(self._defaults[name][1])

    def patch(self, arg1=None, arg2=None, **changes):
        """Options changed for a `with` block or each call of a decorated function:
        patch(name, value), patch({name: value}) or patch(name=value)."""
        if isinstance(arg1, str):
            changes[arg1] = arg2
        elif arg1 is not None:
            changes.update(arg1)
        return _Patch(self, changes)


class SubConfig:
    """`config.triton`: the options named `triton.*`."""

    def __init__(self, module, prefix):
        self.__dict__.update(_module=module, _prefix=prefix)

    def __getattr__(self, name):
        full = self._prefix + name
        if full + "." in self._module._prefixes:
            return SubConfig(self._module, full + ".")
        return self._module._get(self._module._option(full))

    def __setattr__(self, name, value):
        self._module._set(self._module._option(self._prefix + name), value)


class _Patch(contextlib.ContextDecorator):
    """An unknown name raises when the patch is entered (as PyTorch's)."""

    def __init__(self, module, changes):
        self.module, self.changes, self.saved = module, changes, []

    def __enter__(self):
        module = self.module
        changes = {module._option(name): value for name, value in self.changes.items()}
        self.saved.append({name: module._get(name) for name in changes})
        for name, value in changes.items():
            module._set(name, value)

    def __exit__(self, *exc):
        for name, value in self.saved.pop().items():
            self.module._set(name, value)


def install(module_name, defaults, aliases=None, public_name=None):
    """Turn the module `module_name` (being imported) into a ConfigModule of `defaults`
    (`aliases`: other names of some options, as PyTorch's cache_size_limit), whose errors
    call it `public_name` (default: its own name)."""
    module = sys.modules[module_name]
    module.__class__ = ConfigModule
    module._install(public_name or module_name, defaults, aliases or {})


def check_compile_options(options):
    """torch.compile(options=...): PyTorch's errors for an inductor option it does not
    know, or a value of another type; the options then change nothing."""
    from ._inductor import config
    known = config.get_config_copy()
    for key, value in (options or {}).items():
        if key in ("guard_filter_fn", "use_aoti"):     # (options of PyTorch's own, not inductor's)
            continue
        name = key.replace("-", "_")
        if name not in known:
            raise RuntimeError(f"Unexpected optimization option {key}, known options are "
                               f"{list(known)}")
        expected = config.get_type(name)
        if expected is not None and not isinstance(value, expected):
            raise RuntimeError(f"Unexpected type of attr {key}, got {type(value).__name__} "
                               f"should be {type(known[name]).__name__}")

