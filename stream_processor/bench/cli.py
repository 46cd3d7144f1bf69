"""``python -m stream_processor.bench``: run the suite, print the tables, write the JSON result.

Input: flags (``--quick``, ``--out``, ``--only``; ``--against REV`` for the A/B of the transform at a
git revision against the working tree instead). Output: the tables on stdout and the results in
``.bench/results.json`` (``.bench/ab.json`` for the A/B). A full run takes a few minutes on a
2-vCPU machine, ``--quick`` about one; a bad flag or revision is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from stream_processor.bench.offline import quiet_environment

SECTIONS: Final = ("throughput", "stages", "cold_start", "memory", "twin")
DEFAULT_OUT: Final = Path(".bench/results.json")
DEFAULT_AB_OUT: Final = Path(".bench/ab.json")
# A/B: the deployed processor buffer and AWS's default one.
AB_SIZES_MB: Final = (0.25, 1.0)
AB_QUICK_SIZES_MB: Final = (0.25,)


@dataclass(frozen=True, slots=True)
class Profile:
    """How much of each measurement a run does."""

    sizes_mb: tuple[float, ...]
    rounds: int
    rounds_large: int  # for requests over 1 MB
    stage_rounds: int
    import_runs: int
    rss_runs: int
    rss_request_mb: float
    twin_events: int
    twin_runs: int
    # Small enough that every response fits the 6 MB budget (see the amplification), so the run
    # conserves every event without re-ingestion, which the twin cannot do offline.
    twin_buffer_mb: float


FULL: Final = Profile((0.25, 0.5, 1.0, 3.0), 25, 11, 15, 7, 3, 6.0, 200_000, 3, 0.25)
QUICK: Final = Profile((0.25, 1.0, 3.0), 7, 3, 5, 3, 1, 6.0, 50_000, 1, 0.25)


def _machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.machine()} {model} x{os.cpu_count()}".strip()


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _accelerators() -> list[str]:
    try:
        from transform_lambda import accel
    except ImportError:
        return []
    return list(accel.active())


def _build() -> str:
    try:
        from transform_lambda import native
    except ImportError:
        return "unknown"
    return native.STATUS or "unknown"


def _meta(quick: bool) -> dict[str, Any]:
    """What a result file says about the run: when, which commit, on what."""
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "python": platform.python_version(),
        "machine": _machine(),
        "accelerators": _accelerators(),
        "build": _build(),
        "quick": quick,
    }


def run(profile: Profile, sections: Sequence[str], quick: bool) -> dict[str, Any]:
    """Run the chosen sections; returns the results."""
    # Each section's module is imported when it runs: without pyarrow (a venv of the Lambda's own
    # dependencies) every section but the twin still runs.
    from stream_processor.bench.workload import MIB, firehose_event

    results: dict[str, Any] = {"meta": {**_meta(quick), "profile": _profile_dict(profile)}}
    started = time.perf_counter()
    if "throughput" in sections:
        from stream_processor.bench.throughput import measure_size

        results["throughput"] = {}
        for size in profile.sizes_mb:
            rounds = profile.rounds if size <= 1 else profile.rounds_large
            _say(f"throughput {size:g} MB, {rounds} rounds")
            results["throughput"][f"{size:g}"] = measure_size(firehose_event(int(size * MIB)), rounds)
    if "stages" in sections:
        from stream_processor.bench.stages import measure_stages

        _say("stages and parsers, 1 MB")
        results["stages"] = measure_stages(firehose_event(MIB), profile.stage_rounds)
    if "cold_start" in sections:
        from stream_processor.bench.probes import measure_cold_start

        _say("cold start")
        results["cold_start"] = measure_cold_start(profile.import_runs)
    if "memory" in sections:
        from stream_processor.bench.probes import measure_peak_rss

        _say(f"peak RSS, {profile.rss_request_mb:g} MB request")
        results["memory"] = measure_peak_rss(profile.rss_request_mb, profile.rss_runs)
    if "twin" in sections:
        from stream_processor.bench.twin import measure_twin

        _say(f"local twin, {profile.twin_events:,} log events")
        results["twin"] = measure_twin(profile.twin_events, profile.twin_buffer_mb, profile.twin_runs)
    results["meta"]["elapsed_s"] = round(time.perf_counter() - started, 1)
    return results


def _profile_dict(profile: Profile) -> dict[str, Any]:
    return {name: getattr(profile, name) for name in Profile.__slots__}


def _say(text: str) -> None:
    sys.stderr.write(f"bench: {text}\n")
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; 0 on success, 2 on bad usage."""
    parser = argparse.ArgumentParser(prog="python -m stream_processor.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="about one minute instead of a few")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"JSON result file (default {DEFAULT_OUT}; {DEFAULT_AB_OUT} for --against)",
    )
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)")
    parser.add_argument(
        "--against",
        metavar="REV",
        help="instead of the suite: the transform at git revision REV against the working tree, in one process",
    )
    args = parser.parse_args(argv)
    if args.against is not None:
        if args.only is not None:
            parser.error("--only chooses sections of the suite; --against runs the A/B alone")
        return _main_ab(args.against, args.quick, args.out or DEFAULT_AB_OUT)
    sections = [s.strip() for s in (args.only or ",".join(SECTIONS)).split(",") if s.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    quiet_environment()
    from stream_processor.bench.report import render, write_json

    results = run(QUICK if args.quick else FULL, sections, args.quick)
    sys.stdout.write(render(results))
    out = args.out or DEFAULT_OUT
    write_json(results, out)
    sys.stdout.write(f"\nresults: {out} ({results['meta']['elapsed_s']} s)\n")
    return 0


def _main_ab(revision: str, quick: bool, out: Path) -> int:
    quiet_environment()
    from stream_processor.bench.ab import measure_ab
    from stream_processor.bench.report import render_ab, write_json
    from stream_processor.errors import ConfigError

    profile = QUICK if quick else FULL
    started = time.perf_counter()
    try:
        measured = measure_ab(revision, AB_QUICK_SIZES_MB if quick else AB_SIZES_MB, profile.rounds)
    except ConfigError as exc:
        sys.stderr.write(f"bench: error: {exc}\n")
        return exc.exit_code
    results: dict[str, Any] = {
        "meta": {**_meta(quick), "elapsed_s": round(time.perf_counter() - started, 1)},
        "ab": measured,
    }
    sys.stdout.write(render_ab(results))
    write_json(results, out)
    sys.stdout.write(f"\nresults: {out} ({results['meta']['elapsed_s']} s)\n")
    return 0


__all__ = ["FULL", "QUICK", "SECTIONS", "Profile", "main", "run"]
