"""The topology test runs only from ``make test-topology`` (RECTIFY_TOPOLOGY=1): it starts
PostgreSQL databases, a Prefect server, workers and web processes, which ``make test`` does not."""

import os

if os.environ.get("RECTIFY_TOPOLOGY") != "1":
    collect_ignore_glob = ["test_*.py"]
