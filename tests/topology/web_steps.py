"""A supervisor working through two web processes in turn, as a balancer would send them, and
what the operator endpoints of both say.

One cookie jar for both processes (cookies do not depend on the port): a session started on
one process must be recognised by the other, a CSRF token shown by one accepted by the other.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta

import httpx

from tests.topology.processes import Failed

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def _csrf(page: httpx.Response) -> str:
    match = CSRF.search(page.text)
    if match is None:
        raise Failed(f"{page.request.url}: no CSRF field in the page ({page.status_code})")
    return match.group(1)


def _signed_in_page(client: httpx.Client, url: str) -> httpx.Response:
    page = client.get(url)
    if page.status_code in (302, 303) and "/login" in page.headers.get("location", ""):
        raise Failed(f"{url}: sent back to the sign-in page (session not recognised)")
    if page.status_code != 200:
        raise Failed(f"{url}: {page.status_code}")
    return page


def sign_in(client: httpx.Client, bases: list[str], username: str, password: str) -> None:
    """Take the sign-in form from one process, post it to the other."""
    token = _csrf(client.get(f"{bases[0]}/login"))
    answer = client.post(
        f"{bases[-1]}/login",
        data={"username": username, "password": password, "next": "/", "csrf_token": token},
    )
    if answer.status_code != 303:
        raise Failed(f"sign-in through {bases[-1]}: {answer.status_code} {answer.text[:300]}")
    for base in bases:
        _signed_in_page(client, f"{base}/")


def extend_deadlines(
    client: httpx.Client, bases: list[str], cases: list[tuple[int, date]], *, today: date
) -> int:
    """Extend each case's deadline: the form read on one process, posted to the next, the new
    deadline read back on the other; the number of requests, every one answered as expected."""
    requests = 0
    for number, (case_id, deadline) in enumerate(cases):
        shown, posted = bases[number % 2], bases[(number + 1) % 2]
        token = _csrf(_signed_in_page(client, f"{shown}/cases/{case_id}"))
        new = max(deadline, today) + timedelta(days=7)
        answer = client.post(
            f"{posted}/cases/{case_id}/deadline",
            data={"new_deadline": new.isoformat(), "reason": "拓扑测试：延期", "csrf_token": token},
        )
        requests += 2
        if answer.status_code != 303 or "/login" in answer.headers.get("location", ""):
            raise Failed(
                f"extending case {case_id} through {posted}: {answer.status_code}"
                f" {answer.headers.get('location', '')} {answer.text[:300]}"
            )
        page = _signed_in_page(client, f"{shown}/cases/{case_id}")
        requests += 1
        if new.isoformat() not in page.text:
            raise Failed(f"case {case_id}: the new deadline {new} not shown by {shown}")
    return requests


def refused_after(
    client: httpx.Client, bases: list[str], username: str, password: str, *, failures: int
) -> bool:
    """Post ``failures`` wrong passwords to the processes in turn, then the right one to the
    next: whether the right password is refused (the account locked across processes)."""
    for number in range(failures + 1):
        base = bases[number % 2]
        token = _csrf(client.get(f"{base}/login"))
        tried = password if number == failures else "wrong-" + password
        answer = client.post(
            f"{base}/login",
            data={"username": username, "password": tried, "next": "/", "csrf_token": token},
        )
        if number < failures and answer.status_code == 303:
            raise Failed(f"a wrong password for {username} signed in through {base}")
    return answer.status_code != 303


def metric_samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Prometheus text exposition: samples by metric name, with their labels."""
    samples: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for line in text.splitlines():
        match = SAMPLE.match(line.strip())
        if line.startswith("#") or match is None:
            continue
        name, labels, value = match.groups()
        samples[name].append((dict(LABEL.findall(labels or "")), float(value)))
    return samples


def cases_by_state_metric(text: str) -> tuple[str, dict[str, float]] | None:
    """The metric that counts cases by state (summed over its other labels), if any."""
    for name, rows in metric_samples(text).items():
        if "case" not in name or not all("state" in labels for labels, _ in rows):
            continue
        totals: dict[str, float] = defaultdict(float)
        for labels, value in rows:
            totals[labels["state"]] += value
        return name, dict(totals)
    return None
