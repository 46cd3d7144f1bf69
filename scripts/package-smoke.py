"""Smoke check of a packaged transform: answer each Firehose event file with the handler it finds on
sys.path, and write, per event, the sha256 of the response (``lambda_handler_bytes``) to OUT, then
the accelerators in use (transform_lambda.accel.active()) and which build answered
(transform_lambda.native.STATUS). scripts/test-compiled.sh runs it on the
unzipped arm64 package under emulation and on the working tree's source, and compares the digests.
Standard library and the package only: the zip holds no test tools.
Usage: python package-smoke.py OUT EVENT.json...
"""

from __future__ import annotations

import hashlib
import json
import sys
import time


class Context:
    """What the handler's Powertools decorators read of a Lambda context."""

    function_name = "stream-processor-transform"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:stream-processor-transform"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/stream-processor-transform"
    log_stream_name = "smoke"

    def __init__(self) -> None:
        self.deadline_ms = int(time.time() * 1000) + 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.deadline_ms - int(time.time() * 1000)


def main(out: str, events: list[str]) -> None:
    from transform_lambda import accel, native
    from transform_lambda.handler import lambda_handler_bytes

    lines = []
    for path in events:
        with open(path, encoding="utf-8") as file:
            event = json.load(file)
        response = lambda_handler_bytes(event, Context())
        lines.append(f"{path.rsplit('/', 1)[-1]}\t{hashlib.sha256(response).hexdigest()}\t{len(response)}")
    lines.append(f"accelerators\t{','.join(accel.active())}")
    lines.append(f"build\t{native.STATUS}")
    with open(out, "w", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
