"""The Firehose data-transformation Lambda: CloudWatch Logs subscription records into typed JSON rows.

Entry point: ``transform_lambda.handler.lambda_handler``. Light dependencies only (the standard
library and aws-lambda-powertools); never imports pyarrow, duckdb or ``stream_processor``.
"""
