"""DataLoader: batches from a dataset, through a sampler and a collate function.

Loading always happens in the calling process. With num_workers > 0 the loader behaves
as one worker would: `get_worker_info()` reports worker 0 of 1 while a batch is being
fetched and `worker_init_fn(0)` runs once per epoch, so dataset code written for
workers (sharding by worker id) yields every sample exactly once.
"""
import math
import warnings

from ._collate import default_collate, default_convert
from .dataset import IterableDataset, gathered_batch
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "WorkerInfo"]


class WorkerInfo:
    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            object.__setattr__(self, k, v)

    def __setattr__(self, key, value):
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self):
        fields = ", ".join(f"{k}={v}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({fields})"


_worker_info = None


def get_worker_info():
    """Worker details while the loader emulates a worker; None otherwise."""
    return _worker_info


class _InfiniteConstantSampler(Sampler):
    """For iterable datasets: the 'index' is meaningless, only the count per batch matters."""

    def __iter__(self):
        while True:
            yield None


_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
           "persistent_workers")


class DataLoader:
    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self._is_iterable = isinstance(dataset, IterableDataset)
        if self._is_iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if self._is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._initialized = True

    def __setattr__(self, name, value):
        if self.__dict__.get("_initialized") and name in _FROZEN:
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        if self._is_iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last \
                    else int(math.ceil(length / self.batch_size))
            return length
        return len(self._index_sampler)

    def __iter__(self):
        return _LoaderIter(self)

    def check_worker_number_rationality(self):
        pass


class _LoaderIter:
    """One pass over the loader."""

    def __init__(self, loader):
        self._loader = loader
        self._indices = iter(loader._index_sampler)
        self._dataset_iter = None
        self._ended = False
        self._num_yielded = 0
        self._emulate_worker = loader.num_workers > 0
        if loader.pin_memory:
            from ... import accelerator
            if not accelerator.is_available():       # as PyTorch, on every new pass
                warnings.warn("'pin_memory' argument is set as true but no accelerator is "
                              "found, then device pinned memory won't be used.")
        if self._emulate_worker:
            from ..._factories import randint
            self._worker_info = WorkerInfo(id=0, num_workers=1, seed=int(randint(
                0, 2 ** 62, (1,), generator=loader.generator).item()), dataset=loader.dataset)
            self._as_worker(lambda: loader.worker_init_fn(0) if loader.worker_init_fn else None)

    def _as_worker(self, fn):
        global _worker_info
        if not self._emulate_worker:
            return fn()
        previous, _worker_info = _worker_info, self._worker_info
        try:
            return fn()
        finally:
            _worker_info = previous

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        batch = self._as_worker(self._fetch)
        self._num_yielded += 1
        return batch

    def _fetch(self):
        loader = self._loader
        if loader._is_iterable:
            return self._fetch_iterable()
        index = next(self._indices)
        dataset = loader.dataset
        if loader._auto_collation:
            if loader.collate_fn is default_collate:
                batch = gathered_batch(dataset, index)     # (TensorDataset: one gather)
                if batch is not None:
                    return batch
            getitems = getattr(dataset, "__getitems__", None)
            data = getitems(index) if getitems else [dataset[i] for i in index]
        else:
            data = dataset[index]
        return loader.collate_fn(data)

    def _fetch_iterable(self):
        loader = self._loader
        if self._ended:
            raise StopIteration
        if self._dataset_iter is None:
            self._dataset_iter = iter(loader.dataset)
        index = next(self._indices)
        if not loader._auto_collation:
            return loader.collate_fn(next(self._dataset_iter))
        data = []
        for _ in index:
            try:
                data.append(next(self._dataset_iter))
            except StopIteration:
                self._ended = True
                break
        if not data or (loader.drop_last and len(data) < len(index)):
            raise StopIteration
        return loader.collate_fn(data)
