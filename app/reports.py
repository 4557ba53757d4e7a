"""The daily, weekly and monthly review (天天推进、周周闭环、月月改进): one function builds it.

:func:`build_report` reads the incidents within the caller's scope (masked), turns them into the
KPI frame (:func:`incidents.frame.prepare`, as the wall does) and computes every KPI of
:mod:`incidents.kpi` for the period, the previous period (环比) and a year earlier (同比), for the
whole town and per village, grid cell and team, plus the lists of overdue and unsatisfied
incidents. ``ember report`` and the ``/reports`` page both call it; :func:`to_xlsx` and
:func:`to_json` write it out.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from incidents import kpi, sla
from incidents._time import LOCAL_TZ
from incidents.frame import prepare
from incidents.model import STATE_ZH, State
from store import IncidentQuery, IncidentStore, LayerNotFound, Scope

Kind = Literal["daily", "weekly", "monthly"]
ZH_STATES = frozenset(s.value for s in State)
KINDS: tuple[Kind, ...] = ("daily", "weekly", "monthly")
#: Heading of each review.
HEADINGS: dict[str, tuple[str, str]] = {
    "daily": ("天天推进", "Daily push"),
    "weekly": ("周周闭环", "Weekly closed loop"),
    "monthly": ("月月改进", "Monthly improvement"),
}
#: Levels of the report: (level, Chinese, English, layer holding the names).
LEVELS: tuple[tuple[str, str, str, str | None], ...] = (
    ("town", "全镇", "Town", None),
    ("village", "村社区", "Villages", "villages"),
    ("grid", "网格", "Grid cells", "grid_cells"),
    ("team", "处置队伍", "Teams", "teams"),
)
#: Columns of the incident lists (masked): column -> Chinese header.
LIST_COLUMNS: dict[str, str] = {
    "id": "事项编号",
    "category_zh": "类别",
    "state_zh": "状态",
    "received_at": "受理时间",
    "deadline": "期限",
    "village_code": "村社区",
    "grid_code": "网格",
    "team_code": "处置队伍",
    "address": "地址",
    "satisfaction": "满意度",
}


@dataclass(frozen=True)
class Row:
    """One area's KPIs: ``kpis[name]`` is a :class:`~incidents.kpi.Comparison`."""

    code: str
    name: str
    kpis: dict[str, kpi.Comparison]


@dataclass(frozen=True)
class Report:
    """One review: its period, the KPI rows per level and the two incident lists."""

    kind: str
    window: kpi.Window
    as_of: pd.Timestamp
    levels: dict[str, list[Row]]
    overdue: pd.DataFrame
    unsatisfied: pd.DataFrame
    frame_size: int = 0

    @property
    def heading(self) -> tuple[str, str]:
        return HEADINGS[self.kind]

    @property
    def period(self) -> str:
        """The period as local days, e.g. ``2026-05-25 – 2026-05-31``."""
        start = self.window.start.tz_convert(LOCAL_TZ).date()
        last = (self.window.end - pd.Timedelta(days=1)).tz_convert(LOCAL_TZ).date()
        return start.isoformat() if start == last else f"{start} – {last}"


def window_of(kind: str, day: date) -> kpi.Window:
    """The local day, Monday-to-Sunday week or calendar month holding ``day``."""
    if kind == "daily":
        return kpi.Window.day(day)
    if kind == "weekly":
        return kpi.Window.week(day)
    if kind == "monthly":
        return kpi.Window.month(day.year, day.month)
    raise ValueError(f"报表类型须为 daily、weekly 或 monthly / kind must be one of {KINDS}")


def default_day(kind: str, now: datetime) -> date:
    """The last complete period's day: yesterday, last week's Sunday, last month's last day."""
    today = pd.Timestamp(now).tz_convert(LOCAL_TZ).date()
    if kind == "weekly":
        return today - timedelta(days=today.weekday() + 1)
    if kind == "monthly":
        return today.replace(day=1) - timedelta(days=1)
    return today - timedelta(days=1)


def load_frame(store: IncidentStore, scope: Scope) -> pd.DataFrame:
    """The KPI frame of every incident within ``scope`` (masked), plus address and names."""
    masked = replace(scope, personal_data=False)
    found = store.query_incidents(IncidentQuery(), masked)
    flat = pd.DataFrame(found.drop(columns="geometry"))
    return prepare(flat).reset_index(drop=True)


def area_names(store: IncidentStore) -> dict[str, dict[str, str]]:
    """Code -> name per level, from the villages, grid cells and teams layers (when present)."""
    out: dict[str, dict[str, str]] = {}
    for level, _zh, _en, layer in LEVELS:
        if layer is None:
            continue
        try:
            frame = store.read_layer(layer)
        except LayerNotFound:
            out[level] = {}
            continue
        out[level] = dict(zip(frame["code"].astype(str), frame["name"].astype(str), strict=True))
    return out


def _compare_by(
    frame: pd.DataFrame, window: kpi.Window, level: str, as_of: pd.Timestamp
) -> dict[str, dict[str, kpi.Comparison]]:
    """Comparisons per code of ``level`` (the whole frame for ``town``)."""
    if level == "town":
        return {"": kpi.compare(frame, window, as_of=as_of)}
    codes = sorted(str(c) for c in frame[kpi.AREA_LEVELS[level]].dropna().unique())
    if not codes:
        return {}
    wins = (window, window.previous(), window.year_earlier())
    tables = [kpi.compute_by(frame, w, level, as_of=as_of) for w in wins]
    out: dict[str, dict[str, kpi.Comparison]] = {}
    for code in codes:
        values = [_values(t, code) for t in tables]
        out[code] = {k: kpi.Comparison(values[0][k], values[1][k], values[2][k]) for k in kpi.KPIS}
    return out


def _values(table: pd.DataFrame, code: str) -> dict[str, kpi.KpiValue]:
    row = table.loc[code]
    out = {}
    for name, spec in kpi.KPIS.items():
        den = row[f"{name}_den"]
        value = row[name]
        out[name] = kpi.KpiValue(
            name,
            float(row[f"{name}_num"]),
            None if spec.kind == "count" or den is None or den != den else int(den),
            None if value is None or value != value else float(value),
        )
    return out


def _list(frame: pd.DataFrame, mask: Any, extra: pd.DataFrame) -> pd.DataFrame:
    rows = frame.loc[mask].join(extra, how="left")
    rows["state_zh"] = rows["state"].map(lambda s: STATE_ZH[State(s)] if s in ZH_STATES else s)
    cols = [c for c in LIST_COLUMNS if c in rows]
    return rows[cols].reset_index(drop=True)


def build_report(
    store: IncidentStore,
    kind: str,
    day: date,
    *,
    scope: Scope,
    as_of: datetime | pd.Timestamp,
    policy: sla.SlaPolicy = sla.DEFAULT_POLICY,
    frame: pd.DataFrame | None = None,
) -> Report:
    """The ``kind`` review of the period holding ``day``, as known at ``as_of``.

    Parameters
    ----------
    store : IncidentStore
    kind : {"daily", "weekly", "monthly"}
    day : datetime.date
        Any local day of the period.
    scope : Scope
        Whose view (masked whatever ``scope.personal_data`` says).
    as_of : datetime
        "Now": decides what is still pending (see docs/kpi.md).
    frame : DataFrame, optional
        A KPI frame already read (with ``address``, ``category_zh``); read from ``store`` if None.
    """
    window = window_of(kind, day)
    ts = pd.Timestamp(as_of)
    if ts.tzinfo is None:
        raise ValueError("as_of 须带时区 / as_of must be timezone-aware")
    df = load_frame(store, scope) if frame is None else frame
    names = area_names(store)
    levels: dict[str, list[Row]] = {}
    for level, zh, _en, _layer in LEVELS:
        by = _compare_by(df, window, level, ts)
        lookup = names.get(level, {})
        levels[level] = [
            Row(code, lookup.get(code, code) if code else zh, comps) for code, comps in by.items()
        ]
    snap = min(window.end, ts)
    extra = df[[c for c in ("address", "category_zh") if c in df]].copy()
    base = df.drop(columns=[c for c in extra.columns if c in df], errors="ignore")
    if len(df):

        def before(c: str) -> Any:
            return (df[c] < snap).to_numpy(bool)

        # The overdue KPI's definition (docs/kpi.md): open at the snapshot, past its deadline
        # and not resolved before it.
        open_ = before("received_at") & ~before("closed_at") & ~before("returned_at")
        late = open_ & before("deadline") & ~before("resolved_at")
        callback = df["callback_at"]
        unsat = (df["satisfaction"] == "不满意").to_numpy(bool) & (
            (callback >= window.start) & (callback < window.end)
        ).to_numpy(bool)
    else:
        late = unsat = pd.Series([], dtype=bool).to_numpy(bool)
    return Report(
        kind=kind,
        window=window,
        as_of=ts,
        levels=levels,
        overdue=_list(base, late, extra),
        unsatisfied=_list(base, unsat, extra),
        frame_size=len(df),
    )


# --- output ---------------------------------------------------------------------------------


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
        "incidents": report.frame_size,
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
        title = pd.DataFrame({"Ember": [heading, f"统计截至 {_local(report.as_of)}"]})
        title.to_excel(xl, sheet_name="概览", index=False)
        level_table(report.levels["town"]).to_excel(xl, sheet_name="概览", index=False, startrow=4)
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


def parse_day(text: str | None, kind: str, now: datetime) -> date:
    """``--date`` / ``?date=``: an ISO day, else :func:`default_day`."""
    if not text:
        return default_day(kind, now)
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        raise ValueError(f"日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD: {text!r}") from None


def summary_lines(report: Report) -> list[str]:
    """A plain-text summary for the terminal: the town's KPIs with 环比 and 同比."""
    lines = [f"{report.heading[0]} {report.heading[1]} · {report.period}"]
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
