"""Benchmarks: `python -m benchmarks.bench_load` and friends; figures in docs/benchmarks.md."""
