"""Benchmarks: each ``bench/bench_*.py`` measures one capability against a named peer.

Every module exposes ``run(quick: bool) -> list[Result]``. The runner (``python -m bench``)
prints medians and ratios, writes ``var/bench.json`` and refreshes the table in
``docs/benchmarks.md`` between its markers.
"""
