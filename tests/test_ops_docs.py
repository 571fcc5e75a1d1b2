"""docs/supported_ops.md is generated from the op table; the committed page must be current."""
import pathlib

from torchlike._ops import docs

PAGE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "supported_ops.md"


# the page ends with the op_db table that tests/test_opdb.py mirrors and checks
OPDB_SECTION = "## PyTorch op_db: skipped and expected failures"


def test_supported_ops_page_is_generated():
    text = PAGE.read_text()
    generated = text[:text.index(OPDB_SECTION)] if OPDB_SECTION in text else text
    assert generated.rstrip("\n") == docs.render().rstrip("\n"), \
        "docs/supported_ops.md is stale: run python -m torchlike._ops.docs > docs/supported_ops.md"


def test_at_least_300_operations_are_oracle_tested():
    tested = [name for name, section, ok in docs.rows() if ok and section != "Tensor factories"]
    assert len(tested) >= 300, len(tested)
