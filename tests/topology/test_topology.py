"""The whole system on this machine as an operator runs it on several (``make test-topology``).

PostgreSQL for the app and for Prefect; a Prefect server on it; ``prefect deploy --all`` onto a
process work pool and two ``prefect worker start --pool rectify`` processes; the recheck's and
the sweep's batches on two worker processes (two ``dask worker`` processes behind a
``dask scheduler`` once the flows distribute through prefect-dask); two uvicorn processes on
loopback with one secret key. It runs publish → sweep → recheck through the deployments,
kills one worker process in the middle of the recheck, and checks that every case ended as an
uninterrupted run of the same steps ended on a copy of the data (``rectify_topo_ref``), that
nobody was verified twice and the counters equal a recount; a supervisor signs in and works
through both web processes; the metrics endpoint reports the cases by state.

Steps that need a part of issue 17 not yet in the tree say so in the summary (``not run yet``)
and switch on by themselves when it lands (``Parts`` below).
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.core.settings import Settings
from tests.support.mailserver import MailServer
from tests.topology import scenario, web_steps
from tests.topology.prefect_api import FINAL, PrefectApi, flow_run_id, online_workers
from tests.topology.processes import ROOT, Child, Failed, Topology, free_port, tool

POOL = "rectify"
RECHECK_TIMEOUT = 240


@dataclass(frozen=True)
class Parts:
    """Which parts of issue 17 the tree has (each switches its steps on)."""

    dask: bool  # A: recheck/sweep batches on Dask (RECTIFY_DASK_ADDRESS)
    shared_lockout: bool  # D: the sign-in lockout counted in the database
    operator_endpoints: bool  # E: /healthz, /readyz, /metrics

    @classmethod
    def present(cls) -> Parts:
        access = "".join(p.read_text("utf-8") for p in (ROOT / "services" / "access").glob("*.py"))
        web = "".join(p.read_text("utf-8") for p in (ROOT / "web").rglob("*.py"))
        return cls(
            dask="dask_address" in Settings.model_fields,
            shared_lockout="LoginFailure" in access,
            operator_endpoints="/healthz" in web,
        )


class Run:
    """One topology: its ports, environment, children and the Prefect API."""

    def __init__(self, folder: Path, mail: MailServer):
        self.parts = Parts.present()
        self.prefect_port, self.dask_port = free_port(), free_port()
        self.web = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
        api_url = f"http://127.0.0.1:{self.prefect_port}/api"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RECTIFY_", "PREFECT_"))}
        env |= {
            "PREFECT_HOME": str(folder / "prefect-home"),
            "PREFECT_API_URL": api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_LOGGING_EXTRA_LOGGERS": "services",
            "DO_NOT_TRACK": "1",
            "RECTIFY_HOME": str(ROOT),
            "RECTIFY_DATABASE_URL": scenario.app_url(),
            "RECTIFY_DATA_DIR": str(folder / "data"),
            "RECTIFY_SECRET_KEY": secrets.token_hex(32),
            "RECTIFY_SMTP_HOST": "127.0.0.1",
            "RECTIFY_SMTP_PORT": str(mail.port),
            "RECTIFY_BASE_URL": self.web[0],
            "RECTIFY_TEST_PG_URL": scenario.PG_URL,
        }
        if self.parts.dask:
            env["RECTIFY_DASK_ADDRESS"] = f"tcp://127.0.0.1:{self.dask_port}"
        self.topo = Topology(folder, env)
        self.api = PrefectApi(api_url)
        self.mail = mail
        self.batch_workers: list[Child] = []
        self.passwords: dict[str, str] = {}

    # -- set-up ------------------------------------------------------------------------------

    def databases(self) -> str:
        scenario.create_databases()
        self.topo.run("db-upgrade", [tool("rectify"), "db", "upgrade"], timeout=120)
        gen = [str(scenario.UNITS), str(scenario.CASES), str(scenario.SEED)]
        self.topo.run(
            "gen",
            [tool("rectify"), "gen", "--units", gen[0], "--cases", gen[1], "--seed", gen[2]],
            timeout=120,
        )
        line = scenario.prepare(scenario.app_url())
        for name in ("supervisor", "locked", "not-locked"):
            self.passwords[name] = scenario.add_supervisor(scenario.app_url(), name)
        scenario.copy_for_reference()
        return line

    def start_prefect_server(self) -> None:
        self.topo.start(
            "prefect-server",
            [tool("prefect"), "server", "start", "--host", "127.0.0.1"]
            + ["--port", str(self.prefect_port)],
            PREFECT_API_DATABASE_CONNECTION_URL=scenario.prefect_url(),
        )

    def prefect_server(self) -> str:
        server = self.topo.children[0]
        self.topo.wait_http(server, f"{self.api.api_url}/health", timeout=150)
        return f"healthy {time.monotonic() - server.started:.1f} s after its start, on {scenario.PREFECT_DB}"

    def deploy(self) -> str:
        prefect = tool("prefect")
        self.topo.run(
            "work-pool",
            [prefect, "work-pool", "create", POOL, "--type", "process", "--overwrite"],
            timeout=90,
        )
        self.topo.run("deploy", [prefect, "--no-prompt", "deploy", "--all"], timeout=180)
        names = sorted(self.api.deployments())
        expected = ["dispatch-outbox", "overdue-sweep", "publish-round", "quarterly-recheck"]
        if not set(expected) <= set(names):
            raise Failed(f"deployments on the server: {names}, expected {expected}")
        return ", ".join(names)

    def batch_engine(self) -> str:
        """Two worker processes for the batches: ``dask worker``s behind a scheduler (A)."""
        if not self.parts.dask:
            return "the flow runs' own threads (two prefect workers below; A not landed yet)"
        dask = tool("dask")
        scheduler = self.topo.start(
            "dask-scheduler",
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(self.dask_port)]
            + ["--no-dashboard"],
        )
        address = f"tcp://127.0.0.1:{self.dask_port}"
        for number in (1, 2):
            self.batch_workers.append(
                self.topo.start(
                    f"dask-worker-{number}",
                    [dask, "worker", address, "--nworkers", "1", "--nthreads", "1"]
                    + ["--name", f"topo-{number}", "--no-dashboard"],
                )
            )

        def registered() -> bool:
            return scheduler.log.read_text("utf-8", errors="replace").count("Register worker") >= 2

        waited = self.topo.wait_for("two dask workers", registered, timeout=90, child=scheduler)
        return f"scheduler {address}, 2 dask workers registered after {waited:.1f} s"

    def flow_workers(self) -> str:
        for number in (1, 2):
            self.topo.start(
                f"prefect-worker-{number}",
                [tool("prefect"), "worker", "start", "--pool", POOL]
                + ["--name", f"topo-worker-{number}"],
            )
        waited = self.topo.wait_for(
            "two prefect workers online",
            lambda: len(online_workers(self.api, POOL)) >= 2,
            timeout=90,
        )
        return f"2 workers online after {waited:.1f} s"

    def web_processes(self) -> str:
        probe = "/healthz" if self.parts.operator_endpoints else "/login"
        for number, base in enumerate(self.web, start=1):
            port = base.rsplit(":", 1)[1]
            child = self.topo.start(
                f"web-{number}",
                [tool("uvicorn"), "--factory", "web.asgi:make_app", "--host", "127.0.0.1"]
                + ["--port", port, "--no-proxy-headers"],
            )
            self.topo.wait_http(child, base + probe, timeout=60)
        return f"{' and '.join(self.web)} answer {probe}"

    # -- the runs ----------------------------------------------------------------------------

    def reference(self) -> str:
        """The same three steps on the copy, uninterrupted, in this process."""
        return scenario.reference_run(scenario.app_url(scenario.REFERENCE_DB))

    def deployment_run(self, name: str, **parameters: str) -> str:
        """Start a run of a deployment as an operator does; its flow run id."""
        command = [tool("prefect"), "deployment", "run", f"{name}/{name}"]
        for key, value in parameters.items():
            command += ["--param", f"{key}={value}"]
        return flow_run_id(self.topo.run(f"run-{name}", command, timeout=90))

    def run_through_deployment(self, name: str, **parameters: str) -> str:
        run_id = self.deployment_run(name, **parameters)
        self.api.wait_final(run_id, timeout=RECHECK_TIMEOUT, what=name)
        return self.api.result_of(run_id)

    def dispatch(self) -> str:
        """The outbox delivered to loopback SMTP through the dispatch-outbox deployment: our
        run, or (when the deployment's slot was held and ours was cancelled: CANCEL_NEW) the
        deployment's scheduled runs, which deliver the same outbox every minute."""
        # The scheduled runs may each take a while over a backlog of a thousand messages:
        # keep asking for three minutes, not a fixed number of times.
        deadline, cancelled, said = time.monotonic() + 180, 0, ""
        while True:
            run_id = self.deployment_run("dispatch-outbox")
            try:
                self.api.wait_final(run_id, timeout=RECHECK_TIMEOUT, what="dispatch-outbox")
                said = self.api.result_of(run_id)
                break
            except Failed:
                if self.api.state(run_id)[0] != "CANCELLED":
                    raise
                cancelled += 1
                if self._delivered():
                    said = f"ours cancelled {cancelled} times, the scheduled runs delivered"
                    break
                if time.monotonic() > deadline:
                    raise Failed(f"dispatch-outbox cancelled {cancelled} times in 180 s") from None
                time.sleep(5)
        statuses = scenario.outbox_by_status(scenario.app_url())
        received = len(self.mail.received)
        if not self._delivered():
            raise Failed(f"outbox {statuses}, the SMTP server received {received}")
        return f"{said}; outbox {statuses}; SMTP received {received}"

    def _delivered(self) -> bool:
        """Mail was sent, and the SMTP server received exactly what the outbox says it sent."""
        statuses = scenario.outbox_by_status(scenario.app_url())
        return bool(statuses.get("sent")) and len(self.mail.received) == statuses["sent"]

    def recheck_with_a_kill(self) -> str:
        """The recheck through its deployment; one batch worker process SIGKILLed (with its
        nanny: the machine lost) while batches run, after which the flow run must complete."""
        parameters = {"round_code": scenario.RECHECK_ROUND, "outcomes": "marks"}
        if not self.parts.dask:
            ran = self.run_through_deployment("quarterly-recheck", **parameters)
            return f"no worker killed yet: needs A (batches on Dask workers); {ran}"
        run_id = self.deployment_run("quarterly-recheck", **parameters)
        url = scenario.app_url()

        def batches_running() -> bool:
            if self.api.state(run_id)[0] in FINAL:
                return True
            return bool(self.api.running_tasks(run_id, "recheck_batches"))

        self.topo.wait_for("the recheck's batches", batches_running, timeout=RECHECK_TIMEOUT)
        time.sleep(1.0)  # into the batches' transactions
        if self.api.state(run_id)[0] != "RUNNING":
            raise Failed(f"the recheck was {self.api.state(run_id)} before the kill")
        at_kill = scenario.run_events(url, "quarterly-recheck")
        victim = self.batch_workers[0]
        victim.kill()
        self.api.wait_final(run_id, timeout=RECHECK_TIMEOUT, what="quarterly-recheck")
        total = scenario.run_events(url, "quarterly-recheck")
        if at_kill >= total:
            raise Failed(f"nothing left to do after the kill ({at_kill} of {total} events)")
        return (
            f"{victim.name} SIGKILLed at {at_kill} of {total} recheck events, the run completed;"
            f" {self.api.result_of(run_id)}"
        )

    # -- checks ------------------------------------------------------------------------------

    def same_as_uninterrupted(self) -> str:
        expected = scenario.comparable(scenario.app_url(scenario.REFERENCE_DB))
        actual = scenario.comparable(scenario.app_url())
        problems = scenario.differences(expected, actual)
        for url in (scenario.app_url(), scenario.app_url(scenario.REFERENCE_DB)):
            checked = scenario.checks_of_a_run(url)
            for key in ("verified_twice", "escalated_twice"):
                if checked[key]:
                    problems.append(f"{url}: {key} {checked[key][:10]}")
            if checked["counter_mismatches"]:
                problems.append(f"{url}: {checked['counter_mismatches']} counters off a recount")
        if problems:
            raise Failed(
                "the topology's run differs from an uninterrupted one:\n" + "\n".join(problems)
            )
        return (
            f"{len(actual['cases'])} cases, {len(actual['events'])} events,"
            f" {len(actual['outbox'])} outbox rows as uninterrupted; none verified twice;"
            " counters equal a recount"
        )

    def web_work(self) -> str:
        client = httpx.Client(timeout=30)
        try:
            web_steps.sign_in(client, self.web, "supervisor", self.passwords["supervisor"])
            cases = scenario.open_cases(scenario.app_url(), 6)
            requests = web_steps.extend_deadlines(client, self.web, cases, today=scenario.DAY)
        finally:
            client.close()
        return f"signed in on one process, {requests} requests alternating, all answered signed in"

    def lockout(self) -> str:
        if not self.parts.shared_lockout:
            return "not run yet: needs D (the lockout counted in the database)"
        limit = Settings().login_max_failures
        with httpx.Client(timeout=30) as client:
            early = web_steps.refused_after(
                client, self.web, "not-locked", self.passwords["not-locked"], failures=limit - 1
            )
            locked = web_steps.refused_after(
                client, self.web, "locked", self.passwords["locked"], failures=limit
            )
        if early or not locked:
            raise Failed(f"lockout: refused after {limit - 1}: {early}, after {limit}: {locked}")
        return f"locked after exactly {limit} failures spread over both processes"

    def metrics(self) -> str:
        if not self.parts.operator_endpoints:
            return "not run yet: needs E (/healthz, /readyz, /metrics)"
        by_state = scenario.checks_of_a_run(scenario.app_url())["by_state"]
        for base in self.web:
            for path in ("/healthz", "/readyz"):
                answer = httpx.get(base + path, timeout=30)
                if answer.status_code != 200:
                    raise Failed(f"{base}{path}: {answer.status_code} {answer.text[:300]}")
            found = web_steps.cases_by_state_metric(httpx.get(base + "/metrics", timeout=30).text)
            if found is None:
                raise Failed(f"{base}/metrics: no metric of cases by state")
            name, reported = found
            wrong = {s: (n, reported.get(s)) for s, n in by_state.items() if reported.get(s) != n}
            if wrong:
                raise Failed(f"{base}/metrics {name} differs from the database: {wrong}")
        return f"/healthz, /readyz 200 on both; {name} = {dict(sorted(by_state.items()))}"


def test_the_system_on_several_processes_ends_every_case_as_one_uninterrupted_run():
    folder = Path(tempfile.mkdtemp(prefix="rectify-topology-"))
    mail = MailServer().start()
    run = Run(folder, mail)
    topo, passed = run.topo, False
    try:
        topo.step("databases (app, reference copy, prefect)", run.databases)
        run.start_prefect_server()  # it starts while the reference runs
        topo.step("reference: publish, sweep, recheck uninterrupted", run.reference)
        topo.step("prefect server on PostgreSQL", run.prefect_server)
        topo.step("prefect deploy --all", run.deploy)
        topo.step("batch worker processes", run.batch_engine)
        topo.step("prefect workers", run.flow_workers)
        topo.step("web processes", run.web_processes)
        topo.step(
            "publish-round",
            lambda: run.run_through_deployment("publish-round", round_code=scenario.PUBLISH_ROUND),
        )
        topo.step("overdue-sweep", lambda: run.run_through_deployment("overdue-sweep"))
        topo.step("quarterly-recheck, a worker killed", run.recheck_with_a_kill)
        topo.check("every case as an uninterrupted run", run.same_as_uninterrupted)
        topo.check("dispatch-outbox to loopback SMTP", run.dispatch)
        topo.check("a supervisor through both web processes", run.web_work)
        topo.check("lockout across processes", run.lockout)
        topo.check("operator endpoints and metrics", run.metrics)
        if topo.failures:
            raise Failed("\n".join(topo.failures))
        passed = True
    finally:
        topo.stop_all()
        mail.stop()
        run.api.close()
        if passed or os.environ.get("RECTIFY_TOPOLOGY_KEEP") != "1":
            try:
                scenario.drop_databases()
            except Exception as exc:  # reported, never hiding the test's own failure
                topo.notes.append(f"dropping the databases: {exc!r}")
        else:
            topo.notes.append("RECTIFY_TOPOLOGY_KEEP=1: the databases are kept for a look")
        summary = topo.summary()
        (folder / "summary.txt").write_text(summary + "\n", "utf-8")
        print("\n" + summary)
        if not passed:
            print(topo.failure_report())
