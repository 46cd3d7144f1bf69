"""Shared test fixtures: recorded fixtures, Firehose event builders, a Lambda context, and a moto
server on 127.0.0.1 that real boto3 clients talk to over HTTP."""

from __future__ import annotations

import base64
import gzip
import importlib.machinery
import importlib.util
import json
import os
import socket
import subprocess
import sysconfig
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Final

import pytest

from stream_processor.generate import control_message as cloudwatch_control_message

# The transform's Powertools output is not what these tests look at; keep it quiet and offline.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
# No test may reach AWS: unless a test points boto3 at the moto server, calls go to a closed local
# port and fail at once. Dummy credentials keep botocore from looking for real ones.
os.environ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ.pop("AWS_PROFILE", None)

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"


class FakeLambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name = "stream-processor-transform"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:stream-processor-transform"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/stream-processor-transform"
    log_stream_name = "2026/11/23/[$LATEST]0000"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


# A native build made beforehand for the tests of the C to use (``make sanitize`` sets it to its
# sanitizer build): a directory ``stream_processor.native_twin`` built.
PREBUILT: Final = "STREAM_PROCESSOR_TEST_NATIVE_DIR"


def transform_c_module(name: str, loaded: ModuleType | None, directory: Path) -> ModuleType:
    """A hand-written C module of the transform (``transform_lambda/_*.c``) for its tests: the one of
    the build PREBUILT names, else ``loaded`` (the compiled build's, when it is loaded), else compiled
    into ``directory`` for this Python with warnings as errors and imported as ``name`` (not
    registered in ``sys.modules``)."""
    prebuilt = os.environ.get(PREBUILT)
    if prebuilt:
        # The tooling's (it imports pyarrow), so only when asked for: the transform's tests also run
        # in a venv of the Lambda's own dependencies (scripts/test-lambda-runtimes.sh).
        from stream_processor import native_twin

        return native_twin.import_built(Path(prebuilt))[name]
    if loaded is not None:
        return loaded
    source = REPO / (name.replace(".", "/") + ".c")
    target = directory / f"{name.rpartition('.')[2]}{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    include = sysconfig.get_paths()["include"]
    command = ["cc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{include}"]
    subprocess.run([*command, str(source), "-o", str(target)], check=True)
    spec = importlib.util.spec_from_file_location(name, target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def encode_payload(payload: dict[str, Any] | bytes, *, compress: bool = True) -> str:
    """A CloudWatch Logs payload as Firehose record data: base64(gzip(JSON))."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return base64.b64encode(gzip.compress(raw, mtime=0) if compress else raw).decode()


def data_message(
    events: Sequence[tuple[int, str]] | Sequence[dict[str, Any]],
    *,
    log_group: str = "/app/orders",
    log_stream: str = "i-0abc",
    owner: str = "123456789012",
) -> dict[str, Any]:
    """A DATA_MESSAGE payload; events are (timestamp_ms, message) pairs or full event dicts."""
    log_events = []
    for n, e in enumerate(events):
        if isinstance(e, dict):
            log_events.append(e)
        else:
            ts, msg = e
            log_events.append({"id": f"{ts}{n:040d}"[:56], "timestamp": ts, "message": msg})
    return {
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": ["all"],
        "logEvents": log_events,
    }


def control_message() -> dict[str, Any]:
    return cloudwatch_control_message(1600110003794)


def firehose_event(datas: Sequence[str | Any], *, arrival_ms: int = 1_763_900_000_000) -> dict[str, Any]:
    """A Firehose transformation event with one record per data item (record ids r0, r1, ...)."""
    return {
        "invocationId": "11111111-2222-3333-4444-555555555555",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/stream-processor",
        "region": "us-east-1",
        "records": [
            {"recordId": f"r{i}", "approximateArrivalTimestamp": arrival_ms + i, "data": d} for i, d in enumerate(datas)
        ],
    }


def decode_rows(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The NDJSON rows of one Ok response entry."""
    text = base64.b64decode(entry["data"]).decode()
    # NDJSON lines end at "\n" only (str.splitlines would also split inside strings at U+2028).
    return [json.loads(line) for line in text.split("\n") if line]


def create_firehose_to_s3(stream: str, bucket: str, prefix: str | None = "raw/") -> None:
    """A bucket and a Direct PUT Firehose stream delivering into it, on the moto server (``aws_env``)."""
    import boto3

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
    destination = {"RoleARN": "arn:aws:iam::123456789012:role/firehose", "BucketARN": f"arn:aws:s3:::{bucket}"}
    if prefix is not None:
        destination["Prefix"] = prefix
    boto3.client("firehose", region_name="us-east-1").create_delivery_stream(
        DeliveryStreamName=stream, DeliveryStreamType="DirectPut", ExtendedS3DestinationConfiguration=destination
    )


def delivered_bodies(bucket: str) -> list[bytes]:
    """The objects moto's Firehose wrote to a bucket (each one the records of a call, concatenated)."""
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return [s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys]


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server for the whole session, on 127.0.0.1 only; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point boto3 at the moto server the standard way (AWS_ENDPOINT_URL) with dummy credentials,
    and reset moto's state afterwards."""
    import urllib.request

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield moto_endpoint
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).close()
