"""Benchmarks for issue 9: `python -m bench` runs the cases and writes results.json and results.md."""
