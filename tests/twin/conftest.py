"""The twin tests' shared fixture: the twin's native build (``stream_processor.native_twin``), built
once for this Python with warnings as errors, or the build ``make sanitize`` made."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import pytest

from stream_processor import native_twin
from tests.conftest import PREBUILT


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory of a current build: made here, or the one PREBUILT names."""
    prebuilt = os.environ.get(PREBUILT)
    if prebuilt:
        assert native_twin.load(Path(prebuilt)) == native_twin.LOADED, f"{PREBUILT}: not a current build"
        native_twin.use(None)
        return Path(prebuilt)
    directory = tmp_path_factory.mktemp("native")
    native_twin.build(directory, strict=True)
    return directory


@pytest.fixture(scope="session")
def native_build(built: Path) -> dict[str, ModuleType]:
    """The build's modules by name, imported."""
    return native_twin.import_built(built)
