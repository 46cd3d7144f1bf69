"""Post-deploy step: create (or replace) the Athena views of ``infra/sql/views`` in the deployed workgroup.

Input: the view files and an Athena workgroup. Output: one ``CREATE OR REPLACE VIEW`` query execution
per view, each waited for. CloudFormation cannot run a query, and a view written as a Glue table
needs Athena's private view encoding; running the same DDL the data stack holds as named queries
keeps one source. ``make views`` runs it after ``make deploy``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

from stream_processor.errors import ProcessorError
from stream_processor.settings import DATABASE, STREAM_NAME
from stream_processor.sql_catalog import load_catalog

POLL_INTERVAL_S: Final = 1.0
TIMEOUT_S: Final = 120.0


class ViewError(ProcessorError):
    """A view's DDL did not succeed in Athena."""


def create_views(
    athena: Any,
    workgroup: str = STREAM_NAME,
    database: str = DATABASE,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Run every view's DDL in ``workgroup``; returns the view names in order.

    Raises:
        ViewError: a query failed, was cancelled or did not finish within ``TIMEOUT_S``.
    """
    views, _ = load_catalog()
    done: list[str] = []
    for view in views:
        started = athena.start_query_execution(
            QueryString=view.sql, QueryExecutionContext={"Database": database}, WorkGroup=workgroup
        )
        execution_id = started["QueryExecutionId"]
        waited = 0.0
        while True:
            status = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]
            if status["State"] == "SUCCEEDED":
                break
            if status["State"] in ("FAILED", "CANCELLED") or waited >= TIMEOUT_S:
                reason = status.get("StateChangeReason", status["State"])
                raise ViewError(f"view {view.name}: {reason}")
            sleep(POLL_INTERVAL_S)
            waited += POLL_INTERVAL_S
        done.append(view.name)
    return done


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m stream_processor.athena_views [--workgroup W] [--region R]``."""
    parser = argparse.ArgumentParser(prog="python -m stream_processor.athena_views", description=__doc__)
    parser.add_argument("--workgroup", default=STREAM_NAME)
    parser.add_argument("--region")
    args = parser.parse_args(argv)
    import boto3

    try:
        names = create_views(boto3.client("athena", region_name=args.region), args.workgroup)
    except ProcessorError as exc:
        sys.stderr.write(f"views: {exc}\n")
        return exc.exit_code
    sys.stdout.write("".join(f"view {DATABASE}.{name}: created\n" for name in names))
    return 0


__all__ = ["ViewError", "create_views", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
