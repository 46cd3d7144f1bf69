"""The dashboard: one offline HTML file of the named queries, opened in headless Chromium (make browser)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stream_processor.cli import main
from stream_processor.dashboard.charts import PALETTE, bar_chart, line_chart, nice_ceiling
from tests.functional.browser import CHROMIUM, load_page, png_pixels
from tests.functional.named_query_lake import SINCE, UNTIL, build_lake


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dashboard")
    build_lake(root / "lake")
    out = root / "dashboard.html"
    assert main(["dashboard", "--lake", str(root / "lake"), "-o", str(out), "--since", SINCE, "--until", UNTIL]) == 0
    return out


def test_dashboard_html_is_self_contained(dashboard: Path) -> None:
    html = dashboard.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "nothing may be fetched at view time"
    assert "<script" not in html and "@import" not in html
    assert html.count('class="card') == 10
    assert "2025-11-23 10:00 \u2013 2025-11-23 11:00 UTC" in html


def test_dashboard_renders_charts_in_chromium_without_console_errors(dashboard: Path, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail("headless Chromium is missing: run `make browser` (apt-get install chromium chromium-driver)")
    page = load_page(dashboard, tmp_path / "dashboard.png", size=(1280, 2000))
    assert page.console == []
    # Chromium parsed the inline SVG: one chart per charted panel, with drawn lines and bars.
    assert page.dom.count('<svg class="chart"') == 6
    assert len(re.findall(r'<path class="line" d="M[\d.]+,[\d.]+ L', page.dom)) >= 3
    assert len(re.findall(r"<rect ", page.dom)) >= 6
    width, height, rows = png_pixels(page.screenshot)
    assert (width, height) == (1280, 2000)
    pixels = {row[i : i + 3] for row in rows[::4] for i in range(0, len(row), 12)}
    assert len(pixels) > 50, "the screenshot is blank"
    blue = bytes(int(PALETTE[0][k : k + 2], 16) for k in (1, 3, 5))
    assert blue in {row[i : i + 3] for row in rows for i in range(0, len(row), 3)}, "no chart colour on screen"


def test_dashboard_nice_ceiling_rounds_up_to_1_2_25_5() -> None:
    assert [nice_ceiling(v) for v in (0, 0.7, 3, 21, 260, 999)] == [1.0, 1.0, 5.0, 25.0, 500.0, 1000.0]


def test_dashboard_empty_series_draws_a_note_not_a_chart() -> None:
    assert "no data in this window" in line_chart({})
    assert "no data in this window" in bar_chart([])
