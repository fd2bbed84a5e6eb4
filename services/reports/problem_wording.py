"""How section 存在问题 words a category for a target kind, and which heading it falls under.

Wording, most specific first: the category's own per kind (``Category.wording[kind]``), its
own for every kind (``Category.wording["_"]``), its entry in notice_categories.yaml (the
entry's part for the kind over the rest of it), and the file's ``_default``. Headings: the round's ``themes`` option, then ``Category.theme``, then the
wording's ``heading``, ``Category.notice_heading`` or the category's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.db.models import Category
from services.reports.files import load_yaml
from services.reports.lists import Summary

#: Keys a category's wording may set (see notice_categories.yaml).
WORDING_KEYS = (
    "heading",
    "section",
    "summary_section",
    "item",
    "phrase",
    "elaboration",
    "attach_to",
    "in_problems",
)
DESCRIPTIONS = ("none", "after_target")


def load_config(path: Path) -> dict[str, Any]:
    """notice_categories.yaml (the office may edit it): category code → wording."""
    return load_yaml(path)


def wording(config: dict[str, Any], category: Category, kind: str) -> dict[str, Any]:
    """The category's wording for a target of ``kind``: notice_categories.yaml's ``_default``,
    the file's entry and the entry's part for the kind, the category's own for every kind and
    its own for the kind (each over the one before)."""
    entry = config.get(category.code) or {}
    own = category.wording if isinstance(category.wording, dict) else {}
    merged = dict(config["_default"])
    for part in (entry, entry.get(kind), own.get("_"), own.get(kind)):
        if isinstance(part, dict):
            merged.update({k: v for k, v in part.items() if k in WORDING_KEYS and v is not None})
    return merged


def own_heading(category: Category, words: dict[str, Any]) -> str:
    """The heading a category has without a theme: its wording's, its notice heading, its name."""
    return str(words.get("heading") or category.notice_heading or category.name)


@dataclass(frozen=True)
class Composition:
    """The options section 存在问题 reads: themes, descriptions, summaries."""

    themes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (heading, category codes or names)
    description: str = "none"
    summary: Summary = Summary()

    @classmethod
    def of(cls, settings: dict[str, Any]) -> Composition:
        themes = []
        for theme in settings.get("themes") or ():
            if isinstance(theme, dict) and isinstance(theme.get("heading"), str):
                items = tuple(str(i) for i in theme.get("items") or ())
                themes.append((theme["heading"], items))
        chosen = (settings.get("problems") or {}).get("description")
        return cls(
            themes=tuple(themes),
            description=chosen if chosen in DESCRIPTIONS else "none",
            summary=Summary.of(settings),
        )

    def rank_in_theme(self, category: Category) -> int:
        """Where the round's theme placing the category lists it (none: after every listed)."""
        for _, items in self.themes:
            for rank, item in enumerate(items):
                if item in (category.code, category.name):
                    return rank
        return sum(len(items) for _, items in self.themes)

    def theme_of(self, category: Category) -> tuple[int, str] | None:
        """(rank, heading) of the first ``themes`` entry naming the category by code or name."""
        for rank, (heading, items) in enumerate(self.themes):
            if category.code in items or category.name in items:
                return rank, heading
        return None
