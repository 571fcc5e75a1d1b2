"""Storages that hold one array object: a compiled program takes it once.

An optimizer step leaves every parameter's 0-dim count (Adam's `step`) in its own tensor,
but all of them hold the one array the update computed for the group. Traced as separate
inputs, the counts are separate values: the program computes the bias corrections once
per parameter, and each parameter's update is different XLA code (its own row of
scalars), which XLA compiles once per parameter instead of once per shape (the
transformer benchmark's AdamW update compiled alone: 1.15 s of CPU against 0.55 s with
one count). So the guard notes
which storages hold the same 0-dim array as an earlier one; the program takes it as one
input, the trace sees one value in all of them, and where the trace writes one value into
several storages it comes out once (`dedupe_outputs`), so the next call finds the same
sharing. Only 0-dim arrays count: they are what such counts are, and larger arrays
shared by chance (parameters initialized from one cached array of zeros) stop being
shared after a step, which would change the guard.
"""
import operator

_ARRAY = operator.attrgetter("array")


def find(storages):
    """((position, position of the first storage holding the same array), ...) for the
    storages that hold a 0-dim array an earlier one holds; () when there are none."""
    arrays = [st.array for st in storages]
    if len(set(map(id, arrays))) == len(arrays):
        return ()
    first, pairs = {}, []
    for k, a in enumerate(arrays):
        j = first.setdefault(id(a), k)
        if j != k and getattr(a, "shape", None) == ():
            pairs.append((k, j))
    return tuple(pairs)


def holds(pairs):
    """storages -> whether the storages of `pairs` still hold one array each (the steady
    state's check, made once per program and run in C-level passes; a sharing that is new
    needs none: the program takes those arrays as separate inputs, which gives the same
    values)."""
    if not pairs:
        return lambda storages: True
    later = operator.itemgetter(*[k for k, _ in pairs])
    first = operator.itemgetter(*[j for _, j in pairs])
    if len(pairs) == 1:
        return lambda storages: later(storages).array is first(storages).array
    return lambda storages: all(map(operator.is_, map(_ARRAY, later(storages)),
                                    map(_ARRAY, first(storages))))


def layout(pairs, n):
    """For `n` storages with aliases `pairs`: the program input of each storage, and
    the storage each program input comes from."""
    later = dict(pairs)
    firsts = [k for k in range(n) if k not in later]
    slot = {k: i for i, k in enumerate(firsts)}
    return [slot[later.get(k, k)] for k in range(n)], firsts


def dedupe_outputs(arrays):
    """The distinct 0-dim arrays of `arrays` (larger ones all kept), and for each array
    its index among them."""
    kept, index, where = [], {}, []
    for a in arrays:
        k = index.get(id(a)) if a.shape == () else None
        if k is None:
            k = len(kept)
            kept.append(a)
            if a.shape == ():
                index[id(a)] = k
        where.append(k)
    return kept, where
