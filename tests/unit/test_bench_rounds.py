"""Bench statistics: same-round ratios, also of steps that run one after the other (billed time)."""

from __future__ import annotations

import pytest

from stream_processor.bench.rounds import Timings, run_rounds


def test_bench_ratios_are_medians_of_same_round_ratios() -> None:
    timings = Timings(
        {"a": [2.0, 4.0, 30.0], "dumps": [1.0, 1.0, 1.0], "b": [1.0, 1.0, 10.0], "b_dumps": [1.0, 3.0, 5.0]}
    )
    assert timings.ratio("a", "b") == 3.0  # rounds: 2, 4, 3
    # (2+1)/(1+1), (4+1)/(1+3), (30+1)/(10+5): 1.5, 1.25, 2.07
    assert timings.ratio_of_sums(["a", "dumps"], ["b", "b_dumps"]) == pytest.approx(1.5)
    assert timings.median_of_sums(["a", "dumps"]) == 5.0  # 3, 5, 31


def test_bench_rounds_run_every_variant_each_round() -> None:
    calls: list[str] = []
    timings = run_rounds({"x": lambda: calls.append("x"), "y": lambda: calls.append("y")}, rounds=5, warmup=1)
    assert calls.count("x") == calls.count("y") == 6
    assert all(len(values) == 5 and min(values) >= 0 for values in timings.seconds.values())


def test_bench_ratio_quartiles_are_those_of_the_same_round_ratios() -> None:
    timings = Timings({"a": [1.0, 2.0, 3.0, 8.0, 5.0], "b": [1.0, 1.0, 1.0, 1.0, 1.0]})
    # Ratios 1, 2, 3, 8, 5: quartiles 2, 3, 5, never outside what was seen, even for two rounds.
    assert timings.ratio_quartiles("a", "b") == (2.0, 3.0, 5.0)
    low, _, high = Timings({"a": [1.0, 2.0], "b": [1.0, 1.0]}).ratio_quartiles("a", "b")
    assert 1.0 <= low <= high <= 2.0
    assert Timings({"a": [2.0], "b": [4.0]}).ratio_quartiles("a", "b") == (0.5, 0.5, 0.5)
