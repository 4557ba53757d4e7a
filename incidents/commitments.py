"""Commitments (承诺) made at mediation and their checks at callback (回访).

A ``resolve`` event carries ``data["commitments"]``: a list of :class:`~incidents.model.Commitment`
or of their JSON form (:func:`commitment_to_dict`). Every commitment an incident ever received is
numbered from 0 in the order made; a ``callback`` event checks them with ``data["checks"]`` (a list
of ``{"index": i, "kept": bool, "paid": yuan}``) or with the shorthand ``data["kept"]``:
``True`` confirms every open commitment, ``False`` breaks every open one already due (due local
day before the callback's local day).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal

from incidents._time import local_date, parse_time
from incidents.model import Commitment

CommitmentStatus = Literal["open", "kept", "broken"]


@dataclass(frozen=True)
class CommitmentRecord:
    """One commitment of an incident and what became of it."""

    index: int
    commitment: Commitment
    made_at: datetime
    made_seq: int
    status: CommitmentStatus = "open"
    checked_at: datetime | None = None
    paid: float | None = None  # yuan, as reported at the check

    @property
    def due_date(self) -> date:
        """Local (Asia/Shanghai) calendar day the commitment falls due."""
        return local_date(self.commitment.due)

    @property
    def callback_date(self) -> date:
        """The day after the due date, when a callback must check the commitment."""
        return date.fromordinal(self.due_date.toordinal() + 1)


def commitment_to_dict(c: Commitment) -> dict[str, Any]:
    """JSON-ready form of a commitment (due as ISO-8601 with offset)."""
    return {"who": c.who, "what": c.what, "due": c.due.isoformat(), "amount": c.amount}


def commitment_from(value: Commitment | Mapping[str, Any]) -> Commitment:
    """A :class:`Commitment` from itself or its dict form; raises ``ValueError`` (bilingual)."""
    if isinstance(value, Commitment):
        due = parse_time(value.due)
        return value if due is value.due else replace(value, due=due)
    if not isinstance(value, Mapping):
        raise ValueError(f"承诺格式无效 / a commitment must be a mapping: {type(value).__name__}")
    missing = [k for k in ("who", "what", "due") if not value.get(k)]
    if missing:
        raise ValueError(f"承诺缺少字段 / commitment lacks {', '.join(missing)}")
    amount = value.get("amount")
    if amount is not None:
        amount = float(amount)
        if not amount >= 0:
            raise ValueError(f"承诺金额无效 / commitment amount must be >= 0: {amount}")
    return Commitment(
        who=str(value["who"]), what=str(value["what"]), due=parse_time(value["due"]), amount=amount
    )


def parse_commitments(raw: object) -> list[Commitment]:
    """The commitments of a ``resolve`` event's data (``None`` or a list)."""
    if raw is None:
        return []
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence):
        raise ValueError("承诺须为列表 / data['commitments'] must be a list")
    return [commitment_from(c) for c in raw]


def apply_checks(
    records: tuple[CommitmentRecord, ...], data: Mapping[str, Any], at: datetime
) -> tuple[tuple[CommitmentRecord, ...], int]:
    """Apply a callback's commitment checks; return (updated records, number newly broken).

    Raises
    ------
    ValueError
        A check names an unknown or already settled commitment, or ``kept`` is not a bool.
    """
    out = list(records)
    broken = 0
    checks = data.get("checks")
    if checks is not None:
        if isinstance(checks, (str, bytes)) or not isinstance(checks, Sequence):
            raise ValueError("回访核查须为列表 / data['checks'] must be a list")
        for check in checks:
            if not isinstance(check, Mapping) or not isinstance(check.get("kept"), bool):
                raise ValueError("核查须含 kept 布尔值 / each check needs a boolean 'kept'")
            i = check.get("index")
            if not isinstance(i, int) or not 0 <= i < len(out) or out[i].status != "open":
                raise ValueError(f"无此待核承诺 / no open commitment with index {i!r}")
            paid = check.get("paid")
            status: CommitmentStatus = "kept" if check["kept"] else "broken"
            broken += status == "broken"
            out[i] = replace(
                out[i],
                status=status,
                checked_at=at,
                paid=None if paid is None else float(paid),
            )
    kept = data.get("kept")
    if kept is not None:
        if not isinstance(kept, bool):
            raise ValueError("kept 须为布尔值 / data['kept'] must be a bool")
        today = local_date(at)
        for i, r in enumerate(out):
            if r.status != "open" or (not kept and r.due_date >= today):
                continue
            out[i] = replace(r, status="kept" if kept else "broken", checked_at=at)
            broken += not kept
    return tuple(out), broken
