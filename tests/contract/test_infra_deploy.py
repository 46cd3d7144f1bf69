"""Contract: the deploy script's plan, in dry-run mode (no AWS calls): order, wiring, parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream_processor import deploy, settings
from stream_processor.errors import ConfigError
from tests.contract.infra_templates import INFRA

EXAMPLE = INFRA / "config.example.toml"


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('region = "eu-west-1"\nstack_prefix = "sp"\n' + body, encoding="utf-8")
    return path


def test_deploy_example_config_plans_data_pipeline_sources_in_order() -> None:
    plan = deploy.build_plan(deploy.load_config(EXAMPLE))
    assert [(p.stack, p.name, p.template.name) for p in plan] == [
        ("data", "stream-processor-data", "data.yaml"),
        ("pipeline", "stream-processor-pipeline", "pipeline.yaml"),
        ("sources", "stream-processor-sources", "sources.yaml"),
    ]
    params = deploy.parameters_by_stack(plan)
    assert params["pipeline"]["DataStackName"] == "stream-processor-data"
    assert params["sources"]["PipelineStackName"] == "stream-processor-pipeline"
    assert params["pipeline"]["CodeS3Key"].startswith("lambda/transform_lambda-")
    assert params["pipeline"]["ProcessorBufferSizeMb"] == "0.25"
    assert params["sources"]["LogGroupNames"] == "/aws/lambda/orders-api,/ecs/checkout"
    assert "CAPABILITY_AUTO_EXPAND" in plan[2].capabilities


def test_deploy_example_config_defaults_equal_twin_settings() -> None:
    params = deploy.parameters_by_stack(deploy.build_plan(deploy.load_config(EXAMPLE)))["pipeline"]
    twin = settings.DeliverySettings()
    assert float(params["ProcessorBufferSizeMb"]) == twin.processor_buffer_size_mb
    assert int(params["ProcessorBufferIntervalS"]) == twin.processor_buffer_interval_s
    assert int(params["S3BufferSizeMb"]) == twin.s3_buffer_size_mb
    assert int(params["S3BufferIntervalS"]) == twin.s3_buffer_interval_s


def test_deploy_dry_run_prints_plan_and_calls_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert deploy.main(["deploy", "--config", str(EXAMPLE), "--dry-run"]) == 0
    out = capsys.readouterr().out
    positions = [out.index(f"stream-processor-{s}  template=infra/{s}.yaml") for s in ("data", "pipeline", "sources")]
    assert positions == sorted(positions)
    assert "LogGroupNames=/aws/lambda/orders-api,/ecs/checkout" in out


def test_deploy_destroy_dry_run_keeps_data_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert deploy.main(["destroy", "--config", str(EXAMPLE), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == [
        "1. delete stream-processor-sources",
        "2. delete stream-processor-pipeline",
        "keep stream-processor-data (data: retained, delete it by hand if you mean it)",
    ]


def test_deploy_account_policy_only_passes_empty_log_group_list(tmp_path: Path) -> None:
    config = deploy.load_config(_config(tmp_path, "[sources]\naccount_policy = true\n"))
    params = deploy.parameters_by_stack(deploy.build_plan(config))["sources"]
    assert params == {"AccountPolicy": "true", "LogGroupNames": "", "PipelineStackName": "sp-pipeline"}


@pytest.mark.parametrize(
    "body, message",
    [
        ('[sources]\nlog_group_names = ["/aws/lambda/stream-processor-transform"]\n', "feedback loop"),
        ('[sources]\nlog_group_names = ["/a"]\naccount_policy = true\n', "not both"),
        ("[sources]\n", "nothing reaches the stream"),
        ("[pipeline]\nbogus_knob = 1\n[sources]\naccount_policy = true\n", "no parameter BogusKnob"),
        ('[pipeline]\ncode_s3_key = "x.zip"\n[sources]\naccount_policy = true\n', "set by the deploy script"),
        ("[stacks]\n", "unknown keys"),
    ],
)
def test_deploy_bad_config_fails_before_any_call(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        deploy.build_plan(deploy.load_config(_config(tmp_path, body)))


def test_deploy_template_parameters_reads_required_and_defaulted() -> None:
    declared = deploy.template_parameters((INFRA / "pipeline.yaml").read_text(encoding="utf-8"))
    assert declared["CodeS3Key"] is False
    assert declared["ProcessorBufferSizeMb"] is True
    assert "Layout" not in declared


def test_deploy_templates_fit_template_body_limit() -> None:
    for name in ("data", "pipeline", "sources"):
        assert len((INFRA / f"{name}.yaml").read_bytes()) < deploy.TEMPLATE_BODY_LIMIT


def test_deploy_packaging_python_is_the_runtime_everywhere() -> None:
    # The zip's .pyc must be compiled by the Python the templates name as the Lambda runtime:
    # the Makefile's default, the deploy workflow's interpreters and infra_gen must agree.
    from stream_processor.infra_gen import RUNTIME, TARGET_PYTHON

    root = INFRA.parent
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    workflow = (root / ".github" / "workflows" / "deploy.yml").read_text(encoding="utf-8")
    default = f"TARGET_PYTHON ?= $(shell ./scripts/find-python.sh {TARGET_PYTHON} 2>/dev/null || echo {RUNTIME})\n"
    assert default in makefile
    deploy_job = workflow[workflow.index("\n  deploy:") :]
    assert f"            {TARGET_PYTHON}\n" in deploy_job  # setup-python installs it
    assert "TARGET_PYTHON=" not in deploy_job  # the Makefile's default applies
    for template in sorted(INFRA.glob("*.yaml")):
        for line in template.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("Runtime:") and "python" in line:
                assert line.strip() == f'Runtime: "{RUNTIME}"', (template.name, line)
