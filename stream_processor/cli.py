"""The ``stream-processor`` command line: run, query and demo.

Input: arguments. Output: text on stdout, one-line errors on stderr, exit codes (0 ok, 1 operator
error, 2 bad usage or configuration, 3 the transform broke the Firehose contract or lost events).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from stream_processor import __version__, lake_commands, named_cli, replay_cli
from stream_processor.errors import ConfigError, ContractError, ProcessorError
from stream_processor.settings import (
    PROCESSOR_BUFFER_INTERVAL_S_DEFAULT,
    PROCESSOR_BUFFER_SIZE_MB_DEFAULT,
    S3_BUFFER_INTERVAL_S_DEFAULT,
    S3_BUFFER_SIZE_MB_DEFAULT,
    DeliverySettings,
)

DEFAULT_FIXTURES: Final = Path("fixtures")
DEFAULT_LAKE: Final = Path("lake/local")
PROG: Final = "stream-processor"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """One line and exit 2, like every other operator error."""
        self.exit(2, f"{PROG}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command."""
    parser = _Parser(prog=PROG, description="CloudWatch Logs -> Firehose transform -> Parquet lake, locally.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    run = commands.add_parser("run", help="replay fixtures through the transform into a local Parquet lake")
    run.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help=f"fixture files or directories (default: {DEFAULT_FIXTURES}/)",
    )
    _lake_argument(run)
    _delivery_arguments(run)
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.add_argument(
        "--checkpoint-every",
        type=int,
        default=10_000,
        metavar="N",
        help="flush and record progress every N input records, so a crashed run resumes (default %(default)s)",
    )
    run.add_argument(
        "--fresh", action="store_true", help="ignore the progress of an earlier run of the same input and start over"
    )

    query = commands.add_parser("query", help="run SQL (Athena dialect) over the local lake with DuckDB")
    _lake_argument(query)
    query.add_argument("sql", metavar="SQL", nargs="?", help="one SQL statement; the table is log_events")
    query.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format")
    query.add_argument(
        "--dialect",
        choices=("athena", "duckdb"),
        default="athena",
        help="SQL dialect of the statement (athena is transpiled to DuckDB)",
    )
    named_cli.add_query_arguments(query)
    named_cli.add_dashboard_parser(commands)

    redrive = commands.add_parser(
        "redrive", help="send records from Firehose's error output through the current transform again"
    )
    redrive.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="DIR|s3://BUCKET/PREFIX",
        help="where the processing-failed / format-conversion-failed documents are",
    )
    redrive.add_argument(
        "--to",
        default="local",
        metavar="local|firehose:STREAM",
        help="the local twin (into --lake) or a Firehose stream (default: local)",
    )
    _lake_argument(redrive)
    redrive.add_argument(
        "--dry-run",
        action="store_true",
        help="read, decode and transform into a throw-away lake; send and mark nothing",
    )
    redrive.add_argument("--region", help="AWS region for s3:// and firehose: (default: the standard resolution)")

    lake_commands.add_parsers(commands)
    replay_cli.add_parsers(commands)

    demo = commands.add_parser("demo", help="run the fixtures into a lake and show example queries")
    _lake_argument(demo, default=Path("lake/demo"))
    _delivery_arguments(demo)
    return parser


def _lake_argument(parser: argparse.ArgumentParser, default: Path = DEFAULT_LAKE) -> None:
    parser.add_argument("--lake", type=Path, default=default, help=f"lake directory (default: {default})")


def _delivery_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("delivery stream (Firehose settings)")
    group.add_argument(
        "--processor-buffer-size-mb",
        type=float,
        default=PROCESSOR_BUFFER_SIZE_MB_DEFAULT,
        help="Lambda processor BufferSizeInMBs, 0.2-3 (default %(default)s)",
    )
    group.add_argument(
        "--processor-buffer-interval-s",
        type=int,
        default=PROCESSOR_BUFFER_INTERVAL_S_DEFAULT,
        help="Lambda processor BufferIntervalInSeconds, 0-900 (default %(default)s)",
    )
    group.add_argument(
        "--s3-buffer-size-mb",
        type=int,
        default=S3_BUFFER_SIZE_MB_DEFAULT,
        help="S3 BufferingHints SizeInMBs, 64-128 with format conversion (default %(default)s)",
    )
    group.add_argument(
        "--s3-buffer-interval-s",
        type=int,
        default=S3_BUFFER_INTERVAL_S_DEFAULT,
        help="S3 BufferingHints IntervalInSeconds, 0-900 (default %(default)s)",
    )
    group.add_argument(
        "--source-kinesis-stream",
        metavar="NAME",
        help="emulate a Kinesis Data Streams source of that name (KPL records de-aggregated; default Direct PUT)",
    )
    group.add_argument(
        "--source-rule",
        action="append",
        default=[],
        metavar="GLOB=PARSER",
        help="route log groups matching GLOB to PARSER (repeatable; tried before built-in rules)",
    )
    group.add_argument("--verbose", action="store_true", help="show the transform's own (Powertools) log lines")


# The commands that run the local twin's transform and conversion.
_TWIN_COMMANDS: Final = frozenset({"run", "demo", "replay", "serve", "backfill", "redrive"})


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "run": lambda a: _run(a, demo=False),
        "demo": lambda a: _run(a, demo=True),
        "query": lambda a: _query(a) if a.sql is not None and a.named is None else named_cli.run_query(a),
        "dashboard": named_cli.run_dashboard,
        "redrive": _redrive,
        "backfill": lake_commands.run_backfill,
        "compact": lake_commands.run_compact,
        "replay": replay_cli.run_replay_command,
        "serve": replay_cli.run_serve_command,
        "fixtures": replay_cli.run_fixtures_command,
    }
    try:
        if args.command in _TWIN_COMMANDS:
            from stream_processor import native_twin

            native_twin.load()  # the C make built for this Python, when current; else the Python paths
        return commands[args.command](args)
    except ProcessorError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _settings(args: argparse.Namespace) -> DeliverySettings:
    from stream_processor.settings import S3_BUFFER_INTERVAL_S_RANGE, S3_BUFFER_SIZE_MB_RANGE

    low, high = S3_BUFFER_SIZE_MB_RANGE
    if not low <= args.s3_buffer_size_mb <= high:
        raise ConfigError(
            f"--s3-buffer-size-mb must be {low}-{high} with format conversion, got {args.s3_buffer_size_mb}"
        )
    ilow, ihigh = S3_BUFFER_INTERVAL_S_RANGE
    if not ilow <= args.s3_buffer_interval_s <= ihigh:
        raise ConfigError(f"--s3-buffer-interval-s must be {ilow}-{ihigh}, got {args.s3_buffer_interval_s}")
    return DeliverySettings(
        processor_buffer_size_mb=args.processor_buffer_size_mb,
        processor_buffer_interval_s=args.processor_buffer_interval_s,
        s3_buffer_size_mb=args.s3_buffer_size_mb,
        s3_buffer_interval_s=args.s3_buffer_interval_s,
        source_kinesis_stream=args.source_kinesis_stream,
    )


def _configure_transform(args: argparse.Namespace) -> None:
    """Hand the transform its configuration the way Lambda does: environment variables."""
    from transform_lambda.config import ENV_PREFIX, parse_source_rules
    from transform_lambda.config import ConfigError as TransformConfigError

    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(levelname)s: %(message)s")
    # The transform's per-record warnings are summarized at the end; --verbose shows them as they happen.
    logging.getLogger("transform_lambda").setLevel(logging.INFO if args.verbose else logging.ERROR)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO" if args.verbose else "ERROR"
    rules: dict[str, str] = {}
    for rule in args.source_rule:
        glob, sep, parser = rule.partition("=")
        if not sep or not glob or not parser:
            raise ConfigError(f"--source-rule {rule!r}: expected GLOB=PARSER")
        rules[glob] = parser
    if rules:
        from transform_lambda.parse import PARSERS

        unknown = sorted(set(rules.values()) - set(PARSERS))
        if unknown:
            raise ConfigError(
                f"--source-rule: unknown parser {', '.join(unknown)} (known: {', '.join(sorted(PARSERS))})"
            )
        raw = json.dumps(rules)
        try:
            parse_source_rules(raw)
        except TransformConfigError as exc:
            raise ConfigError(str(exc)) from exc
        os.environ[ENV_PREFIX + "SOURCE_RULES"] = raw
    else:
        os.environ.pop(ENV_PREFIX + "SOURCE_RULES", None)


def _run(args: argparse.Namespace, *, demo: bool) -> int:
    settings = _settings(args)
    _configure_transform(args)
    from stream_processor.output import format_summary
    from stream_processor.pipeline import LocalFirehose
    from stream_processor.sources.fixture import fixture_paths, read_fixtures
    from transform_lambda.handler import lambda_handler

    paths = list(getattr(args, "paths", None) or [DEFAULT_FIXTURES])
    files = fixture_paths(paths)  # fail on a bad path before writing anything
    firehose = LocalFirehose(args.lake, settings, lambda_handler, quiet_transform=not args.verbose)
    import time

    from stream_processor.checkpoint import Checkpoint

    checkpoint = Checkpoint(args.lake, Checkpoint.identity_of(files, repr(settings)))
    if getattr(args, "fresh", False) or demo:
        checkpoint.clear()
    every = getattr(args, "checkpoint_every", 10_000)
    if every < 1:
        raise ConfigError(f"--checkpoint-every must be at least 1, got {every}")
    if checkpoint.load().complete:
        print(f"{args.lake}: this input was already delivered into the lake; use --fresh to run it again")
        return 0
    stats = firehose.run(
        read_fixtures(paths, clock_ms=lambda: int(time.time() * 1000)), checkpoint=checkpoint, checkpoint_every=every
    )
    from stream_processor import native_twin

    if getattr(args, "json", False):
        print(json.dumps({**stats.as_dict(), "twin_build": native_twin.STATUS}, indent=2))
    else:
        print(f"lake: {args.lake}")
        print(format_summary(stats))
        print(f"twin build:        {native_twin.STATUS}")
    if demo:
        from stream_processor.demo import print_examples

        print_examples(args.lake, settings)
    if stats.contract_errors:
        raise ContractError("Lambda.ContractBroken", f"{stats.contract_errors} batch(es) failed the Firehose contract")
    if not stats.conserved:
        raise ContractError("Conservation", "log events were lost between input and output")
    return 0


def _redrive(args: argparse.Namespace) -> int:
    args.processor_buffer_size_mb = PROCESSOR_BUFFER_SIZE_MB_DEFAULT
    args.processor_buffer_interval_s = PROCESSOR_BUFFER_INTERVAL_S_DEFAULT
    args.s3_buffer_size_mb, args.s3_buffer_interval_s = S3_BUFFER_SIZE_MB_DEFAULT, S3_BUFFER_INTERVAL_S_DEFAULT
    args.source_kinesis_stream, args.source_rule, args.verbose = None, [], False
    _configure_transform(args)
    from stream_processor.output import format_summary
    from stream_processor.redrive import LocalErrorStore, S3ErrorStore, format_report, run_redrive

    store: LocalErrorStore | S3ErrorStore
    if args.source.startswith("s3://"):
        import boto3

        store = S3ErrorStore(args.source, boto3.client("s3", region_name=args.region))
    else:
        store = LocalErrorStore(Path(args.source))
    report, stats = run_redrive(
        store, to=args.to, lake=args.lake, settings=_settings(args), dry_run=args.dry_run, region=args.region
    )
    print(format_report(report, dry_run=args.dry_run))
    if stats is not None:
        print(
            ("-- what the current transform makes of them (nothing written)\n" if args.dry_run else "")
            + format_summary(stats)
        )
    if stats is not None and not args.dry_run and (stats.contract_errors or not stats.conserved):
        raise ContractError("Conservation", "redriven log events were not all delivered (see the counts)")
    return 1 if report.not_sent else 0


def _query(args: argparse.Namespace) -> int:
    from stream_processor.output import format_csv, format_json, format_table
    from stream_processor.query import run_query

    result = run_query(args.lake, args.sql, dialect=args.dialect)
    render = {"table": format_table, "json": format_json, "csv": format_csv}[args.format]
    text = render(result.columns, result.rows)
    if text:
        print(text)
    return 0


__all__ = ["build_parser", "main"]
