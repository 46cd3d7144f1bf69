"""Infra generation: the parts of ``infra/*.yaml`` that are derived from Python.

Input: ``transform_lambda.schema`` (columns, partition keys), ``stream_processor.settings`` (names,
prefixes, buffer hints) and the transform's entry point. Output: the text between the
``# BEGIN GENERATED <region>`` / ``# END GENERATED <region>`` markers of the committed templates.
``--check`` exits 1 when a committed template differs from what would be written; ``--write``
rewrites the regions. Everything outside the markers is hand-written and left alone.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from stream_processor import settings
from transform_lambda import schema

INFRA_DIR: Final = Path(__file__).resolve().parent.parent / "infra"
TEMPLATES: Final = ("data.yaml", "pipeline.yaml", "sources.yaml", "quicksight.yaml")

# The Lambda runtime the artifact is built for (make package uses the same version). 3.13 rather than
# 3.12: the same transform takes about 5 % less time per log event on it (docs/performance.md).
TARGET_PYTHON: Final = "3.13"
RUNTIME: Final = f"python{TARGET_PYTHON}"

# Values of the ``src`` partition key the transform is planned to emit (schema.py, ``source``
# column). Parsers registered later are added after these, so projection never hides them.
PLANNED_SOURCES: Final = ("lambda", "vpc_flow", "apigateway", "cloudtrail", "json", "text")
# The data stack's parameter naming the first day partition projection enumerates: older dt
# partitions (a backfill of older history) are invisible to Athena until it is moved back.
PROJECTION_START_PARAMETER: Final = "PartitionProjectionStart"
# Values of the pipeline stack's ResponseEncoding parameter: who writes the transform's response as
# JSON, the Python runtime (lambda_handler returns a dict) or the handler (lambda_handler_bytes).
RUNTIME_ENCODES: Final = "runtime"
HANDLER_ENCODES: Final = "handler"

# Hive/Glue names of Parquet's input and output formats and SerDe (firehose-contract.md §6.1).
PARQUET_INPUT_FORMAT: Final = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT: Final = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE: Final = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"

# Zero buffering is not available with dynamic partitioning (Firehose buffering.html); 60 s is the
# classic lower bound, so the S3 interval parameter starts there instead of settings' API range.
DYNAMIC_PARTITIONING_MIN_INTERVAL_S: Final = 60

# AWS::Athena::NamedQuery Description is at most 1024 characters.
NAMED_QUERY_DESCRIPTION_MAX: Final = 1024

ATHENA_RESULTS_PREFIX: Final = "athena-results/"
ARTIFACTS_PREFIX: Final = "lambda/"
DELIVERY_LOG_STREAM: Final = "DestinationDelivery"

_REGION = re.compile(
    r"^(?P<indent>[ ]*)# BEGIN GENERATED (?P<name>[a-z-]+)\b[^\n]*\n"
    r"(?P<body>.*?)^(?P=indent)# END GENERATED (?P=name)\n",
    re.MULTILINE | re.DOTALL,
)
_LAMBDA_KEY = re.compile(r"!\{partitionKeyFromLambda:(?P<key>[A-Za-z0-9_]+)\}")
_PLAIN_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]*$")


class InfraGenError(RuntimeError):
    """A template lacks a region, names an unknown one, or settings cannot be expressed in CFN."""


@dataclass(frozen=True, slots=True)
class BufferParameter:
    """A CloudFormation Number parameter generated from a ``DeliverySettings`` buffer field."""

    field: str
    default: float
    bounds: tuple[float, float]
    description: str


def _number(value: float) -> int | float:
    """1.0 -> 1: Firehose processor parameters are strings and an integral size reads better."""
    return int(value) if float(value).is_integer() else value


def parameter_name(field_name: str) -> str:
    """``processor_buffer_size_mb`` -> ``ProcessorBufferSizeMb`` (CFN names are alphanumeric)."""
    return "".join(part[:1].upper() + part[1:] for part in field_name.split("_"))


def buffer_parameters() -> tuple[BufferParameter, ...]:
    """The four buffer hints, with the defaults and ranges the local twin uses."""
    return (
        BufferParameter(
            "processor_buffer_size_mb",
            settings.PROCESSOR_BUFFER_SIZE_MB_DEFAULT,
            settings.PROCESSOR_BUFFER_SIZE_MB_RANGE,
            "Lambda processor BufferSizeInMBs. Rich rows come out ~4-6x the request and the Lambda "
            "response limit is 6 MB: lower this if RecordsFailed shows over_response_budget.",
        ),
        BufferParameter(
            "processor_buffer_interval_s",
            settings.PROCESSOR_BUFFER_INTERVAL_S_DEFAULT,
            settings.PROCESSOR_BUFFER_INTERVAL_S_RANGE,
            "Lambda processor BufferIntervalInSeconds.",
        ),
        BufferParameter(
            "s3_buffer_size_mb",
            settings.S3_BUFFER_SIZE_MB_DEFAULT,
            settings.S3_BUFFER_SIZE_MB_RANGE,
            "S3 BufferingHints SizeInMBs; record format conversion needs at least 64.",
        ),
        BufferParameter(
            "s3_buffer_interval_s",
            settings.S3_BUFFER_INTERVAL_S_DEFAULT,
            (
                max(settings.S3_BUFFER_INTERVAL_S_RANGE[0], DYNAMIC_PARTITIONING_MIN_INTERVAL_S),
                settings.S3_BUFFER_INTERVAL_S_RANGE[1],
            ),
            "S3 BufferingHints IntervalInSeconds, per active partition (end-to-end latency ~1.5x).",
        ),
    )


def source_values() -> tuple[str, ...]:
    """Every ``src`` value the transform can emit: the planned ones, then any other parser."""
    from transform_lambda.parse import PARSERS

    extra = sorted(name for name in PARSERS if name not in PLANNED_SOURCES)
    return (*PLANNED_SOURCES, *extra)


def storage_location_suffix(prefix: str = settings.PREFIX) -> str:
    """The Firehose prefix with ``!{partitionKeyFromLambda:k}`` turned into Athena's ``${k}``.

    Raises:
        InfraGenError: the prefix uses other expressions or not exactly the partition keys.
    """
    keys = _LAMBDA_KEY.findall(prefix)
    template = _LAMBDA_KEY.sub(lambda m: "${" + m.group("key") + "}", prefix)
    if "!{" in template:
        raise InfraGenError(f"prefix {prefix!r} has expressions Athena projection cannot follow")
    if tuple(keys) != tuple(c.name for c in schema.PARTITION_KEYS):
        raise InfraGenError(f"prefix keys {keys} differ from schema.PARTITION_KEYS")
    return template


def layout_mapping() -> dict[str, Any]:
    """The ``Layout`` mapping: every name the three stacks share."""
    from transform_lambda import handler

    defaults = settings.DeliverySettings()
    function_name = defaults.lambda_arn.rsplit(":", 1)[-1]
    encodings = {RUNTIME_ENCODES: handler.lambda_handler, HANDLER_ENCODES: handler.lambda_handler_bytes}
    return {
        "Layout": {
            "Glue": {"Database": defaults.database, "Table": defaults.table},
            "S3": {
                "TablePrefix": settings.TABLE_PREFIX,
                "ErrorPrefixRoot": settings.ERROR_PREFIX_ROOT,
                "Prefix": defaults.prefix,
                "ErrorOutputPrefix": defaults.error_output_prefix,
                "FileExtension": defaults.file_extension,
                "AthenaResultsPrefix": ATHENA_RESULTS_PREFIX,
                "ArtifactsPrefix": ARTIFACTS_PREFIX,
            },
            "Stream": {
                "Name": defaults.stream_name,
                "LogGroupName": f"/aws/kinesisfirehose/{defaults.stream_name}",
                "LogStreamName": DELIVERY_LOG_STREAM,
            },
            "Transform": {
                "FunctionName": function_name,
                "LogGroupName": f"/aws/lambda/{function_name}",
                "Runtime": RUNTIME,
                "MetricsNamespace": handler.METRICS_NAMESPACE,
                "MetricsService": handler.SERVICE,
            },
            # The transform's entry point by the pipeline stack's ResponseEncoding parameter.
            "TransformHandler": {name: f"{entry.__module__}.{entry.__name__}" for name, entry in encodings.items()},
            "Athena": {"WorkGroup": defaults.stream_name},
        }
    }


def buffer_parameters_block() -> dict[str, Any]:
    """CloudFormation ``Parameters`` entries for the buffer hints."""
    return {
        parameter_name(p.field): {
            "Type": "Number",
            "Default": _number(p.default),
            "MinValue": _number(p.bounds[0]),
            "MaxValue": _number(p.bounds[1]),
            "Description": p.description,
        }
        for p in buffer_parameters()
    }


def _column(column: schema.Column) -> dict[str, str]:
    return {"Name": column.name, "Type": column.type, "Comment": column.comment}


def _s3_url(suffix: str) -> dict[str, Any]:
    return {"Fn::Join": ["", ["s3://", {"Ref": "LakeBucket"}, "/", suffix]]}


def table_input() -> dict[str, Any]:
    """The Glue ``TableInput``: Parquet, schema.py's columns, projection over the pipeline's prefix."""
    defaults = settings.DeliverySettings()
    src, dt, hour = (c.name for c in schema.PARTITION_KEYS)
    parameters: dict[str, Any] = {
        "classification": "parquet",
        "parquet.compression": settings.PARQUET_COMPRESSION.upper(),
        "projection.enabled": "true",
        f"projection.{src}.type": "enum",
        f"projection.{src}.values": ",".join(source_values()),
        f"projection.{dt}.type": "date",
        f"projection.{dt}.format": "yyyy-MM-dd",
        f"projection.{dt}.range": {"Fn::Sub": f"${{{PROJECTION_START_PARAMETER}}},NOW+1DAYS"},
        f"projection.{dt}.interval": "1",
        f"projection.{dt}.interval.unit": "DAYS",
        f"projection.{hour}.type": "integer",
        f"projection.{hour}.range": "0,23",
        f"projection.{hour}.digits": "2",
        "storage.location.template": _s3_url(storage_location_suffix(defaults.prefix)),
    }
    return {
        "TableInput": {
            "Name": defaults.table,
            "Description": "CloudWatch Logs rows written by Firehose as Parquet (generated from schema.py).",
            "TableType": "EXTERNAL_TABLE",
            "Parameters": parameters,
            "PartitionKeys": [_column(c) for c in schema.PARTITION_KEYS],
            "StorageDescriptor": {
                "Location": _s3_url(settings.TABLE_PREFIX),
                "InputFormat": PARQUET_INPUT_FORMAT,
                "OutputFormat": PARQUET_OUTPUT_FORMAT,
                "Compressed": False,
                "StoredAsSubDirectories": False,
                "SerdeInfo": {
                    "SerializationLibrary": PARQUET_SERDE,
                    "Parameters": {"serialization.format": "1"},
                },
                "Columns": [_column(c) for c in schema.COLUMNS],
            },
        }
    }


def named_queries() -> dict[str, Any]:
    """One ``AWS::Athena::NamedQuery`` per file of ``infra/sql`` (views' DDL and dashboard queries)."""
    from stream_processor.sql_catalog import load_catalog

    views, queries = load_catalog()
    resources: dict[str, Any] = {}
    for item in (*views, *queries):
        suffix = "View" if item.kind == "view" else "Query"
        description = f"{item.title}: {item.description}"
        resources[f"{parameter_name(item.name)}{suffix}"] = {
            "Type": "AWS::Athena::NamedQuery",
            "Properties": {
                "Name": f"{settings.STREAM_NAME}/{item.kind}s/{item.name}",
                "Description": description[:NAMED_QUERY_DESCRIPTION_MAX],
                "Database": {"Ref": "GlueDatabase"},
                "WorkGroup": {"Ref": "AthenaWorkGroup"},
                "QueryString": item.sql,
            },
        }
    return resources


# DuckDB type of a view column -> QuickSight InputColumn type.
_QUICKSIGHT_TYPES: Final = {
    "VARCHAR": "STRING",
    "INTEGER": "INTEGER",
    "BIGINT": "INTEGER",
    "DOUBLE": "DECIMAL",
    "TIMESTAMP": "DATETIME",
    "BOOLEAN": "BOOLEAN",
}
_DATASET_ACTIONS: Final = (
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:PassDataSet",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
    "quicksight:UpdateDataSet",
    "quicksight:DeleteDataSet",
    "quicksight:CreateIngestion",
    "quicksight:CancelIngestion",
    "quicksight:UpdateDataSetPermissions",
)


def view_columns() -> dict[str, dict[str, str]]:
    """View name -> column -> DuckDB type, from the views created over an empty lake."""
    import tempfile

    from stream_processor.named_query import open_lake
    from stream_processor.sql_catalog import load_catalog

    views, _ = load_catalog()
    with tempfile.TemporaryDirectory() as empty:
        con, tables = open_lake(Path(empty))
        con.close()
    return {v.name: dict(tables[settings.DATABASE][v.name]) for v in views}


def quicksight_datasets() -> dict[str, Any]:
    """One direct-query ``AWS::QuickSight::DataSet`` per view, shared with ``PrincipalArn``."""
    from stream_processor.sql_catalog import load_catalog

    views, _ = load_catalog()
    columns = view_columns()
    resources: dict[str, Any] = {}
    for view in views:
        resources[f"{parameter_name(view.name)}DataSet"] = {
            "Type": "AWS::QuickSight::DataSet",
            "Properties": {
                "AwsAccountId": {"Ref": "AWS::AccountId"},
                "DataSetId": f"{settings.STREAM_NAME}-{view.name.replace('_', '-')}",
                "Name": f"{settings.STREAM_NAME}: {view.title}",
                "ImportMode": "DIRECT_QUERY",
                "PhysicalTableMap": {
                    "view": {
                        "RelationalTable": {
                            "DataSourceArn": {"Fn::GetAtt": ["AthenaDataSource", "Arn"]},
                            "Catalog": "AwsDataCatalog",
                            "Schema": settings.DATABASE,
                            "Name": view.name,
                            "InputColumns": [
                                {"Name": name, "Type": _QUICKSIGHT_TYPES[kind]}
                                for name, kind in columns[view.name].items()
                            ],
                        }
                    }
                },
                "Permissions": [{"Principal": {"Ref": "PrincipalArn"}, "Actions": list(_DATASET_ACTIONS)}],
            },
        }
    return resources


REGIONS: Final[Mapping[str, Callable[[], dict[str, Any]]]] = {
    "layout": layout_mapping,
    "buffer-parameters": buffer_parameters_block,
    "glue-table-input": table_input,
    "named-queries": named_queries,
    "quicksight-datasets": quicksight_datasets,
}


# --- a small YAML emitter: block mappings and sequences, JSON-quoted scalars (YAML ⊇ JSON) ---


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    raise InfraGenError(f"cannot emit {type(value).__name__} as a YAML scalar")


def _key(key: str) -> str:
    return key if _PLAIN_KEY.match(key) else json.dumps(key)


def emit_yaml(value: Mapping[str, Any] | Sequence[Any], indent: int = 0) -> list[str]:
    """Lines of block-style YAML for ``value`` (dicts keep their order)."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, Mapping | list) and item:
                lines.append(f"{pad}{_key(key)}:")
                lines.extend(emit_yaml(item, indent + 2))
            elif isinstance(item, Mapping | list):
                lines.append(f"{pad}{_key(key)}: {'{}' if isinstance(item, Mapping) else '[]'}")
            else:
                lines.append(f"{pad}{_key(key)}: {_scalar(item)}")
        return lines
    for item in value:
        if isinstance(item, Mapping | list) and item:
            nested = emit_yaml(item, indent + 2)
            lines.append(f"{pad}- {nested[0].lstrip()}")
            lines.extend(nested[1:])
        elif isinstance(item, Mapping | list):
            lines.append(f"{pad}- {'{}' if isinstance(item, Mapping) else '[]'}")
        else:
            lines.append(f"{pad}- {_scalar(item)}")
    return lines


def render(text: str, template: str = "<template>") -> str:
    """``text`` with every generated region re-rendered.

    Raises:
        InfraGenError: a region name is unknown.
    """

    def replace(match: re.Match[str]) -> str:
        name, indent = match.group("name"), match.group("indent")
        if name not in REGIONS:
            raise InfraGenError(f"{template}: unknown generated region {name!r}")
        body = emit_yaml(REGIONS[name](), len(indent))
        begin = match.group(0).split("\n", 1)[0]
        return "\n".join([begin, *body, f"{indent}# END GENERATED {name}"]) + "\n"

    return _REGION.sub(replace, text)


def region_names(text: str) -> list[str]:
    """Names of the generated regions in a template, in order."""
    return [m.group("name") for m in _REGION.finditer(text)]


def drifted(infra_dir: Path = INFRA_DIR) -> list[str]:
    """Templates whose committed text differs from the generator's output."""
    return [
        name for name in TEMPLATES if (text := (infra_dir / name).read_text(encoding="utf-8")) != render(text, name)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """``--check``: exit 1 on drift. ``--write``: rewrite the generated regions in place."""
    parser = argparse.ArgumentParser(prog="python -m stream_processor.infra_gen", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="fail when a template differs")
    mode.add_argument("--write", action="store_true", help="rewrite the generated regions")
    parser.add_argument("--infra-dir", type=Path, default=INFRA_DIR)
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = drifted(args.infra_dir)
            for name in stale:
                sys.stdout.write(f"{name}: stale; run python -m stream_processor.infra_gen --write\n")
            return 1 if stale else 0
        for name in TEMPLATES:
            path = args.infra_dir / name
            text = path.read_text(encoding="utf-8")
            if (new := render(text, name)) != text:
                path.write_text(new, encoding="utf-8")
                sys.stdout.write(f"{name}: rewritten\n")
    except InfraGenError as exc:
        sys.stderr.write(f"infra_gen: {exc}\n")
        return 2
    return 0


__all__ = [
    "REGIONS",
    "RUNTIME",
    "TARGET_PYTHON",
    "TEMPLATES",
    "BufferParameter",
    "InfraGenError",
    "buffer_parameters",
    "drifted",
    "emit_yaml",
    "layout_mapping",
    "main",
    "named_queries",
    "parameter_name",
    "quicksight_datasets",
    "region_names",
    "render",
    "source_values",
    "storage_location_suffix",
    "table_input",
    "view_columns",
]

if __name__ == "__main__":
    raise SystemExit(main())
