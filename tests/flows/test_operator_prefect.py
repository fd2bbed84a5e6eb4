"""With PREFECT_API_URL given, /readyz asks the Prefect server and /metrics counts failed runs."""

from __future__ import annotations

import httpx

from tests.web.test_operator_endpoints import sample
from web.app import create_app


async def failed_runs(deployment: str, *, failed: int, completed: int, tag: str = "rectify"):
    """A deployment (tagged like prefect.yaml's) with runs ended Failed/Crashed and Completed."""
    from prefect.client.orchestration import get_client
    from prefect.states import Completed, Crashed, Failed

    async with get_client() as client:
        flow_id = await client.create_flow_from_name(f"flow-of-{deployment}")
        deployment_id = await client.create_deployment(flow_id, deployment, tags=[tag])
        ends = [Failed() if i % 2 else Crashed() for i in range(failed)]
        for state in ends + [Completed() for _ in range(completed)]:
            run = await client.create_flow_run_from_deployment(deployment_id)
            await client.set_flow_run_state(run.id, state, force=True)


async def test_the_failed_runs_of_rectify_deployments_are_reported(
    app, prefect_server, monkeypatch
):
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())
    await failed_runs("dispatch-outbox-test", failed=3, completed=2)
    await failed_runs("quiet-sweep-test", failed=0, completed=1)
    await failed_runs("someone-elses", failed=2, completed=0, tag="other")

    transport = httpx.ASGITransport(app=create_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        ready = await c.get("/readyz")
        text = (await c.get("/metrics")).text

    assert ready.status_code == 200, ready.json()
    assert ready.json()["checks"]["prefect"] == "ok"
    assert sample(text, "rectify_prefect_api_up") == 1
    failed = "rectify_flow_runs_failed"
    assert sample(text, failed, deployment="dispatch-outbox-test") == 3
    assert sample(text, failed, deployment="quiet-sweep-test") == 0
    assert 'deployment="someone-elses"' not in text
