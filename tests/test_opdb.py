"""PyTorch's own OpInfo database (op_db, ~700 OpInfos) as a second oracle.

One test per OpInfo runs a fixed handful of its samples (float32, float64, int64, bool),
its gradients (float64) and its error inputs through torchlike and torch
(tests/opdb_support.py) and requires every check to match, except those listed in
EXPECTED, the one table of what is skipped or expected to fail, with the reason.
docs/supported_ops.md mirrors the table (test_docs_mirror_the_table).
"""
import pathlib

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")     # op_db's module imports it

import opdb_support as support  # noqa: E402

# -- THE table: everything skipped or expected to fail, with why -----------------------------
# key: an OpInfo id ("name" or "name.variant"), or "id|kind/where" for one check of it
# ("max|forward/int64/0", "cat|error/0"). value: (status, reason). Statuses:
#   not public    - not torch's public API (aten internals, CUDA-only jiterator): skipped
#   being added   - other issue-12 work adds it (fft.*, special.*, signal.windows.*, ...):
#                   non-strict xfail, so it passes once merged (prune the row then)
#   missing       - torchlike lacks it: strict xfail, so implementing it shows up
#   differs       - a known, explained difference in one check: that check is not asserted
NOT_PUBLIC, BEING_ADDED, MISSING, DIFFERS = "not public", "being added", "missing", "differs"
EXPECTED = {
}

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "supported_ops.md"
DOCS_HEADING = "## PyTorch op_db: skipped and expected failures"


def _marks(op_id):
    status, reason = EXPECTED.get(op_id, (None, None))
    if status == NOT_PUBLIC:
        return [pytest.mark.skip(reason=f"{status}: {reason}")]
    if status == BEING_ADDED:
        return [pytest.mark.xfail(strict=False, reason=f"{status}: {reason}")]
    if status == MISSING:
        return [pytest.mark.xfail(strict=True, reason=f"{status}: {reason}")]
    return []


@pytest.fixture(autouse=True)
def _bounded_jit_caches():
    """Hundreds of ops compile thousands of small XLA programs: dropping the compiled
    caches now and then keeps a worker's memory flat (recompiling costs little here)."""
    yield
    _bounded_jit_caches.count = getattr(_bounded_jit_caches, "count", 0) + 1
    if _bounded_jit_caches.count % 100 == 0:
        import jax
        jax.clear_caches()


@pytest.mark.parametrize("op_id", [pytest.param(i, marks=_marks(i), id=i)
                                   for i in support.OPINFOS])
def test_opinfo(op_id):
    info = support.OPINFOS[op_id]
    assert support.resolves(info), f"torchlike has no {info.name}"
    checks = support.run_opinfo(info)
    unexpected = [c for c in checks if not c.ok and f"{op_id}|{c.key}" not in EXPECTED]
    assert not unexpected, "\n".join(map(repr, unexpected))


def test_the_table_names_only_op_db_entries():
    stale = [k for k in EXPECTED if k.split("|")[0] not in support.OPINFOS]
    assert not stale, stale


def render_table():
    """The docs section that mirrors EXPECTED."""
    lines = [DOCS_HEADING, "",
             "`tests/test_opdb.py` runs PyTorch's own OpInfo database through torchlike. "
             "These entries are skipped or expected to fail (status, reason):", "",
             "| OpInfo (or one check of it) | status | reason |", "| --- | --- | --- |"]
    lines += [f"| `{k}` | {s} | {r} |" for k, (s, r) in sorted(EXPECTED.items())]
    return "\n".join(lines) + "\n"


def test_docs_mirror_the_table():
    text = DOCS.read_text()
    assert DOCS_HEADING in text, f"{DOCS} lacks the op_db section: python {__file__} --docs"
    assert text[text.index(DOCS_HEADING):] == render_table(), \
        f"the op_db section of {DOCS} is stale: python tests/test_opdb.py --docs"


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["--docs"]:
        text = DOCS.read_text()
        head = text[:text.index(DOCS_HEADING)] if DOCS_HEADING in text else text + "\n"
        DOCS.write_text(head + render_table())
