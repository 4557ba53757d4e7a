"""The review built by :func:`app.reports.build_report`, written out: JSON, .xlsx (one sheet
per level and list), the tables the ``/reports`` page shows and a terminal summary."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from app.i18n import t
from app.reports import LEVELS, LIST_COLUMNS, Report, Row
from incidents import kpi
from incidents._time import LOCAL_TZ


def kpi_doc(c: kpi.Comparison) -> dict[str, Any]:
    """One comparison as JSON: value, numerator, denominator, 环比 and 同比."""
    return {
        "value": c.current.value,
        "numerator": c.current.numerator,
        "denominator": c.current.denominator,
        "previous": c.previous.value,
        "year_earlier": c.year_earlier.value,
        "mom_change": c.mom_change,
        "yoy_change": c.yoy_change,
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict("records"):
        out.append({k: (None if v is None or v != v else _plain(v)) for k, v in row.items()})
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, pd.Timestamp | datetime):
        return pd.Timestamp(v).tz_convert(LOCAL_TZ).isoformat()
    return v


def to_json(report: Report) -> dict[str, Any]:
    """The report as one JSON-ready document (lists masked; times Asia/Shanghai)."""
    return {
        "kind": report.kind,
        "heading": {"zh": report.heading[0], "en": report.heading[1]},
        "period": {
            "start": report.window.start.isoformat(),
            "end": report.window.end.isoformat(),
            "label": report.period,
        },
        "as_of": report.as_of.isoformat(),
        "so_far": report.so_far,
        "incidents": report.frame_size,
        "received": report.received,
        "kpis": {k: {"zh": d.zh, "en": d.en, "kind": d.kind} for k, d in kpi.KPIS.items()},
        "levels": {
            level: [
                {"code": r.code, "name": r.name, **{k: kpi_doc(c) for k, c in r.kpis.items()}}
                for r in rows
            ]
            for level, rows in report.levels.items()
        },
        "overdue": _records(report.overdue),
        "unsatisfied": _records(report.unsatisfied),
    }


def fmt(c: kpi.Comparison | kpi.KpiValue, name: str) -> str:
    """A KPI value for display: ``87.5%``, ``12.3 h`` or a count; ``—`` when undefined."""
    v = c.current.value if isinstance(c, kpi.Comparison) else c.value
    if v is None:
        return "—"
    spec = kpi.KPIS[name]
    if spec.kind == "rate":
        return f"{v * 100:.1f}%"
    if spec.kind == "mean":
        return f"{v:.1f} h"
    return f"{int(v)}"


def fmt_change(change: float | None, name: str) -> str:
    """A 环比 / 同比 change: percentage points for rates, plain difference otherwise."""
    if change is None:
        return "—"
    kind = kpi.KPIS[name].kind
    if kind == "rate":
        return f"{change * 100:+.1f}pt"
    return f"{change:+.1f}" if kind == "mean" else f"{int(change):+d}"


def level_table(rows: list[Row], *, display: bool = False) -> pd.DataFrame:
    """One level's rows as a table with Chinese headers (``display``: formatted strings)."""
    records = []
    for r in rows:
        rec: dict[str, Any] = {"代码": r.code, "名称": r.name}
        for name, c in r.kpis.items():
            zh = kpi.KPIS[name].zh
            if display:
                rec[zh] = fmt(c, name)
                rec[f"{zh}环比"] = fmt_change(c.mom_change, name)
                rec[f"{zh}同比"] = fmt_change(c.yoy_change, name)
            else:
                rec[zh] = c.current.value
                rec[f"{zh}环比"] = c.mom_change
                rec[f"{zh}同比"] = c.yoy_change
        records.append(rec)
    return pd.DataFrame(records)


def list_table(frame: pd.DataFrame) -> pd.DataFrame:
    """An incident list with Chinese headers and local times as text."""
    out = frame.copy()
    for c in ("received_at", "deadline"):
        if c in out:
            out[c] = out[c].map(lambda t: "" if t is None or t != t else _local(t))
    return out.rename(columns=LIST_COLUMNS)


def _local(t: Any) -> str:
    return str(pd.Timestamp(t).tz_convert(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"))


def sheet_names() -> list[str]:
    """The .xlsx sheets, in order."""
    return [
        "概览",
        *[zh for level, zh, _, _ in LEVELS if level != "town"],
        "超期事项",
        "不满意事项",
    ]


def to_xlsx(report: Report, out: str | Path | io.BytesIO) -> None:
    """Write the report as .xlsx: an overview sheet (the town), one sheet per level, the
    overdue and unsatisfied lists; Chinese headers."""
    heading = f"{report.heading[0]} · {report.period}"
    with pd.ExcelWriter(out, engine="openpyxl") as xl:
        lines = [heading, f"统计截至 {_local(report.as_of)}"]
        if report.so_far:
            lines.append(t("rep.so_far", "zh"))
        title = pd.DataFrame({"Ember": lines})
        title.to_excel(xl, sheet_name="概览", index=False)
        town = level_table(report.levels["town"])
        town.to_excel(xl, sheet_name="概览", index=False, startrow=len(lines) + 2)
        for level, zh, _en, _layer in LEVELS:
            if level != "town":
                level_table(report.levels[level]).to_excel(xl, sheet_name=zh, index=False)
        list_table(report.overdue).to_excel(xl, sheet_name="超期事项", index=False)
        list_table(report.unsatisfied).to_excel(xl, sheet_name="不满意事项", index=False)
        for ws in xl.book.worksheets:
            ws.freeze_panes = "C2" if ws.title not in ("概览",) else None
            for col in ws.columns:
                ws.column_dimensions[col[0].column_letter].width = 14


def xlsx_bytes(report: Report) -> bytes:
    """The .xlsx file as bytes (for a download)."""
    buf = io.BytesIO()
    to_xlsx(report, buf)
    return buf.getvalue()


def summary_lines(report: Report) -> list[str]:
    """A plain-text summary for the terminal: the town's KPIs with 环比 and 同比."""
    lines = [f"{report.heading[0]} {report.heading[1]} · {report.period}"]
    if report.so_far:
        lines.append(f"  {t('rep.so_far', 'zh')} / {t('rep.so_far', 'en')}")
    town = report.levels["town"][0].kpis if report.levels["town"] else {}
    for name, c in town.items():
        spec = kpi.KPIS[name]
        lines.append(
            f"  {spec.zh:<8}{fmt(c, name):>10}   环比 {fmt_change(c.mom_change, name):>8}   "
            f"同比 {fmt_change(c.yoy_change, name):>8}   {spec.en}"
        )
    lines.append(f"  超期事项 overdue: {len(report.overdue)}   不满意 unsatisfied: "
                 f"{len(report.unsatisfied)}")  # fmt: skip
    return lines
