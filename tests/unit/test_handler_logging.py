"""What the Lambda logs: one summary per invocation and a short line per failed record, never the
payload's contents (at INFO and WARNING), and nothing attacker-controlled without a bound. Runs the
handler in a fresh interpreter, as the runtime does, and reads everything it prints."""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO, data_message

SECRET = "AKIAIOSFODNN7EXAMPLE-s3cr3t-password=hunter2"
RUN = (
    "import json, sys; from tests.conftest import FakeLambdaContext; "
    "from transform_lambda.handler import lambda_handler; "
    "print(json.dumps(lambda_handler(json.load(sys.stdin), FakeLambdaContext())), file=sys.stderr)"
)


def invoke(level: str) -> tuple[str, dict[str, object]]:
    good = base64.b64encode(gzip.compress(json.dumps(data_message([(1_763_892_000_000, SECRET)])).encode())).decode()
    corrupt = base64.b64encode(gzip.compress(f'{{"messageType": "{SECRET}"'.encode())).decode()
    unknown = base64.b64encode(
        gzip.compress(json.dumps({**data_message([(1, SECRET)]), "messageType": SECRET}).encode())
    ).decode()
    event = {
        "invocationId": "i",
        "region": "us-east-1",
        "records": [
            {"recordId": "ok", "data": good},
            {"recordId": "bad", "data": corrupt},
            {"recordId": "x" * 100_000, "data": unknown},
            {"recordId": "b64", "data": SECRET},
        ],
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    env.update(POWERTOOLS_LOG_LEVEL=level, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-c", RUN],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    response_line = done.stderr.strip().splitlines()[-1]
    logs = done.stdout + "\n".join(done.stderr.strip().splitlines()[:-1])
    return logs, json.loads(response_line)


@pytest.mark.parametrize("level", ["INFO", "WARNING"])
def test_logging_never_carries_payload_contents(level: str) -> None:
    logs, response = invoke(level)
    results = {r["recordId"][:3]: r["result"] for r in response["records"]}  # type: ignore[index, union-attr]
    assert results == {"ok": "Ok", "bad": "ProcessingFailed", "xxx": "ProcessingFailed", "b64": "ProcessingFailed"}
    assert SECRET not in logs and "hunter2" not in logs
    assert "Record failed." in logs  # the per-record warnings were captured, so the check means something
    if level == "INFO":
        summary = [json.loads(line) for line in logs.splitlines() if "Batch transformed." in line]
        assert len(summary) == 1
        # Which build answered: the source here, the compiled one when make compiled runs these tests.
        compiled = (REPO / "transform_lambda" / "_compiled").is_dir()
        assert summary[0]["build"] == ("compiled" if compiled else "source: no compiled build")
    assert max(len(line) for line in logs.splitlines()) < 4096  # the 100,000-char record id is cut


def test_logging_disabled_metrics_do_not_pile_up_across_invocations(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import FakeLambdaContext, encode_payload, firehose_event
    from transform_lambda import handler

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    event = firehose_event([encode_payload(data_message([(1_763_892_000_000, "m")]))])
    for _ in range(5):
        handler.lambda_handler(event, FakeLambdaContext())
    assert all(len(metric["Value"]) <= 1 for metric in handler.metrics.metric_set.values())
