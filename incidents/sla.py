"""Service levels: arrival and resolution deadlines, the callback schedule, overdue → 督办.

Rules (configurable through :class:`SlaPolicy`):

- arrival: on scene within 10 minutes of the (latest) dispatch;
- resolution (处置完毕): by the incident's explicit deadline, else ``received_at`` plus the
  category's (or ``category.subcategory``'s) period; the subcategory may be given by its code or
  by its name as ingest and the demo store it (``婚恋家庭纠纷/家庭暴力``, ``家庭暴力``), resolved
  to its code with the policy's taxonomy;
- callback (回访): the day after resolution for ordinary matters; for key matters (重点) the day
  after and then every ``key_callback_every`` days until closed; when commitments are open, the
  day after each commitment's due date (instead of the next-day callback for ordinary matters);
- overdue flags ``arrival``, ``resolution`` and ``callback`` at a given ``now``; an open incident
  with a flag in ``supervise_on`` that is not yet supervised needs supervision (督办).

Days are local (Asia/Shanghai) calendar days; a callback day is overdue once it has ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType

import numpy as np
import pandas as pd

from incidents._time import LOCAL_TZ, local_date
from incidents.lifecycle import IncidentStatus
from incidents.model import State
from incidents.taxonomy import DEFAULT_TAXONOMY, Taxonomy

#: Default resolution periods by category code (or ``code.subcode``).
DEFAULT_RESOLVE: Mapping[str, timedelta] = MappingProxyType(
    {
        "wage": timedelta(days=15),
        "neighbour": timedelta(days=3),
        "family": timedelta(days=3),
        "rental": timedelta(days=7),
        "consumer": timedelta(days=7),
        "noise": timedelta(days=1),
        "help": timedelta(days=1),
        "other": timedelta(days=7),
        "wage.group": timedelta(days=3),
        "family.violence": timedelta(days=1),
    }
)
FLAGS = ("arrival", "resolution", "callback")
AWAITING_CALLBACK = frozenset({State.RESOLVED, State.CALLBACK_DUE})
DAY = timedelta(days=1)


@dataclass(frozen=True)
class SlaPolicy:
    """Deadlines and the callback rhythm; every field has the centre's usual default."""

    arrival: timedelta = timedelta(minutes=10)
    resolve: Mapping[str, timedelta] = field(default_factory=lambda: DEFAULT_RESOLVE)
    default_resolve: timedelta = timedelta(days=7)
    key_callback_every: int = 7
    supervise_on: frozenset[str] = frozenset(FLAGS)
    #: resolves a subcategory's name to the code that ``resolve``'s ``code.subcode`` keys use
    taxonomy: Taxonomy = field(default=DEFAULT_TAXONOMY, repr=False)

    def __post_init__(self) -> None:
        if self.key_callback_every < 1:
            raise ValueError("回访周期须至少 1 天 / key_callback_every must be at least 1 day")
        if not set(self.supervise_on) <= set(FLAGS):
            raise ValueError(f"督办条件无效 / supervise_on must be a subset of {FLAGS}")

    def resolve_period(self, category: str | None, subcategory: str | None = None) -> timedelta:
        """Resolution period of a category (the subcategory's own period if it has one).

        ``subcategory`` is a code (``group``) or a name the taxonomy knows (``群体讨薪``,
        ``劳资纠纷/群体讨薪``: what ingest stores)."""
        if category and subcategory:
            for code in (subcategory, self.taxonomy.sub_code(category, subcategory)):
                if code and f"{category}.{code}" in self.resolve:
                    return self.resolve[f"{category}.{code}"]
        return self.resolve.get(category or "", self.default_resolve)

    def resolution_deadline(
        self,
        category: str | None,
        received_at: datetime,
        subcategory: str | None = None,
        explicit: datetime | None = None,
    ) -> datetime:
        """``explicit`` if given (e.g. a 12345 work order's 办理时限), else received + period."""
        return (
            explicit
            if explicit is not None
            else received_at + self.resolve_period(category, subcategory)
        )


DEFAULT_POLICY = SlaPolicy()


@dataclass(frozen=True)
class Overdue:
    """Overdue flags of one incident at a moment, and whether it needs supervision (督办)."""

    arrival: bool = False
    resolution: bool = False
    callback: bool = False
    needs_supervision: bool = False

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(f for f in FLAGS if getattr(self, f))

    @property
    def any(self) -> bool:
        return bool(self.flags)


def deadline(status: IncidentStatus, policy: SlaPolicy = DEFAULT_POLICY) -> datetime:
    """The resolution deadline of an incident (explicit, else by category)."""
    return policy.resolution_deadline(
        status.category, status.received_at, status.subcategory, status.deadline
    )


def _plus(d: date, days: int) -> date:
    return d + timedelta(days=days)


def callback_schedule(
    status: IncidentStatus, policy: SlaPolicy = DEFAULT_POLICY, until: date | None = None
) -> tuple[date, ...]:
    """Local days on which callbacks are still due for the current resolution, sorted.

    Empty unless the incident is resolved or awaiting callback. Key matters list their periodic
    days up to ``until`` (at least the next one). A day stays listed until a reached callback on
    or after it (commitment days: until the commitment is checked).
    """
    if status.state not in AWAITING_CALLBACK or status.resolved_at is None:
        return ()
    first = _plus(local_date(status.resolved_at), 1)
    last: date | None = None
    if status.last_callback_at is not None and status.last_callback_at >= status.resolved_at:
        last = local_date(status.last_callback_at)
    days = {c.callback_date for c in status.open_commitments}
    if status.priority == "key":
        n = policy.key_callback_every
        k = 0 if last is None or last < first else (last - first).days // n + 1
        d = _plus(first, k * n)
        days.add(d)
        while until is not None and (d := _plus(d, n)) <= until:
            days.add(d)
    elif not days and last is None:
        days.add(first)
    return tuple(sorted(days))


def next_callback(status: IncidentStatus, policy: SlaPolicy = DEFAULT_POLICY) -> date | None:
    """The next local day a callback is due (``None``: none pending)."""
    days = callback_schedule(status, policy)
    return days[0] if days else None


def first_callback_day(status: IncidentStatus) -> date | None:
    """Day the first callback after the *first* resolution was due (for the callback rate).

    The day after the earliest due date of the commitments made at that resolution, else the
    day after the resolution.
    """
    if status.first_resolved_at is None:
        return None
    made = [c.callback_date for c in status.commitments if c.made_at == status.first_resolved_at]
    return min(made) if made else _plus(local_date(status.first_resolved_at), 1)


def overdue(status: IncidentStatus, now: datetime, policy: SlaPolicy = DEFAULT_POLICY) -> Overdue:
    """Overdue flags of ``status`` at ``now`` (an aware time)."""
    state = status.state
    if not state.is_open:
        return Overdue()
    arrival = bool(
        state == State.DISPATCHED
        and status.last_dispatched_at is not None
        and now > status.last_dispatched_at + policy.arrival
    )
    resolution = state not in AWAITING_CALLBACK and now > deadline(status, policy)
    nxt = next_callback(status, policy)
    callback = state in AWAITING_CALLBACK and nxt is not None and local_date(now) > nxt
    flags = {"arrival": arrival, "resolution": resolution, "callback": callback}
    needs = not status.supervised and any(flags[f] for f in policy.supervise_on)
    return Overdue(arrival, resolution, callback, needs)


# --- vectorised over a KPI frame (see incidents.frame.COLUMNS) ---------------------------------


def _utc(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s, utc=True)


def deadlines(frame: pd.DataFrame, policy: SlaPolicy = DEFAULT_POLICY) -> pd.Series:
    """Resolution deadline per row: the ``deadline`` column where set, else by category and
    subcategory (code or name, as :meth:`SlaPolicy.resolve_period`: each distinct pair once)."""
    received = _utc(frame["received_at"])
    sub = frame["subcategory"] if "subcategory" in frame else pd.Series(None, index=frame.index)
    pairs = pd.MultiIndex.from_arrays(
        [frame["category"].astype("string").fillna(""), sub.astype("string").fillna("")]
    )
    codes, distinct = pairs.factorize()
    periods = np.array(
        [policy.resolve_period(c or None, s or None) for c, s in distinct], dtype="timedelta64[ns]"
    )
    period = pd.Series(periods[codes], index=frame.index)
    computed = received + period
    if "deadline" not in frame:
        return computed
    return _utc(frame["deadline"]).fillna(computed)


def local_day_start(times: pd.Series, days: int = 0) -> pd.Series:
    """Local midnight (as UTC) of each time's local day, plus ``days`` days."""
    local = _utc(times).dt.tz_convert(LOCAL_TZ).dt.normalize()
    return (local + pd.Timedelta(days=days)).dt.tz_convert("UTC")


def overdue_frame(
    frame: pd.DataFrame, now: datetime | pd.Timestamp, policy: SlaPolicy = DEFAULT_POLICY
) -> pd.DataFrame:
    """Overdue flags for every row of a KPI frame at ``now``.

    Needs columns state, last_dispatched_at, deadline, next_callback_at and supervised. Returns
    boolean columns ``arrival``, ``resolution``, ``callback``, ``any`` and
    ``needs_supervision`` on the frame's index (the same rules as :func:`overdue`).
    """
    now = pd.Timestamp(now)
    if now.tzinfo is None:
        raise ValueError("now 须带时区 / now must be timezone-aware")
    state = frame["state"].astype("string")
    is_open = ~state.isin([State.CLOSED.value, State.RETURNED.value]).to_numpy(bool)
    awaiting = state.isin([s.value for s in AWAITING_CALLBACK]).to_numpy(bool)
    dispatched = _utc(frame["last_dispatched_at"])
    arrival = (state == State.DISPATCHED.value).to_numpy(bool) & (
        (now - dispatched) > pd.Timedelta(policy.arrival)
    ).to_numpy(bool)
    resolution = is_open & ~awaiting & (_utc(frame["deadline"]) < now).to_numpy(bool)
    today_start = pd.Timestamp(now).tz_convert(LOCAL_TZ).normalize()
    callback = awaiting & (_utc(frame["next_callback_at"]) < today_start).to_numpy(bool)
    flags = {"arrival": arrival, "resolution": resolution, "callback": callback}
    trigger = np.zeros(len(frame), dtype=bool)
    for f in policy.supervise_on:
        trigger |= flags[f]
    supervised = frame["supervised"].fillna(False).to_numpy(bool)
    out = pd.DataFrame(flags, index=frame.index)
    out["any"] = arrival | resolution | callback
    out["needs_supervision"] = trigger & ~supervised & is_open
    return out
