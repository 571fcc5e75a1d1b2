"""The unpickler of torchlike.load: a small pickle machine on PyTorch's weights_only
principle.

Python's own unpickler lets a file call whatever its globals resolve to, and its BUILD
step sets attributes on any object on the stack: a class, a module function, a shared
dtype. Here every opcode is listed explicitly (protocols 2 to 5, binary forms only), and
the three risky ones ask the load's `Policy`:

- GLOBAL / STACK_GLOBAL: only allow-listed names resolve;
- REDUCE / NEWOBJ: only allow-listed callables run, with guarded arguments;
- BUILD, APPEND(S), SETITEM(S), ADDITEMS: only on objects this load created (`_fresh`),
  and BUILD only on instances of the types whose state may be set. Classes, functions,
  dtypes, devices and other shared objects never are.

Errors of the machine itself (a truncated or inconsistent pickle) are UnpicklingError.
"""
import io
import pickle
import struct
import sys
import types
from collections import Counter, OrderedDict, defaultdict, deque

from .. import _dtype as dt

_MAX_TUPLE_NESTING = 1000     # deeper tuples crash CPython when hashed (C recursion)
_STOP = object()


def _reference_count(obj):
    return sys.getrefcount(obj)


def _count_of_a_fresh_object():
    """What _reference_count says of an object held by one local variable only (the
    shape of every call below): more means something else holds it too."""
    fresh = object()
    return _reference_count(fresh)


def describe(obj):
    """How an error message names `obj`: repr for names and small values, never the
    repr of a tensor or a container (which could be huge, or run a gather)."""
    if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType, dt.dtype,
                        bool, int, float, complex, type(None))):
        return repr(obj)[:200]
    return f"a {type(obj).__name__} object"


class WeightsUnpickler:
    def __init__(self, data, policy, persistent_load):
        self._file = io.BytesIO(data)
        self._policy = policy
        self._persistent_load = persistent_load
        self._stack = []
        self._metastack = []
        self._memo = {}
        self._fresh = {}            # id -> object created by this load (kept alive: ids stay unique)
        # measured per load, not once at import: what holds a local can change in a process
        # (after torch.compile's dynamo has run, every local counts one reference more)
        self._fresh_references = _count_of_a_fresh_object()
        self._depth = {}            # id -> nesting depth of tuples/frozensets built here

    def load(self):
        read = self._file.read
        try:
            while True:
                key = read(1)
                if not key:
                    raise pickle.UnpicklingError("pickle data was truncated")
                handler = _OPCODES.get(key[0])
                if handler is None:
                    raise pickle.UnpicklingError(f"Unsupported operand {key[0]}")
                if handler(self) is _STOP:
                    if len(self._stack) != 1 or self._metastack:
                        raise pickle.UnpicklingError("STOP with an unbalanced stack")
                    return self._stack.pop()
        except UnicodeDecodeError as e:     # text in the pickle that is not UTF-8
            raise pickle.UnpicklingError(f"checkpoint data.pkl is corrupt: {e}") from None
        except (pickle.UnpicklingError, RuntimeError, TypeError, ValueError):
            raise                       # the documented classes, PyTorch's where it has one
        except Exception as e:  # noqa: BLE001 - a stack underflow, a missing memo entry ...
            raise pickle.UnpicklingError(f"checkpoint data.pkl is corrupt: "
                                         f"{type(e).__name__}: {e}") from None

    # -- reading ------------------------------------------------------------------------
    def _read(self, n):
        data = self._file.read(n)
        if len(data) != n:
            raise pickle.UnpicklingError("pickle data was truncated")
        return data

    def _read_uint(self, n):
        return int.from_bytes(self._read(n), "little")

    def _read_line(self):
        line = self._file.readline()
        if not line.endswith(b"\n"):
            raise pickle.UnpicklingError("pickle data was truncated")
        return line[:-1].decode("utf-8")

    # -- the stack ----------------------------------------------------------------------
    def _push(self, value):
        self._stack.append(value)

    def _push_fresh(self, value):
        self._fresh[id(value)] = value
        self._stack.append(value)

    def _pop_mark(self):
        items = self._stack
        self._stack = self._metastack.pop()
        return items

    def _require_fresh(self, obj, what):
        if self._fresh.get(id(obj)) is not obj:
            raise pickle.UnpicklingError(f"{what} may only change objects created by this "
                                         f"checkpoint, not {describe(obj)}")

    def _push_immutable(self, value):
        """Tuples and frozensets: track nesting, whose hash recursion is unguarded."""
        depth = 1 + max((self._depth.get(id(v), 0) for v in value), default=0)
        if depth > _MAX_TUPLE_NESTING:
            raise pickle.UnpicklingError(f"checkpoint data.pkl nests tuples more than "
                                         f"{_MAX_TUPLE_NESTING} deep")
        if value:
            self._fresh[id(value)] = value          # keeps the id unique while we track it
            self._depth[id(value)] = depth
        self._stack.append(value)

    # -- opcodes: framing ---------------------------------------------------------------
    def op_proto(self):
        proto = self._read(1)[0]
        if not 2 <= proto <= pickle.HIGHEST_PROTOCOL:
            raise pickle.UnpicklingError(f"unsupported pickle protocol: {proto}")

    def op_frame(self):
        self._read(8)            # frames only group opcodes; reading through is the same

    def op_stop(self):
        return _STOP

    # -- constants ----------------------------------------------------------------------
    def op_none(self):
        self._push(None)

    def op_true(self):
        self._push(True)

    def op_false(self):
        self._push(False)

    def op_binint(self):
        self._push(struct.unpack("<i", self._read(4))[0])

    def op_binint1(self):
        self._push(self._read(1)[0])

    def op_binint2(self):
        self._push(self._read_uint(2))

    def op_long1(self):
        self._push(pickle.decode_long(self._read(self._read(1)[0])))

    def op_long4(self):
        n = struct.unpack("<i", self._read(4))[0]
        if n < 0:
            raise pickle.UnpicklingError("LONG pickle has negative byte count")
        self._push(pickle.decode_long(self._read(n)))

    def op_binfloat(self):
        self._push(struct.unpack(">d", self._read(8))[0])

    def _text(self, n):
        self._push(str(self._read(n), "utf-8", "surrogatepass"))

    def op_short_binunicode(self):
        self._text(self._read(1)[0])

    def op_binunicode(self):
        self._text(self._read_uint(4))

    def op_binunicode8(self):
        self._text(self._read_uint(8))

    def _py2_string(self, n):
        # protocol 2 files written by Python 2: PyTorch decodes them as utf-8
        self._push(self._read(n).decode("utf-8"))

    def op_short_binstring(self):
        self._py2_string(self._read(1)[0])

    def op_binstring(self):
        n = struct.unpack("<i", self._read(4))[0]
        if n < 0:
            raise pickle.UnpicklingError("BINSTRING pickle has negative byte count")
        self._py2_string(n)

    def op_short_binbytes(self):
        self._push(self._read(self._read(1)[0]))

    def op_binbytes(self):
        self._push(self._read(self._read_uint(4)))

    def op_binbytes8(self):
        self._push(self._read(self._read_uint(8)))

    def op_bytearray8(self):
        self._push_fresh(bytearray(self._read(self._read_uint(8))))

    # -- containers ---------------------------------------------------------------------
    def op_mark(self):
        self._metastack.append(self._stack)
        self._stack = []

    def op_pop(self):
        if self._stack:
            self._stack.pop()
        else:
            self._pop_mark()

    def op_pop_mark(self):
        self._pop_mark()

    def op_dup(self):
        self._push(self._stack[-1])

    def op_empty_tuple(self):
        self._push(())

    def op_tuple(self):
        self._push_immutable(tuple(self._pop_mark()))

    def op_tuple1(self):
        self._push_immutable((self._stack.pop(),))

    def op_tuple2(self):
        b, a = self._stack.pop(), self._stack.pop()
        self._push_immutable((a, b))

    def op_tuple3(self):
        c, b, a = self._stack.pop(), self._stack.pop(), self._stack.pop()
        self._push_immutable((a, b, c))

    def op_empty_list(self):
        self._push_fresh([])

    def op_list(self):
        self._push_fresh(self._pop_mark())

    def op_append(self):
        item = self._stack.pop()
        self._extend(self._stack[-1], [item], "APPEND")

    def op_appends(self):
        items = self._pop_mark()
        self._extend(self._stack[-1], items, "APPENDS")

    def _extend(self, target, items, opcode):
        if type(target) not in (list, deque):
            raise pickle.UnpicklingError(f"Can only append to lists, but got {type(target)}")
        self._require_fresh(target, opcode)
        target.extend(items)

    def op_empty_dict(self):
        self._push_fresh({})

    def op_dict(self):
        items = self._pop_mark()
        self._push_fresh(self._paired(items, {}))

    def op_setitem(self):
        value, key = self._stack.pop(), self._stack.pop()
        self._paired([key, value], self._mapping_target("SETITEM"))

    def op_setitems(self):
        items = self._pop_mark()
        self._paired(items, self._mapping_target("SETITEMS"))

    def _mapping_target(self, opcode):
        target = self._stack[-1]
        if type(target) not in (dict, OrderedDict, Counter, defaultdict):
            raise pickle.UnpicklingError(
                f"Can only {opcode} for dict, collections.OrderedDict, collections.Counter, "
                f"but got {type(target)}")
        self._require_fresh(target, opcode)
        return target

    @staticmethod
    def _paired(items, target):
        if len(items) % 2:
            raise pickle.UnpicklingError("odd number of items for a dict")
        try:
            for i in range(0, len(items), 2):
                target[items[i]] = items[i + 1]
        except TypeError as e:          # an unhashable key
            raise pickle.UnpicklingError(f"checkpoint data.pkl is corrupt: {e}") from None
        return target

    def op_empty_set(self):
        self._push_fresh(set())

    def op_additems(self):
        items = self._pop_mark()
        target = self._stack[-1]
        if type(target) is not set:
            raise pickle.UnpicklingError(f"Can only ADDITEMS to sets, but got {type(target)}")
        self._require_fresh(target, "ADDITEMS")
        self._hashed(target.update, items)

    def op_frozenset(self):
        self._push_immutable(self._hashed(frozenset, self._pop_mark()))

    @staticmethod
    def _hashed(make, items):
        try:
            return make(items)
        except TypeError as e:
            raise pickle.UnpicklingError(f"checkpoint data.pkl is corrupt: {e}") from None

    # -- memo ---------------------------------------------------------------------------
    def op_binget(self):
        self._get(self._read(1)[0])

    def op_long_binget(self):
        self._get(self._read_uint(4))

    def _get(self, index):
        try:
            self._push(self._memo[index])
        except KeyError:
            raise pickle.UnpicklingError(f"Memo value not found at index {index}") from None

    def op_binput(self):
        self._memo[self._read(1)[0]] = self._stack[-1]

    def op_long_binput(self):
        self._memo[self._read_uint(4)] = self._stack[-1]

    def op_memoize(self):
        self._memo[len(self._memo)] = self._stack[-1]

    # -- the risky ones -----------------------------------------------------------------
    def op_global(self):
        module = self._read_line()
        name = self._read_line()
        self._push(self._policy.resolve(module, name))

    def op_stack_global(self):
        name, module = self._stack.pop(), self._stack.pop()
        if type(module) is not str or type(name) is not str:
            raise pickle.UnpicklingError("STACK_GLOBAL requires str")
        self._push(self._policy.resolve(module, name))

    def op_reduce(self):
        args = self._stack.pop()
        func = self._stack.pop()
        if type(args) is not tuple:
            raise pickle.UnpicklingError("REDUCE needs a tuple of arguments")
        result = self._policy.call(func, args)
        fresh = (self._policy.makes_fresh(func, result)
                 and _reference_count(result) <= self._fresh_references)   # nothing else holds it
        self._push_result(result, fresh)

    def op_newobj(self):
        args = self._stack.pop()
        cls = self._stack.pop()
        if type(args) is not tuple:
            raise pickle.UnpicklingError("NEWOBJ needs a tuple of arguments")
        result = self._policy.new_object(cls, args)
        fresh = (self._policy.makes_fresh(cls, result)
                 and _reference_count(result) <= self._fresh_references)   # nothing else holds it
        self._push_result(result, fresh)

    def op_newobj_ex(self):
        kwargs, args, cls = self._stack.pop(), self._stack.pop(), self._stack.pop()
        if type(args) is not tuple or type(kwargs) is not dict or kwargs:
            raise pickle.UnpicklingError("NEWOBJ_EX is supported without keyword arguments")
        result = self._policy.new_object(cls, args)
        fresh = (self._policy.makes_fresh(cls, result)
                 and _reference_count(result) <= self._fresh_references)   # nothing else holds it
        self._push_result(result, fresh)

    def _push_result(self, result, fresh):
        """Only a new object that nothing else refers to counts as this load's own: a
        class may hand back a shared instance (an Enum member, a cached dtype), and a
        function anything at all."""
        if fresh and isinstance(result, (tuple, frozenset)):
            self._push_immutable(result)
        elif fresh:
            self._push_fresh(result)
        else:
            self._push(result)

    def op_build(self):
        state = self._stack.pop()
        inst = self._stack[-1]
        set_state = self._policy.state_setter(inst)
        if set_state is None:
            raise pickle.UnpicklingError(
                "Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
                f"`add_safe_globals`, but got {type(inst)}")
        self._require_fresh(inst, "BUILD")
        set_state(inst, state)

    def op_binpersid(self):
        pid = self._stack.pop()
        if type(pid) is not tuple and type(pid) is not int:
            raise pickle.UnpicklingError(f"persistent_load id must be tuple or int, but got "
                                         f"{type(pid)}")
        # compared by type first: `==` on a loaded tensor would read its values
        if type(pid) is tuple and pid and not (type(pid[0]) in (str, bytes)
                                               and pid[0] in ("storage", b"storage")):
            raise pickle.UnpicklingError(f"Only persistent_load of storage is allowed, but got "
                                         f"{type(pid[0])}")
        self._push(self._persistent_load(pid))


_OPCODES = {op[0]: getattr(WeightsUnpickler, f"op_{name}") for op, name in (
    (pickle.PROTO, "proto"), (pickle.FRAME, "frame"), (pickle.STOP, "stop"),
    (pickle.NONE, "none"), (pickle.NEWTRUE, "true"), (pickle.NEWFALSE, "false"),
    (pickle.BININT, "binint"), (pickle.BININT1, "binint1"), (pickle.BININT2, "binint2"),
    (pickle.LONG1, "long1"), (pickle.LONG4, "long4"), (pickle.BINFLOAT, "binfloat"),
    (pickle.SHORT_BINUNICODE, "short_binunicode"), (pickle.BINUNICODE, "binunicode"),
    (pickle.BINUNICODE8, "binunicode8"), (pickle.SHORT_BINSTRING, "short_binstring"),
    (pickle.BINSTRING, "binstring"), (pickle.SHORT_BINBYTES, "short_binbytes"),
    (pickle.BINBYTES, "binbytes"), (pickle.BINBYTES8, "binbytes8"),
    (pickle.BYTEARRAY8, "bytearray8"),
    (pickle.MARK, "mark"), (pickle.POP, "pop"), (pickle.POP_MARK, "pop_mark"),
    (pickle.DUP, "dup"), (pickle.EMPTY_TUPLE, "empty_tuple"), (pickle.TUPLE, "tuple"),
    (pickle.TUPLE1, "tuple1"), (pickle.TUPLE2, "tuple2"), (pickle.TUPLE3, "tuple3"),
    (pickle.EMPTY_LIST, "empty_list"), (pickle.LIST, "list"), (pickle.APPEND, "append"),
    (pickle.APPENDS, "appends"), (pickle.EMPTY_DICT, "empty_dict"), (pickle.DICT, "dict"),
    (pickle.SETITEM, "setitem"), (pickle.SETITEMS, "setitems"),
    (pickle.EMPTY_SET, "empty_set"), (pickle.ADDITEMS, "additems"),
    (pickle.FROZENSET, "frozenset"),
    (pickle.BINGET, "binget"), (pickle.LONG_BINGET, "long_binget"),
    (pickle.BINPUT, "binput"), (pickle.LONG_BINPUT, "long_binput"),
    (pickle.MEMOIZE, "memoize"),
    (pickle.GLOBAL, "global"), (pickle.STACK_GLOBAL, "stack_global"),
    (pickle.REDUCE, "reduce"), (pickle.NEWOBJ, "newobj"), (pickle.NEWOBJ_EX, "newobj_ex"),
    (pickle.BUILD, "build"), (pickle.BINPERSID, "binpersid"))}
