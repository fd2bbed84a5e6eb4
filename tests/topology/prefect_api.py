"""The Prefect server as an operator's script sees it: deployments run by name and flow runs
followed over the REST API (plain httpx: the test process never imports Prefect)."""

from __future__ import annotations

import re
import time

import httpx

from tests.topology.processes import Failed

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
ENGINE_LINE = re.compile(
    r"Finished in state|submitted to infrastructure|Downloading flow code|Beginning flow run"
    r"|View at |Opening process|Process for flow run|Created task run|Executing|submitting flow run"
)
FLOW_RUN_ID = re.compile(r"UUID:\s*([0-9a-f-]{36})")


class PrefectApi:
    def __init__(self, api_url: str):
        self.api_url = api_url.rstrip("/")
        self.http = httpx.Client(base_url=self.api_url, timeout=30)

    def close(self) -> None:
        self.http.close()

    def deployments(self) -> dict[str, dict]:
        """The server's deployments by name, with their schedules and concurrency."""
        answer = self.http.post("/deployments/filter", json={"limit": 50})
        answer.raise_for_status()
        return {d["name"]: d for d in answer.json()}

    def flow_run(self, run_id: str) -> dict:
        answer = self.http.get(f"/flow_runs/{run_id}")
        answer.raise_for_status()
        return answer.json()

    def state(self, run_id: str) -> tuple[str, str]:
        """(type, message) of a flow run's state."""
        state = self.flow_run(run_id).get("state") or {}
        return state.get("type", ""), state.get("message") or ""

    def wait_final(self, run_id: str, *, timeout: float, what: str) -> dict:
        """Wait for the run's final state; Failed unless it completed."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            run = self.flow_run(run_id)
            state = run.get("state") or {}
            if state.get("type") in FINAL:
                if state["type"] != "COMPLETED":
                    raise Failed(f"{what} ended {state['type']}: {state.get('message')}")
                return run
            time.sleep(0.5)
        raise Failed(f"{what} not finished after {timeout:.0f} s: {self.state(run_id)}")

    def result_of(self, run_id: str, *, wait: float = 10.0) -> str:
        """The flow run's own last two log lines at INFO and above (what the operator reads in
        the UI; Prefect's engine and worker lines left out), once they have arrived."""
        started = time.monotonic()
        said: list[str] = []
        while not said and time.monotonic() - started < wait:
            answer = self.http.post(
                "/logs/filter",
                json={
                    "logs": {"flow_run_id": {"any_": [run_id]}, "level": {"ge_": 20}},
                    "sort": "TIMESTAMP_DESC",
                    "limit": 30,
                },
            )
            answer.raise_for_status()
            said = [
                log["message"] for log in answer.json() if not ENGINE_LINE.search(log["message"])
            ]
            if not said:
                time.sleep(0.5)
        return " | ".join(message[:160] for message in reversed(said[:2])) or "(no log lines)"

    def running_tasks(self, run_id: str, prefix: str) -> list[str]:
        """Names of the flow run's task runs now running whose names start with ``prefix``."""
        answer = self.http.post(
            "/task_runs/filter",
            json={
                "flow_runs": {"id": {"any_": [run_id]}},
                "task_runs": {"state": {"type": {"any_": ["RUNNING"]}}},
            },
        )
        answer.raise_for_status()
        return [t["name"] for t in answer.json() if t["name"].startswith(prefix)]


def flow_run_id(output: str) -> str:
    """The flow run's id in the output of ``prefect deployment run``."""
    match = FLOW_RUN_ID.search(output)
    if match is None:
        raise Failed(f"no flow run id in the output of prefect deployment run:\n{output[-2000:]}")
    return match.group(1)


def online_workers(api: PrefectApi, pool: str) -> list[str]:
    """Names of the work pool's workers the server has heard from lately."""
    answer = api.http.post(f"/work_pools/{pool}/workers/filter", json={})
    answer.raise_for_status()
    return [w["name"] for w in answer.json() if w.get("status") == "ONLINE"]
