"""Every block import sheet and each of its columns is in the README's import table."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.imports.block_rows import BLOCK_KINDS

README = Path(__file__).parents[2] / "README.md"


@pytest.mark.parametrize("kind", BLOCK_KINDS.values(), ids=lambda kind: kind.code)
def test_the_readme_names_each_block_sheet_with_every_column(kind):
    rows = [
        line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith("| ")
    ]
    row = next((line for line in rows if line.startswith(f"| {kind.label} |")), None)
    assert row is not None, f"README has no import-table row for {kind.label}"
    missing = [c.aliases[0] for c in kind.columns if c.aliases[0] not in row]
    assert missing == []
