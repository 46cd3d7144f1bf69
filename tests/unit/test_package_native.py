"""``make package`` (unless ``NATIVE=0``): a compiled build goes into the zip only when it is for the Lambda's
Python and architecture and was compiled from the sources being packaged; anything else is a one-line
error before anything is downloaded. (Building, loading and running the packaged build on arm64 is
scripts/test-compiled.sh's part.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from stream_processor import package_lambda
from stream_processor.errors import ConfigError
from transform_lambda import native

MODULES = ("transform_lambda.shape", "transform_lambda.parse.plain")


def staged(tmp_path: Path) -> Path:
    staging = tmp_path / "lambda"
    staging.mkdir()
    package_lambda.copy_sources(staging)
    return staging


def build(tmp_path: Path, staging: Path, suffix: str = package_lambda.EXTENSION_SUFFIX) -> Path:
    """A build of MODULES for ``suffix`` whose manifest matches ``staging``'s sources."""
    directory = tmp_path / "native"
    directory.mkdir()
    digest = native.sources_digest(str(staging / "transform_lambda"))
    manifest = f"sources\t{digest}\n" + "".join(f"module\t{module}\n" for module in MODULES)
    (directory / native.MANIFEST).write_text(manifest, encoding="utf-8")
    for name in (native.LIBRARY, *MODULES):
        (directory / (name + suffix)).write_bytes(name.encode())
    return directory


def test_the_build_is_shipped_beside_the_sources(tmp_path: Path) -> None:
    staging = staged(tmp_path)
    directory = build(tmp_path, staging)
    assert package_lambda.copy_native(directory, staging) == len(MODULES)
    shipped = staging / "transform_lambda" / native.COMPILED_DIR
    assert sorted(p.name for p in shipped.iterdir()) == sorted(p.name for p in directory.iterdir())
    assert native.read_manifest(str(shipped)) == native.read_manifest(str(directory))
    library = native.LIBRARY + package_lambda.EXTENSION_SUFFIX
    assert (shipped / library).read_bytes() == native.LIBRARY.encode()


def test_the_lambda_suffix_is_arm64_and_the_runtime_python() -> None:
    assert package_lambda.EXTENSION_SUFFIX == ".cpython-313-aarch64-linux-gnu.so"


def test_a_build_for_another_architecture_is_refused(tmp_path: Path) -> None:
    staging = staged(tmp_path)
    directory = build(tmp_path, staging, suffix=".cpython-313-x86_64-linux-gnu.so")
    with pytest.raises(ConfigError, match=r"is not a build for python3\.13 on arm64"):
        package_lambda.copy_native(directory, staging)
    assert not (staging / "transform_lambda" / native.COMPILED_DIR).exists()


def test_a_build_of_other_sources_is_refused(tmp_path: Path) -> None:
    staging = staged(tmp_path)
    directory = build(tmp_path, staging)
    schema = staging / "transform_lambda" / "schema.py"  # not compiled, but compiled code reads it
    schema.write_text(schema.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="was compiled with other sources than these; build it again"):
        package_lambda.copy_native(directory, staging)


def test_no_build_is_a_one_line_error_before_any_download(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = package_lambda.main(["--out", str(tmp_path / "out" / "t.zip"), "--native", str(tmp_path / "none")])
    assert code == ConfigError.exit_code
    err = capsys.readouterr().err
    assert err.startswith(f"package: no compiled build in {tmp_path / 'none'}:")
    assert err.count("\n") == 1
    assert not (tmp_path / "out" / "t.zip").exists()
    assert not any((tmp_path / "out" / "lambda").glob("*.dist-info"))
