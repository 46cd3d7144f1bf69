"""The local twin's native build (``stream_processor.native_twin``): the C payload reader and row
writers, the C reader of rows into Arrow and the census's C counter, built here for this Python. The
twin writes the same lake, byte for byte, with it as without it; it is loaded only when current, and
the C reader survives any bytes."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stream_processor import cli, native_twin
from stream_processor.bench.twin import write_fixtures
from stream_processor.firehose import census, convert_columns
from stream_processor.firehose.convert import convert_record
from tests.conftest import FIXTURES
from tests.twin.test_convert_columns import LAMBDA_ROW, VPC_ROW, assert_fast_matches_rows, lake_files, ndjson, run_twin
from transform_lambda import decode, native_rows
from transform_lambda.handler import lambda_handler

READER = native_twin.READER


@pytest.fixture(autouse=True)
def python_paths_after() -> Iterator[None]:
    yield
    native_twin.use(None)


class _Counting:
    """A module whose functions count their calls and the calls that returned something."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.calls: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        function = getattr(self.module, name)

        def counted(*args: Any) -> Any:
            result = function(*args)
            self.calls[name] += 1
            self.answered[name] += result is not None
            return result

        return counted


# ---- loading


def python_paths() -> bool:
    """Whether no part of the twin uses the native build."""
    return (
        not native_rows.available()
        and decode._native is None
        and convert_columns._native is None
        and census._native is None
    )


def test_a_current_build_is_loaded_into_the_transform_the_conversion_and_the_census(built: Path) -> None:
    assert native_twin.load(built) == native_twin.LOADED
    assert native_rows.available()
    assert convert_columns._native is not None and convert_columns._native.__name__ == READER
    assert census._native is not None and census._native.__name__ == native_twin.COUNTER
    assert decode._native is not None and decode._native.__name__ == native_twin.PAYLOAD_READER


def test_no_build_is_the_python_paths(tmp_path: Path) -> None:
    assert native_twin.load(tmp_path / "none") == "python: no native build (make builds one)"
    assert python_paths()


def test_a_build_switched_off_is_not_loaded(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAM_PROCESSOR_NATIVE", "off")
    assert native_twin.load(built) == "python: STREAM_PROCESSOR_NATIVE=off"
    assert python_paths()


def test_a_build_of_other_sources_is_not_loaded(built: Path, tmp_path: Path) -> None:
    stale = tmp_path / "stale"
    stale.mkdir()
    for file in built.iterdir():
        (stale / file.name).write_bytes(file.read_bytes())
    (stale / native_twin.MANIFEST).write_text("sources\t" + "0" * 64 + "\n", encoding="utf-8")
    assert native_twin.load(stale) == "python: the native build is of other sources (make rebuilds it)"
    assert python_paths()


@pytest.mark.parametrize("source", native_twin.TWIN_SOURCES, ids=lambda p: p.name)
def test_an_edit_to_any_of_the_twins_c_makes_the_build_stale(source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = native_twin.digest()
    edited = source.read_bytes() + b"\n"
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: edited if self == source else original(self))
    assert native_twin.digest() != before


def test_a_build_that_does_not_load_leaves_the_python_paths(built: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for file in built.iterdir():
        (broken / file.name).write_bytes(b"not a shared object" if file.suffix == ".so" else file.read_bytes())
    assert native_twin.load(broken).startswith("python: the native build does not load (")
    assert python_paths()


def test_the_commands_that_run_the_twin_load_the_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    loaded: list[str] = []
    monkeypatch.setattr(native_twin, "load", lambda: loaded.append("load") or native_twin.LOADED)
    monkeypatch.setattr(native_twin, "STATUS", native_twin.LOADED)
    assert cli.main(["demo", "--lake", str(tmp_path / "lake")]) == 0
    assert loaded == ["load"]
    assert cli.main(["query", "--lake", str(tmp_path / "lake"), "SELECT 1"]) == 0
    assert loaded == ["load"]


def test_the_build_command_without_a_compiler_says_so_and_succeeds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CC", "no-such-compiler-here")
    assert native_twin.main(["build", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "no C compiler (no-such-compiler-here) found; the local twin runs the Python paths" in err
    assert not (tmp_path / "out" / native_twin.MANIFEST).exists()


def test_the_sanitizer_build_compiles_every_module_with_the_sanitizers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN a compiler that notes its arguments and makes the object it is asked for
    calls = tmp_path / "calls"
    compiler = tmp_path / "cc"
    compiler.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nwhile [ "$1" != -o ]; do shift; done\ntouch "$2"\n')
    compiler.chmod(0o755)
    monkeypatch.setenv("CC", str(compiler))
    # WHEN the build is asked for with the sanitizers, and then without
    assert native_twin.main(["build", str(tmp_path / "sanitized"), "--sanitize"]) == 0
    assert native_twin.main(["build", str(tmp_path / "plain")]) == 0
    # THEN every module of the first, and none of the second, is compiled with them
    lines = calls.read_text().splitlines()
    assert len(lines) == 2 * len(native_twin.MODULES)
    sanitized, plain = lines[: len(native_twin.MODULES)], lines[len(native_twin.MODULES) :]
    assert all(" ".join(native_twin.SANITIZE_FLAGS) in line for line in sanitized)
    assert not any("-fsanitize" in line for line in plain)
    assert (tmp_path / "sanitized" / native_twin.MANIFEST).exists()


def test_a_build_that_fails_says_so_leaves_no_manifest_and_succeeds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CC", "false")  # a compiler that fails every time
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / native_twin.MANIFEST).write_text("sources\told\n", encoding="utf-8")
    assert native_twin.main(["build", str(tmp_path / "out")]) == 0
    assert "the build failed" in capsys.readouterr().err
    assert not (tmp_path / "out" / native_twin.MANIFEST).exists()
    assert native_twin.load(tmp_path / "out") == "python: no native build (make builds one)"


# ---- the twin end to end


def test_the_twin_writes_the_same_lake_with_the_native_build(built: Path, tmp_path: Path) -> None:
    # GIVEN the repository's fixtures and generated traffic
    generated = tmp_path / "generated"
    generated.mkdir()
    write_fixtures(generated, 5_000)
    # WHEN the twin runs on the Python paths, then with the native build (its calls counted)
    python = run_twin(tmp_path / "python", [FIXTURES, generated], lambda_handler)
    modules = native_twin.import_built(built)
    writers, reader = _Counting(modules[native_twin.ROW_WRITERS]), _Counting(modules[READER])
    counter = _Counting(modules[native_twin.COUNTER])
    payloads = _Counting(modules[native_twin.PAYLOAD_READER])
    decode.use_native(payloads)  # type: ignore[arg-type]
    native_rows.use(writers)  # type: ignore[arg-type]
    convert_columns.use(reader)  # type: ignore[arg-type]
    census.use(counter)  # type: ignore[arg-type]
    native = run_twin(tmp_path / "native", [FIXTURES, generated], lambda_handler)
    # THEN the same counts and the same files, byte for byte; and the C wrote and read most of it
    assert native == python and native["conserved"]
    assert lake_files(tmp_path / "native") == lake_files(tmp_path / "python")
    assert sum(writers.answered.values()) > 100
    assert reader.calls["read_rows"] > 5 and reader.answered["read_rows"] >= reader.calls["read_rows"] - 2
    assert counter.answered["count_events"] > 80
    assert payloads.answered["read_payload"] > 80


# ---- the C reader on any bytes

_VALID = [ndjson(LAMBDA_ROW), ndjson(VPC_ROW), ndjson({**LAMBDA_ROW, "fields": {"k": "v\u00e9\n"}, "x": [1]})]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(_VALID),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255), st.sampled_from("rid")), max_size=4),
)
def test_the_c_reader_on_mutated_rows_reads_what_the_row_path_reads_or_leaves_them(
    built: Path, base: bytes, edits: list[tuple[int, int, str]]
) -> None:
    reader = native_twin.import_built(built)[READER]
    data = bytearray(base)
    for at, value, how in edits:
        at %= len(data) + 1
        if how == "r" and at < len(data):
            data[at] = value
        elif how == "i":
            data.insert(at, value)
        elif at < len(data):
            del data[at]
    datas = [ndjson(VPC_ROW), bytes(data)]
    convert_columns.use(reader)
    fast = convert_columns.convert_batch(datas)
    if reader.read_rows(datas, convert_columns._NATIVE_COLUMNS, convert_columns.import_batch) is not None:
        assert fast is not None
        assert_fast_matches_rows(datas, fast)
    elif fast is None:  # left to the row path: it decides, as without the C
        convert_record(bytes(data))


@pytest.mark.parametrize(
    "line",
    [b'{"message":"', b'{"message":"ab', b'{"message":"a\\', b'{"message":"\\u00', b'{"', b'{"message\\:"x"}'],
)
def test_the_c_reader_leaves_a_string_cut_short_or_a_bad_key(built: Path, line: bytes) -> None:
    reader = native_twin.import_built(built)[READER]
    assert (
        reader.read_rows([ndjson(VPC_ROW), line], convert_columns._NATIVE_COLUMNS, convert_columns.import_batch) is None
    )


def test_the_c_reader_counts_an_empty_unknown_key_and_leaves_it_twice(built: Path) -> None:
    reader = native_twin.import_built(built)[READER]
    row = ndjson(VPC_ROW)
    once, twice = row[:-2] + b',"":1}\n', row[:-2] + b',"":1,"":2}\n'
    read = reader.read_rows([once], convert_columns._NATIVE_COLUMNS, convert_columns.import_batch)
    assert read is not None and read[2] == [1]
    assert reader.read_rows([twice], convert_columns._NATIVE_COLUMNS, convert_columns.import_batch) is None


def test_the_c_reader_reads_keys_with_escapes_and_tells_unknown_keys_apart(built: Path) -> None:
    # GIVEN rows whose keys are spelled with escapes, and two keys outside the schema that differ
    # only after their eighth byte
    row = ndjson(VPC_ROW)
    escaped = row.replace(b'"message"', b'"mess\\u0061ge"').replace(b'"source"', b'"sour\\/ce"')
    assert escaped != row
    unknown = row[:-2] + b',"unknown_1":"a","unknown_2":"b"}\n'
    reader = native_twin.import_built(built)[READER]
    convert_columns.use(reader)
    # WHEN the C reader reads them THEN it answers, as the row path reads them
    for datas in ([row, escaped], [unknown]):
        assert reader.read_rows(datas, convert_columns._NATIVE_COLUMNS, convert_columns.import_batch) is not None
        fast = convert_columns.convert_batch(datas)
        assert fast is not None
        assert_fast_matches_rows(datas, fast)
    assert fast[0].unknown_keys == 2


def test_the_c_reader_reads_the_transforms_rows_of_every_source(built: Path) -> None:
    reader = native_twin.import_built(built)[READER]
    rng = random.Random(5)
    rows = [json.loads(line) for data in _VALID[:2] for line in data.splitlines()]
    datas = [ndjson(*rng.choices(rows, k=rng.randint(0, 30))) for _ in range(40)]
    read = reader.read_rows(datas, convert_columns._NATIVE_COLUMNS, convert_columns.import_batch)
    assert read is not None and read[0] == sum(data.count(b"\n") for data in datas)
    assert read[1][-1] == read[0] and len(read[2]) == len(datas)


def test_the_c_reader_refuses_columns_it_cannot_read(built: Path) -> None:
    reader = native_twin.import_built(built)[READER]
    data = [ndjson(VPC_ROW)]
    with pytest.raises(ValueError, match="given twice"):
        reader.read_rows(data, (("message", 0), ("message", 0)), convert_columns.import_batch)
    with pytest.raises(ValueError, match="out of range"):
        reader.read_rows(data, (("message", 6),), convert_columns.import_batch)
    with pytest.raises(TypeError):
        reader.read_rows(data, [("message", 0)], convert_columns.import_batch)
    with pytest.raises(TypeError, match="tuple"):
        reader.read_rows(data, (["message", 0],), convert_columns.import_batch)
    assert (
        reader.read_rows([bytearray(data[0])], convert_columns._NATIVE_COLUMNS, convert_columns.import_batch) is None
    )  # Python's to read
    assert (
        reader.read_rows([], convert_columns._NATIVE_COLUMNS, convert_columns.import_batch) is None
    )  # no rows: the Python path's
    with pytest.raises(TypeError):
        reader.read_rows(data, convert_columns._NATIVE_COLUMNS)
    with pytest.raises(TypeError):
        reader.read_rows(data, convert_columns._NATIVE_COLUMNS, None)


def test_the_c_readers_batch_is_freed_when_arrow_does_not_take_it(built: Path) -> None:
    # GIVEN an importer that fails, and one that returns without taking the batch
    reader = native_twin.import_built(built)[READER]
    data = [ndjson(VPC_ROW, LAMBDA_ROW)]

    def failing(address: int) -> None:
        raise RuntimeError("no import")

    # WHEN the reader hands its batch over THEN the error comes back, and the reader frees what
    # was not taken (ASan runs of this test find no leak or double free)
    with pytest.raises(RuntimeError, match="no import"):
        reader.read_rows(data, convert_columns._NATIVE_COLUMNS, failing)
    read = reader.read_rows(data, convert_columns._NATIVE_COLUMNS, lambda address: address)
    assert read is not None and read[0] == 2 and isinstance(read[3], int)


@pytest.mark.parametrize(
    "rows",
    [
        [{**VPC_ROW, "message": ""}, {**VPC_ROW, "message": ""}],  # a string column with no bytes at all
        [{"message": "only"}, {"message": "this"}],  # every other column all null
        [{**LAMBDA_ROW, "fields": {}}],  # a map with no entries
        [{**LAMBDA_ROW, "fields": {"": ""}}],
    ],
)
def test_the_c_readers_batch_holds_empty_and_null_columns(built: Path, rows: list[dict[str, Any]]) -> None:
    reader = native_twin.import_built(built)[READER]
    convert_columns.use(reader)
    datas = [ndjson(*rows)]
    assert reader.read_rows(datas, convert_columns._NATIVE_COLUMNS, convert_columns.import_batch) is not None
    fast = convert_columns.convert_batch(datas)
    assert fast is not None
    assert_fast_matches_rows(datas, fast)
