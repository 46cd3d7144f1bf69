"""Dashboard style: the page's inline CSS (input: nothing; output: ``CSS``, one stylesheet string)."""

from __future__ import annotations

from typing import Final

CSS: Final = """
:root { color-scheme: light; --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --card: #ffffff; --bg: #f1f5f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: var(--bg); }
header { padding: 20px 28px 8px; }
header h1 { margin: 0; font-size: 22px; letter-spacing: -0.01em; }
header p { margin: 4px 0 0; color: var(--muted); }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #e2e8f0; padding: 1px 5px;
  border-radius: 4px; }
.tiles { display: grid; grid-template-columns: repeat(6, 1fr); gap: 12px; padding: 12px 28px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.tile b { display: block; font-size: 22px; font-weight: 650; }
.tile span { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
main { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; padding: 8px 28px 20px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px;
  min-width: 0; }
.card.wide { grid-column: span 2; }
.card h2 { margin: 0; font-size: 15px; }
.desc { margin: 2px 0 10px; color: var(--muted); font-size: 12.5px; }
.source { margin: 8px 0 0; color: var(--muted); font-size: 11.5px; }
svg.chart { display: block; width: 100%; max-width: 760px; height: auto; font-size: 11px; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .tick, svg .label { fill: var(--muted); }
svg .value { fill: var(--ink); font-weight: 600; }
svg .line { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
svg .empty, p.empty { fill: var(--muted); color: var(--muted); font-style: italic; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 6px 0 0 56px; font-size: 12px; color: var(--muted); }
.key i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px;
  vertical-align: -1px; }
.scroll { overflow-x: auto; margin-top: 10px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th { text-align: left; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); padding: 5px 8px;
  white-space: nowrap; }
td { border-bottom: 1px solid #f1f5f9; padding: 5px 8px; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.null { color: #cbd5e1; }
.more { color: var(--muted); font-size: 12px; margin: 6px 0 0; }
footer { padding: 0 28px 24px; color: var(--muted); font-size: 12px; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } .card.wide { grid-column: auto; }
  .tiles { grid-template-columns: repeat(2, 1fr); } }
"""

__all__ = ["CSS"]
