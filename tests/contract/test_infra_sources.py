"""Contract: the sources stack never subscribes the pipeline's own log groups, and its
subscription filter properties are accepted by the CloudWatch Logs API (moto)."""

from __future__ import annotations

import boto3

from stream_processor import settings
from tests.contract.infra_templates import Resolver, resources_of_type, template

PIPELINE_STACK = "stream-processor-pipeline"


def test_sources_account_policy_excludes_the_pipeline_log_groups() -> None:
    policy = template("sources")["Resources"]["SubscriptionPolicy"]
    criteria, names = policy["Properties"]["SelectionCriteria"]["Fn::Sub"]
    assert criteria.startswith("LogGroupName NOT IN [")
    exported = {v["Fn::ImportValue"]["Fn::Sub"] for v in names.values()}
    assert exported == {
        "${PipelineStackName}-TransformLogGroupName",
        "${PipelineStackName}-DeliveryLogGroupName",
    }
    outputs = template("pipeline")["Outputs"]
    assert outputs["TransformLogGroupName"]["Value"] == {"Ref": "TransformLogGroup"}
    assert outputs["DeliveryLogGroupName"]["Value"] == {"Ref": "DeliveryLogGroup"}
    assert policy["Properties"]["PolicyType"] == "SUBSCRIPTION_FILTER_POLICY"
    assert policy["Condition"] == "UseAccountPolicy"


def test_sources_empty_log_group_list_creates_no_filter() -> None:
    sources = template("sources")
    (fragment,) = resources_of_type(sources, "AWS::Logs::SubscriptionFilter").values()
    assert fragment["Condition"] == "HasLogGroups"
    assert "Default" not in sources["Parameters"]["LogGroupNames"]


def test_sources_subscription_filter_round_trips_through_logs_api(aws_env: str) -> None:
    # GIVEN a stream and a log group in moto, and the template's filter resolved for that group
    region, account = "us-east-1", "123456789012"
    firehose = boto3.client("firehose", region_name=region)
    stream_arn = firehose.create_delivery_stream(
        DeliveryStreamName=settings.STREAM_NAME,
        ExtendedS3DestinationConfiguration={
            "BucketARN": "arn:aws:s3:::lake-bucket-example",
            "RoleARN": f"arn:aws:iam::{account}:role/delivery",
        },
    )["DeliveryStreamARN"]
    logs = boto3.client("logs", region_name=region)
    logs.create_log_group(logGroupName="/app/orders")
    sources = template("sources")
    (fragment,) = resources_of_type(sources, "AWS::Logs::SubscriptionFilter").values()
    resolve = Resolver(
        sources,
        {"LogGroupName": "/app/orders", "PipelineStackName": PIPELINE_STACK},
        attrs={"SubscriptionRole.Arn": f"arn:aws:iam::{account}:role/subscription"},
        imports={f"{PIPELINE_STACK}-DeliveryStreamArn": stream_arn},
    )
    props = resolve(fragment["Properties"])
    # WHEN the filter is put with the API's names for the same properties
    logs.put_subscription_filter(
        logGroupName=props["LogGroupName"],
        filterName=props["FilterName"],
        filterPattern=props["FilterPattern"],
        destinationArn=props["DestinationArn"],
        roleArn=props["RoleArn"],
    )
    # THEN it is the one filter on the group, pointing at the stream
    (stored,) = logs.describe_subscription_filters(logGroupName="/app/orders")["subscriptionFilters"]
    assert (stored["filterName"], stored["destinationArn"]) == (settings.STREAM_NAME, stream_arn)
