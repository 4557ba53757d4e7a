"""``ember quarantine retry``: fix a quarantined row and replay it through the same pipeline.

The entry's raw row is taken as it was read, the dispatcher's fixes (``column = value``) are
applied, and the row goes through :func:`ingest.pipeline.ingest_table` like any other row (so it
can be stored, be an update, or turn out to be a duplicate). When it gets through, the entry is
resolved with the incident's id; when it does not, the entry stays open and the new reason is
returned. Nothing is quarantined twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ingest.pipeline import IngestContext, ingest_table
from ingest.read import RawRow, RawTable, _flatten, given_twice, load_json
from store.base import IncidentStore, QuarantineEntry

_NEEDS_FIX = {
    "bad_shape": ("该行字段数不对，请用 --set 列名=值 补正", "the row has the wrong number of "
                  "fields: give the right values with --set COLUMN=VALUE"),
    # the cells after the stray quote are one cell (under the first column it reached), the
    # columns after it empty: replayed as it is, the row was stored with its fields misplaced
    "bad_quote": ("该行引号没有闭合，其后的字段已错位，请用 --set 列名=值 补正", "a quote in the "
                  "row is never closed and the fields after it are misplaced: give the right "
                  "values with --set COLUMN=VALUE"),
    # shown as U+FFFD in the quarantine: replayed as it is, the row would be stored so
    "bad_char": ("该行含有无法保存的字符（已显示为 �），请用 --set 列名=值 补正", "the row held a "
                 "character no store can keep (shown as �): give the right value with --set "
                 "COLUMN=VALUE"),
}  # fmt: skip


@dataclass
class RetryResult:
    entry_id: int
    ok: bool
    outcome: str  # stored / updated / duplicate / quarantined / skipped
    incident_id: str | None = None
    reason: str | None = None


def _row(entry: QuarantineEntry, fixes: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """The raw row with the fixes applied, or a reason why it cannot be replayed as it is."""
    raw = {k: "" if v is None else str(v) for k, v in entry.raw.items()}
    if "_raw" in raw:  # a JSON line that did not parse: the fix replaces the line
        text = fixes.get("_raw", raw["_raw"])
        try:
            obj = load_json(text)
        except json.JSONDecodeError as exc:
            return raw, f"仍不是有效的 JSON / still not valid JSON: {exc.msg}"
        if not isinstance(obj, dict):
            return raw, "不是 JSON 对象 / not a JSON object"
        twice = given_twice(obj)
        if twice:
            names = ", ".join(twice)
            return raw, f"字段 {names} 仍出现不止一次 / the field {names} is still given twice"
        raw = _flatten(obj)
        fixes = {k: v for k, v in fixes.items() if k != "_raw"}
    raw.update(fixes)
    if entry.code in _NEEDS_FIX and not fixes:
        zh, en = _NEEDS_FIX[entry.code]
        return raw, f"{zh} / {en}"
    left = [k for k, v in raw.items() if k.startswith("_extra_") and v.strip()]
    if left:  # a cell beyond the header: fixing another column left the row shifted
        names = ", ".join(left)
        return raw, (
            f"该行仍有表头之外的内容（{names}），请用 --set 将其移入对应列，或用 --set {left[0]}= "
            f"清空 / the row still holds cells beyond the header ({names}): move each into its "
            f"column with --set, or clear it with --set {left[0]}="
        )
    return {k: v for k, v in raw.items() if not k.startswith("_extra_")}, None


def retry_entry(
    store: IncidentStore,
    entry: QuarantineEntry,
    context: IngestContext,
    *,
    fixes: Mapping[str, str] | None = None,
    actor: str = "cli",
) -> RetryResult:
    if entry.status != "open":
        return RetryResult(entry.id, False, "skipped", entry.incident_id, f"already {entry.status}")
    raw, why = _row(entry, fixes or {})
    if why is not None:
        return RetryResult(entry.id, False, "quarantined", None, why)
    values = list(raw.values())
    row = RawRow(entry.line or 0, values, [i for i, v in enumerate(values) if "\ufffd" in v])
    table = RawTable(entry.file, list(raw), [row], "utf-8")
    summary = ingest_table(
        table,
        entry.source,
        store,
        context,
        actor=actor,
        quarantine=False,
        keep_outcomes=True,
        file_label=entry.file,
    )
    assert summary.outcomes is not None and len(summary.outcomes) == 1
    out = summary.outcomes[0]
    if out.outcome == "quarantined":
        reason = (
            "；".join(p["zh"] for p in out.problems)
            + " / "
            + "; ".join(p["en"] for p in out.problems)
        )
        return RetryResult(entry.id, False, "quarantined", None, reason)
    fixed = ", ".join(sorted(fixes or {})) or "-"
    store.quarantine_resolve(
        entry.id, actor=actor, incident_id=out.incident_id, note=f"retry ({fixed}): {out.outcome}"
    )
    return RetryResult(entry.id, True, out.outcome, out.incident_id)


def retry_entries(
    store: IncidentStore,
    ids: Sequence[int] | None,
    *,
    fixes: Mapping[str, str] | None = None,
    actor: str = "cli",
    context: IngestContext | None = None,
) -> list[RetryResult]:
    """Replay the entries ``ids`` (None: every open entry) with ``fixes`` applied to each."""
    entries = [store.quarantine_get(i) for i in ids] if ids else store.quarantine_list()
    if not entries:
        return []
    ctx = context or IngestContext.from_store(store)
    return [retry_entry(store, e, ctx, fixes=fixes, actor=actor) for e in entries]
