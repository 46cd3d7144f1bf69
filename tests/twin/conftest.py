"""The twin tests' shared fixture: the twin's native build (``stream_processor.native_twin``), built
once for this Python with warnings as errors."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from stream_processor import native_twin


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory of a current build."""
    directory = tmp_path_factory.mktemp("native")
    native_twin.build(directory, strict=True)
    return directory


@pytest.fixture(scope="session")
def native_build(built: Path) -> dict[str, ModuleType]:
    """The build's modules by name, imported."""
    return native_twin.import_built(built)
