"""How section 存在问题 words a category for a target kind, and which heading it falls under.

Wording, most specific first: the category's own per kind (``Category.wording[kind]``), its
own for every kind (``Category.wording["_"]``), its entry in notice_categories.yaml (the
entry's part for the kind over the rest of it), and the file's ``_default``. Headings: the round's ``themes`` option, then ``Category.theme``, then the
wording's ``heading``, ``Category.notice_heading`` or the category's name. A theme collects only
targets its heading fits: the kinds the entry lists (``标题[政务新媒体]=…``), else the kinds its
heading is about (网站/专栏 or 新媒体); a target of another kind falls back to the next heading.
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


#: Words that make a heading about websites (their columns and message boards included) or
#: about new media; a heading naming one family only collects targets of that family.
_HEADING_KINDS = (
    (("网站", "专栏"), frozenset({"website", "column", "message_board"})),
    (("新媒体",), frozenset({"new_media"})),
)


def heading_kinds(heading: str) -> frozenset[str] | None:
    """The target kinds a theme's heading is about (政务新媒体管理不规范: new media only), or
    None when it names both families or neither (信息发布审核把关不严: any kind)."""
    found = [kinds for words, kinds in _HEADING_KINDS if any(w in heading for w in words)]
    return found[0] if len(found) == 1 else None


def fits(heading: str, kinds: frozenset[str] | None, kind: str) -> bool:
    """Whether a theme collects a target of ``kind``: its own kinds if it lists them, else
    the kinds its heading is about."""
    allowed = kinds if kinds is not None else heading_kinds(heading)
    return allowed is None or kind in allowed


@dataclass(frozen=True)
class Theme:
    """One ``themes`` entry: a heading, the categories (codes or names) it lists, and the
    target kinds it is restricted to (None: the kinds its heading is about)."""

    heading: str
    items: tuple[str, ...]
    kinds: frozenset[str] | None = None

    def names(self, category: Category) -> bool:
        return category.code in self.items or category.name in self.items

    def takes(self, category: Category, kind: str) -> bool:
        return self.names(category) and fits(self.heading, self.kinds, kind)


@dataclass(frozen=True)
class Composition:
    """The options section 存在问题 reads: themes, descriptions, summaries."""

    themes: tuple[Theme, ...] = ()
    description: str = "none"
    summary: Summary = Summary()

    @classmethod
    def of(cls, settings: dict[str, Any]) -> Composition:
        themes = []
        for theme in settings.get("themes") or ():
            if isinstance(theme, dict) and isinstance(theme.get("heading"), str):
                items = tuple(str(i) for i in theme.get("items") or ())
                kinds = theme.get("kinds")
                kinds = frozenset(str(k) for k in kinds) if isinstance(kinds, list) else None
                themes.append(Theme(theme["heading"], items, kinds or None))
        chosen = (settings.get("problems") or {}).get("description")
        return cls(
            themes=tuple(themes),
            description=chosen if chosen in DESCRIPTIONS else "none",
            summary=Summary.of(settings),
        )

    def rank_in_theme(self, category: Category, kind: str) -> int:
        """Where the round's theme placing the category (for a target of ``kind``) lists it
        (none: after every listed)."""
        for theme in self.themes:
            if theme.takes(category, kind):
                return next(
                    rank for rank, item in enumerate(theme.items) if item in _keys(category)
                )
        return sum(len(theme.items) for theme in self.themes)

    def theme_of(self, category: Category, kind: str) -> tuple[int, str] | None:
        """(rank, heading) of the first ``themes`` entry naming the category by code or name
        that takes a target of ``kind`` (a theme about new media does not take a column)."""
        for rank, theme in enumerate(self.themes):
            if theme.takes(category, kind):
                return rank, theme.heading
        return None


def category_theme(category: Category, kind: str) -> str | None:
    """The category's own theme (``Category.theme``) if its heading fits a target of ``kind``."""
    theme = category.theme
    return theme if theme and fits(theme, None, kind) else None


def _keys(category: Category) -> tuple[str, str]:
    return category.code, category.name
