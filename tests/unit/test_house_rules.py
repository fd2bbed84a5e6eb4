"""The house rules a newcomer relies on: small modules and short functions in the code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "web", "flows", "cli", "notifications", "states")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def modules() -> list[Path]:
    found = [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]
    assert len(found) > 100, "the code was not found where the rules expect it"
    return found


def functions(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text("utf-8"))
    return [
        (node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def test_no_module_is_over_400_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in modules()
        if (lines := len(path.read_text("utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_no_function_is_over_80_lines():
    long = {
        f"{path.relative_to(ROOT)}:{name}": lines
        for path in modules()
        for name, lines in functions(path)
        if lines > MAX_FUNCTION_LINES
    }
    assert long == {}


@pytest.mark.parametrize("lines, breaks", [(MAX_FUNCTION_LINES, False), (81, True)])
def test_the_function_rule_counts_a_function_from_def_to_its_last_line(tmp_path, lines, breaks):
    body = "".join(f"    x{i} = {i}\n" for i in range(lines - 1))
    path = tmp_path / "m.py"
    path.write_text(f"def f():\n{body}")
    assert (functions(path)[0][1] > MAX_FUNCTION_LINES) is breaks


def test_the_default_demo_is_chosen_by_its_data_not_by_code():
    from services.ops import demo

    default = demo.default_scenario()
    assert "# 默认场景" in demo.demo_text().splitlines()[:5]
    assert demo.scenario_names()[0] == default
    assert default not in Path("services/ops/demo.py").read_text("utf-8")


def _office_words(scenario: dict) -> set[str]:
    """What names a scenario's office in its own words: its units' and issuers' names, the
    issuers' document-number prefixes and its rounds' titles."""
    words = set()
    for sheet, keys in (("units", ("name",)), ("issuers", ("name",)), ("rounds", ("title",))):
        for row in scenario.get(sheet) or []:
            words |= {str(row[key]) for key in keys if row.get(key)}
    for issuer in scenario.get("issuers") or []:
        if issuer.get("doc_pattern"):
            words.add(issuer["doc_pattern"].split("〔", 1)[0])
    return {word for word in words if len(word) >= 3}


def test_no_office_of_the_demo_scenarios_is_named_outside_the_demo_data():
    """Another office runs the same code: the names, document numbers and titles of the
    demo's offices live in ``demo/`` only, never in the product's code, templates or texts."""
    import yaml

    scenarios = sorted((ROOT / "demo").glob("*.yaml"))
    assert len(scenarios) >= 2, "the demo scenarios were not found where the rule expects them"
    words = set().union(*(_office_words(yaml.safe_load(p.read_text("utf-8"))) for p in scenarios))
    assert {"临沧市人民政府", "临政办字"} <= words  # the seed's office is among them
    product = [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*"))
        if path.is_file() and path.suffix in {".py", ".html", ".j2", ".txt", ".yaml", ".md", ".js"}
    ]
    named = {
        str(path.relative_to(ROOT)): sorted(w for w in words if w in text)[:3]
        for path in product
        if any(w in (text := path.read_text("utf-8")) for w in words)
    }
    assert named == {}
