"""Deploy: the three CloudFormation stacks, in order, from one TOML config.

Input: a config file (``infra/config.example.toml``), the committed templates and the zip from
``make package``. Output: ``deploy`` creates or updates data -> pipeline -> sources through change
sets; ``destroy`` deletes sources -> pipeline and always keeps the data stack. ``--dry-run`` prints
the ordered plan (stack, template, parameters) and calls no AWS API.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from botocore.exceptions import WaiterError

from stream_processor.errors import ConfigError, ProcessorError
from stream_processor.infra_gen import INFRA_DIR, drifted, layout_mapping, parameter_name

REPO: Final = Path(__file__).resolve().parent.parent
STACKS: Final = ("data", "pipeline", "sources")
# Parameters the script fills in itself (cross-stack names and the artifact key).
WIRED: Final = {"pipeline": ("DataStackName", "CodeS3Key"), "sources": ("PipelineStackName",)}
CAPABILITIES: Final = {
    "data": (),
    "pipeline": ("CAPABILITY_IAM",),
    "sources": ("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"),
}
TEMPLATE_BODY_LIMIT: Final = 51_200  # bytes; larger templates need an S3 TemplateURL
SUBSCRIPTION_FILTERS_PER_GROUP: Final = 2  # firehose-contract.md §1.5
_PARAM_LINE = re.compile(r"^  ([A-Za-z0-9]+):\s*$")


class DeployError(ProcessorError):
    """CloudFormation or a preflight check refused the deployment."""


@dataclass(frozen=True, slots=True)
class StackPlan:
    """One stack of the plan: what is deployed where, with which parameters."""

    stack: str
    name: str
    template: Path
    parameters: dict[str, str]
    capabilities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeployConfig:
    """The parsed config file."""

    region: str
    stack_prefix: str = "stream-processor"
    package: Path = REPO / "build" / "transform_lambda.zip"
    cfn_role_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    stacks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def stack_name(self, stack: str) -> str:
        return f"{self.stack_prefix}-{stack}"


def load_config(path: Path) -> DeployConfig:
    """Read and check the TOML config.

    Raises:
        ConfigError: unreadable, unknown keys, or a log group of the pipeline itself is listed.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    known = {"region", "stack_prefix", "package", "cfn_role_arn", "tags", *STACKS}
    if unknown := sorted(set(raw) - known):
        raise ConfigError(f"{path}: unknown keys {unknown}")
    if not isinstance(raw.get("region"), str):
        raise ConfigError(f"{path}: region is required")
    package = Path(raw.get("package", "build/transform_lambda.zip"))
    config = DeployConfig(
        region=raw["region"],
        stack_prefix=raw.get("stack_prefix", "stream-processor"),
        package=package if package.is_absolute() else REPO / package,
        cfn_role_arn=raw.get("cfn_role_arn"),
        tags={str(k): str(v) for k, v in raw.get("tags", {}).items()},
        stacks={stack: dict(raw.get(stack, {})) for stack in STACKS},
    )
    _check_sources(config)
    return config


def _check_sources(config: DeployConfig) -> None:
    sources = config.stacks["sources"]
    groups = sources.get("log_group_names", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        raise ConfigError("sources.log_group_names must be a list of log group names")
    layout = layout_mapping()["Layout"]
    own = {layout["Transform"]["LogGroupName"], layout["Stream"]["LogGroupName"]}
    if looped := sorted(own & set(groups)):
        raise ConfigError(f"sources.log_group_names lists the pipeline's own log groups {looped}: a feedback loop")
    if groups and sources.get("account_policy", False):
        raise ConfigError("sources: choose log_group_names or account_policy, not both (events would arrive twice)")
    if len(set(groups)) != len(groups):
        raise ConfigError("sources.log_group_names has duplicates")
    if not groups and not sources.get("account_policy", False):
        raise ConfigError("sources: set log_group_names or account_policy = true, or nothing reaches the stream")


def template_parameters(text: str) -> dict[str, bool]:
    """Parameter name -> has a default, read from a template's top-level ``Parameters`` block."""
    found: dict[str, bool] = {}
    current: str | None = None
    inside = False
    for line in text.splitlines():
        if not line.startswith(" ") and line.strip() and not line.startswith("#"):
            inside = line.rstrip() == "Parameters:"
            current = None
            continue
        if not inside:
            continue
        if match := _PARAM_LINE.match(line):
            current = match.group(1)
            found[current] = False
        elif current and line.startswith("    Default:"):
            found[current] = True
    return found


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def code_key(package: Path) -> str:
    """Content-addressed S3 key of the zip, so CloudFormation updates the code only when it changes."""
    if not package.exists():
        return "lambda/transform_lambda-<sha256 of the zip; run make package>.zip"
    digest = hashlib.sha256(package.read_bytes()).hexdigest()[:20]
    return f"{layout_mapping()['Layout']['S3']['ArtifactsPrefix']}transform_lambda-{digest}.zip"


def build_plan(config: DeployConfig, infra_dir: Path = INFRA_DIR) -> list[StackPlan]:
    """The ordered deployment: data, pipeline, sources, with every parameter spelled out.

    Raises:
        ConfigError: a config key names no template parameter, overrides a wired one, or a
            required parameter has no value.
    """
    wired = {
        "pipeline": {"DataStackName": config.stack_name("data"), "CodeS3Key": code_key(config.package)},
        "sources": {"PipelineStackName": config.stack_name("pipeline")},
    }
    # An empty CommaDelimitedList is still a value: the template's condition then skips the filters.
    defaults = {"sources": {"LogGroupNames": ""}}
    plan: list[StackPlan] = []
    for stack in STACKS:
        template = infra_dir / f"{stack}.yaml"
        declared = template_parameters(template.read_text(encoding="utf-8"))
        parameters: dict[str, str] = dict(defaults.get(stack, {}))
        for key, value in config.stacks[stack].items():
            name = parameter_name(key)
            if name not in declared:
                raise ConfigError(f"[{stack}] {key}: {template.name} has no parameter {name}")
            if name in WIRED.get(stack, ()):
                raise ConfigError(f"[{stack}] {key} is set by the deploy script")
            parameters[name] = _value(value)
        parameters.update(wired.get(stack, {}))
        if missing := sorted(n for n, has_default in declared.items() if not has_default and n not in parameters):
            raise ConfigError(f"[{stack}] no value for required parameters {missing}")
        plan.append(StackPlan(stack, config.stack_name(stack), template, parameters, CAPABILITIES[stack]))
    return plan


def format_plan(plan: Sequence[StackPlan], *, destroy: bool = False) -> str:
    """The plan as text, one block per stack in execution order."""
    if destroy:
        doomed = [p for p in reversed(plan) if p.stack != "data"]
        deletions = [f"{n}. delete {p.name}" for n, p in enumerate(doomed, 1)]
        return "\n".join([*deletions, f"keep {plan[0].name} (data: retained, delete it by hand if you mean it)"])
    lines: list[str] = []
    for n, step in enumerate(plan, 1):
        capabilities = ",".join(step.capabilities) or "-"
        shown = step.template.relative_to(REPO) if step.template.is_relative_to(REPO) else step.template
        lines.append(f"{n}. {step.name}  template={shown}  capabilities={capabilities}")
        lines.extend(f"     {key}={value}" for key, value in sorted(step.parameters.items()))
    return "\n".join(lines)


class Deployer:
    """Runs a plan against AWS with boto3 (CloudFormation change sets, S3 upload, preflight)."""

    def __init__(self, config: DeployConfig, session: Any | None = None) -> None:
        import boto3

        self.config = config
        session = session or boto3.Session(region_name=config.region)
        self.cfn: Any = session.client("cloudformation")
        self.s3: Any = session.client("s3")
        self.logs: Any = session.client("logs")

    def deploy(self, plan: Sequence[StackPlan]) -> None:
        """Deploy every stack in order, uploading the artifact between data and pipeline."""
        for step in plan:
            if step.stack == "pipeline":
                self.upload_package(step.parameters["CodeS3Key"])
            if step.stack == "sources":
                self.check_subscription_slots()
            self.deploy_stack(step)
            if step.stack == "data":
                self.cfn.update_termination_protection(EnableTerminationProtection=True, StackName=step.name)

    def destroy(self, plan: Sequence[StackPlan]) -> None:
        """Delete sources then pipeline; the data stack is never touched."""
        for step in reversed(plan):
            if step.stack == "data":
                continue
            self.cfn.delete_stack(StackName=step.name)
            self.cfn.get_waiter("stack_delete_complete").wait(StackName=step.name, WaiterConfig={"Delay": 10})

    def output(self, stack: str, key: str) -> str:
        (described,) = self.cfn.describe_stacks(StackName=self.config.stack_name(stack))["Stacks"]
        values = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
        if key not in values:
            raise DeployError(f"{self.config.stack_name(stack)} has no output {key}")
        return str(values[key])

    def upload_package(self, key: str) -> None:
        """Put the zip under its content-addressed key unless it is already there."""
        if not self.config.package.exists():
            raise DeployError(f"{self.config.package} is missing; run make package")
        bucket = self.output("data", "WorkBucketName")
        try:
            self.s3.head_object(Bucket=bucket, Key=key)
        except self.s3.exceptions.ClientError:
            self.s3.upload_file(str(self.config.package), bucket, key)

    def check_subscription_slots(self) -> None:
        """Every listed log group exists and has a free subscription filter slot (or ours)."""
        ours = layout_mapping()["Layout"]["Stream"]["Name"]
        for group in self.config.stacks["sources"].get("log_group_names", []):
            try:
                filters = self.logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
            except self.logs.exceptions.ResourceNotFoundException as exc:
                raise DeployError(f"log group {group} does not exist") from exc
            names = {f["filterName"] for f in filters}
            if ours not in names and len(names) >= SUBSCRIPTION_FILTERS_PER_GROUP:
                raise DeployError(f"log group {group} already has {len(names)} subscription filters: {sorted(names)}")

    def deploy_stack(self, step: StackPlan) -> None:
        """Create or update one stack through a change set and wait for it."""
        body = step.template.read_text(encoding="utf-8")
        if len(body.encode()) > TEMPLATE_BODY_LIMIT:
            raise DeployError(
                f"{step.template.name} exceeds {TEMPLATE_BODY_LIMIT} bytes; upload it and use TemplateURL"
            )
        self.cfn.validate_template(TemplateBody=body)
        exists = self._exists(step.name)
        extra = {"RoleARN": self.config.cfn_role_arn} if self.config.cfn_role_arn else {}
        change_set = f"deploy-{int(time.time())}"
        self.cfn.create_change_set(
            StackName=step.name,
            ChangeSetName=change_set,
            ChangeSetType="UPDATE" if exists else "CREATE",
            TemplateBody=body,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in step.parameters.items()],
            Capabilities=list(step.capabilities),
            Tags=[{"Key": k, "Value": v} for k, v in self.config.tags.items()],
            **extra,
        )
        try:
            self.cfn.get_waiter("change_set_create_complete").wait(
                StackName=step.name, ChangeSetName=change_set, WaiterConfig={"Delay": 5}
            )
        except WaiterError as exc:  # read the reason from the change set
            described = self.cfn.describe_change_set(StackName=step.name, ChangeSetName=change_set)
            reason = str(described.get("StatusReason", ""))
            if "didn't contain changes" in reason or "No updates are to be performed" in reason:
                self.cfn.delete_change_set(StackName=step.name, ChangeSetName=change_set)
                sys.stdout.write(f"{step.name}: no changes\n")
                return
            raise DeployError(f"{step.name}: change set failed: {reason}") from exc
        self.cfn.execute_change_set(StackName=step.name, ChangeSetName=change_set)
        waiter = "stack_update_complete" if exists else "stack_create_complete"
        try:
            self.cfn.get_waiter(waiter).wait(StackName=step.name, WaiterConfig={"Delay": 10, "MaxAttempts": 360})
        except WaiterError as exc:
            raise DeployError(f"{step.name}: {waiter} failed; see the stack events") from exc
        sys.stdout.write(f"{step.name}: deployed\n")

    def _exists(self, name: str) -> bool:
        try:
            (stack,) = self.cfn.describe_stacks(StackName=name)["Stacks"]
        except self.cfn.exceptions.ClientError as exc:
            if "does not exist" in str(exc):
                return False
            raise
        status = str(stack["StackStatus"])
        if status == "REVIEW_IN_PROGRESS":
            return False
        if status in {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"}:
            raise DeployError(f"{name} is {status}; delete it before deploying again")
        return True


def main(argv: Sequence[str] | None = None) -> int:
    """``deploy`` or ``destroy`` with ``--config``; ``--dry-run`` prints the plan only."""
    parser = argparse.ArgumentParser(prog="python -m stream_processor.deploy", description=__doc__)
    parser.add_argument("action", choices=("deploy", "destroy"))
    parser.add_argument("--config", type=Path, default=REPO / "infra" / "config.toml")
    parser.add_argument("--dry-run", action="store_true", help="print the ordered plan; call no AWS API")
    parser.add_argument("--infra-dir", type=Path, default=INFRA_DIR)
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        if stale := drifted(args.infra_dir):
            raise ConfigError(f"templates {stale} are stale; run python -m stream_processor.infra_gen --write")
        plan = build_plan(config, args.infra_dir)
        destroy = args.action == "destroy"
        sys.stdout.write(f"region={config.region}{'  (dry run)' if args.dry_run else ''}\n")
        sys.stdout.write(format_plan(plan, destroy=destroy) + "\n")
        if args.dry_run:
            return 0
        deployer = Deployer(config)
        deployer.destroy(plan) if destroy else deployer.deploy(plan)
    except ProcessorError as exc:
        sys.stderr.write(f"deploy: {exc}\n")
        return exc.exit_code
    return 0


def parameters_by_stack(plan: Sequence[StackPlan]) -> Mapping[str, Mapping[str, str]]:
    """``{stack: parameters}`` of a plan (for tests and tooling)."""
    return {step.stack: step.parameters for step in plan}


__all__ = [
    "DeployConfig",
    "DeployError",
    "Deployer",
    "StackPlan",
    "build_plan",
    "code_key",
    "format_plan",
    "load_config",
    "main",
    "parameters_by_stack",
    "template_parameters",
]

if __name__ == "__main__":
    raise SystemExit(main())
