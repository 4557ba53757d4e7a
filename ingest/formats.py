"""The feed formats: which source column means what, with each city's variant names.

Every format maps source column names to Ember's canonical field names. The names listed first
are those the source systems export (issue #5); the others are variants seen in cities' exports.
A town adds its own variants with an alias map (``{"来源列名": "canonical_field"}``), passed as
``aliases`` to :func:`resolve_columns` (the CLI reads it from ``--aliases FILE`` or the
``ingest_aliases`` setting).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Canonical fields and what they mean; the pipeline works on these names only.
FIELDS: dict[str, str] = {
    "source_id": "编号 / id in the source system",
    "received_at": "时间 / time received",
    "caller_name": "姓名 / caller name",
    "caller_phone": "电话 / caller phone",
    "address": "地址 / address",
    "category_text": "类别 / source category",
    "description": "内容 / description",
    "transferred_at": "流转时间 / time transferred",
    "unit": "管辖或承办单位 / responsible unit",
    "request_type": "诉求类型 / request type",
    "deadline": "办理时限 / deadline",
    "lon": "经度 / longitude",
    "lat": "纬度 / latitude",
    "crs": "坐标系 / coordinate system",
    "officer_id": "网格员编号 / grid officer id",
    "photos": "照片 / photos",
}


class FormatError(ValueError):
    """A file does not fit its format (message bilingual)."""


@dataclass(frozen=True)
class FeedFormat:
    """One feed: its source code, required fields and the column names of each field."""

    name: str
    source: str
    label: str
    columns: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]
    #: Fields that make up the intake: a change in any of them is a changed re-delivery.
    content: tuple[str, ...] = field(default=())

    def names(self, canonical: str) -> tuple[str, ...]:
        return self.columns.get(canonical, ())

    def display(self, canonical: str) -> str:
        """The source column name of a field, for messages (the first listed name)."""
        names = self.columns.get(canonical)
        return names[0] if names else canonical


_COORDS = {
    "lon": ("经度", "lon", "lng", "longitude", "X坐标", "x"),
    "lat": ("纬度", "lat", "latitude", "Y坐标", "y"),
    "crs": ("坐标系", "坐标系统", "crs", "coord_system"),
}
_CONTENT = (
    "source_id", "received_at", "caller_name", "caller_phone", "address", "category_text",
    "description", "transferred_at", "unit", "request_type", "deadline", "lon", "lat", "crs",
    "officer_id", "photos",
)  # fmt: skip

FORMATS: dict[str, FeedFormat] = {
    "110": FeedFormat(
        name="110",
        source="110",
        label="110 警情流转 / 110 transfer",
        columns={
            "source_id": ("警情编号", "接警编号", "警情号", "案件编号"),
            "received_at": ("报警时间", "接警时间", "报警日期时间"),
            "caller_name": ("报警人", "报警人姓名", "报警人员"),
            "caller_phone": ("联系电话", "报警电话", "报警人电话", "联系方式"),
            "address": ("报警地址", "发案地址", "事发地址", "发生地址"),
            "category_text": ("警情类别", "警情类型", "报警类别", "警情分类"),
            "description": ("简要警情", "警情内容", "报警内容", "简要案情"),
            "transferred_at": ("流转时间", "推送时间", "移交时间"),
            "unit": ("管辖单位", "管辖派出所", "处警单位"),
            **_COORDS,
        },
        required=("source_id", "received_at", "address", "description"),
        content=_CONTENT,
    ),
    "12345": FeedFormat(
        name="12345",
        source="12345",
        label="12345 工单 / 12345 work order",
        columns={
            "source_id": ("工单编号", "工单号", "受理编号"),
            "received_at": ("来电时间", "受理时间", "登记时间"),
            "caller_name": ("诉求人", "来电人", "诉求人姓名"),
            "caller_phone": ("联系电话", "来电号码", "诉求人电话"),
            "request_type": ("诉求类型", "工单类型"),
            "category_text": ("问题分类", "诉求分类", "事项分类"),
            "description": ("诉求内容", "工单内容", "问题描述"),
            "address": ("事发地址", "诉求地址", "问题地址"),
            "deadline": ("办理时限", "办结时限", "处理时限"),
            "unit": ("承办单位", "承办部门", "责任单位"),
            **_COORDS,
        },
        required=("source_id", "received_at", "address", "description"),
        content=_CONTENT,
    ),
    "patrol": FeedFormat(
        name="patrol",
        source="patrol",
        label="网格上报 / grid patrol report",
        columns={
            "source_id": ("id", "report_id", "上报编号"),
            "officer_id": ("officer_id", "网格员编号", "上报人编号"),
            "received_at": ("time", "reported_at", "上报时间"),
            "lon": ("lon", "lng", "经度"),
            "lat": ("lat", "纬度"),
            "crs": ("crs", "坐标系"),
            "category_text": ("category", "事件类别", "类别"),
            "description": ("description", "事件描述", "描述"),
            "address": ("address", "地址"),
            "photos": ("photos", "照片"),
            "caller_name": ("party_name", "当事人"),
            "caller_phone": ("party_phone", "当事人电话"),
        },
        required=("source_id", "received_at", "description"),
        content=_CONTENT,
    ),
    # Open311 GeoReport v2 POSTs (app.api.open311), one record per request: the API puts the
    # spec's parameters under these names (token: the request's token; service_code: Ember's
    # category code, "code.sub" with a subcategory attribute; caller_name: first + last name).
    "open311": FeedFormat(
        name="open311",
        source="open311",
        label="Open311 服务请求 / Open311 service request",
        columns={
            "source_id": ("token",),
            "received_at": ("requested_datetime",),
            "category_text": ("service_code",),
            "description": ("description",),
            "address": ("address_string",),
            "lon": ("long",),
            "lat": ("lat",),
            "crs": ("crs",),
            "caller_name": ("caller_name",),
            "caller_phone": ("phone",),
            "photos": ("media_url",),
        },
        required=("source_id", "received_at", "description"),
        content=_CONTENT,
    ),
}


def get_format(name: str) -> FeedFormat:
    try:
        return FORMATS[str(name)]
    except KeyError:
        known = ", ".join(FORMATS)
        raise FormatError(
            f"未知格式 {name!r}，可选 {known} / unknown format {name!r}; expected one of {known}"
        ) from None


def _key(name: object) -> str:
    return str(name).strip().lstrip("\ufeff").strip().lower()


def resolve_columns(
    fmt: FeedFormat, header: Sequence[str], aliases: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Canonical field -> position in ``header``; raises :class:`FormatError` when a required
    field has no column (naming the columns tried and those found)."""
    by_name = {_key(h): i for i, h in reversed(list(enumerate(header)))}
    out: dict[str, int] = {}
    for src, canonical in (aliases or {}).items():
        if canonical not in FIELDS:
            raise FormatError(
                f"别名映射中的字段无效 / alias map names an unknown field {canonical!r} "
                f"(known: {', '.join(FIELDS)})"
            )
        if _key(src) in by_name and canonical not in out:
            out[canonical] = by_name[_key(src)]
    for canonical, names in fmt.columns.items():
        if canonical in out:
            continue
        for n in names:
            if _key(n) in by_name:
                out[canonical] = by_name[_key(n)]
                break
    missing = [c for c in fmt.required if c not in out]
    if missing:
        want = "; ".join(f"{fmt.display(c)} ({'/'.join(fmt.names(c))})" for c in missing)
        found = ", ".join(str(h) for h in header)
        raise FormatError(
            f"{fmt.label} 缺少必需列：{want}；文件中的列：{found} / "
            f"missing required columns: {want}; columns in the file: {found}"
        )
    return out


def load_aliases(path: str | Path, fmt: str) -> dict[str, str]:
    """A town's alias map from a JSON or TOML file: ``{"来源列名": "field"}`` for every format,
    or ``{"110": {...}, "12345": {...}}`` per format (the entry of ``fmt`` is used)."""
    import json
    import tomllib

    p = Path(path)
    if not p.is_file():
        raise FormatError(f"找不到别名映射文件 / no such alias map file: {p}")
    text = p.read_text(encoding="utf-8-sig")
    try:
        data = tomllib.loads(text) if p.suffix.lower() == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise FormatError(f"别名映射文件格式错误 / bad alias map file {p}: {exc}") from None
    if not isinstance(data, dict):
        raise FormatError(f"别名映射须为对象 / the alias map must be an object: {p}")
    if any(isinstance(v, dict) for v in data.values()):
        data = data.get(fmt, {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise FormatError(f"别名映射须为 列名→字段 / the alias map must map names to fields: {p}")
    for canonical in data.values():
        if canonical not in FIELDS:
            raise FormatError(
                f"别名映射中的字段无效 / alias map names an unknown field {canonical!r} "
                f"(known: {', '.join(FIELDS)})"
            )
    return dict(data)


def mask_raw(source: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A raw row fit to show: the caller's name and phone columns masked (罗某, 138****5678),
    phone and ID numbers inside any other text masked too."""
    from incidents.masking import mask_name, mask_phone, mask_text

    fmt = FORMATS.get(source)
    names = {_key(n) for n in fmt.names("caller_name")} if fmt else set()
    phones = {_key(n) for n in fmt.names("caller_phone")} if fmt else set()
    out: dict[str, Any] = {}
    for k, v in raw.items():
        if not isinstance(v, str):
            out[k] = v
        elif _key(k) in names:
            out[k] = mask_name(v) if v else v
        elif _key(k) in phones:
            out[k] = mask_phone(v) if v else v
        else:
            out[k] = mask_text(v)
    return out
