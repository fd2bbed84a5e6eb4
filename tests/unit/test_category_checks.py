"""Categories name only checks that exist: the seed, and the refusal of an unknown name."""

from __future__ import annotations

from services.checks.base import names
from services.registry.catalogue import CategorySpec, seed_specs


def a_spec(**fields) -> CategorySpec:
    return CategorySpec(
        **{"code": "x_cat", "name": "测试类别", "target_kinds": ("website",), "severity": "veto"}
        | fields
    )


def test_every_seeded_category_names_a_check_that_exists():
    unknown = {s.code: s.check for s in seed_specs() if s.check and s.check not in names()}
    assert unknown == {}
    assert all(spec.problems() == [] for spec in seed_specs())


def test_an_unknown_check_is_refused_in_chinese_with_the_valid_names():
    [problem] = a_spec(check="column_freshness").problems()
    assert "类别 x_cat 的自动检查「column_freshness」不存在" in problem
    assert all(name in problem for name in names())
    assert "人工核实" in problem


def test_no_check_or_the_manual_one_is_accepted():
    assert a_spec(check=None).problems() == []
    assert a_spec(check="manual").problems() == []
    assert a_spec(check="broken_links").problems() == []
