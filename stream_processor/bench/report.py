"""Bench report: the results as a text table (stdout) and as JSON (for comparing runs).

Input: the result dict ``cli`` assembles. Output: text lines; the JSON file written atomically.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def _table(title: str, header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["", title, _row(header, widths), _row(["-" * w for w in widths], widths)] + [_row(r, widths) for r in rows]


def _run_line(title: str, meta: dict[str, Any]) -> str:
    """The first line of a report: what ran, where, with which accelerators."""
    return (
        f"{title}  python {meta['python']}  {meta['machine']}  "
        f"accelerators: {', '.join(meta['accelerators']) or 'none'}  build: {meta.get('build', 'unknown')}  "
        f"quick={meta['quick']}"
    )


def render(results: dict[str, Any]) -> str:
    """The human-readable tables."""
    meta = results["meta"]
    lines = [
        _run_line("stream-processor bench", meta),
        "handler = lambda_handler with a context, POWERTOOLS_METRICS_DISABLED=true, POWERTOOLS_LOG_LEVEL=WARNING;",
        "ratios = median over rounds of the same-round ratio; times = medians.",
    ]
    rows = []
    for size, r in results.get("throughput", {}).items():
        v = r["variants"]
        h = v["handler"]
        stdlib = v.get("handler_stdlib")
        rows.append(
            [
                size,
                f"{r['request_bytes']:,}",
                f"{r['log_events']:,}",
                f"{h['median_ms']:.1f}",
                f"{h['us_per_event']:.2f}",
                f"{h['mb_per_s']:.1f}",
                f"{h['events_per_s'] / 1000:.0f}",
                f"{h['x_blueprint']:.2f}",
                f"{h['x_floor']:.2f}",
                f"{stdlib['x_blueprint']:.2f}" if stdlib else "-",
                f"{v['blueprint']['us_per_event']:.2f}",
                f"{v['floor']['us_per_event']:.2f}",
                f"{v['response_dumps']['us_per_event']:.2f}",
                f"{r['amplification']['transform']:.2f}",
                str(r["records_past_budget"]),
            ]
        )
    if rows:
        lines += _table(
            "Transform throughput (one core)",
            [
                "MB",
                "request B",
                "events",
                "ms",
                "us/event",
                "MB/s",
                "k ev/s",
                "x blueprint",
                "x floor",
                "stdlib x bp",
                "bp us/ev",
                "floor us/ev",
                "dumps us/ev",
                "resp/req",
                "past budget",
            ],
            rows,
        )
        billed = [
            [
                size,
                f"{b['handler_us_per_event']:.2f}",
                f"{b['handler_bytes_us_per_event']:.2f}",
                f"{b['blueprint_us_per_event']:.2f}",
                f"{b['handler_x_blueprint']:.2f}",
                f"{b['handler_bytes_x_blueprint']:.2f}",
                f"{b['handler_bytes_x_handler']:.2f}",
            ]
            for size, b in ((size, r["billed"]) for size, r in results["throughput"].items())
        ]
        lines += _table(
            "Billed time: the handler plus the runtime's JSON encoding of its response (us per event)",
            ["MB", "dict entry", "bytes entry", "blueprint", "dict x bp", "bytes x bp", "bytes x dict"],
            billed,
        )
        amp = next(iter(results["throughput"].values()))["amplification"]
        lines.append(
            f"response amplification (no budget): transform {amp['transform']:.2f}x, blueprint "
            f"{amp['blueprint']:.2f}x; largest request whose response fits 6,000,000 B: "
            f"{amp['max_request_mb_within_budget']:.2f} MiB"
        )
    if "stages" in results:
        st = results["stages"]
        lines += _table(
            f"Stages, {st['log_events']:,} log events (us per log event)",
            ["stage", "us/event", "iqr"],
            [[k, f"{v['us_per_event']:.2f}", f"{v['iqr']:.0%}"] for k, v in st["stages"].items()],
        )
        lines += _table(
            "Parsers (us per log event they parse)",
            ["parser", "events", "us/event", "iqr"],
            [[k, str(v["events"]), f"{v['us_per_event']:.2f}", f"{v['iqr']:.0%}"] for k, v in st["parsers"].items()],
        )
    rows = []
    if "cold_start" in results:
        c = results["cold_start"]
        rows += [
            ["handler import (median)", f"{c['import_ms']:.1f} ms", "target <= 150 ms"],
            [
                f"first invocation ({c['first_invocation_request_bytes']:,} B request)",
                f"{c['first_invocation_ms']:.1f} ms",
                f"second: {c['second_invocation_ms']:.1f} ms",
            ],
        ]
    if "memory" in results:
        m = results["memory"]
        rows += [
            [
                f"peak RSS, {m['request_bytes']:,} B request",
                f"{m['rss_peak_mib']:.1f} MiB",
                f"import {m['rss_after_import_mib']:.1f}, +event {m['rss_after_event_mib']:.1f}, "
                f"+handler {m['rss_after_handler_mib']:.1f}; target <= 128 MiB",
            ]
        ]
    if rows:
        lines += _table("Cold start and memory (fresh processes)", ["what", "value", "notes"], rows)
    if "twin" in results:
        t = results["twin"]
        rows = [
            [
                "log events",
                f"{t['log_events']:,}",
                f"{t['fixture_files']} fixture files, {t['invocations']} invocations",
            ],
            ["events/s (wall)", f"{t['events_per_s']:,.0f}", f"median of {t['runs']} runs"],
            ["events per CPU-second", f"{t['events_per_cpu_s']:,.0f}", "target >= 100,000 per core"],
            [
                "CPU x blueprint transform",
                f"{t['x_blueprint']:.2f}",
                f"same records, same round; blueprint {t['blueprint_us_per_event']:.2f} us/event",
            ],
            ["Parquet B / gzip input B", f"{t['parquet_bytes_per_gzip_byte']:.3f}", f"{t['parquet_files']} files"],
            ["conserved", str(t["conserved"]), f"re-ingested items: {t['reingested_items']}"],
            ["build", t.get("build", "unknown"), "native: the C make builds for this Python"],
        ]
        rows += [[f"  us/event: {k}", f"{v:.2f}", ""] for k, v in t["us_per_event"].items()]
        lines += _table(
            f"Local twin end to end (processor buffer {t['processor_buffer_mb']:g} MB)",
            ["what", "value", "notes"],
            rows,
        )
    return "\n".join(lines) + "\n"


def render_ab(results: dict[str, Any]) -> str:
    """The A/B table: the transform at a revision (base) against the working tree (head)."""
    meta, ab = results["meta"], results["ab"]
    lines = [
        _run_line("stream-processor bench A/B", meta),
        f"base = transform_lambda at {ab['revision']} ({ab['commit'][:12]}); head = the working tree"
        f" ({meta['commit']}); one process,",
        "interleaved rounds; head x base = median (quartiles) over rounds of the same-round ratio.",
    ]
    rows = [
        [
            size,
            f"{r['log_events']:,}",
            str(r["rounds"]),
            f"{r['base_us_per_event']:.2f}",
            f"{r['head_us_per_event']:.2f}",
            f"{r['base_x_blueprint']:.2f}",
            f"{r['head_x_blueprint']:.2f}",
            "{:.3f} ({:.3f}-{:.3f})".format(
                r["head_x_base"], r["head_x_base_quartiles"][0], r["head_x_base_quartiles"][2]
            ),
            "yes" if r["same_response"] else "NO",
        ]
        for size, r in ab["sizes"].items()
    ]
    header = [
        "MB",
        "events",
        "rounds",
        "base us/ev",
        "head us/ev",
        "base x bp",
        "head x bp",
        "head x base",
        "same response",
    ]
    lines += _table("Transform, revision against working tree (one core)", header, rows)
    return "\n".join(lines) + "\n"


def write_json(results: dict[str, Any], path: Path) -> None:
    """Write the results as indented JSON, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".partial")
    temp.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    os.replace(temp, path)


__all__ = ["render", "render_ab", "write_json"]
