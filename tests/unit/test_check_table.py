"""The table of automated checks: found by discovery, each with its name and Chinese label."""

from __future__ import annotations

import pkgutil

import pytest

from services.checks import base, kinds
from services.checks.base import check, checks, find, label_of, names
from services.checks.model import MANUAL

LABELS = {
    "domain_live": "域名是否仍在解析和提供服务",
    "site_reachable": "站点能否正常访问",
    "column_fresh": "栏目是否及时更新",
    "column_blank": "栏目是否仍为空白",
    "broken_links": "页面链接是否可用",
}


def test_discovery_finds_every_check_with_its_label():
    assert {name: c.label for name, c in checks().items()} == LABELS
    assert names() == sorted(LABELS)
    assert all(c.name == name for name, c in checks().items())


def test_every_module_of_the_kinds_package_is_imported_and_registers_a_check():
    modules = {m.name for m in pkgutil.iter_modules(kinds.__path__)}
    assert modules == {"broken_links", "columns", "domain", "reachability"}
    origins = {c.run.__module__.rsplit(".", 1)[-1] for c in checks().values()}
    assert origins == modules


def test_labels_come_from_the_registered_check():
    assert label_of("column_fresh") == "栏目是否及时更新"
    assert label_of(MANUAL) == label_of(None) == "无自动检查（人工核实）"
    assert label_of("no_such_check") == "no_such_check"
    assert find("no_such_check") is None


def test_a_second_check_under_a_taken_name_is_refused():
    async def impostor(request, context):
        raise AssertionError("never run")

    with pytest.raises(ValueError, match="defined twice"):
        check("column_fresh", label="冒名")(impostor)
    assert find("column_fresh").label == "栏目是否及时更新"


@pytest.mark.parametrize(("name", "label"), [("", "标签"), (MANUAL, "标签"), ("x_check", "")])
def test_a_check_needs_a_real_name_and_a_label(name, label):
    with pytest.raises(ValueError):
        check(name, label=label)


def test_registering_the_same_function_again_is_harmless():
    registered = find("column_blank")
    assert check("column_blank", label=registered.label)(registered.run) is registered.run
    assert base.checks()["column_blank"] == registered
