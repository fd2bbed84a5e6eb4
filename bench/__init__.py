"""Benchmarks: each ``bench/bench_*.py`` module has ``run(scale: float) -> dict``."""
