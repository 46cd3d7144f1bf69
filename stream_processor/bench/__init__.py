"""The benchmark suite behind ``make bench``: the transform against its baselines, cold start, memory,
response size, per-parser cost and the local twin end to end.

Input: deterministic synthetic traffic (``stream_processor.generate``). Output: a table on stdout and
a JSON result file (``.bench/results.json``). Run ``python -m stream_processor.bench --help``.
"""
