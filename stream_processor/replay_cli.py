"""Command line of ``replay``, ``serve`` and ``fixtures generate|record``: their flags and entry points.

Input: parsed arguments. Output: summaries on stdout, progress on stderr, exit codes (0 ok; 1 when
something could not be sent or written; 2 bad usage; 3 the transform broke the contract).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from stream_processor.errors import ContractError


def add_parsers(commands: Any) -> None:
    """Add ``replay``, ``serve`` and ``fixtures`` to the CLI's subparsers."""
    replay = commands.add_parser(
        "replay", help="send fixtures to the twin, a Firehose or Kinesis stream, or a log group"
    )
    replay.add_argument("paths", nargs="+", type=Path, metavar="SOURCE", help="fixture files or directories")
    replay.add_argument(
        "--to",
        default="local",
        metavar="TARGET",
        help="local (the twin, into --lake) | firehose:STREAM | kinesis:STREAM | logs:GROUP[:STREAM] (default local)",
    )
    replay.add_argument("--rate", type=float, metavar="EVENTS_PER_S", help="pace log events per second")
    replay.add_argument("--rebase-time", action="store_true", help="shift timestamps so the earliest is now")
    replay.add_argument("--loop", type=int, default=1, metavar="N", help="send the input N times (default 1)")
    replay.add_argument("--dry-run", action="store_true", help="read, decode and batch; send nothing")
    replay.add_argument("--create", action="store_true", help="logs: create the log group and streams if missing")
    replay.add_argument("--aggregate", action="store_true", help="kinesis: KPL-aggregate records (aws-kinesis-agg)")
    replay.add_argument(
        "--failed-output",
        type=Path,
        metavar="FILE.json",
        help="where records that could not be sent go (default replay-not-sent-<time>.json)",
    )
    replay.add_argument("--lake", type=Path, default=Path("lake/local"), help="lake for --to local")
    _aws_arguments(replay)
    from stream_processor.cli import _delivery_arguments

    _delivery_arguments(replay)
    replay.add_argument("--json", action="store_true", help="print the summary as JSON")

    serve = commands.add_parser("serve", help="serve the twin as a Firehose endpoint that fills a lake continuously")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=4573, help="port (default 4573; 0 picks a free one)")
    serve.add_argument("--lake", type=Path, default=Path("lake/local"), help="lake directory (default lake/local)")
    serve.add_argument(
        "--stream", action="append", default=[], metavar="NAME", help="delivery stream name (repeatable)"
    )
    from stream_processor.cli import _delivery_arguments

    _delivery_arguments(serve)

    fixtures = commands.add_parser("fixtures", help="write fixtures: synthetic traffic or real log events")
    actions = fixtures.add_subparsers(dest="fixtures_command", required=True, metavar="ACTION")
    generate = actions.add_parser("generate", help="deterministic synthetic traffic in the subscription wire format")
    amount = generate.add_mutually_exclusive_group(required=True)
    amount.add_argument("--events", type=int, metavar="N", help="data log events to generate")
    amount.add_argument("--size", type=float, metavar="MB", help="MB of gzip records to generate")
    generate.add_argument("--mix", help="source weights, e.g. lambda=50,vpc_flow=20,apigateway=20,text=10")
    generate.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    generate.add_argument("-o", "--output", type=Path, required=True, metavar="DIR", help="output directory")
    record = actions.add_parser("record", help="read real log events (FilterLogEvents) into fixtures")
    record.add_argument("--log-group", required=True, metavar="G")
    record.add_argument("--log-stream-prefix", metavar="P")
    record.add_argument("--since", metavar="DURATION", help="e.g. 30m, 2h, 1d")
    record.add_argument("--start", metavar="T", help="ISO 8601 or epoch ms")
    record.add_argument("--end", metavar="T", help="ISO 8601 or epoch ms (default now)")
    record.add_argument("--redact", action="store_true", help="mask AWS access keys, bearer tokens and emails")
    record.add_argument("-o", "--output", type=Path, required=True, metavar="DIR", help="output directory")
    _aws_arguments(record)


def _aws_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("AWS (default: the standard boto3 resolution)")
    group.add_argument("--endpoint-url", help="service endpoint, e.g. http://127.0.0.1:5000")
    group.add_argument("--region")
    group.add_argument("--profile")


def run_replay_command(args: argparse.Namespace) -> int:
    """``replay``."""
    from stream_processor.cli import _configure_transform, _settings
    from stream_processor.output import format_summary
    from stream_processor.replay import ReplayOptions, format_replay_summary, run_replay

    _configure_transform(args)  # as `run` does: --source-rule, --verbose
    options = ReplayOptions(
        settings=_settings(args),
        to=args.to,
        rate=args.rate,
        rebase_time=args.rebase_time,
        loop=args.loop,
        dry_run=args.dry_run,
        endpoint_url=args.endpoint_url,
        region=args.region,
        profile=args.profile,
        create=args.create,
        aggregate=args.aggregate,
        failed_output=args.failed_output,
        lake=args.lake,
    )
    summary = run_replay(args.paths, options)
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        print(format_replay_summary(summary))
        if summary.local_stats is not None:
            print(format_summary(summary.local_stats))
    stats = summary.local_stats
    if stats is not None and (stats.contract_errors or not stats.conserved):
        raise ContractError("Conservation", "the twin broke the contract or lost log events")
    return 1 if summary.records_not_sent or summary.events_not_sent else 0


def run_serve_command(args: argparse.Namespace) -> int:
    """``serve``."""
    from stream_processor.cli import _settings

    settings = _settings(args)
    _quiet_transform(verbose=args.verbose)  # before the transform is imported: Powertools reads it then
    from stream_processor.serve import format_serve_summary, serve
    from transform_lambda.handler import lambda_handler

    counts, stats = serve(
        args.lake, settings, lambda_handler, host=args.host, port=args.port, streams=set(args.stream) or None
    )
    print(format_serve_summary(counts, stats), flush=True)
    if not stats.conserved:
        print(
            "stream-processor: error: log events accepted by serve were not all delivered (see the counts)",
            file=sys.stderr,
        )
    return 3 if stats.contract_errors or not stats.conserved else 0


def run_fixtures_command(args: argparse.Namespace) -> int:
    """``fixtures generate`` and ``fixtures record``."""
    from stream_processor.fixture_commands import generate_fixtures, record_fixtures

    if args.fixtures_command == "generate":
        written = generate_fixtures(args.output, seed=args.seed, mix=args.mix, events=args.events, size_mb=args.size)
    else:
        written = record_fixtures(
            args.output,
            group=args.log_group,
            since=args.since,
            start=args.start,
            end=args.end,
            stream_prefix=args.log_stream_prefix,
            redacted=args.redact,
            endpoint_url=args.endpoint_url,
            region=args.region,
            profile=args.profile,
        )
    print(f"wrote {written.files:,} payload files ({written.events:,} log events) to {written.directory}")
    return 0


def _quiet_transform(*, verbose: bool = False) -> None:
    """The transform's per-record log lines are summarized; ``--verbose`` shows them."""
    logging.basicConfig(level=logging.WARNING, format="stream-processor: %(levelname)s: %(message)s")
    logging.getLogger("transform_lambda").setLevel(logging.INFO if verbose else logging.ERROR)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO" if verbose else "ERROR"


__all__ = ["add_parsers", "run_fixtures_command", "run_replay_command", "run_serve_command"]
