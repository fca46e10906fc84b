"""Render bench/results/<date>-<scale>.json into the table of bench/README.md and an SVG chart per result.

    .venv/bin/python bench/render.py          # (bench/pipeline.py calls it at the end of a run)

The newest results file of each scale is shown; the table sits between the markers
``<!-- bench:results:start -->`` and ``<!-- bench:results:end -->`` (the rest of README.md is prose).
"""

from __future__ import annotations

import json
import re
import sys
from html import escape
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
README = BENCH / "README.md"
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-(?!before|after)([a-z0-9_-]+)\.json$")
SCALE_ORDER = {"national": 0, "province": 1, "tiny": 2}


def latest_results() -> list[tuple[Path, dict]]:
    best: dict[str, tuple[str, Path]] = {}
    for path in RESULTS.glob("*.json"):
        m = NAME.match(path.name)
        if not m or path.name.startswith("ingest-"):
            continue
        date, scale = m.groups()
        if scale not in best or date > best[scale][0]:
            best[scale] = (date, path)
    out = [(p, json.loads(p.read_text(encoding="utf-8"))) for _, p in best.values()]
    return sorted(out, key=lambda x: SCALE_ORDER.get(x[1]["scale"], 9))


def _s(x: float | None) -> str:
    return "—" if x is None else (f"{x:,.1f}" if x < 100 else f"{x:,.0f}")


def ratio_text(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio}× lower bound"


def stage_rows(result: dict) -> list[tuple[str, str, float, float | None, int | None]]:
    """(scenario, stage, seconds, peak RSS MB, rows/s) for the table and the chart."""
    rows = []
    for name, sc in result["scenarios"].items():
        for stage, s in sc.get("stages", {}).get("stages", {}).items():
            rows.append((name, stage, s["seconds"], s.get("max_rss_mb"), s.get("rows_per_s")))
        af = sc.get("airflow")
        if af:
            for dag_id, d in af["dags"].items():
                label = f"Airflow: {dag_id}" + (
                    f" ({d['state']})" if d.get("state", "success") != "success" else ""
                )
                rows.append((name, label, d["seconds"], d.get("max_rss_mb"), d.get("rows_per_s")))
        lb = sc.get("lower_bound")
        if lb:
            rows.append((name, "lower bound (bare DuckDB)", lb["seconds"], lb.get("max_rss_mb"), None))
    return rows


def table(path: Path, result: dict) -> str:
    gen = result["generation"]
    days = gen.get("case_days", [])
    rows = gen.get("rows", {})
    m = result["machine"]
    lines = [
        f"### {result['scale']} — {result['date']} ([{path.name}](results/{path.name}))",
        "",
        f"Scope: {gen.get('villages', 0):,} villages and communities, {gen.get('townships', 0):,} townships, "
        f"{gen.get('counties', 0):,} counties, {gen.get('residents', 0):,} residents; "
        f"month {result['month']} (case-log days {days[0] if days else ''} … {days[-1] if days else ''}). "
        f"Rows: "
        + ", ".join(f"{k} {v:,}" for k, v in rows.items())
        + f". Generation (or reuse check) {gen.get('total_seconds', 0):,.0f} s "
        "(excluded from every figure below). "
        f"Machine: {m['cores']} cores, {m['memory_gb']} GB, {m['cpu']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + ".",
        "",
        f"Reproduce: `{result['command']}`",
        "",
        "| target | goal | measured | |",
        "|---|---|---|---|",
    ]
    for t in result.get("targets", []):
        verdict = "not measured" if t["met"] is None else "met" if t["met"] else "**missed**"
        lines.append(f"| {t['target']} | {t['goal']} | {t['measured']} | {verdict} |")
    lines += ["", "| scenario | stage | seconds | peak RSS MB | rows/s |", "|---|---|---:|---:|---:|"]
    for name, stage, sec, rss, rps in stage_rows(result):
        lines.append(f"| {name} | {stage} | {_s(sec)} | {_s(rss)} | {'' if rps is None else f'{rps:,}'} |")
    for name, sc in result["scenarios"].items():
        for mode in ("airflow", "stages"):
            if mode in sc:
                lines.append(
                    f"| {name} | **total, {'through Airflow' if mode == 'airflow' else 'stage by stage'}** | "
                    f"**{_s(sc[mode]['total_seconds'])}** | {_s(sc[mode]['max_rss_mb'])} | "
                    f"{ratio_text(sc[mode].get('ratio_to_lower_bound'))} |"
                )
    split = []
    for name, sc in result["scenarios"].items():
        for stage, s in sc.get("stages", {}).get("stages", {}).items():
            if s.get("split"):
                parts = ", ".join(f"{k} {v:,.1f}" for k, v in s["split"].items() if v)
                split.append(f"- {name} {stage}: {parts} s")
    probe = result.get("validation")
    if probe and probe.get("split"):
        parts = ", ".join(f"{k} {v:,.1f}" for k, v in probe["split"].items() if v)
        split.append(
            f"- validation probe, case log of {probe['day']} ({probe['rows']:,} rows) into an empty "
            f"warehouse: {parts} s; peak RSS {_s(probe['max_rss_mb'])} MB"
        )
    if split:
        lines += [
            "",
            "Ingest split (seconds): read+type+row rules / GX validation / pseudonymise+write / publish:",
            "",
        ]
        lines += split
    agree = [
        f"{name}: {'equal' if sc['agreement']['equal'] else 'DIFFERENT'} "
        f"({sc['agreement']['units_joined']:,} units, {sc['agreement']['counties']:,} counties)"
        if sc["agreement"].get("equal") is not None
        else f"{name}: {sc['agreement'].get('note')}"
        for name, sc in result["scenarios"].items()
        if "agreement" in sc
    ]
    if agree:
        lines += [
            "",
            "Lower bound vs marts (per-unit resident/registered/staff, per-county D indices, per-unit "
            "cases and the three rates): " + "; ".join(agree) + ".",
        ]
    parse = result.get("dag_parse", {})
    if parse:
        lines += [
            "",
            "DAG parse (per file, Airflow already imported): "
            + ", ".join(f"`{k}` {v['parse_s']:.2f} s" for k, v in parse.items())
            + ".",
        ]
    lines += ["", f"![stage times, {result['scale']}](results/{path.stem}.svg)", ""]
    return "\n".join(lines)


def chart(result: dict) -> str:
    """Horizontal bars: seconds per stage (log-free, linear), scenario by scenario."""
    rows = stage_rows(result)
    width, bar_h, gap, left = 860, 16, 4, 330
    height = 40 + len(rows) * (bar_h + gap)
    top = max((r[2] for r in rows), default=1) or 1
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="sans-serif" font-size="11">'
        ),
        (
            f'<text x="10" y="18" font-size="13">Seconds per stage — {escape(result["scale"])}, '
            f"{escape(result['date'])}</text>"
        ),
    ]
    y = 32
    for name, stage, sec, _rss, _rps in rows:
        w = max(1.0, (width - left - 80) * sec / top)
        colour = (
            "#9aa5b1"
            if stage.startswith("lower bound")
            else ("#3b6ea5" if name == "month_rebuild" else "#d08c2b")
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + bar_h - 4}" text-anchor="end">'
            f"{escape(name)}: {escape(stage)}</text>"
        )
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + bar_h - 4}">{sec:,.1f} s</text>')
        y += bar_h + gap
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def render() -> Path:
    blocks = []
    for path, result in latest_results():
        (RESULTS / f"{path.stem}.svg").write_text(chart(result), encoding="utf-8")
        blocks.append(table(path, result))
    text = README.read_text(encoding="utf-8") if README.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + START + "\n\n" + "\n\n".join(blocks) + "\n" + END + tail, encoding="utf-8")
    return README


if __name__ == "__main__":
    print(render())
    sys.exit(0)
