"""Masking of personal data (姓名, 电话, 身份证号) for every role that must not see it.

Pure functions: ``罗小明`` → ``罗某``, ``13812345678`` → ``138****5678``,
``330784199001011234`` → ``330784********1234``; vectorised variants for pandas columns and
:func:`mask_text` for numbers inside free text (descriptions, addresses). Names inside free text
cannot be found reliably and are left alone: do not show raw descriptions to masked roles
without review. Masked values are what may be logged; raw ones never.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from functools import lru_cache
from typing import Any

import pandas as pd

from incidents.model import Event, Incident, Party
from incidents.status import IncidentStatus

#: Two-character (复姓) surnames kept whole: 欧阳娜娜 → 欧阳某.
_COMPOUND = (
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐 夏侯 轩辕 端木 独孤 "
    "南宫 西门 百里 呼延 澹台 公冶 太史 申屠 闻人 万俟 钟离 宗政 濮阳 淳于 单于 赫连 "
    "东郭 第五 拓跋 左丘 梁丘 司空 亓官 司寇 仉督 子车 颛孙 壤驷 公良 漆雕 乐正 谷梁 "
    "公西 微生 羊舌 闾丘 东门 巫马"
)
COMPOUND_SURNAMES = frozenset(_COMPOUND.split())
_NON_DIGIT = re.compile(r"\D", re.ASCII)  # after NFKC: ０-９ are 0-9 then
_SPACE = re.compile(r"\s")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?(\d{7,8})(?!\d)")
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])|"
                 r"(?<![0-9A-Za-z])(\d{6})(\d{6})(\d{3})(?![0-9A-Za-z])")  # fmt: skip


def mask_name(name: str | None) -> str | None:
    """``罗小明`` → ``罗某``; ``欧阳娜娜`` → ``欧阳某``; ``John Smith`` → ``J***``; None stays None.

    A name of one character becomes ``某``: keeping it whole would show it.
    """
    if name is None:
        return None
    text = name.strip()
    if not text:
        return ""
    if text.isascii():
        return text[0] + "***"
    keep = 2 if len(text) > 2 and text[:2] in COMPOUND_SURNAMES else 1
    if len(text) == 1:
        return "某"
    return text[:keep] + "某"


@lru_cache(maxsize=1 << 17)  # repeat linking normalises the same (masked) phones batch after batch
def normalise_phone(value: str) -> str:
    """Digits only, without a +86 prefix of a mobile number (for comparing phones)."""
    d = value
    if not (d.isascii() and d.isdigit()):
        d = d.replace("*", "")  # a masked phone (repeat links compare masked ones)
        if not (d.isascii() and d.isdigit()):
            d = _NON_DIGIT.sub("", unicodedata.normalize("NFKC", value))  # full-width digits
    if d.startswith("86") and len(d) == 13 and d[2] == "1":
        d = d[2:]  # +86 mobile
    return d


def phone_key(phone: str) -> str:
    """The digits of a phone that its masked form keeps (``13812345678`` → ``1385678``): what
    repeat links compare, ``normalise_phone(mask_phone(phone))``; "" when it keeps none."""
    if len(phone) == 11 and phone.isascii() and phone.isdigit():  # a mobile as stored
        return phone[:3] + phone[-4:]
    return normalise_phone(mask_phone(phone) or "")


def mask_phone(phone: str | None) -> str | None:
    """``13812345678`` (any separators, optional +86) → ``138****5678``.

    Numbers of 11 or more digits keep their first 3 and last 4 digits; shorter ones (7–10,
    local landlines) keep the last 4; anything shorter is masked entirely.
    """
    if phone is None:
        return None
    if len(phone) == 11 and phone.isascii() and phone.isdigit():  # a mobile as stored: the
        return phone[:3] + "****" + phone[-4:]  # common case, without normalising (repeat links)
    d = normalise_phone(phone)
    if not d:
        return "" if not phone.strip() else "*" * len(phone.strip())
    if len(d) >= 11:
        return d[:3] + "*" * (len(d) - 7) + d[-4:]
    if len(d) >= 7:
        return "*" * (len(d) - 4) + d[-4:]
    return "*" * len(d)


def mask_id_number(id_number: str | None) -> str | None:
    """``330784199001011234`` → ``330784********1234`` (region code and last 4 kept).

    15-digit (old) numbers keep 6 + 4 too; other documents (passports, 10–14 characters) keep
    their first and last 2 characters; shorter ones are masked entirely.
    """
    if id_number is None:
        return None
    text = _SPACE.sub("", id_number).upper()
    n = len(text)
    if n >= 15:
        return text[:6] + "*" * (n - 10) + text[-4:]
    if n >= 8:
        return text[:1] + "*" * (n - 3) + text[-2:]
    return "*" * n


def mask_text(text: str | None) -> str | None:
    """Mask mobile numbers, landlines and ID numbers found inside free text."""
    if text is None:
        return None

    def id_sub(m: re.Match[str]) -> str:
        return mask_id_number(m.group(0)) or ""

    out = _ID.sub(id_sub, text)
    out = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", out)
    return _LANDLINE.sub(
        lambda m: f"{m.group(1)}-{'*' * (len(m.group(2)) - 4)}{m.group(2)[-4:]}", out
    )


def mask_party(party: Party) -> Party:
    """A copy of ``party`` with name, phone and ID number masked (residency and role kept)."""
    return replace(
        party,
        name=mask_name(party.name),
        phone=mask_phone(party.phone),
        id_number=mask_id_number(party.id_number),
    )


#: Endings of who made a commitment that name a side or an organisation, not a person (责任方,
#: 被投诉方, 某五金厂, 物业公司): not personal data, kept as written.
_PARTY_ENDINGS = (
    "方", "单位", "公司", "厂", "店", "物业", "中心", "局", "所", "站", "委员会", "委会",
    "集团", "银行", "学校", "医院", "工地", "项目部", "商场", "超市", "酒店", "餐馆",
)  # fmt: skip


def mask_committer(who: str | None) -> str | None:
    """Who made a commitment, as a masked role sees it: a side or an organisation as written
    (``被投诉方``, ``某五金厂负责人`` is a person: ``某某``), a person's name masked."""
    if who is None:
        return None
    text = who.strip()
    return who if text.endswith(_PARTY_ENDINGS) else mask_name(who)


def mask_incident(incident: Incident) -> Incident:
    """``incident`` as a role without access to personal data sees it: parties masked, numbers
    in its address and description masked."""
    return replace(
        incident,
        parties=tuple(map(mask_party, incident.parties)),
        description=mask_text(incident.description) or "",
        address=mask_text(incident.address) or "",
    )


def mask_status(status: IncidentStatus) -> IncidentStatus:
    """``status`` as :func:`mask_incident` shows its incident: address and description (which an
    amend may have changed) and each commitment's who (a name) and what (free text)."""
    return replace(
        status,
        address=mask_text(status.address),
        description=mask_text(status.description),
        commitments=tuple(
            replace(
                c,
                commitment=replace(
                    c.commitment,
                    who=mask_committer(c.commitment.who) or "",
                    what=mask_text(c.commitment.what) or "",
                ),
            )
            for c in status.commitments
        ),
    )


def status_only_incident(incident: Incident) -> Incident:
    """``incident`` as a status-only role (the police liaison) sees it: no parties, address or
    description (names inside free text cannot be masked reliably)."""
    return replace(incident, parties=(), description="", address="")


def status_only_status(status: IncidentStatus) -> IncidentStatus:
    """``status`` for a status-only role: state, times and codes; no address, description or
    what a commitment promised and who promised it (amount and due date kept)."""
    return replace(
        status,
        address=None,
        description=None,
        commitments=tuple(
            replace(c, commitment=replace(c.commitment, who="", what=""))
            for c in status.commitments
        ),
    )


def status_only_event(event: Event) -> Event:
    """``event`` for a status-only role: what happened when, by whom; no reason, no data."""
    return replace(event, reason="", data={})


#: Keys of an event's data that hold personal data or free text, and how each is masked; any
#: other value (codes, times, hashes, numbers) is kept: :func:`mask_text` would take a
#: 15-digit grid code for an old ID number.
EVENT_DATA_KEYS = {
    "address": "text", "description": "text", "note": "text", "what": "text",
    "who": "name", "name": "name", "phone": "phone", "id_number": "id_number",
}  # fmt: skip


def mask_event(event: Event) -> Event:
    """``event`` with its reason and the personal data in its data masked (see
    :data:`EVENT_DATA_KEYS`; nested lists and objects, such as a resolve's commitments or a
    party, too)."""
    return replace(event, reason=mask_text(event.reason) or "", data=_mask_data(event.data))


def _mask_data(value: Any, kind: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: _mask_data(v, EVENT_DATA_KEYS.get(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_data(v, kind) for v in value]
    if isinstance(value, str) and kind is not None:
        return _MASKERS[kind](value)
    return value


_MASKERS = {"name": mask_name, "phone": mask_phone, "id_number": mask_id_number, "text": mask_text}


def mask_series(values: pd.Series, kind: str) -> pd.Series:
    """Mask a column: ``kind`` is ``name``, ``phone``, ``id_number`` or ``text``; nulls stay null.

    Each distinct value is masked once, so it is fast on large columns with repeats. A plain
    loop over the values: pandas' string methods would convert to and from Arrow strings (the
    default string dtype) for a per-value Python call anyway, at several times the cost.
    """
    if kind not in _MASKERS:
        raise ValueError(f"脱敏类型无效 / kind must be one of {sorted(_MASKERS)}")
    fn = _MASKERS[kind]
    present = values.notna().to_numpy().tolist()
    masked: dict[str, str | None] = {}
    out: list[str | None] = []
    for value, here in zip(values.to_numpy(object).tolist(), present, strict=True):
        if not here:
            out.append(None)
            continue
        text = str(value)
        if text not in masked:
            masked[text] = fn(text)
        out.append(masked[text])
    return pd.Series(out, index=values.index, dtype=object, name=values.name)


#: KPI-frame / layer columns holding personal data, and how to mask them.
PERSONAL_COLUMNS = {
    "caller_name": "name",
    "caller_phone": "phone",
    "caller_id_number": "id_number",
    "description": "text",
    "address": "text",
}


def mask_frame(frame: pd.DataFrame, columns: dict[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with its personal-data columns masked (default
    :data:`PERSONAL_COLUMNS`, those present)."""
    out = frame.copy()
    for col, kind in (columns or PERSONAL_COLUMNS).items():
        if col in out:
            out[col] = mask_series(out[col], kind)
    return out
