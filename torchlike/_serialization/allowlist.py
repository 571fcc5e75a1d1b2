"""What a checkpoint may name, call and fill in: the explicit allow-lists of the loader.

A pickle can only do three risky things: name a global (GLOBAL), call something
(REDUCE, NEWOBJ) and set an object's state (BUILD). Each is answered here from a list:

- `Policy.resolve` maps "module.name" onto an object, or refuses;
- `Policy.call` calls only allow-listed callables, after a guard that keeps arguments
  to plain data of a size the file justifies (no `bytearray(10**12)`);
- `Policy.set_state` sets state only on instances of the types listed as settable
  (the unpickler also checks that the instance was created during this load).

The user widens the lists only through add_safe_globals / safe_globals, as in PyTorch.
"""
import _compat_pickle
import argparse
import codecs
import collections
import copyreg
import datetime
import functools
import pathlib
import pickle
import re

import numpy as np

from .. import _device
from .. import _dtype as dt
from .._tensor import Size, Tensor
from . import rebuild
from .writer import _STORAGE_NAMES

# Modules a checkpoint may never name, even when the user allow-lists something there
# (PyTorch's list): they reach the operating system.
BLOCKED_MODULES = frozenset({"sys", "os", "posix", "nt"})

_user_safe_globals = set()


# -- the user's allow-list (torch.serialization.add_safe_globals and friends) ----------
def add_safe_globals(safe_globals):
    """Mark functions or classes as safe to be named, called and filled in by a checkpoint.
    Each item is the object, or (object, "module.qualname") when the file names it
    differently from `obj.__module__ + "." + obj.__qualname__`."""
    global _user_safe_globals
    for item in safe_globals:
        _check_safe_global(item)
    _user_safe_globals = _user_safe_globals | set(safe_globals)


def get_safe_globals():
    """The user's additions to the allow-list."""
    return list(_user_safe_globals)


def clear_safe_globals():
    global _user_safe_globals
    _user_safe_globals = set()


def _remove_safe_globals(safe_globals):
    global _user_safe_globals
    _user_safe_globals = _user_safe_globals - set(safe_globals)


class safe_globals:
    """Context manager: allow `safe_globals` inside the block only."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _remove_safe_globals(self.safe_globals)


def _check_safe_global(item):
    if isinstance(item, tuple):
        if len(item) != 2:
            raise ValueError(f"Expected tuple of length 2 (global, str of callable full path), "
                             f"but got tuple of length: {len(item)}")
        if type(item[1]) is not str:
            raise TypeError(f"Expected second item in tuple to be str of callable full path, "
                            f"but got: {type(item[1])}")


def _user_globals():
    named = {}
    for item in _user_safe_globals:
        if isinstance(item, tuple):
            obj, full_name = item
        else:
            obj, full_name = item, f"{item.__module__}.{item.__qualname__}"
        named[full_name] = obj
        if full_name.startswith("torchlike."):    # also as a torch checkpoint names it
            named.setdefault("torch" + full_name[len("torchlike"):], obj)
    return named


def _names_a_missing_dtype(full_name):
    """A torch dtype, or the untyped storage PyTorch writes for the dtypes that have no
    typed storage (uint16 ... uint64, float8 types, complex32, quantized types)."""
    return full_name == "torch.storage.UntypedStorage" or re.fullmatch(
        r"torch\.(u?int\d+|float\d+\w*|complex\d+|c?half|bits\w+|qu?int\w+|\w+Storage)",
        full_name) is not None


# -- guards: what arguments an allow-listed callable accepts ---------------------------
_PLAIN_COLLECTIONS = (list, tuple, dict, set, frozenset, str, bytes, bytearray)


def _iterable_is_data(args):
    """A container constructor may copy data the file holds, never expand a lazy
    iterable (range(10**12)) or an int (bytearray(10**12)) into a huge allocation."""
    if args and not isinstance(args[0], _PLAIN_COLLECTIONS + (type(None),)):
        raise pickle.UnpicklingError(
            f"a checkpoint may only build containers from data it holds, not from "
            f"{type(args[0]).__name__}")
    return args


def _deque_args(args):
    _iterable_is_data(args)
    if len(args) > 1 and not (args[1] is None or type(args[1]) is int):
        raise pickle.UnpicklingError("deque: maxlen must be an int or None")
    return args


def _latin1_only(args):
    """Protocol 2 pickles bytes as _codecs.encode(text, 'latin1'); no other codec (a codec
    name can make Python import a module)."""
    if len(args) != 2 or type(args[0]) is not str or type(args[1]) is not str \
            or args[1] not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode is allowed only as encode(str, 'latin1')")
    return args


def _defaultdict_args(args):
    # compared by identity: `in` would call a loaded tensor's __eq__
    if args and not any(args[0] is t for t in _PLAIN_COLLECTIONS + (int, float, type(None))) \
            and args[0] is not None:
        raise pickle.UnpicklingError("defaultdict's default_factory must be a plain type")
    _iterable_is_data(args[1:])
    return args


def _fresh_numpy_dtype(args):
    """numpy pickles a dtype as numpy.dtype(spec, align, copy=True) and then sets its state;
    copy=True is forced so that the state never lands on numpy's shared dtype objects."""
    if not args or not isinstance(args[0], str):
        raise pickle.UnpicklingError("numpy.dtype is allowed only from a type string")
    return (args[0], bool(args[1]) if len(args) > 1 else False, True)


def _empty_numpy_array(args):
    """numpy pickles an array as _reconstruct(ndarray, (0,), b'b') before setting its data:
    the shape must be empty, or a 20-byte file could allocate terabytes."""
    if len(args) != 3 or args[0] is not np.ndarray or not isinstance(args[1], tuple) \
            or not any(type(n) is int and n == 0 for n in args[1]):
        raise pickle.UnpicklingError("numpy arrays may be rebuilt only as numpy pickles them")
    return args


def _numpy_scalar(args):
    if not args or not isinstance(args[0], np.dtype):
        raise pickle.UnpicklingError("numpy scalar: expected a dtype")
    if not args[0].hasobject and not (len(args) == 2 and isinstance(args[1], bytes)
                                      and len(args[1]) == args[0].itemsize):
        raise pickle.UnpicklingError("numpy scalar: its bytes do not match its dtype")
    return args


def _object_reconstructor(args):
    """copyreg._reconstructor(cls, object, None) is how protocols 0 and 1 create an
    instance without calling __init__; only that form, for classes allowed to be created."""
    if len(args) != 3 or args[1] is not object or args[2] is not None:
        raise pickle.UnpicklingError("copyreg._reconstructor is allowed only as "
                                     "_reconstructor(cls, object, None)")
    return args


# -- the policy of one load ------------------------------------------------------------
class _StorageType:
    """Stands for torch.<Type>Storage in a persistent id: only its dtype matters."""

    def __init__(self, dtype):
        self.dtype = dtype

    def __repr__(self):
        return f"StorageType(dtype={self.dtype})"


_STORAGE_TYPES = {name: _StorageType(dt._BY_NAME[d]) for d, name in _STORAGE_NAMES.items()}


def _set_dict_state(inst, state):
    """BUILD's default: merge a dict of attributes into the instance's __dict__."""
    slots = None
    if type(state) is tuple and len(state) == 2:
        state, slots = state
    if state is not None:
        if type(state) is not dict or not all(type(k) is str for k in state):
            raise pickle.UnpicklingError(f"state of {type(inst).__name__} must be a dict "
                                         "with string keys")
        inst.__dict__.update(state)
    if slots is not None:
        if type(slots) is not dict or not all(type(k) is str for k in slots):
            raise pickle.UnpicklingError("slot state must be a dict with string keys")
        for key, value in slots.items():
            setattr(inst, key, value)


def _set_user_state(inst, state):
    """A user-allowed class: its own __setstate__ if it has one, else pickle's default."""
    setstate = getattr(inst, "__setstate__", None)
    if setstate is not None:
        setstate(state)
    else:
        _set_dict_state(inst, state)


def _set_numpy_state(inst, state):
    inst.__setstate__(state)


@functools.lru_cache(maxsize=None)
def _default_globals():
    """What a weights-only checkpoint may name: PyTorch's default allow-list, mapped onto
    torchlike. Values are what the name resolves to."""
    from ..nn.parameter import Parameter
    named = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "torch.nn.parameter.Parameter": Parameter,
        "torch.Size": Size,
        "torch.Tensor": Tensor,
        "torch.device": _device.device,
        "_codecs.encode": codecs.encode,
        "builtins.bytearray": bytearray,
        "builtins.set": set,
        "builtins.complex": complex,
        "torch._tensor._rebuild_from_type_v2": rebuild.rebuild_from_type_v2,
    }
    for name, func in rebuild.TENSOR_REBUILDERS.items():
        named[f"torch._utils.{name}"] = func
    for name, d in dt._BY_NAME.items():
        named[f"torch.{name}"] = d
    for name, storage_type in _STORAGE_TYPES.items():
        named[f"torch.{name}"] = storage_type
    return named


@functools.lru_cache(maxsize=None)
def _extra_globals():
    """What weights_only=False adds: plain data a training script commonly stores beside
    its state_dicts (numpy values, paths, dates, argparse results). None of them runs
    code from the file, and none is a torchlike function: a file can't change the process."""
    import builtins
    named = {f"builtins.{n}": getattr(builtins, n) for n in (
        "int", "float", "bool", "str", "bytes", "tuple", "list", "dict", "frozenset", "slice",
        "range", "object")}
    named.update({
        "collections.defaultdict": collections.defaultdict,
        "collections.deque": collections.deque,
        "copyreg._reconstructor": copyreg._reconstructor,
        "argparse.Namespace": argparse.Namespace,
        "numpy.ndarray": np.ndarray,
        "numpy.dtype": np.dtype,
    })
    for cls in (pathlib.PosixPath, pathlib.WindowsPath, pathlib.PurePosixPath,
                pathlib.PureWindowsPath, pathlib.Path):
        named[f"pathlib.{cls.__name__}"] = cls
    for cls in (datetime.datetime, datetime.date, datetime.time, datetime.timedelta,
                datetime.timezone):
        named[f"datetime.{cls.__name__}"] = cls
    # numpy's pickling helpers, found through what numpy itself pickles (their module
    # moved between numpy versions)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        named[f"{module}._reconstruct"] = np.zeros(0).__reduce__()[0]
        named[f"{module}.scalar"] = np.float64(0).__reduce__()[0]
    for name in dir(np.dtypes):
        found = getattr(np.dtypes, name)
        if name.endswith("DType") and isinstance(found, type) and issubclass(found, np.dtype):
            named[f"numpy.dtypes.{name}"] = found
    return named


@functools.lru_cache(maxsize=None)
def _fresh_factories():
    """Ids of the allow-listed functions that always return a new object."""
    extra = _extra_globals()
    return frozenset({id(copyreg._reconstructor),
                      id(extra["numpy.core.multiarray._reconstruct"])})


@functools.lru_cache(maxsize=None)
def _guards():
    """Argument checks, by id of the callable. A callable without one takes any data."""
    extra = _extra_globals()
    guards = {bytearray: _iterable_is_data, set: _iterable_is_data, Size: _iterable_is_data,
              collections.OrderedDict: _iterable_is_data,
              collections.Counter: _iterable_is_data, codecs.encode: _latin1_only,
              bytes: _iterable_is_data, tuple: _iterable_is_data, list: _iterable_is_data,
              dict: _iterable_is_data, frozenset: _iterable_is_data,
              collections.deque: _deque_args, collections.defaultdict: _defaultdict_args,
              np.dtype: _fresh_numpy_dtype, copyreg._reconstructor: _object_reconstructor,
              extra["numpy.core.multiarray._reconstruct"]: _empty_numpy_array,
              extra["numpy.core.multiarray.scalar"]: _numpy_scalar}
    return {id(func): guard for func, guard in guards.items()}


class Policy:
    """The allow-lists of one load, fixed when it starts (a later add_safe_globals does
    not change a load in progress)."""

    def __init__(self, weights_only):
        from ..nn.parameter import Parameter
        self.weights_only = weights_only
        self.user = _user_globals()
        self.named = dict(_default_globals())
        if not weights_only:
            self.named.update(_extra_globals())
        self.named.update(self.user)
        # identity sets: values may be unhashable or compare equal across types. Tensor
        # is named (as a type argument) but never called: Tensor(10**12) would allocate.
        self._callable_ids = {id(v) for v in self.named.values()
                              if callable(v) and v is not Tensor}
        self.parameter = Parameter
        user_classes = [v for v in self.user.values() if isinstance(v, type)]
        self._newobj_ids = {id(c) for c in user_classes + [collections.OrderedDict,
                                                            collections.Counter]}
        self.settable = {collections.OrderedDict: _set_dict_state}
        if not weights_only:
            self._newobj_ids.add(id(argparse.Namespace))
            self.settable.update({argparse.Namespace: _set_dict_state,
                                  np.ndarray: _set_numpy_state, np.dtype: _set_numpy_state})
        for cls in user_classes:
            self.settable[cls] = _set_user_state

    def resolve(self, module, name):
        """The object a GLOBAL opcode names, or UnpicklingError."""
        if (module, name) in _compat_pickle.NAME_MAPPING:   # Python 2 spellings
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        full_name = f"{module}.{name}"
        if module in BLOCKED_MODULES:
            raise pickle.UnpicklingError(f"Trying to load unsupported GLOBAL {full_name} "
                                         f"whose module {module} is blocked.")
        try:
            return self.named[full_name]
        except KeyError:
            pass
        if _names_a_missing_dtype(full_name):
            raise pickle.UnpicklingError(
                f"Unsupported dtype: GLOBAL {full_name} belongs to a tensor of a dtype "
                "torchlike does not have (it has "
                f"{', '.join(sorted(dt._BY_NAME))}); convert it in PyTorch, for example with "
                "`.float()`, before saving.")
        shown = full_name[len("builtins."):] if module == "builtins" else full_name
        if not self.weights_only:
            raise pickle.UnpicklingError(
                f"Unsupported global: GLOBAL {full_name} is not allowed. torch.load never "
                "imports code named by a checkpoint, even with weights_only=False: besides "
                "tensors and containers it accepts numpy arrays and scalars, paths, dates and "
                "argparse.Namespace. If you trust this class/function, allow it with "
                f"`torch.serialization.add_safe_globals([{shown}])`; to restore a model, "
                "save its state_dict and load that into a new instance.")
        raise pickle.UnpicklingError(
            f"Unsupported global: GLOBAL {shown} was not an allowed global by default. "
            f"Please use `torch.serialization.add_safe_globals([{shown}])` or the "
            f"`torch.serialization.safe_globals([{shown}])` context manager to allowlist "
            "this global if you trust this class/function.\n\nCheck the documentation of "
            "torch.load to learn more about types accepted by default with weights_only "
            "https://pytorch.org/docs/stable/generated/torch.load.html.")

    def call(self, func, args):
        """REDUCE: func(*args) for an allow-listed callable."""
        if func is self.parameter:
            return rebuild.parameter_from(*args)
        if id(func) not in self._callable_ids:
            from .unpickler import describe
            message = f"Trying to call reduce for unrecognized function {describe(func)}"
            if hasattr(func, "__self__"):
                message += f" which belongs to {describe(func.__self__)}"
            raise pickle.UnpicklingError(message)
        guard = _guards().get(id(func))
        if guard is not None:
            args = guard(args)
        if func is copyreg._reconstructor:
            return self.new_object(args[0], ())      # object.__new__(cls), if cls may be
        return func(*args)

    def new_object(self, cls, args):
        """NEWOBJ: cls.__new__(cls, *args), without running __init__."""
        if cls is self.parameter:
            return rebuild.parameter_from(*args)
        if id(cls) not in self._newobj_ids:
            from .unpickler import describe
            raise pickle.UnpicklingError(
                "Can only create new object for nn.Parameter or classes allowlisted via "
                f"`add_safe_globals` but got {describe(cls)}")
        return cls.__new__(cls, *args)

    def state_setter(self, inst):
        """How BUILD may set the state of `inst`, or None."""
        found = self.settable.get(type(inst))
        if found is None and isinstance(inst, np.dtype) and np.dtype in self.settable:
            found = self.settable[np.dtype]      # numpy 2: each dtype has its own class
        return found

    def makes_fresh(self, maker, result):
        """Whether `result`, just returned by calling `maker`, is a new object: a class
        making an instance of itself, or a factory known to build a new one."""
        if isinstance(maker, type) and type(result) is maker:
            return True
        if maker is np.dtype:
            return isinstance(result, np.dtype)       # copy=True is forced by its guard
        return id(maker) in _fresh_factories()
