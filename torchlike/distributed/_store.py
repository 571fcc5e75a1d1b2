"""torch.distributed's key-value stores that live in one process: HashStore and
PrefixStore (on any store). Processes of a job meet through JAX's coordinator instead of a
TCPStore, so TCPStore and FileStore are not provided."""
import datetime
import threading
import time

from ._errors import DistStoreError

_DEFAULT_TIMEOUT = datetime.timedelta(minutes=5)     # PyTorch's store timeout


def _bytes(value):
    return value.encode() if isinstance(value, str) else bytes(value)


class Store:
    """The interface: values are bytes; get and wait block until keys exist, up to the
    timeout."""


class HashStore(Store):
    def __init__(self):
        self._data = {}
        self._changed = threading.Condition()
        self.timeout = _DEFAULT_TIMEOUT

    def set_timeout(self, timeout):
        self.timeout = timeout

    def set(self, key, value):
        with self._changed:
            self._data[key] = _bytes(value)
            self._changed.notify_all()

    def multi_set(self, keys, values):
        for key, value in zip(keys, values):
            self.set(key, value)

    def _wait_locked(self, keys, timeout):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout).total_seconds()
        while not all(k in self._data for k in keys):
            left = deadline - time.monotonic()
            if left <= 0 or not self._changed.wait(left):
                if not all(k in self._data for k in keys):
                    raise DistStoreError("Wait timeout")

    def wait(self, keys, timeout=None):
        with self._changed:
            self._wait_locked(list(keys), timeout)

    def get(self, key):
        with self._changed:
            self._wait_locked([key], None)
            return self._data[key]

    def multi_get(self, keys):
        return [self.get(k) for k in keys]

    def add(self, key, amount):
        with self._changed:
            try:
                value = int(self._data.get(key, b"0")) + amount
            except ValueError:
                raise ValueError("stoll") from None      # (PyTorch's C++ parse error)
            self._data[key] = str(value).encode()
            self._changed.notify_all()
            return value

    def append(self, key, value):
        with self._changed:
            self._data[key] = self._data.get(key, b"") + _bytes(value)
            self._changed.notify_all()

    def compare_set(self, key, expected_value, desired_value):
        """desired if key holds expected (or is missing and expected is empty); returns
        what the key holds afterwards (expected, for a missing key left alone)."""
        expected, desired = _bytes(expected_value), _bytes(desired_value)
        with self._changed:
            if key not in self._data:
                if expected:
                    return expected
            elif self._data[key] != expected:
                return self._data[key]
            self._data[key] = desired
            self._changed.notify_all()
            return desired

    def check(self, keys):
        with self._changed:
            return all(k in self._data for k in keys)

    def delete_key(self, key):
        with self._changed:
            return self._data.pop(key, None) is not None

    def num_keys(self):
        with self._changed:
            return len(self._data)


class PrefixStore(Store):
    """Every key of `store` used under 'prefix/'."""

    def __init__(self, prefix, store):
        self._prefix = prefix
        self.underlying_store = store

    def _key(self, key):
        return f"{self._prefix}/{key}"

    @property
    def timeout(self):
        return self.underlying_store.timeout

    def set_timeout(self, timeout):
        self.underlying_store.set_timeout(timeout)

    def set(self, key, value):
        self.underlying_store.set(self._key(key), value)

    def get(self, key):
        return self.underlying_store.get(self._key(key))

    def add(self, key, amount):
        return self.underlying_store.add(self._key(key), amount)

    def append(self, key, value):
        self.underlying_store.append(self._key(key), value)

    def compare_set(self, key, expected_value, desired_value):
        return self.underlying_store.compare_set(self._key(key), expected_value, desired_value)

    def check(self, keys):
        return self.underlying_store.check([self._key(k) for k in keys])

    def wait(self, keys, timeout=None):
        self.underlying_store.wait([self._key(k) for k in keys], timeout)

    def delete_key(self, key):
        return self.underlying_store.delete_key(self._key(key))

    def num_keys(self):
        return self.underlying_store.num_keys()

    def multi_set(self, keys, values):
        self.underlying_store.multi_set([self._key(k) for k in keys], values)

    def multi_get(self, keys):
        return self.underlying_store.multi_get([self._key(k) for k in keys])
