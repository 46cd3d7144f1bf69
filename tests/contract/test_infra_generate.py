"""Contract: the committed infra/ templates are exactly what stream_processor.infra_gen writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from stream_processor import infra_gen
from tests.contract.infra_templates import INFRA, template


def test_generate_committed_templates_match_generator() -> None:
    assert infra_gen.drifted(INFRA) == [], "run: python -m stream_processor.infra_gen --write"


@pytest.mark.parametrize("name", infra_gen.TEMPLATES)
def test_generate_every_template_shares_the_layout_mapping(name: str) -> None:
    text = (INFRA / name).read_text(encoding="utf-8")
    assert "layout" in infra_gen.region_names(text)
    assert template(name.removesuffix(".yaml"))["Mappings"] == infra_gen.layout_mapping()


def test_generate_emitted_yaml_parses_back_to_the_same_value() -> None:
    value = {**infra_gen.table_input(), **infra_gen.buffer_parameters_block(), "Empty": {}, "List": [[], "x", 1.5]}
    assert yaml.safe_load("\n".join(infra_gen.emit_yaml(value))) == value


def test_generate_prefix_with_timestamp_expression_fails() -> None:
    with pytest.raises(infra_gen.InfraGenError):
        infra_gen.storage_location_suffix("logs/src=!{partitionKeyFromLambda:src}/!{timestamp:yyyy}/")


def test_generate_new_parser_joins_projection_enum(monkeypatch: pytest.MonkeyPatch) -> None:
    from transform_lambda import parse

    monkeypatch.setitem(parse.PARSERS, "waf", parse.PARSERS["json"])
    assert infra_gen.source_values()[-1] == "waf"
    assert infra_gen.source_values()[: len(infra_gen.PLANNED_SOURCES)] == infra_gen.PLANNED_SOURCES


def test_generate_check_on_stale_copy_fails_and_write_repairs(tmp_path: Path) -> None:
    # GIVEN a copy of infra/ whose Glue columns were edited by hand
    for name in infra_gen.TEMPLATES:
        shutil.copy(INFRA / name, tmp_path / name)
    data = tmp_path / "data.yaml"
    data.write_text(data.read_text(encoding="utf-8").replace('"event_id"', '"evt_id"'), encoding="utf-8")
    # WHEN checked, then written, then checked again
    assert infra_gen.main(["--check", "--infra-dir", str(tmp_path)]) == 1
    assert infra_gen.main(["--write", "--infra-dir", str(tmp_path)]) == 0
    # THEN the region is restored byte for byte
    assert infra_gen.main(["--check", "--infra-dir", str(tmp_path)]) == 0
    assert data.read_text(encoding="utf-8") == (INFRA / "data.yaml").read_text(encoding="utf-8")
