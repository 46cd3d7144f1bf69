"""``serve`` with real clients: boto3's Firehose client (and the AWS CLI when installed) against the
twin run as a subprocess; SIGTERM in the middle of a stream loses nothing that was accepted."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from stream_processor.generate import TrafficGenerator, record_bytes_of
from stream_processor.query import run_query
from tests.conftest import REPO


def _start(lake: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "stream_processor", "serve", "--port", "0", "--lake", str(lake), *extra],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "serving Firehose on " in line, proc.stderr.read() if proc.stderr else line
    return proc, line.split("serving Firehose on ", 1)[1].split()[0]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    lake = tmp_path / "lake"
    proc, url = _start(lake)
    yield proc, url, lake
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=30)  # also closes the pipes


def _stop(proc: subprocess.Popen[str], signum: int | None = signal.SIGTERM) -> int:
    """Signal the server (unless ``signum`` is None: already signalled), wait for its flush and exit,
    close its pipes; returns the exit code."""
    if signum is not None:
        proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "accepted " in out
    return proc.returncode


def _lake_ids(lake: Path) -> list[str]:
    return [r[0] for r in run_query(lake, "SELECT event_id FROM log_events").rows]


def test_serve_sigterm_mid_stream_keeps_every_accepted_event(
    served: tuple[subprocess.Popen[str], str, Path],
) -> None:
    proc, url, lake = served
    firehose = boto3.client(
        "firehose", region_name="us-east-1", endpoint_url=url, config=Config(retries={"max_attempts": 1})
    )
    accepted: list[str] = []
    payloads = list(TrafficGenerator(11).payloads(events=6000))
    for n in range(0, len(payloads), 10):
        chunk = [p for p in payloads[n : n + 10] if p["messageType"] == "DATA_MESSAGE"]
        if n == 50:
            proc.send_signal(signal.SIGTERM)  # default 60 s buffer: only the shutdown flush writes
            time.sleep(0.2)
        try:
            response = firehose.put_record_batch(
                DeliveryStreamName="stream-processor", Records=[{"Data": record_bytes_of(p)} for p in chunk]
            )
        except Exception:  # refused (503) or connection closed: not accepted, the producer keeps it
            continue
        assert response["FailedPutCount"] == 0
        accepted += [e["id"] for p in chunk for e in p["logEvents"]]
    assert _stop(proc, None) == 0
    assert accepted
    assert sorted(_lake_ids(lake)) == sorted(accepted)


def test_serve_short_interval_makes_rows_queryable_while_running(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    proc, url = _start(lake, "--processor-buffer-interval-s", "1", "--s3-buffer-interval-s", "1")
    try:
        payload = next(p for p in TrafficGenerator(5).payloads(events=50) if p["messageType"] == "DATA_MESSAGE")
        boto3.client("firehose", region_name="us-east-1", endpoint_url=url).put_record(
            DeliveryStreamName="stream-processor", Record={"Data": record_bytes_of(payload)}
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not list(lake.rglob("*.parquet")):
            time.sleep(0.2)
        assert sorted(_lake_ids(lake)) == sorted(e["id"] for e in payload["logEvents"])
        assert proc.poll() is None  # still serving
    finally:
        assert _stop(proc, signal.SIGINT) == 0


def _post(url: str, target: str, body: bytes, length: str | None = None) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("X-Amz-Target", target)
    request.add_header("Content-Type", "application/x-amz-json-1.1")
    if length is not None:
        request.add_header("Content-Length", length)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_serve_malformed_and_oversized_requests_get_error_shapes(
    served: tuple[subprocess.Popen[str], str, Path],
) -> None:
    proc, url, _ = served
    assert _post(url, "Firehose_20150804.PutRecordBatch", b"{not json")[1]["__type"] == "SerializationException"
    # Regression: nesting too deep for json.loads (RecursionError) answered 500 InternalFailure.
    deep = b"[" * 100_000 + b"]" * 100_000
    status, doc = _post(url, "Firehose_20150804.PutRecordBatch", deep)
    assert (status, doc["__type"]) == (400, "SerializationException")
    status, doc = _post(url, "Firehose_20150804.PutRecordBatch", b"{}", length=str(64 * 1024 * 1024))
    assert (status, doc["__type"]) == (413, "InvalidArgumentException")
    unknown = json.dumps({"DeliveryStreamName": "other", "Records": [{"Data": "AA=="}]}).encode()
    assert _post(url, "Firehose_20150804.PutRecordBatch", unknown)[1]["__type"] == "ResourceNotFoundException"
    assert proc.poll() is None
    names = boto3.client("firehose", region_name="us-east-1", endpoint_url=url).list_delivery_streams()
    assert names["DeliveryStreamNames"] == ["stream-processor"]


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_serve_aws_cli_put_record_is_accepted(served: tuple[subprocess.Popen[str], str, Path]) -> None:
    proc, url, lake = served
    payload = next(p for p in TrafficGenerator(9).payloads(events=30) if p["messageType"] == "DATA_MESSAGE")
    # AWS CLI v1 passes a blob given as text byte for byte: send the payload as plain JSON (the
    # transform reads plain JSON as when Firehose's own decompression is on).
    request = {"DeliveryStreamName": "stream-processor", "Record": {"Data": json.dumps(payload)}}
    done = subprocess.run(
        ["aws", "--endpoint-url", url, "--region", "us-east-1", "firehose", "put-record",
         "--cli-input-json", json.dumps(request)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "AWS_PAGER": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "RecordId" in done.stdout
    assert _stop(proc) == 0
    assert sorted(_lake_ids(lake)) == sorted(e["id"] for e in payload["logEvents"])


def test_serve_create_delivery_stream_configures_a_stream_of_its_own(served: tuple[Any, str, Path]) -> None:
    proc, url, lake = served
    client = boto3.client(
        "firehose", endpoint_url=url, region_name="us-east-1", config=Config(retries={"max_attempts": 1})
    )
    arn = client.create_delivery_stream(
        DeliveryStreamName="custom",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": "arn:aws:s3:::lake",
            "Prefix": "custom/src=!{partitionKeyFromLambda:src}/dt=!{partitionKeyFromLambda:dt}/"
            "hour=!{partitionKeyFromLambda:hour}/",
            "ErrorOutputPrefix": "custom-errors/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 0},
            "DynamicPartitioningConfiguration": {"Enabled": True},
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "Lambda",
                        "Parameters": [
                            {
                                "ParameterName": "LambdaArn",
                                "ParameterValue": "arn:aws:lambda:us-east-1:123456789012:function:t",
                            },
                            {"ParameterName": "BufferSizeInMBs", "ParameterValue": "0.2"},
                            {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "0"},
                        ],
                    }
                ],
            },
        },
    )["DeliveryStreamARN"]
    assert arn.endswith(":deliverystream/custom")
    assert "custom" in client.list_delivery_streams()["DeliveryStreamNames"]
    payload = TrafficGenerator(41, control_rate=0).payload()
    assert (
        client.put_record_batch(DeliveryStreamName="custom", Records=[{"Data": record_bytes_of(payload)}])[
            "FailedPutCount"
        ]
        == 0
    )
    with pytest.raises(client.exceptions.ResourceInUseException):
        client.create_delivery_stream(DeliveryStreamName="custom")
    with pytest.raises(client.exceptions.InvalidArgumentException, match="ErrorOutputPrefix"):
        client.create_delivery_stream(
            DeliveryStreamName="bad",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/r",
                "BucketARN": "arn:aws:s3:::b",
                "Prefix": "p/!{timestamp:yyyy}/",
            },
        )
    _stop(proc)
    files = list((lake / "custom").rglob("*.parquet"))
    assert files and all(f.relative_to(lake).parts[1].startswith("src=") for f in files)
    assert not list((lake / "logs").rglob("*.parquet"))  # the default stream got nothing


@pytest.mark.parametrize("flags", [["--stream", "../../x"], ["--stream", ""], ["--lake-under-a-file"]])
def test_serve_refuses_a_bad_stream_name_or_lake_before_accepting_anything(tmp_path: Path, flags: list[str]) -> None:
    """Before, both were taken: the first put was answered 200 and its record never reached the lake."""
    (tmp_path / "file").write_text("", encoding="utf-8")
    lake = tmp_path / "file" / "lake" if flags == ["--lake-under-a-file"] else tmp_path / "lake"
    extra = [] if flags == ["--lake-under-a-file"] else flags
    done = subprocess.run(
        [sys.executable, "-m", "stream_processor", "serve", "--port", "0", "--lake", str(lake), *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "serving" not in done.stdout
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_serve_stops_and_says_so_when_a_stream_fails(tmp_path: Path) -> None:
    """A stream whose worker died answered every call 503 while the server ran on, silent, until someone
    stopped it. Now the server stops by itself, names the stream and where its records were saved."""
    proc, url = _start(tmp_path / "lake")
    client = boto3.client(
        "firehose", endpoint_url=url, region_name="us-east-1", config=Config(retries={"max_attempts": 1})
    )
    client.create_delivery_stream(  # S3 takes a key starting with "/"; the lake directory cannot
        DeliveryStreamName="rooted",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": "arn:aws:s3:::lake",
            "Prefix": "/rooted/",
            "ErrorOutputPrefix": "rooted-errors/",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
            "ProcessingConfiguration": {
                "Enabled": True,
                "Processors": [
                    {
                        "Type": "Lambda",
                        "Parameters": [
                            {
                                "ParameterName": "LambdaArn",
                                "ParameterValue": "arn:aws:lambda:us-east-1:123456789012:function:t",
                            },
                            {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "0"},
                        ],
                    }
                ],
            },
        },
    )
    payload = TrafficGenerator(43, control_rate=0).payload()
    client.put_record(DeliveryStreamName="rooted", Record={"Data": record_bytes_of(payload)})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3
    assert "stream rooted failed; stopping" in out
    assert "rooted failed" in err and "accepted records saved to" in err
