"""Delivery stream configuration from a Firehose ``CreateDeliveryStream`` request, for ``serve``.

Input: the request body (the API's own names: ``ExtendedS3DestinationConfiguration`` with ``Prefix``,
``ErrorOutputPrefix``, ``BufferingHints``, ``ProcessingConfiguration``, ``DynamicPartitioningConfiguration``,
``FileExtension``; ``DeliveryStreamType`` and ``KinesisStreamSourceConfiguration``) and the twin's
defaults (used when the request names no destination). Output: ``DeliverySettings``, validated with
Firehose's rules, or the error Firehose answers.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Final

from stream_processor.errors import ConfigError
from stream_processor.firehose.buffer import ProcessorBuffer
from stream_processor.firehose.prefix import validate_prefixes
from stream_processor.settings import S3_BUFFER_INTERVAL_S_RANGE, DeliverySettings

# DeliveryStreamName: 1-64 of [a-zA-Z0-9_.-] (API_CreateDeliveryStream).
_NAME: Final = re.compile(r"[a-zA-Z0-9_.-]{1,64}")
# BufferingHints.SizeInMBs 1-128 (64 at least with record format conversion, which the twin always does).
_S3_SIZE_RANGE: Final = (1, 128)
# FileExtension: empty or a dot and these characters (API_ExtendedS3DestinationConfiguration).
_FILE_EXTENSION: Final = re.compile(r"|\.[0-9a-z!\-_.*'()]+")


class StreamConfigError(ValueError):
    """The request would be refused by Firehose; ``error_type`` is the API's exception name."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def is_stream_name(name: str) -> bool:
    """Whether Firehose takes ``name`` as a delivery stream's name (1-64 of ``[a-zA-Z0-9_.-]``)."""
    return bool(_NAME.fullmatch(name))


def settings_from_request(body: dict[str, Any], defaults: DeliverySettings) -> DeliverySettings:
    """The twin's settings for a ``CreateDeliveryStream`` request.

    Raises:
        StreamConfigError: an invalid name, setting or combination (``InvalidArgumentException``).
    """
    name = body.get("DeliveryStreamName")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise StreamConfigError("InvalidArgumentException", "DeliveryStreamName must be 1-64 of [a-zA-Z0-9_.-].")
    settings = replace(defaults, stream_name=name)
    kind = body.get("DeliveryStreamType", "DirectPut")
    if kind == "KinesisStreamAsSource":
        arn = (body.get("KinesisStreamSourceConfiguration") or {}).get("KinesisStreamARN")
        if not isinstance(arn, str) or ":stream/" not in arn:
            raise StreamConfigError(
                "InvalidArgumentException", "KinesisStreamSourceConfiguration.KinesisStreamARN is required."
            )
        settings = replace(settings, source_kinesis_stream=arn.rsplit("/", 1)[1])
    elif kind != "DirectPut":
        raise StreamConfigError(
            "InvalidArgumentException", f"DeliveryStreamType {kind!r} is not supported by the twin."
        )
    destination = body.get("ExtendedS3DestinationConfiguration")
    if isinstance(destination, dict):
        settings = _destination(destination, settings)
    try:
        validate_prefixes(settings.prefix, settings.error_output_prefix, settings.dynamic_partitioning)
        ProcessorBuffer(settings.processor_buffer_size_mb, settings.processor_buffer_interval_s)
    except ConfigError as exc:
        raise StreamConfigError("InvalidArgumentException", str(exc)) from exc
    return settings


def _destination(config: dict[str, Any], settings: DeliverySettings) -> DeliverySettings:
    # A destination given in the request starts from Firehose's own defaults, not the twin's: no
    # prefixes, no dynamic partitioning (and with them the default yyyy/MM/dd/HH/ layout).
    changes: dict[str, Any] = {"prefix": "", "error_output_prefix": "", "dynamic_partitioning": False}
    for key, field in (
        ("Prefix", "prefix"),
        ("ErrorOutputPrefix", "error_output_prefix"),
        ("FileExtension", "file_extension"),
    ):
        if key in config:
            if not isinstance(config[key], str):
                raise StreamConfigError("InvalidArgumentException", f"{key} must be a string.")
            changes[field] = config[key]
    if "file_extension" in changes and not _FILE_EXTENSION.fullmatch(changes["file_extension"]):
        raise StreamConfigError(
            "InvalidArgumentException", "FileExtension must be empty or a dot and [0-9a-z!-_.*'()]."
        )
    dynamic = config.get("DynamicPartitioningConfiguration")
    if isinstance(dynamic, dict) and "Enabled" in dynamic:
        changes["dynamic_partitioning"] = bool(dynamic["Enabled"])
    hints = config.get("BufferingHints")
    if isinstance(hints, dict):
        if "SizeInMBs" in hints:
            changes["s3_buffer_size_mb"] = _number(hints["SizeInMBs"], _S3_SIZE_RANGE, "BufferingHints.SizeInMBs")
        if "IntervalInSeconds" in hints:
            changes["s3_buffer_interval_s"] = int(
                _number(hints["IntervalInSeconds"], S3_BUFFER_INTERVAL_S_RANGE, "BufferingHints.IntervalInSeconds")
            )
    processing = config.get("ProcessingConfiguration")
    if isinstance(processing, dict):
        for processor in processing.get("Processors") or []:
            if isinstance(processor, dict) and processor.get("Type") == "Lambda":
                for parameter in processor.get("Parameters") or []:
                    name, value = parameter.get("ParameterName"), parameter.get("ParameterValue")
                    if name == "BufferSizeInMBs":
                        changes["processor_buffer_size_mb"] = _number(value, (0.2, 3.0), name)
                    elif name == "BufferIntervalInSeconds":
                        changes["processor_buffer_interval_s"] = int(_number(value, (0, 900), name))
    return replace(settings, **changes)


def _number(value: object, bounds: tuple[float, float], what: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise StreamConfigError("InvalidArgumentException", f"{what} must be a number.") from exc
    if not bounds[0] <= number <= bounds[1]:
        raise StreamConfigError("InvalidArgumentException", f"{what} must be {bounds[0]:g}-{bounds[1]:g}.")
    return number


__all__ = [
    "StreamConfigError",
    "is_stream_name",
    "settings_from_request",
]
