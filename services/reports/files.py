"""The editable files of the reports: templates and wording, re-read when the office edits them."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

TEMPLATES = Path(__file__).parent / "templates"


def load_yaml(path: Path) -> Any:
    """A YAML file, parsed once per version of it (edits apply without a restart)."""
    return _parsed(path, path.stat().st_mtime_ns)


@cache
def _parsed(path: Path, mtime_ns: int) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))
