"""The command line as an operator uses it: real processes, one-line errors, exit codes, no tracebacks."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stream_processor import native_twin
from tests.conftest import FIXTURES, REPO


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAM_PROCESSOR_")}
    return subprocess.run(
        [sys.executable, "-m", "stream_processor", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "lake"
    done = cli("run", str(FIXTURES), "--lake", str(root), "--json")
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert stats["conserved"] is True and stats["rows_written"] > 0
    return root


@pytest.mark.parametrize("command", [[], ["run"], ["query"], ["demo"], ["redrive"]])
def test_cli_every_command_has_help(command: list[str]) -> None:
    done = cli(*command, "--help")
    assert done.returncode == 0 and "usage: stream-processor" in done.stdout


def test_cli_run_prints_the_summary(tmp_path: Path) -> None:
    done = cli("run", str(FIXTURES / "events"), "--lake", str(tmp_path / "lake"))
    assert done.returncode == 0, done.stderr
    for label in (
        "records in:",
        "ok:",
        "dropped:",
        "failed:",
        "log events in:",
        "rows written:",
        "files written:",
        "elapsed:",
        "conservation:      holds",
    ):
        assert label in done.stdout
    build = re.search(r"^twin build: +(.+)$", done.stdout, re.MULTILINE)
    assert build is not None and (build.group(1) == "native" or build.group(1).startswith("python: ")), done.stdout


def test_cli_run_says_which_twin_build_ran(tmp_path: Path) -> None:
    """The twin's native build, built here into a venv-like prefix, is the one a run loads; a build of
    other sources is not."""
    prefix = tmp_path / "prefix"
    native_twin.build(prefix / "native")
    code = (
        "import sys; from pathlib import Path; from stream_processor import native_twin, cli;"
        f"native_twin.DEFAULT_DIR = Path({str(prefix / 'native')!r});"
        "sys.exit(cli.main(sys.argv[1:]))"
    )
    argv = ["run", str(FIXTURES / "events"), "--lake", str(tmp_path / "lake"), "--json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAM_PROCESSOR_")}
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["twin_build"] == "native"
    (prefix / "native" / native_twin.MANIFEST).write_text("sources\t" + "0" * 64 + "\n", encoding="utf-8")
    argv[3] = str(tmp_path / "lake-2")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["twin_build"] == "python: the native build is of other sources (make rebuilds it)"


def test_cli_query_formats(lake: Path) -> None:
    sql = "SELECT source, count(*) AS n FROM log_events GROUP BY source ORDER BY source"
    table = cli("query", "--lake", str(lake), sql)
    assert table.returncode == 0 and table.stdout.splitlines()[0].split() == ["source", "n"]
    as_json = [
        json.loads(line) for line in cli("query", "--lake", str(lake), "--format", "json", sql).stdout.splitlines()
    ]
    as_csv = list(csv.DictReader(io.StringIO(cli("query", "--lake", str(lake), "--format", "csv", sql).stdout)))
    assert [r["source"] for r in as_json] == [r["source"] for r in as_csv]
    assert sum(r["n"] for r in as_json) == sum(int(r["n"]) for r in as_csv) > 0


def test_cli_query_accepts_athena_functions(lake: Path) -> None:
    sql = (
        "SELECT count_if(level = 'ERROR') AS errors, approx_percentile(duration_ms, 0.5) AS p50 "
        "FROM stream_processor.log_events WHERE src = 'lambda'"
    )
    done = cli("query", "--lake", str(lake), "--format", "json", sql)
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)
    assert row["errors"] >= 1


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["run", "no/such/path"], 1, "no/such/path: no such file or directory"),
        (["run", "pyproject.toml"], 1, "not a fixture"),
        (["run", "--processor-buffer-size-mb", "9"], 2, "processor buffer size must be 0.2-3.0 MB"),
        (["run", "--processor-buffer-size-mb", "lots"], 2, "invalid float value"),
        (["run", "--source-rule", "nonsense"], 2, "expected GLOB=PARSER"),
        (["run", "--source-rule", "/x/*=nosuchparser"], 2, "unknown parser nosuchparser"),
        (["query", "--lake", "no/such/lake", "SELECT 1"], 2, "no such lake directory"),
        (["nosuchcommand"], 2, "invalid choice"),
        (["redrive", "--from", "no/such/dir"], 2, "no such directory of error output"),
        (["redrive", "--from", "fixtures", "--to", "kinesis:x"], 2, "expected local or firehose:STREAM"),
    ],
)
def test_cli_operator_errors_are_one_line_without_traceback(
    args: list[str], code: int, fragment: str, tmp_path: Path
) -> None:
    if args[0] == "run" and "--lake" not in args:
        args = [*args, "--lake", str(tmp_path / "lake")]
    done = cli(*args)
    assert done.returncode == code
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_cli_bad_sql_is_one_line(lake: Path) -> None:
    for sql in ("SELEC nonsense", "SELECT no_such_column FROM log_events", "", "   "):
        done = cli("query", "--lake", str(lake), sql)
        assert done.returncode == 1 and done.stderr.startswith("stream-processor: error: ")
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_cli_query_json_carries_every_duckdb_value(lake: Path) -> None:
    """Decimals, intervals, blobs, UUIDs, times and NaN raised TypeError or wrote invalid JSON before."""
    sql = (
        "SELECT 1.5 AS d, max(event_time) - min(event_time) AS span, x'ff'::blob AS b, "
        "'00000000-0000-4000-8000-000000000000'::uuid AS u, TIME '10:00' AS t, 'nan'::double AS n "
        "FROM log_events"
    )
    done = cli("query", "--lake", str(lake), "--format", "json", "--dialect", "duckdb", sql)
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout, parse_constant=lambda name: pytest.fail(f"not JSON: {name}"))
    assert row["d"] == 1.5 and row["b"] == "ff" and row["t"] == "10:00:00" and row["n"] is None
    assert row["u"] == "00000000-0000-4000-8000-000000000000" and isinstance(row["span"], str)


def test_cli_a_damaged_parquet_file_is_one_line(lake: Path, tmp_path: Path) -> None:
    copy = tmp_path / "lake"
    shutil.copytree(lake, copy)
    victim = next(copy.rglob("*.parquet"))
    victim.write_bytes(victim.read_bytes()[:100])
    done = cli("query", "--lake", str(copy), "SELECT count(*) FROM log_events")
    assert done.returncode == 1 and "cannot read the lake" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_cli_unreadable_fixture_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    done = cli("run", str(bad), "--lake", str(tmp_path / "lake"))
    assert done.returncode == 1 and "bad.json: not valid JSON" in done.stderr and "Traceback" not in done.stderr


def test_cli_redrive_dry_run_reports_and_changes_nothing(lake: Path) -> None:
    before = sorted(p.name for p in lake.rglob("*"))
    done = cli("redrive", "--from", str(lake / "errors"), "--lake", str(lake), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "would redrive:" in done.stdout and "processing-failed: Lambda.ProcessingFailed: 6" in done.stdout
    assert sorted(p.name for p in lake.rglob("*")) == before


def test_cli_module_and_console_script_agree() -> None:
    script = Path(sys.executable).parent / "stream-processor"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("stream-processor ")
