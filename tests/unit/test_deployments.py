"""prefect.yaml: one deployment per flow, with the schedules the office relies on."""

from __future__ import annotations

from cli.deployments import load_entries, runner_deployments


def test_every_flow_has_a_deployment_with_its_schedule_in_shanghai_time():
    schedules = {
        d.name: [(s.schedule.model_dump(exclude={"anchor_date"})) for s in d.schedules]
        for d in runner_deployments()
    }
    assert schedules["publish-round"] == []
    assert schedules["quarterly-recheck"][0]["cron"] == "0 2 1 1,4,7,10 *"
    assert schedules["overdue-sweep"][0]["cron"] == "30 1 * * *"
    assert schedules["dispatch-outbox"][0]["interval"].total_seconds() == 60
    timezones = {s[0]["timezone"] for s in schedules.values() if s}
    assert timezones == {"Asia/Shanghai"}


def test_no_two_runs_of_a_flow_overlap_and_every_entrypoint_imports():
    entries = load_entries()
    assert {e["concurrency_limit"] for e in entries} == {1}
    assert len(runner_deployments()) == len(entries) == 4
