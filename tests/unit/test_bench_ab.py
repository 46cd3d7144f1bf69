"""Bench A/B: the transform at a git revision is read into a temporary tree and imported beside the
working tree's without disturbing it; each handler runs with its own modules registered, both on the
same events, and a different answer shows. Bad revisions are refused in one line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import transform_lambda
import transform_lambda.handler
from stream_processor.bench.ab import extract_revision, import_tree, measure_ab, offline, resolve_revision
from stream_processor.bench.cli import main
from stream_processor.bench.offline import lambda_context
from stream_processor.errors import ConfigError

WORKING_TREE = Path(transform_lambda.__file__).resolve().parent


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def commit_tree(repo: Path, edit: dict[str, tuple[str, str]] | None = None) -> str:
    """Commit a copy of the working tree's transform (with ``edit``: file -> (old, new) text) and
    return the commit."""
    package = repo / "transform_lambda"
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(WORKING_TREE, package, ignore=shutil.ignore_patterns("__pycache__"))
    for name, (old, new) in (edit or {}).items():
        path = package / name
        text = path.read_text()
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tree")
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    return root


# Added to the revision's handler.py: its run_batch notes which timefmt module an import made at call
# time finds, then does the work.
LAZY_PROBE = """
SEEN: list[str] = []
_run_batch = run_batch


def run_batch(*args: Any, **kwargs: Any) -> BatchOutcome:
    import transform_lambda.timefmt as imported_now

    SEEN.append(imported_now.__file__ or "")
    return _run_batch(*args, **kwargs)


__all__ = ["""


def test_bench_ab_imports_the_revision_beside_the_working_tree(repo: Path, tmp_path: Path) -> None:
    marked = commit_tree(repo, {"handler.py": ("__all__ = [", 'AB_MARKER = "base"\n' + LAZY_PROBE)})
    commit_tree(repo)  # a later commit without the marker: the revision, not the branch tip, is read
    before = {name: module for name, module in sys.modules.items() if name.startswith("transform_lambda")}
    dest = tmp_path / "base"
    assert extract_revision(repo, marked, dest) == marked
    tree = import_tree(dest)
    # The revision's handler, with every one of its modules from the revision.
    assert tree.handler.AB_MARKER == "base"
    assert {"transform_lambda.handler", "transform_lambda.batch", "transform_lambda.parse"} <= tree.modules.keys()
    assert all(Path(m.__file__ or "").resolve().is_relative_to(dest.resolve()) for m in tree.modules.values())
    # The working tree's modules are still the registered ones, and the path is as it was.
    after = {name: module for name, module in sys.modules.items() if name.startswith("transform_lambda")}
    assert after == before
    assert not hasattr(transform_lambda.handler, "AB_MARKER")
    assert str(dest) not in sys.path
    # Called through offline(), an import the revision makes at call time finds the revision's module.
    with offline(tree) as handler:
        response = handler({"records": []}, lambda_context())
    assert response == {"records": []}
    assert len(tree.handler.SEEN) == 1 and Path(tree.handler.SEEN[0]).resolve().is_relative_to(dest.resolve())
    assert {name: module for name, module in sys.modules.items() if name.startswith("transform_lambda")} == before


def test_bench_ab_times_both_trees_and_tells_whether_they_answer_alike(repo: Path) -> None:
    same = commit_tree(repo)
    # A revision whose plain-text parser finds no level: different rows for the same events.
    levelless = commit_tree(
        repo,
        {
            "parse/plain.py": (
                "    level = _prefix_level(message)\n",
                "    return {}\n    level = _prefix_level(message)\n",
            )
        },
    )
    hook = transform_lambda.handler.reingester_for
    alike = measure_ab(same, (0.02,), rounds=2, repo=repo)["sizes"]["0.02"]
    unlike = measure_ab(levelless, (0.02,), rounds=2, repo=repo)["sizes"]["0.02"]
    assert alike["same_response"] is True
    assert unlike["same_response"] is False
    for result in (alike, unlike):
        assert result["log_events"] > 0 and result["rounds"] == 2
        assert result["base_us_per_event"] > 0 and result["head_us_per_event"] > 0
        low, middle, high = result["head_x_base_quartiles"]
        assert low <= middle <= high and middle == pytest.approx(result["head_x_base"])
    assert transform_lambda.handler.reingester_for is hook  # put back after the run


def test_bench_ab_refuses_what_it_cannot_read(repo: Path, tmp_path: Path) -> None:
    (repo / "README").write_text("no transform here\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "empty")
    with pytest.raises(ConfigError, match="cannot read transform_lambda at revision 'HEAD'"):
        extract_revision(repo, "HEAD", tmp_path / "a")
    with pytest.raises(ConfigError, match="unknown revision 'no-such-revision'"):
        extract_revision(repo, "no-such-revision", tmp_path / "b")
    # Something git would take as an option never reaches it.
    written = tmp_path / "written.tar"
    with pytest.raises(ConfigError, match="not a revision"):
        resolve_revision(repo, f"--output={written}")
    assert not written.exists()
    with pytest.raises(ConfigError, match="unknown revision"):
        resolve_revision(tmp_path / "not-a-repository", "HEAD")


def test_bench_ab_cli_bad_revision_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--against", "no-such-revision-for-bench", "--quick"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bench: error: ") and "no-such-revision-for-bench" in lines[0]
    assert "Traceback" not in captured.err and captured.out == ""


def test_bench_ab_cli_refuses_sections_with_against(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--against", "HEAD", "--only", "twin"])
    assert exited.value.code == 2
    assert "--against runs the A/B alone" in capsys.readouterr().err
