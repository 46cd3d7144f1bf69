"""Bench CLI: every section but the twin runs without pyarrow or duckdb, so the runtime's own Python
(a venv of the Lambda's dependencies only) can time the transform."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from stream_processor.bench.cli import Profile, run
profile = Profile((0.02,), 2, 1, 2, 1, 1, 0.05, 1000, 1, 0.25)
results = run(profile, ["throughput", "stages", "cold_start", "memory"], quick=True)
print(json.dumps({
    "heavy": sorted({"pyarrow", "duckdb"} & set(sys.modules)),
    "x_blueprint": results["throughput"]["0.02"]["variants"]["handler"]["x_blueprint"],
    "stages": sorted(results["stages"]["stages"]),
    "import_ms": results["cold_start"]["import_ms"],
    "rss_peak_mib": results["memory"]["rss_peak_mib"],
}))
"""


def test_bench_sections_but_the_twin_import_no_pyarrow() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["heavy"] == []
    assert out["x_blueprint"] > 0
    assert out["stages"] == ["base64_out", "decode", "detect_parse_shape", "encode", "parse"]
    assert out["import_ms"] > 0 and out["rss_peak_mib"] > 0
