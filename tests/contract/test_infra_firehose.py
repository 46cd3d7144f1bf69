"""Contract: the pipeline stack's delivery stream and transform agree with settings.py and the
Firehose limits, and its ExtendedS3DestinationConfiguration is accepted by the Firehose API."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import boto3

from stream_processor import settings
from stream_processor.infra_gen import parameter_name
from tests.contract.infra_templates import Resolver, parameter_defaults, template
from transform_lambda import native

ACCOUNT = "123456789012"
REGION = "us-east-1"
PSEUDO = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws", "AWS::NoValue": None}
DATA_STACK = "stream-processor-data"
LAKE_ARN = "arn:aws:s3:::lake-bucket-example"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/delivery-role"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:stream-processor-transform"
FIREHOSE_MIN_CONVERSION_BUFFER_MB = 64  # firehose-contract.md §4
FIREHOSE_LAMBDA_CAP_S = 300  # firehose-contract.md §2.4


def _resolver() -> Resolver:
    pipeline = template("pipeline")
    layout = pipeline["Mappings"]["Layout"]
    return Resolver(
        pipeline,
        {
            **PSEUDO,
            "DataStackName": DATA_STACK,
            "DeliveryLogGroup": layout["Stream"]["LogGroupName"],
            "DeliveryLogStream": layout["Stream"]["LogStreamName"],
            "TransformLogGroup": layout["Transform"]["LogGroupName"],
            "CodeS3Key": "lambda/0123abcd.zip",
        },
        attrs={
            "DeliveryRole.Arn": ROLE_ARN,
            "TransformFunction.Arn": FUNCTION_ARN,
            "TransformRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/transform-role",
        },
        imports={
            f"{DATA_STACK}-LakeBucketArn": LAKE_ARN,
            f"{DATA_STACK}-WorkBucketName": "work-bucket-example",
            f"{DATA_STACK}-DatabaseName": settings.DATABASE,
            f"{DATA_STACK}-TableName": settings.TABLE,
        },
    )


def _stream() -> dict[str, Any]:
    return _resolver()(template("pipeline")["Resources"]["DeliveryStream"]["Properties"])


def _destination_as_api(destination: dict[str, Any]) -> dict[str, Any]:
    """CFN property names are the API's; only processor parameter values differ (Ref -> string)."""
    for processor in destination["ProcessingConfiguration"]["Processors"]:
        for parameter in processor["Parameters"]:
            parameter["ParameterValue"] = str(parameter["ParameterValue"])
    return destination


def test_firehose_prefixes_and_extension_equal_settings() -> None:
    destination = _stream()["ExtendedS3DestinationConfiguration"]
    assert destination["Prefix"] == settings.PREFIX
    assert destination["ErrorOutputPrefix"] == settings.ERROR_OUTPUT_PREFIX
    assert destination["FileExtension"] == settings.FILE_EXTENSION
    assert "!{firehose:error-output-type}" in destination["ErrorOutputPrefix"]
    assert _stream()["DeliveryStreamName"] == settings.STREAM_NAME


def test_firehose_buffer_parameter_defaults_equal_settings() -> None:
    defaults = parameter_defaults(template("pipeline"))
    twin = settings.DeliverySettings()
    for field in (
        "processor_buffer_size_mb",
        "processor_buffer_interval_s",
        "s3_buffer_size_mb",
        "s3_buffer_interval_s",
    ):
        assert defaults[parameter_name(field)] == getattr(twin, field), field


def test_firehose_conversion_buffer_and_compression_within_limits() -> None:
    params = template("pipeline")["Parameters"]
    destination = _stream()["ExtendedS3DestinationConfiguration"]
    assert float(params["S3BufferSizeMb"]["MinValue"]) >= FIREHOSE_MIN_CONVERSION_BUFFER_MB
    assert destination["BufferingHints"]["SizeInMBs"] >= FIREHOSE_MIN_CONVERSION_BUFFER_MB
    assert destination["CompressionFormat"] == "UNCOMPRESSED"
    conversion = destination["DataFormatConversionConfiguration"]
    assert conversion["Enabled"] is True
    assert "OpenXJsonSerDe" in conversion["InputFormatConfiguration"]["Deserializer"]
    parquet = conversion["OutputFormatConfiguration"]["Serializer"]["ParquetSerDe"]
    assert parquet["Compression"] == settings.PARQUET_COMPRESSION.upper()
    schema_config = conversion["SchemaConfiguration"]
    assert (schema_config["DatabaseName"], schema_config["TableName"]) == (settings.DATABASE, settings.TABLE)
    assert schema_config["VersionId"] == "LATEST"


def test_firehose_processor_uses_lambda_and_buffer_parameters() -> None:
    destination = template("pipeline")["Resources"]["DeliveryStream"]["Properties"][
        "ExtendedS3DestinationConfiguration"
    ]
    (processor,) = destination["ProcessingConfiguration"]["Processors"]
    values = {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}
    assert processor["Type"] == "Lambda"
    assert values["LambdaArn"] == {"Fn::GetAtt": ["TransformFunction", "Arn"]}
    assert values["BufferSizeInMBs"] == {"Ref": "ProcessorBufferSizeMb"}
    assert values["BufferIntervalInSeconds"] == {"Ref": "ProcessorBufferIntervalS"}
    assert destination["DynamicPartitioningConfiguration"]["Enabled"] is True
    assert destination["CloudWatchLoggingOptions"]["Enabled"] is True


def test_firehose_transform_sized_for_firehose_cap_and_arm64() -> None:
    pipeline = template("pipeline")
    function = _resolver()(pipeline["Resources"]["TransformFunction"]["Properties"])
    timeout = pipeline["Parameters"]["FunctionTimeoutS"]
    assert int(timeout["MaxValue"]) <= FIREHOSE_LAMBDA_CAP_S
    assert int(timeout["Default"]) <= FIREHOSE_LAMBDA_CAP_S
    assert function["Architectures"] == ["arm64"]
    assert function["Runtime"] in {"python3.12", "python3.13"}
    assert function["ReservedConcurrentExecutions"] >= 1
    assert function["Handler"] == "transform_lambda.handler.lambda_handler", "the documented behaviour by default"
    encodings = pipeline["Parameters"]["ResponseEncoding"]["AllowedValues"]
    assert sorted(encodings) == sorted(pipeline["Mappings"]["Layout"]["TransformHandler"])
    handlers = set()
    for encoding in encodings:
        resolver = _resolver()
        resolver.refs["ResponseEncoding"] = encoding
        handler = resolver(pipeline["Resources"]["TransformFunction"]["Properties"]["Handler"])
        module, _, name = handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), encoding
        handlers.add(handler)
    assert handlers == {"transform_lambda.handler.lambda_handler", "transform_lambda.handler.lambda_handler_bytes"}
    assert settings.DeliverySettings().lambda_arn.endswith(":function:" + function["FunctionName"])


def test_transform_build_parameter_switches_the_transform_to_its_source(tmp_path: Path) -> None:
    # GIVEN each value of the pipeline stack's TransformBuild parameter, and a package that ships a
    # (here unreadable) compiled build
    (tmp_path / native.COMPILED_DIR).mkdir()
    pipeline = template("pipeline")
    builds = pipeline["Parameters"]["TransformBuild"]
    assert builds["Default"] == "compiled"
    statuses = {}
    for build in builds["AllowedValues"]:
        resolver = _resolver()
        resolver.refs["TransformBuild"] = build
        # WHEN the function's environment is resolved and the transform chooses its build by it
        variables = resolver(pipeline["Resources"]["TransformFunction"]["Properties"])["Environment"]["Variables"]
        statuses[build], _ = native.choose(str(tmp_path), environ=variables)
    # THEN source forces the source; compiled leaves the choice to the package's build
    assert statuses["source"] == native.SWITCHED_OFF
    assert statuses["compiled"].startswith("source: unreadable compiled build"), statuses


def test_firehose_alarms_cover_the_loss_and_delay_signals() -> None:
    alarms = [
        r["Properties"] for r in template("pipeline")["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    metrics = {
        (a["Namespace"] if isinstance(a["Namespace"], str) else "StreamProcessor", a["MetricName"]) for a in alarms
    }
    assert {
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/Firehose", "DeliveryToS3.DataFreshness"),
        ("AWS/Firehose", "FailedConversion.Records"),
        ("AWS/Firehose", "ExecuteProcessing.Success"),
        ("StreamProcessor", "RecordsFailed"),
        ("StreamProcessor", "CompiledBuildUnused"),
    } <= metrics


def test_firehose_destination_round_trips_through_firehose_api(aws_env: str) -> None:
    # GIVEN the template's stream with intrinsics resolved and parameter defaults applied
    stream = _stream()
    destination = _destination_as_api(stream["ExtendedS3DestinationConfiguration"])
    firehose = boto3.client("firehose", region_name=REGION)
    # WHEN botocore sends it (every key and type is checked against the Firehose model)
    firehose.create_delivery_stream(
        DeliveryStreamName=stream["DeliveryStreamName"],
        DeliveryStreamType=stream["DeliveryStreamType"],
        DeliveryStreamEncryptionConfigurationInput=stream["DeliveryStreamEncryptionConfigurationInput"],
        ExtendedS3DestinationConfiguration=destination,
    )
    described = firehose.describe_delivery_stream(DeliveryStreamName=stream["DeliveryStreamName"])
    stored = described["DeliveryStreamDescription"]["Destinations"][0]["ExtendedS3DestinationDescription"]
    # THEN it reads back unchanged
    for key in (
        "BucketARN",
        "RoleARN",
        "Prefix",
        "ErrorOutputPrefix",
        "BufferingHints",
        "CompressionFormat",
        "CloudWatchLoggingOptions",
        "ProcessingConfiguration",
        "DynamicPartitioningConfiguration",
        "DataFormatConversionConfiguration",
    ):
        assert stored[key] == destination[key], key
