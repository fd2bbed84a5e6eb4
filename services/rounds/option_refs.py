"""What a notice option names in the registry must exist: a theme's categories (问题主题) and a
unit group's unit kinds or unit codes (分组统计).

``notice_settings`` checks a value's shape without a database; this module checks, where a unit
of work is at hand (``rectify issuer option``, ``rectify round set``, the web forms, the 通报设置
import sheet), that each entry matches something, since an entry that matches nothing would be
silently ignored when the notice is made. A refusal lists the valid values in Chinese.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from services.core.uow import UnitOfWork
from services.db.models import Category, Unit
from services.registry.units import UNIT_KINDS

#: The options whose entries name registry records.
REFERRING = ("themes", "groups")


class Registry:
    """The categories and units an option may name: the database's, with those an import adds
    in the same file (``categories``: code → name of the catalogue after the import;
    ``unit_codes``: units the file registers)."""

    def __init__(
        self,
        uow: UnitOfWork,
        *,
        categories: dict[str, str] | None = None,
        unit_codes: Iterable[str] = (),
    ):
        self._uow = uow
        self._categories = categories
        self._units = {str(c) for c in unit_codes if c}

    def categories(self) -> dict[str, str]:
        """Code → name of every category (in catalogue order)."""
        if self._categories is None:
            self._categories = dict(
                self._uow.session.execute(
                    select(Category.code, Category.name).order_by(
                        Category.sort_order, Category.code
                    )
                ).all()
            )
        return self._categories

    def unknown_units(self, codes: Iterable[str]) -> list[str]:
        """The codes that are neither a unit kind nor a registered unit (in the order given)."""
        wanted = [c for c in dict.fromkeys(codes) if c not in UNIT_KINDS and c not in self._units]
        if not wanted:
            return []
        found = set(self._uow.session.scalars(select(Unit.code).where(Unit.code.in_(wanted))))
        self._units |= found
        return [c for c in wanted if c not in found]

    def problem(self, path: str, value: Any) -> str | None:
        """What the option's value names that does not exist, in Chinese, or None."""
        if path not in REFERRING or not isinstance(value, dict):
            return None
        items = [str(i) for i in value.get("items") or ()]
        if path == "themes":
            return self._theme_problem(items)
        return self._group_problem(items)

    def _theme_problem(self, items: list[str]) -> str | None:
        categories = self.categories()
        known = set(categories) | set(categories.values())
        unknown = [i for i in items if i not in known]
        if not unknown:
            return None
        shown = "、".join(f"{code}（{name}）" for code, name in categories.items())
        return (
            f"中的「{'」「'.join(unknown)}」不是问题类别的代码或名称（须与类别代码或名称完全一致）；"
            f"可用的类别：{shown}"
        )

    def _group_problem(self, items: list[str]) -> str | None:
        unknown = self.unknown_units(items)
        if not unknown:
            return None
        kinds = "、".join(f"{code}（{label}）" for code, label in UNIT_KINDS.items())
        return (
            f"中的「{'」「'.join(unknown)}」既不是单位类型，也不是已登记的单位代码；"
            f"单位类型可选：{kinds}，或填写单位代码（含其下级单位）"
        )
