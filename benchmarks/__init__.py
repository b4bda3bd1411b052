"""Benchmarks of pytest-smooth: ``python -m benchmarks`` (``--quick`` for a smoke run).

Each module measures one group of figures against a reference (raw Playwright, smooth-py
0.4.5, pytest-playwright, a run without added latency) and returns ``Figure`` rows; the
``__main__`` module prints them as a table and writes ``benchmarks/results.json``.
"""
