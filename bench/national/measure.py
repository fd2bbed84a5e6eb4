"""One stage's cost: wall time, CPU time (this process and its children), peak memory.

Peak memory is sampled (every 0.2 s) over this process and every descendant: the largest
resident set any one of them reached during the stage, and which process it was. CPU time
counts this process's own threads and every child process that ran in the stage (its
``psutil`` times while it lived, so a child still running at the end counts as well).
Long-lived helper processes (the fixture servers, the SMTP sink) are excluded by pid: they
stand in for the outside world.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

SAMPLE_SECONDS = 0.2


@dataclass
class StageFigures:
    name: str
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    peak_process: str = ""
    items: int = 0
    unit: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.items / self.wall_seconds if self.wall_seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "wall_seconds": round(self.wall_seconds, 2),
            "cpu_seconds": round(self.cpu_seconds, 2),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "peak_process": self.peak_process,
            "items": self.items,
            "unit": self.unit,
            "per_second": round(self.per_second, 1),
            **self.details,
        }


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


class Meter:
    """Measure a block: ``with Meter(name, excluded_pids) as m: ...; m.figures``."""

    def __init__(self, name: str, *, excluded: set[int] | None = None):
        self.figures = StageFigures(name)
        self.excluded = excluded or set()
        self._me = psutil.Process()
        self._stop = threading.Event()
        self._children_cpu: dict[int, float] = {}  # last CPU seen of each child
        self._children_start: dict[int, float] = {}  # CPU a child had when first seen

    def _descendants(self) -> list[psutil.Process]:
        try:
            return [p for p in self._me.children(recursive=True) if p.pid not in self.excluded]
        except psutil.Error:
            return []

    def _sample(self) -> None:
        for process in [self._me, *self._descendants()]:
            try:
                rss = process.memory_info().rss / 2**20
                if process is not self._me:
                    cpu = _cpu(process)
                    self._children_start.setdefault(
                        process.pid, self._baseline.get(process.pid, cpu)
                    )
                    self._children_cpu[process.pid] = cpu
                if rss > self.figures.peak_rss_mb:
                    self.figures.peak_rss_mb = rss
                    self.figures.peak_process = " ".join(process.cmdline()[:3])[:120]
            except psutil.Error:
                continue

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sample()

    def __enter__(self) -> Meter:
        # Children alive before the stage count only for the CPU they spend during it.
        self._baseline = {}
        for process in self._descendants():
            try:
                self._baseline[process.pid] = _cpu(process)
            except psutil.Error:
                pass
        self._cpu0 = _cpu(self._me)
        self._sample()
        self._thread = threading.Thread(target=self._run, daemon=True, name="meter")
        self._wall0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.figures.wall_seconds = time.perf_counter() - self._wall0
        self._sample()
        self._stop.set()
        self._thread.join()
        children = sum(cpu - self._children_start[pid] for pid, cpu in self._children_cpu.items())
        self.figures.cpu_seconds = _cpu(self._me) - self._cpu0 + children


def timed(work, *args, **kwargs) -> tuple[Any, float, float]:
    """Run ``work`` and return (its result, wall seconds, this process's CPU seconds)."""
    me = psutil.Process()
    cpu0, wall0 = _cpu(me), time.perf_counter()
    result = work(*args, **kwargs)
    return result, time.perf_counter() - wall0, _cpu(me) - cpu0
