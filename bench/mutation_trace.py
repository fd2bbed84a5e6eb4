"""A pytest plugin for ``bench/mutation.py``: which test runs which line of the mutated files.

Loaded with ``-p bench.mutation_trace``; ``MUTATION_TRACE_FILES`` names the source files to
watch (os.pathsep-separated absolute paths) and ``MUTATION_TRACE_OUT`` the JSON file written
at the end: ``{nodeid: {path: [line, ...]}}``. Lines run outside any test (imports, collection)
are filed under ``""``. Only frames of the watched files get a line tracer, so the rest of the
run pays one cheap call per function call.
"""

from __future__ import annotations

import json
import os
import sys
import threading

import pytest

_FILES = frozenset(p for p in os.environ.get("MUTATION_TRACE_FILES", "").split(os.pathsep) if p)
_HITS: dict[str, dict[str, set[int]]] = {}
_CURRENT = [""]


def _local(frame, event, arg):
    if event == "line":
        by_file = _HITS.setdefault(_CURRENT[0], {})
        by_file.setdefault(frame.f_code.co_filename, set()).add(frame.f_lineno)
    return _local


def _global(frame, event, arg):
    if frame.f_code.co_filename in _FILES:
        _local(frame, "line", arg)  # the def/first line itself
        return _local
    return None


def pytest_configure(config):
    if _FILES:
        sys.settrace(_global)
        threading.settrace(_global)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _CURRENT[0] = item.nodeid
    yield
    _CURRENT[0] = ""


def pytest_unconfigure(config):
    sys.settrace(None)
    threading.settrace(None)
    out = os.environ.get("MUTATION_TRACE_OUT")
    if out:
        data = {
            node: {path: sorted(lines) for path, lines in files.items()}
            for node, files in _HITS.items()
        }
        with open(out, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
