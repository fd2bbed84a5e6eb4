"""A registry record's texts, as the unit form and every import store them."""

from __future__ import annotations

import pytest

from services.core.errors import ValidationFailed
from services.db.models import Unit
from services.registry.units import UnitSpec, check_text


@pytest.mark.parametrize(
    "fields, said",
    [
        ({}, None),
        ({"name": "某某局\u202e"}, "name 第 4 个字符是不可见的控制字符（U+202E）"),
        ({"contact_name": "张\x07三"}, "contact_name 第 2 个字符是不可见的控制字符（U+0007）"),
        ({"name": "x" * 300}, "name 过长"),
    ],
)
def test_a_unit_record_with_an_invisible_character_is_refused_naming_the_field_and_place(
    fields, said
):
    """What an import row or the unit form stores is checked as one record (all texts at
    once) yet refused naming the very field and character."""
    spec = UnitSpec(**({"code": "u1", "name": "某某局", "kind": "city_dept"} | fields))
    if said is None:
        check_text(spec, Unit)
        return
    with pytest.raises(ValidationFailed) as refused:
        check_text(spec, Unit)
    assert any(said in error for error in refused.value.errors), refused.value.errors
