"""Every named query of infra/sql on a hand-written lake (named_query_lake.py), against answers
worked out by hand; each comment says how. The window is [10:00, 11:00) on 2025-11-23."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from stream_processor.athena_sql import bind_parameters
from stream_processor.errors import ConfigError
from stream_processor.named_query import run_named_query
from stream_processor.query import QueryResult
from stream_processor.sql_catalog import WINDOW_PARAMETERS, load_catalog
from tests.functional.named_query_lake import ROLE, SINCE, UNTIL, build_lake


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("named-lake")
    stats = build_lake(root)
    assert stats.conserved and stats.rows_written == 26
    return root


def run(lake: Path, name: str) -> QueryResult:
    result, _ = run_named_query(lake, name, since=SINCE, until=UNTIL)
    return result


def records(result: QueryResult, *columns: str) -> list[tuple[Any, ...]]:
    index = [result.columns.index(c) for c in columns]
    return [tuple(row[i] for i in index) for row in result.rows]


def t(text: str) -> datetime:
    return datetime.strptime(f"2025-11-23 {text}", "%Y-%m-%d %H:%M:%S.%f")


def test_named_every_query_declares_window_parameters_for_each_placeholder() -> None:
    _, queries = load_catalog()
    assert len(queries) == 9
    for query in queries:
        assert set(query.parameters) == set(WINDOW_PARAMETERS), query.name
        bound = bind_parameters(query.sql, ["2025-11-23 10:00:00"] * len(query.parameters))  # counts the ?s
        assert "concat(dt, ' ', hour) BETWEEN" in bound, f"{query.name} must prune partitions"


def test_named_log_volume_counts_rows_and_errors_per_minute_and_group(lake: Path) -> None:
    result = run(lake, "log_volume")
    # START + [ERROR] + REPORT at 10:00; the 10:00:30 slack row sits in partition hour 09; platform
    # lines, API, VPC and CloudTrail rows have no level, so their error count is 0 (not NULL).
    assert records(result, "minute", "log_group", "row_count", "error_count", "error_rate") == [
        (t("10:00:00.0"), "/aws/lambda/orders-api", 3, 1, 0.3333),
        (t("10:00:00.0"), "/ecs/slack", 1, 0, 0.0),
        (t("10:01:00.0"), "/aws/lambda/orders-api", 1, 0, 0.0),
        (t("10:02:00.0"), "/aws/lambda/orders-api", 1, 0, 0.0),
        (t("10:05:00.0"), "/custom/worker", 2, 0, 0.0),
        (t("10:10:00.0"), "API-Gateway-Access-Logs_abc123/prod", 4, 0, 0.0),
        (t("10:20:00.0"), "/vpc/flow-logs", 5, 0, 0.0),
        (t("10:30:00.0"), "aws-cloudtrail-logs-123456789012", 4, 0, 0.0),
        (t("10:40:00.0"), "/ecs/api", 2, 2, 1.0),
    ]


def test_named_lambda_performance_gives_percentiles_cold_starts_and_integer_headroom(lake: Path) -> None:
    result = run(lake, "lambda_performance")
    # orders-api: durations 100, 300, 200 -> nearest rank p50 = 2nd of 3 = 200, p95 = p99 = 300;
    # one Init Duration -> 1/3; headroom (128 - 100) * 100 / 128 = 2800 / 128 = 21 in integers.
    # /custom/worker is no /aws/lambda/ group: regexp_extract is NULL and the group names the function.
    assert records(
        result,
        "function_name",
        "invocations",
        "p50_duration_ms",
        "p95_duration_ms",
        "p99_duration_ms",
        "cold_starts",
        "cold_start_rate",
        "memory_size_mb",
        "max_memory_used_mb",
        "memory_headroom_pct",
    ) == [
        ("orders-api", 3, 200.0, 300.0, 300.0, 1, 0.3333, 128, 100, 21),
        ("/custom/worker", 1, 50.0, 50.0, 50.0, 0, 0.0, 256, 256, 0),
    ]


def test_named_api_routes_gives_status_rates_and_latency_percentiles(lake: Path) -> None:
    result = run(lake, "api_routes")
    # GET /orders/{id}: 200, 404, 500 at 10, 20, 30 ms; POST /orders: 201 at 40 ms.
    assert result.rows == [
        ("GET", "/orders/{id}", 3, 1, 1, 0.3333, 0.3333, 20.0, 30.0, 30.0),
        ("POST", "/orders", 1, 0, 0, 0.0, 0.0, 40.0, 40.0, 40.0),
    ]


def test_named_top_errors_groups_normalised_messages(lake: Path) -> None:
    result = run(lake, "top_errors")
    # The Python runtime prefix is stripped from the Lambda line; the JSON line's msg is used.
    assert records(result, "pattern", "occurrences", "log_groups", "example_log_group", "first_seen") == [
        ("Payment <n> failed for order <n>", 2, 2, "/aws/lambda/orders-api", t("10:00:00.1")),
        ("disk full on /dev/sda<n>", 1, 1, "/ecs/api", t("10:40:59.9")),
    ]


def test_named_vpc_rejected_sums_rejected_flows(lake: Path) -> None:
    assert run(lake, "vpc_rejected").rows == [("10.0.0.9", "10.0.0.2", 22, 6, 2, 3, 180)]


def test_named_vpc_top_talkers_orders_pairs_by_bytes_without_nodata(lake: Path) -> None:
    assert run(lake, "vpc_top_talkers").rows == [
        ("10.0.0.1", "10.0.0.2", 1500, 15, 2, 0),
        ("10.0.0.9", "10.0.0.2", 180, 3, 2, 2),
    ]


def test_named_cloudtrail_access_denied_counts_attempts_and_addresses(lake: Path) -> None:
    result = run(lake, "cloudtrail_access_denied")
    assert records(result, "user_arn", "event_source", "event_name", "error_code", "attempts", "source_ips") == [
        (ROLE, "s3.amazonaws.com", "GetObject", "AccessDenied", 2, 2)
    ]


def test_named_cloudtrail_console_root_lists_root_and_console_calls_newest_first(lake: Path) -> None:
    result = run(lake, "cloudtrail_console_root")
    assert records(result, "event_time", "event_name", "identity_type", "principal", "from_console") == [
        (t("10:30:03.0"), "PutObject", "IAMUser", "arn:aws:iam::123456789012:user/bob", True),
        (t("10:30:00.0"), "ConsoleLogin", "Root", "arn:aws:iam::123456789012:root", None),
    ]


def test_named_ingestion_lag_counts_whole_minutes_like_athena(lake: Path) -> None:
    result = run(lake, "ingestion_lag")
    rows = {(r[0], r[1]): r[2:] for r in result.rows}
    # /ecs/api arrives at 10:45:00.000: 300.0 s (5 whole minutes: late) and 240.1 s (4 whole
    # minutes: not late, although 5 minute boundaries are crossed).
    assert rows[(t("10:40:00.0"), "json")] == (2, 240.1, 300.0, 300.0, 1)
    # orders-api's record arrives at 10:02:30: 150, 149.9, 149.8 s at 10:00.
    assert rows[(t("10:00:00.0"), "lambda")] == (3, 149.9, 150.0, 150.0, 0)
    assert sum(r[2] for r in result.rows) == 23  # every row of the window, once


def test_named_default_window_ends_after_newest_event(lake: Path) -> None:
    result, window = run_named_query(lake, "log_volume", hours=3)
    assert (window.since, window.until) == (datetime(2025, 11, 23, 9, 1), datetime(2025, 11, 23, 12, 1))
    assert sum(r[2] for r in result.rows) == 25  # all but the day-before row


def test_named_unknown_query_fails_with_known_names(lake: Path) -> None:
    with pytest.raises(ConfigError, match="log_volume"):
        run_named_query(lake, "nope", since=SINCE, until=UNTIL)
