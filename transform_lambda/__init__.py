"""The Firehose data-transformation Lambda: CloudWatch Logs subscription records into typed JSON rows.

Entry point: ``transform_lambda.handler.lambda_handler``. Light dependencies only (the standard
library and aws-lambda-powertools); never imports pyarrow, duckdb or ``stream_processor``.
Importing the package first decides whether its per-event modules load from a compiled build
shipped beside them (``transform_lambda.native``) or from source.
"""

from transform_lambda import native

native.install()
