"""docs/supported_ops.md is generated from the op table; the committed page must be current."""
import pathlib

from torchlike._ops import docs

PAGE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "supported_ops.md"


def test_supported_ops_page_is_generated():
    assert PAGE.read_text() == docs.render(), \
        "docs/supported_ops.md is stale: run python -m torchlike._ops.docs > docs/supported_ops.md"


def test_at_least_300_operations_are_oracle_tested():
    tested = [name for name, section, ok in docs.rows() if ok and section != "Tensor factories"]
    assert len(tested) >= 300, len(tested)
