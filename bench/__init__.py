"""Benchmarks (not tests): run each with `python -m bench.NAME` from the repo root."""
