"""Child processes of the topology test: each in a process group of its own, its output in a
log file, waited for with a timeout, and always stopped (the whole group) when the test ends.

``Topology`` is the one owner of every child: ``stop_all`` runs in the test's ``finally``
whatever happened, and ``summary`` / ``failure_report`` print what each child did.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STOP_TIMEOUT = 15
LOG_TAIL_LINES = 60


def free_port() -> int:
    """A port nothing listens on now, on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tool(name: str) -> str:
    """A console script of this virtualenv (prefect, dask, uvicorn, rectify)."""
    return str(BIN / name)


class Failed(AssertionError):
    """A step of the topology did not do what it should (the message says which)."""


@dataclass
class Child:
    """One long-running process of the topology (a server, a worker, a web process)."""

    name: str
    command: list[str]
    log: Path
    process: subprocess.Popen
    started: float = field(default_factory=time.monotonic)
    ended: str = ""  # how it ended: "stopped", "killed by the test", "exited N"

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def signal_group(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self, why: str = "killed by the test") -> None:
        """SIGKILL the child and everything it started (its process group): a machine lost."""
        self.signal_group(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)
        self.ended = why

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL what is left after STOP_TIMEOUT seconds."""
        if not self.alive():
            self.ended = self.ended or f"exited {self.process.returncode}"
            self.signal_group(signal.SIGKILL)  # whatever it started and left behind
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
            self.ended = "stopped"
        except subprocess.TimeoutExpired:
            self.ended = "killed after not stopping"
        self.signal_group(signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=STOP_TIMEOUT)

    def tail(self, lines: int = LOG_TAIL_LINES) -> str:
        text = self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Step:
    name: str
    seconds: float
    result: str


class Topology:
    """The children, the one-off commands and the steps of one topology run, with their logs."""

    def __init__(self, folder: Path, env: dict[str, str]):
        self.folder = folder
        self.env = env
        self.children: list[Child] = []
        self.commands: list[tuple[str, Path, int | None]] = []
        self.steps: list[Step] = []
        self.notes: list[str] = []
        self.failures: list[str] = []
        self.started = time.monotonic()

    # -- children ----------------------------------------------------------------------------

    def start(self, name: str, command: list[str], **env: str) -> Child:
        """Start a long-running child in a new session (its own process group), output to a log."""
        log = self.folder / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env | env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        child = Child(name, command, log, process)
        self.children.append(child)
        return child

    def run(self, name: str, command: list[str], *, timeout: float, **env: str) -> str:
        """Run a one-off command to its end (killed after ``timeout``); its output, or Failed."""
        log = self.folder / f"{name}.log"
        started = time.monotonic()
        with log.open("ab") as out:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env | env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                code = None
        self.commands.append((name, log, code))
        output = log.read_text("utf-8", errors="replace")
        if code != 0:
            why = f"timed out after {timeout:.0f} s" if code is None else f"exited {code}"
            raise Failed(f"{name} ({' '.join(command[:4])} …) {why}:\n{output[-4000:]}")
        self.notes.append(f"{name}: {time.monotonic() - started:.1f} s")
        return output

    def wait_for(
        self, what: str, check: Callable[[], bool], *, timeout: float, child: Child | None = None
    ) -> float:
        """Poll ``check`` until true; Failed after ``timeout`` or when ``child`` dies first."""
        started = time.monotonic()
        last_error = ""
        while time.monotonic() - started < timeout:
            if child is not None and not child.alive():
                raise Failed(f"{child.name} exited ({child.process.returncode}) before {what}")
            try:
                if check():
                    return time.monotonic() - started
            except (httpx.HTTPError, OSError) as exc:  # not up yet: polled again
                last_error = f"; last error: {type(exc).__name__}: {exc}"
            time.sleep(0.25)
        raise Failed(f"timed out after {timeout:.0f} s waiting for {what}{last_error}")

    def wait_http(self, child: Child, url: str, *, timeout: float, ok=(200,)) -> float:
        """Wait until ``url`` answers one of ``ok`` (the child must stay alive meanwhile)."""

        def answers() -> bool:
            return httpx.get(url, timeout=2).status_code in ok

        return self.wait_for(f"{url} to answer", answers, timeout=timeout, child=child)

    def stop_all(self) -> None:
        """Stop every child still running, last started first; never raises."""
        for child in reversed(self.children):
            try:
                child.stop()
            except Exception as exc:  # keep stopping the others
                self.notes.append(f"stopping {child.name}: {exc!r}")
                child.signal_group(signal.SIGKILL)

    # -- steps and reports -------------------------------------------------------------------

    def step(self, name: str, action: Callable[[], str | None]) -> str:
        """Run one named step, timed; its one-line result goes to the summary."""
        started = time.monotonic()
        try:
            result = action() or "ok"
        except BaseException as exc:
            self.steps.append(Step(name, time.monotonic() - started, f"FAILED: {exc}"[:300]))
            raise
        self.steps.append(Step(name, time.monotonic() - started, result))
        return result

    def check(self, name: str, action: Callable[[], str | None]) -> None:
        """A step whose failure is recorded and the run goes on (the later checks still tell
        something); ``failures`` lists them for the test's end."""
        try:
            self.step(name, action)
        except Failed as failed:
            self.failures.append(f"{name}: {failed}")

    def summary(self) -> str:
        lines = [f"topology run: {time.monotonic() - self.started:.0f} s, logs in {self.folder}"]
        lines += [f"  {s.seconds:6.1f} s  {s.name}: {s.result[:400]}" for s in self.steps]
        lines.append("  processes:")
        for child in self.children:
            state = (
                "running" if child.alive() else child.ended or f"exited {child.process.returncode}"
            )
            lines.append(f"    {child.name:<16} pid {child.pid:<7} {state}")
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)

    def failure_report(self) -> str:
        """The tail of every log, for a failed run."""
        parts = []
        for child in self.children:
            parts.append(f"----- {child.name} ({child.log}) -----\n{child.tail()}")
        for name, log, code in self.commands:
            if code != 0:
                text = log.read_text("utf-8", errors="replace").splitlines()[-LOG_TAIL_LINES:]
                parts.append(f"----- {name} (exit {code}) -----\n" + "\n".join(text))
        return "\n".join(parts)
