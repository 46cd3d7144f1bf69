"""The ``backfill`` and ``compact`` commands: their flags, and the summaries they print.

Input: parsed arguments (``cli.build_parser`` adds these parsers, ``cli.main`` dispatches). Output:
a summary on stdout (text or ``--json``), progress on stderr, exit codes through ``ProcessorError``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from stream_processor.errors import ConfigError, ProcessorError

DEFAULT_LAKE: Final = "lake/local"


class AwsError(ProcessorError):
    """An AWS call failed (after retries): credentials, permissions, a missing bucket or log group."""


def add_parsers(commands: Any) -> None:
    """Add ``backfill`` and ``compact`` to the CLI's sub-parsers."""
    backfill = commands.add_parser(
        "backfill", help="write CloudWatch Logs history (an export or FilterLogEvents) into the lake"
    )
    source = backfill.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-export", metavar="DIR|s3://BUCKET/PREFIX", help="CreateExportTask output")
    source.add_argument("--from-logs", metavar="GROUP", help="read this log group with FilterLogEvents")
    backfill.add_argument("--start", help="with --from-logs: start time, ISO-8601 (UTC unless given) or epoch ms")
    backfill.add_argument("--end", help="with --from-logs: end time (exclusive); pick the stream's cut-over time")
    backfill.add_argument("--log-group", help="with --from-export: the exported log group (default: from the prefix)")
    backfill.add_argument("--account-id", help="owner account for account_id (default for --from-logs: STS)")
    backfill.add_argument("--window-minutes", type=int, default=60, help="FilterLogEvents unit size (default 60)")
    backfill.add_argument("--flush-mb", type=int, default=64, help="NDJSON MB per partition per object (default 64)")
    backfill.add_argument(
        "--source-rule",
        action="append",
        default=[],
        metavar="GLOB=PARSER",
        help="the stream's source rules (repeatable), so detection matches the stream",
    )
    _common(backfill, "print what would be written (reads and transforms, writes nothing)")

    compact = commands.add_parser("compact", help="merge the small Parquet files of closed partitions")
    compact.add_argument(
        "--partition",
        action="append",
        default=[],
        metavar="GLOB",
        help="only partitions matching src=…/dt=…/hour=… globs (repeatable; default all closed ones)",
    )
    compact.add_argument("--target-size", type=int, default=256, metavar="MB", help="output file size (default 256)")
    compact.add_argument(
        "--grace-minutes",
        type=int,
        default=120,
        help="skip partitions whose hour ended less than this long ago (default 120)",
    )
    compact.add_argument("--row-group-mb", type=int, default=64, help="uncompressed MB per row group (default 64)")
    compact.add_argument(
        "--id-memory-mb", type=int, default=256, help="memory for the event_id dedupe set (default 256)"
    )
    compact.add_argument("--min-files", type=int, default=2, help="compact partitions with at least this many files")
    compact.add_argument(
        "--scratch", type=Path, help="local directory for downloads and merged files (default: TMPDIR)"
    )
    _common(compact, "list the partitions that would be compacted, change nothing")


def _common(parser: argparse.ArgumentParser, dry_run_help: str) -> None:
    parser.add_argument(
        "--lake", default=DEFAULT_LAKE, metavar="DIR|s3://BUCKET/PREFIX", help="the lake (default %(default)s)"
    )
    parser.add_argument("--dry-run", action="store_true", help=dry_run_help)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


@contextlib.contextmanager
def _aws_errors() -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise AwsError(f"{exc.operation_name}: {error.get('Code', '?')}: {error.get('Message', '')}") from exc
    except BotoCoreError as exc:
        raise AwsError(str(exc)) from exc


def parse_time(text: str, flag: str) -> int:
    """ISO-8601 (naive means UTC) or epoch milliseconds -> epoch milliseconds.

    Raises:
        ConfigError: neither form.
    """
    if text.isdigit():
        return int(text)
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{flag} {text!r}: expected ISO-8601 (2025-11-23T10:00:00Z) or epoch ms") from exc
    return int((at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp() * 1000)


def run_backfill(args: argparse.Namespace) -> int:
    """The ``backfill`` command."""
    from stream_processor.backfill import Backfill, BackfillOptions, export_units, logs_units
    from stream_processor.progress import Progress
    from stream_processor.sinks.object_store import open_store
    from stream_processor.sources.cloudwatch_export import ExportReadStats
    from stream_processor.sources.cloudwatch_logs import logs_client, logs_windows

    if args.flush_mb < 1:
        raise ConfigError("--flush-mb must be at least 1")
    config = _transform_config(args.source_rule)
    lake = open_store(args.lake)
    read_stats = ExportReadStats()
    with _aws_errors():
        if args.from_export:
            if not args.account_id:
                raise ConfigError("--from-export needs --account-id (exports do not record the owner account)")
            if args.start or args.end:
                raise ConfigError("--start/--end apply to --from-logs; an export covers its own range")
            units = export_units(open_store(args.from_export), args.log_group, read_stats)
            source_key, account = f"export:{args.from_export.rstrip('/')}:{args.log_group or ''}", args.account_id
        else:
            if not (args.start and args.end):
                raise ConfigError("--from-logs needs --start and --end")
            client = logs_client()
            account = args.account_id or _caller_account()
            # A log group's name is unique only within an account and region: both name the work done.
            scope = f"{account}/{client.meta.region_name}"
            windows = logs_windows(
                args.from_logs,
                parse_time(args.start, "--start"),
                parse_time(args.end, "--end"),
                args.window_minutes * 60_000,
                scope,
            )
            units = logs_units(client, windows)
            source_key = f"logs:{scope}:{args.from_logs}"
        options = BackfillOptions(account_id=account, dry_run=args.dry_run, flush_bytes=args.flush_mb * 1024 * 1024)
        backfill = Backfill(lake, source_key, config, options)
        progress = Progress(len(units), "units")
        stats = backfill.run(units, progress)
        progress.close()
    stats.orphan_lines = read_stats.orphan_lines
    if args.json:
        print(json.dumps(stats.as_dict(), indent=2))
        return 0
    verb = "to write" if args.dry_run else "written"
    print(f"lake: {lake.location}{'  (dry run: nothing written)' if args.dry_run else ''}")
    print(f"units: {stats.units_total} ({stats.units_done} processed, {stats.units_skipped} already done)")
    if args.dry_run:
        for unit in units:
            print(f"  {'done' if backfill.is_done(unit) else 'todo'}  {unit.description}")
    print(
        f"log events in: {stats.log_events_in:,}  rows {verb}: {stats.rows_written:,}  "
        f"parse errors: {stats.parse_errors:,}  conversion failures: {stats.events_conversion_failed:,}  "
        f"orphan lines: {stats.orphan_lines:,}"
    )
    print(
        f"files {verb}: {stats.files_written:,} ({stats.parquet_bytes / 1e6:.2f} MB) "
        f"in {len(stats.partitions)} partitions"
    )
    if args.dry_run:
        for partition, rows in sorted(stats.partitions.items()):
            print(f"  {partition}: {rows:,} rows")
    print(f"elapsed: {stats.elapsed_s:.2f} s ({stats.events_per_s:,.0f} events/s)")
    return 0


def run_compact(args: argparse.Namespace) -> int:
    """The ``compact`` command."""
    from stream_processor.compact import CompactionOptions, Compactor
    from stream_processor.compact_merge import MIB, MergeOptions
    from stream_processor.sinks.object_store import LocalStore, open_store

    for flag in ("target_size", "row_group_mb", "id_memory_mb", "min_files"):
        if getattr(args, flag) < 1:
            raise ConfigError(f"--{flag.replace('_', '-')} must be at least 1")
    if args.grace_minutes < 0:
        raise ConfigError("--grace-minutes must not be negative")
    merge = MergeOptions(args.target_size * MIB, args.row_group_mb * MIB, args.id_memory_mb * MIB)
    options = CompactionOptions(
        merge=merge,
        grace_minutes=args.grace_minutes,
        min_files=args.min_files,
        partitions=tuple(args.partition),
        dry_run=args.dry_run,
    )
    store = open_store(args.lake)
    if isinstance(store, LocalStore) and not store.root.is_dir():
        # A mistyped path would otherwise report "0 partitions" and succeed, in a scheduled job too.
        raise ConfigError(f"{args.lake}: no such lake directory")
    with _aws_errors():
        compactor = Compactor(store, options, scratch=args.scratch)
        report = compactor.run(progress_stream=sys.stderr)
    failed = compactor.failed()
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
        return _left_alone(failed)
    print(f"lake: {store.location}{'  (dry run: nothing changed)' if args.dry_run else ''}")
    if report.rolled_forward or report.rolled_back:
        print(
            f"recovered: {report.rolled_forward} interrupted compaction(s) finished, "
            f"{report.rolled_back} staged file(s) removed"
        )
    if report.kept_changed:
        print(f"kept: {report.kept_changed} input(s) replaced while being compacted (their new rows stay as they are)")
    for p in report.partitions:
        if p.error is not None:
            print(f"  {p.partition}: left alone ({p.error})")
        elif args.dry_run:
            print(f"  {p.partition}: {p.files_before} files, {p.bytes_before / 1e6:.2f} MB")
        else:
            print(
                f"  {p.partition}: {p.files_before} -> {p.files_after} files, "
                f"{p.bytes_before / 1e6:.2f} -> {p.bytes_after / 1e6:.2f} MB, "
                f"{p.duplicates_removed:,} duplicate rows removed"
            )
    t = report.totals()
    print(
        f"partitions: {len(report.partitions) - len(failed)} compacted, {len(failed)} left alone, "
        f"{report.skipped_open} still open, "
        f"{report.skipped_small} with fewer than {args.min_files} files"
    )
    if not args.dry_run:
        print(
            f"files: {t['files_before']:,} -> {t['files_after']:,}  "
            f"bytes: {t['bytes_before']:,} -> {t['bytes_after']:,}  "
            f"rows: {t['rows_in']:,} -> {t['rows_out']:,} ({t['duplicates_removed']:,} duplicates removed)"
        )
        print(f"elapsed: {report.elapsed_s:.2f} s ({t['mb_per_s']} MB/s read)")
    return _left_alone(failed)


def _left_alone(failed: list[Any]) -> int:
    """Exit 1 with a line saying which partitions a bad file kept from compaction, if any."""
    if not failed:
        return 0
    first = failed[0]
    more = f" (and {len(failed) - 1} more partitions)" if len(failed) > 1 else ""
    print(
        f"stream-processor: error: {first.partition}: {first.error}{more}; the partition is left alone", file=sys.stderr
    )
    return 1


def _transform_config(rules: list[str]) -> Any:
    """The transform's config from the environment, with ``--source-rule`` flags first."""
    from transform_lambda.config import ConfigError as TransformConfigError
    from transform_lambda.config import TransformConfig, parse_source_rules

    try:
        config = TransformConfig.from_env()
        if not rules:
            return config
        pairs = {}
        for rule in rules:
            glob, sep, parser = rule.partition("=")
            if not sep or not glob or not parser:
                raise ConfigError(f"--source-rule {rule!r}: expected GLOB=PARSER")
            pairs[glob] = parser
        from transform_lambda.parse import PARSERS

        unknown = sorted(set(pairs.values()) - set(PARSERS))
        if unknown:
            raise ConfigError(
                f"--source-rule: unknown parser {', '.join(unknown)} (known: {', '.join(sorted(PARSERS))})"
            )
        return dataclasses.replace(config, source_rules=parse_source_rules(json.dumps(pairs)))
    except TransformConfigError as exc:
        raise ConfigError(str(exc)) from exc


def _caller_account() -> str:
    import boto3

    account: str = boto3.client("sts").get_caller_identity()["Account"]
    return account


__all__ = ["AwsError", "add_parsers", "parse_time", "run_backfill", "run_compact"]
