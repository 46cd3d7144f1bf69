"""Bench timing: interleaved, shuffled rounds and the statistics reported from them.

Input: named variants (zero-argument callables). Output: per variant, the seconds of every round;
then medians and, against a baseline, the median of the same-round ratios. Each round runs every
variant once in a shuffled order, so the noise of a shared machine hits all of them alike; a ratio
taken within one round cancels most of it (docs/performance.md).
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Variant = Callable[[], object]


@dataclass(frozen=True, slots=True)
class Timings:
    """Seconds per round for each variant (the same round index is the same round)."""

    seconds: dict[str, list[float]]

    def median(self, name: str) -> float:
        """The variant's median seconds over the rounds."""
        return statistics.median(self.seconds[name])

    def iqr(self, name: str) -> float:
        """The interquartile range over the median (0.1 = 10 %), a measure of the noise."""
        values = self.seconds[name]
        if len(values) < 4:
            return 0.0
        q1, _, q3 = statistics.quantiles(values, n=4)
        return (q3 - q1) / statistics.median(values)

    def ratio(self, name: str, baseline: str) -> float:
        """The median over rounds of ``name``'s time divided by ``baseline``'s time in the same round."""
        pairs = zip(self.seconds[name], self.seconds[baseline], strict=True)
        return statistics.median(a / b for a, b in pairs)

    def ratio_quartiles(self, name: str, baseline: str) -> tuple[float, float, float]:
        """The first quartile, median and third quartile over rounds of the same-round ratio, each
        within the ratios seen (the median alone for fewer than two rounds)."""
        ratios = [a / b for a, b in zip(self.seconds[name], self.seconds[baseline], strict=True)]
        if len(ratios) < 2:
            middle = statistics.median(ratios)
            return middle, middle, middle
        q1, q2, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
        return q1, q2, q3

    def ratio_of_sums(self, names: Sequence[str], baselines: Sequence[str]) -> float:
        """Like ``ratio`` for steps that run one after the other: the median over rounds of the
        summed time of ``names`` divided by the summed time of ``baselines`` in the same round."""
        ours, theirs = self._sums(names), self._sums(baselines)
        return statistics.median(a / b for a, b in zip(ours, theirs, strict=True))

    def median_of_sums(self, names: Sequence[str]) -> float:
        """The median over rounds of the summed time of ``names``."""
        return statistics.median(self._sums(names))

    def _sums(self, names: Sequence[str]) -> list[float]:
        columns = [self.seconds[name] for name in names]
        return [sum(column[i] for column in columns) for i in range(len(columns[0]))]


def run_rounds(variants: Mapping[str, Variant], rounds: int, seed: int = 7, warmup: int = 1) -> Timings:
    """Run every variant ``warmup`` times, then ``rounds`` rounds in a per-round shuffled order."""
    names = list(variants)
    for _ in range(warmup):
        for name in names:
            variants[name]()
    rng = random.Random(seed)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        order = names[:]
        rng.shuffle(order)
        for name in order:
            seconds[name].append(time_once(variants[name]))
    return Timings(seconds)


def time_once(variant: Variant) -> float:
    """Seconds of one call, after a full collection so no variant pays for another's garbage."""
    gc.collect()
    started = time.perf_counter()
    variant()
    return time.perf_counter() - started


def median_of(values: Sequence[float]) -> float:
    """The median (NaN for no values)."""
    return statistics.median(values) if values else float("nan")


__all__ = ["Timings", "Variant", "median_of", "run_rounds", "time_once"]
