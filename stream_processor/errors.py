"""Errors of the local runtime, for the operator: the CLI turns each into one line and an exit code.

Exception
 └── ProcessorError                 exit 1 unless stated
      ├── ConfigError                 a flag, setting or config file is invalid (exit 2)
      ├── FixtureError                an input path is missing or unreadable
      ├── ContractError               the transform broke a Firehose rule (exit 3)
      └── SinkError                   the lake or error output cannot be written
"""

from __future__ import annotations


class ProcessorError(Exception):
    """Base of the operator-facing errors."""

    exit_code = 1


class ConfigError(ProcessorError):
    """Invalid configuration or flag."""

    exit_code = 2


class FixtureError(ProcessorError):
    """An input path is missing, unreadable or of an unknown kind."""


class ContractError(ProcessorError):
    """The transform's reply broke the Firehose data-transformation contract."""

    exit_code = 3

    def __init__(self, error_code: str, detail: str) -> None:
        super().__init__(f"{error_code}: {detail}")
        self.error_code = error_code
        self.detail = detail


class SinkError(ProcessorError):
    """Output could not be written."""


__all__ = ["ConfigError", "ContractError", "FixtureError", "ProcessorError", "SinkError"]
