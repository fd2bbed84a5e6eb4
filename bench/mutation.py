"""``make mutation``: mutation testing of the rules a person sees, on SQLite only.

One mutation at a time (``ast`` finds it, the source text around it is kept) is applied to a
COPY of the working tree (never to the real files), and only the tests that run the mutated
lines are run against it, with a timeout (a mutant that loops is killed by the timeout).
Which test runs which line comes from one traced run per module (``bench/mutation_trace.py``);
a mutation of module-level code (tables, defaults, decorators) runs at import, so every test
mapped to the module runs. Mutations: comparison operators (boundary and negation), ``+ - * /``
swapped, integers ±1, ``True``/``False`` swapped, strings (f-string parts too) → "XX",
``and``/``or`` swapped, ``not`` removed, ``return x`` → ``return None``.

Equivalent mutants are listed with the reason in ``bench/mutation_equivalent.yaml``.
Writes ``bench/results/mutation.json``; exits 1 when a module kills < ``--min-score`` % of
its non-equivalent mutants.

    .venv/bin/python -m bench.mutation [--jobs 2] [--only deadlines] [--list]
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
EQUIVALENT = ROOT / "bench" / "mutation_equivalent.yaml"

#: module → the tests that pin it (``only``: the top-level names mutated, all when absent).
TARGETS: dict[str, dict] = {
    "states/lifecycle.py": {
        "tests": ["tests/unit/test_lifecycle.py", "tests/unit/test_labels.py"],
    },
    "states/rules.py": {"tests": ["tests/unit/test_rules.py", "tests/unit/test_labels.py"]},
    "services/core/deadlines.py": {
        "tests": ["tests/unit/test_deadlines.py", "tests/unit/test_deadline_edges.py"],
    },
    "services/reports/stats.py": {
        "tests": [
            "tests/unit/test_pass_rate.py",
            "tests/integration/reports/test_pass_rates.py",
            "tests/integration/reports/test_notice.py",
            "tests/integration/reports/test_notice_seed.py",
        ],
    },
    "services/rounds/rounds.py": {
        "only": [
            *("RATE_DECIMALS", "RATE_RULES", "rate_problems", "rate_rule_problems"),
            *("KindTally", "tally", "pass_rate", "previous_round"),
        ],
        "tests": [
            "tests/unit/test_pass_rate.py",
            "tests/integration/reports/test_pass_rates.py",
            "tests/integration/reports/test_notice.py",
            "tests/integration/reports/test_notice_seed.py",
        ],
    },
    "services/reports/problems.py": {
        "tests": [
            "tests/unit/test_notice_history.py",
            "tests/integration/reports/test_notice.py",
            "tests/integration/reports/test_notice_seed.py",
        ],
    },
}

_COMPARE = {
    ast.Lt: (ast.LtE, ast.GtE),
    ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE),
    ast.GtE: (ast.Gt, ast.Lt),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
}
_BINOP = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
}


@dataclass
class Mutant:
    module: str
    scope: str  # the enclosing def/class, or "<module>"
    start: tuple[int, int]  # (line, byte column) of the replaced span
    end: tuple[int, int]
    original: str
    replacement: str
    at_import: bool  # runs at import: every mapped test
    key: str = ""
    status: str = ""
    tests: list[str] = field(default_factory=list)
    seconds: float = 0.0


class _Finder:
    """Walks a module and lists one Mutant per mutation of the kinds above."""

    def __init__(self, module: str, source: str, only: list[str] | None):
        self.module, self.source, self.only = module, source, only
        self.lines = source.encode().splitlines(keepends=True)
        self.found: list[Mutant] = []

    def segment(self, node) -> str:
        return ast.get_source_segment(self.source, node) or ""

    def add(self, node, replacement: str, scope: str, in_def: bool) -> None:
        self.found.append(
            Mutant(
                self.module,
                scope,
                (node.lineno, node.col_offset),
                (node.end_lineno, node.end_col_offset),
                self.segment(node),
                replacement,
                at_import=not in_def,
            )
        )

    def run(self) -> list[Mutant]:
        for stmt in ast.parse(self.source).body:
            name = getattr(stmt, "name", None)
            if isinstance(stmt, ast.ImportFrom | ast.Import) or _is_docstring(stmt):
                continue
            if self.only is not None:
                targets = [t.id for t in getattr(stmt, "targets", []) if isinstance(t, ast.Name)]
                if name not in self.only and not set(targets) & set(self.only):
                    continue
            self.visit(stmt, name or "<module>", False)
        return self.found

    def visit(self, node, scope: str, in_def: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            is_def = not isinstance(node, ast.ClassDef)
            args = getattr(node, "args", None)
            defaults = [*args.defaults, *filter(None, args.kw_defaults)] if args else []
            for child in [*node.decorator_list, *defaults]:
                self.visit(child, scope, in_def)
            inner = f"{scope}.{node.name}" if scope != node.name else scope
            for stmt in node.body:
                if not _is_docstring(stmt):
                    self.visit(stmt, inner, in_def or is_def)
            return
        if isinstance(node, ast.JoinedStr):
            self.fstring(node, scope, in_def)
            return
        self.mutate(node, scope, in_def)
        for name, value in ast.iter_fields(node):
            if name in ("annotation", "returns"):
                continue  # annotations are never evaluated (from __future__ import annotations)
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, ast.AST):
                    self.visit(child, scope, in_def)

    def fstring(self, node: ast.JoinedStr, scope: str, in_def: bool) -> None:
        for i, part in enumerate(node.values):
            if isinstance(part, ast.Constant) and part.value != "XX":
                changed = copy.deepcopy(node)
                changed.values[i] = ast.Constant("XX")
                self.add(node, f"({ast.unparse(changed)})", scope, in_def)

    def mutate(self, node, scope: str, in_def: bool) -> None:
        def variant(**changes) -> str:
            changed = copy.deepcopy(node)
            for key, value in changes.items():
                setattr(changed, key, value)
            return ast.unparse(changed)

        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                for new in _COMPARE.get(type(op), ()):
                    ops = list(node.ops)
                    ops[i] = new()
                    self.add(node, f"({variant(ops=ops)})", scope, in_def)
        elif isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in _BINOP:
            text = variant(op=_BINOP[type(node.op)]())
            self.add(node, text if isinstance(node, ast.AugAssign) else f"({text})", scope, in_def)
        elif isinstance(node, ast.BoolOp):
            other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            self.add(node, f"({variant(op=other)})", scope, in_def)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self.add(node, f"({ast.unparse(node.operand)})", scope, in_def)
        elif isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                self.add(node, "return None", scope, in_def)
        elif isinstance(node, ast.Constant):
            self.constant(node, scope, in_def)

    def constant(self, node: ast.Constant, scope: str, in_def: bool) -> None:
        value = node.value
        if isinstance(value, bool):
            self.add(node, repr(not value), scope, in_def)
        elif isinstance(value, int):
            self.add(node, f"({value + 1})", scope, in_def)
            self.add(node, f"({value - 1})", scope, in_def)
        elif isinstance(value, str) and value != "XX":
            self.add(node, '"XX"', scope, in_def)


def _is_docstring(stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def find_mutants(module: str, source: str, only: list[str] | None = None) -> list[Mutant]:
    mutants = _Finder(module, source, only).run()
    seen: Counter = Counter()
    for m in mutants:
        base = f"{m.scope}: {' '.join(m.original.split())} -> {' '.join(m.replacement.split())}"
        seen[base] += 1
        m.key = base if seen[base] == 1 else f"{base} #{seen[base]}"
    return mutants


def apply(source: str, m: Mutant) -> str:
    """The module's source with ``m`` applied (columns are UTF-8 byte offsets, as in ast)."""
    lines = source.encode().splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    data = source.encode()
    start = offsets[m.start[0] - 1] + m.start[1]
    end = offsets[m.end[0] - 1] + m.end[1]
    return (data[:start] + m.replacement.encode() + data[end:]).decode()


# -- running ---------------------------------------------------------------------------------


def make_copy(dest: Path) -> None:
    """Tracked and untracked (not ignored) files of the working tree, as they are now."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    for module in TARGETS:  # the copy's modules must win over the editable install
        name = module.removesuffix(".py").replace("/", ".")
        where = subprocess.run(
            [sys.executable, "-c", f"import {name} as m; print(m.__file__)"],
            cwd=dest,
            env=_env(dest),
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if Path(where) != dest / module:
            raise SystemExit(f"{name} imports from {where}, not from the copy {dest}")
    # Byte-code for everything but the mutated modules, which then never get any: a mutant of
    # the same size written in the same second would otherwise run its original's cache.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(dest)], check=True)
    for module in TARGETS:
        for cached in (dest / module).parent.glob(f"__pycache__/{Path(module).stem}.*.pyc"):
            cached.unlink()


def _env(copy_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(
        os.environ,
        PYTHONPATH=str(copy_dir),
        PYTHONDONTWRITEBYTECODE="1",
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",  # schemathesis & co. cost seconds per run
        **extra,
    )
    env.pop("PYTEST_ADDOPTS", None)
    return env


def pytest(copy_dir: Path, tests: list[str], timeout: float, **env: str) -> tuple[str, float]:
    """'passed', 'failed', 'timeout' or 'error:<rc>' and the seconds it took."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "pytest_asyncio",
    ]
    # Unit tests need no database fixture: skipping tests/conftest.py saves its imports.
    unit = all(t.startswith("tests/unit/") for t in tests)
    cmd += ["--noconftest"] if unit else ["--db=sqlite"]
    if "MUTATION_TRACE_FILES" in env:
        cmd += ["-p", "bench.mutation_trace"]
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*cmd, *tests],
        cwd=copy_dir,
        env=_env(copy_dir, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return "timeout", time.perf_counter() - started
    status = {0: "passed", 1: "failed", 2: "failed", 3: "failed"}.get(rc, f"error:{rc}")
    return status, time.perf_counter() - started


def coverage_map(copy_dir: Path, module: str, tests: list[str]) -> tuple[dict, float]:
    """{line: [test function ids]} of ``module`` and the seconds the mapped tests took."""
    out = copy_dir / f".trace-{module.replace('/', '_')}.json"
    path = str(copy_dir / module)
    status, seconds = pytest(
        copy_dir, tests, 900, MUTATION_TRACE_FILES=path, MUTATION_TRACE_OUT=str(out)
    )
    if status != "passed":
        raise SystemExit(f"the tests of {module} fail before any mutation: {tests}")
    unit = [t for t in tests if t.startswith("tests/unit/")]
    if unit and pytest(copy_dir, unit, 300)[0] != "passed":
        raise SystemExit(f"the unit tests of {module} fail without tests/conftest.py: {unit}")
    lines: dict[int, set[str]] = {}
    for node, files in json.loads(out.read_text()).items():
        for line in files.get(path, []):  # node "": run at import (tables, _OUTCOMES, ...)
            lines.setdefault(line, set()).add(node.split("[", 1)[0] or "<import>")
    return {line: sorted(ids) for line, ids in lines.items()}, seconds


def run_module(module: str, spec: dict, copies: list[Path], equivalent: dict) -> dict:
    source = (copies[0] / module).read_text(encoding="utf-8")  # as copied, not as edited since
    mutants = find_mutants(module, source, spec.get("only"))
    tests = [t for t in spec["tests"] if (copies[0] / t).exists()]
    lines, seconds = coverage_map(copies[0], module, tests)
    timeout = max(60.0, seconds * 3)
    pool: list[Path] = list(copies)
    lock = threading.Lock()

    def one(m: Mutant) -> None:
        if m.key in equivalent:
            m.status = "equivalent"
            return
        chosen = {t for ln in range(m.start[0], m.end[0] + 1) for t in lines.get(ln, [])}
        m.tests = tests if m.at_import or "<import>" in chosen else sorted(chosen)
        if not m.tests:
            m.status = "survived"  # no test runs this line
            return
        with lock:
            copy_dir = pool.pop()
        target = copy_dir / module
        try:
            target.write_text(apply(source, m), encoding="utf-8")
            status, m.seconds = pytest(copy_dir, m.tests, timeout)
        finally:
            target.write_text(source, encoding="utf-8")
            with lock:
                pool.append(copy_dir)
        m.status = {"failed": "killed", "timeout": "killed (timeout)"}.get(status, status)
        if m.status == "passed":
            m.status = "survived"

    with ThreadPoolExecutor(len(copies)) as executor:
        list(executor.map(one, mutants))
    return summarize(module, mutants, equivalent)


def summarize(module: str, mutants: list[Mutant], equivalent: dict) -> dict:
    killed = [m for m in mutants if m.status.startswith("killed")]
    survived = [m for m in mutants if m.status == "survived"]
    errors = [m for m in mutants if m.status.startswith("error")]
    equiv = [m for m in mutants if m.status == "equivalent"]
    judged = len(mutants) - len(equiv)
    return {
        "tried": len(mutants),
        "killed": len(killed),
        "timeouts": sum(m.status == "killed (timeout)" for m in mutants),
        "survived": len(survived),
        "errors": len(errors),
        "equivalent": len(equiv),
        "score": round(100 * len(killed) / judged, 1) if judged else 100.0,
        "equivalents": [{"mutant": m.key, "reason": equivalent[m.key]} for m in equiv],
        "survivors": [
            {"mutant": m.key, "line": m.start[0], "tests": m.tests or "no test runs this line"}
            for m in survived + errors
        ],
        "stale_allowlist": sorted(set(equivalent) - {m.key for m in mutants}),
    }


def load_equivalent() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(EQUIVALENT.read_text(encoding="utf-8")) if EQUIVALENT.exists() else {}
    return {
        module: {entry["mutant"]: entry["reason"] for entry in entries or []}
        for module, entries in (data or {}).items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mutation")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run side by side")
    parser.add_argument("--only", nargs="*", default=[], help="modules whose path contains …")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--min-score", type=float, default=95.0)
    args = parser.parse_args(argv)
    chosen = {m: s for m, s in TARGETS.items() if not args.only or any(o in m for o in args.only)}
    if args.list:
        for module, spec in chosen.items():
            source = (ROOT / module).read_text(encoding="utf-8")
            for m in find_mutants(module, source, spec.get("only")):
                print(f"{module}:{m.start[0]}: {m.key}")
        return 0
    equivalent = load_equivalent()
    started = time.perf_counter()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="rectify-mutation-") as tmp:
        copies = [Path(tmp) / f"w{i}" for i in range(max(1, args.jobs))]
        for copy_dir in copies:
            make_copy(copy_dir)
        for module, spec in chosen.items():
            print(f"== {module}", flush=True)
            results[module] = run_module(module, spec, copies, equivalent.get(module, {}))
            _print_module(module, results[module])
    report = {"seconds": round(time.perf_counter() - started, 1), "modules": results}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "mutation.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    _print_table(results, report["seconds"])
    return 1 if any(r["score"] < args.min_score for r in results.values()) else 0


def _print_module(module: str, result: dict) -> None:
    for s in result["survivors"]:
        print(f"  SURVIVED {module}:{s['line']}: {s['mutant']}", flush=True)
    for key in result["stale_allowlist"]:
        print(f"  allowlisted but no longer generated: {key}", flush=True)


def _print_table(results: dict[str, dict], seconds: float) -> None:
    head = ("module", "tried", "killed", "timeout", "survived", "equivalent", "score %")
    print("\n| " + " | ".join(head) + " |\n|" + " --- |" * len(head))
    for module, r in results.items():
        cells = (module, r["tried"], r["killed"], r["timeouts"], r["survived"] + r["errors"])
        print("| " + " | ".join(map(str, (*cells, r["equivalent"], r["score"]))) + " |")
    print(f"\n{seconds:.0f} s; written to bench/results/mutation.json")


if __name__ == "__main__":
    sys.exit(main())
