"""Contract: every IAM and bucket policy in infra/ is least-privilege (no wildcard action, no
``*`` resource outside an allow-list with reasons), trusts are guarded, and checkov skips say why."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract.infra_templates import TEMPLATE_NAMES, template

# (template, logical id, statement Sid) -> why a wildcard is acceptable there.
WILDCARD_ALLOWED = {
    ("data", "LakeBucketPolicy", "DenyInsecureTransport"): "a Deny on s3:* only takes access away (TLS-only)",
    ("data", "WorkBucketPolicy", "DenyInsecureTransport"): "a Deny on s3:* only takes access away (TLS-only)",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(template, logical id, kind, statement) for every policy statement in every template."""
    for name in TEMPLATE_NAMES:
        for logical_id, resource in template(name)["Resources"].items():
            if not isinstance(resource, dict):
                continue  # an Fn::ForEach block: subscription filters, no policies
            props = resource.get("Properties", {})
            documents: list[tuple[str, dict[str, Any]]] = []
            if "AssumeRolePolicyDocument" in props:
                documents.append(("trust", props["AssumeRolePolicyDocument"]))
            documents += [("inline", p["PolicyDocument"]) for p in props.get("Policies", [])]
            if resource.get("Type") in {"AWS::S3::BucketPolicy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"}:
                documents.append(("resource", props["PolicyDocument"]))
            for kind, document in documents:
                for statement in document["Statement"]:
                    yield name, logical_id, kind, statement


def test_policy_statements_found_in_every_stack() -> None:
    stacks = {name for name, *_ in _statements()}
    assert stacks == set(TEMPLATE_NAMES)


@pytest.mark.parametrize("name, logical_id, kind, statement", list(_statements()))
def test_policy_statement_has_no_unlisted_wildcard(
    name: str, logical_id: str, kind: str, statement: dict[str, Any]
) -> None:
    key = (name, logical_id, statement.get("Sid", ""))
    if key in WILDCARD_ALLOWED:
        assert statement["Effect"] == "Deny", WILDCARD_ALLOWED[key]
        return
    actions = _as_list(statement.get("Action", []))
    assert actions, f"{key}: no Action"
    assert not [a for a in actions if "*" in a], f"{key}: wildcard action"
    assert "NotAction" not in statement and "NotResource" not in statement, key
    if kind != "trust":
        resources = _as_list(statement["Resource"])
        assert "*" not in resources, f"{key}: Resource '*'"


@pytest.mark.parametrize("name, logical_id, kind, statement", [s for s in _statements() if s[2] == "trust"])
def test_policy_service_trust_is_guarded_against_confused_deputy(
    name: str, logical_id: str, kind: str, statement: dict[str, Any]
) -> None:
    service = statement["Principal"]["Service"]
    if service == "lambda.amazonaws.com":
        return  # an execution role: only Lambda in this account can use it for this function
    condition = statement.get("Condition", {})
    guarded = {key for op in condition.values() for key in op}
    assert guarded & {"aws:SourceArn", "aws:SourceAccount", "sts:ExternalId"}, (name, logical_id)


def test_policy_subscription_role_checks_source_arn_and_account() -> None:
    role = template("sources")["Resources"]["SubscriptionRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert "aws:SourceArn" in trust["Condition"]["StringLike"]
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    (statement,) = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == ["firehose:PutRecord", "firehose:PutRecordBatch"]


def test_policy_transform_may_reingest_into_its_own_stream_only() -> None:
    role = template("pipeline")["Resources"]["TransformRole"]["Properties"]
    statements = {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}
    reingest = statements["ReingestIntoOwnStream"]
    assert reingest["Action"] == "firehose:PutRecordBatch"
    arn, names = reingest["Resource"]["Fn::Sub"]
    assert arn.endswith(":deliverystream/${Stream}")
    assert names["Stream"] == {"Fn::FindInMap": ["Layout", "Stream", "Name"]}


def test_policy_checkov_skips_carry_a_reason() -> None:
    skips = [
        (name, logical_id, skip)
        for name in TEMPLATE_NAMES
        for logical_id, resource in template(name)["Resources"].items()
        if isinstance(resource, dict)
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for name, logical_id, skip in skips:
        assert skip["id"].startswith("CKV"), (name, logical_id)
        assert len(skip.get("comment", "")) >= 30, f"{name}/{logical_id}/{skip['id']}: give the reason"


def test_policy_stateful_resources_are_retained() -> None:
    data = template("data")["Resources"]
    for logical_id in ("LakeBucket", "WorkBucket"):
        assert data[logical_id]["DeletionPolicy"] == "Retain"
        assert data[logical_id]["UpdateReplacePolicy"] == "Retain"
    for name in ("pipeline", "sources"):
        types = {r.get("Type") for r in template(name)["Resources"].values() if isinstance(r, dict)}
        assert not types & {"AWS::S3::Bucket", "AWS::Glue::Table", "AWS::Glue::Database"}, name
