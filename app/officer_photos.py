"""Officers' photos: accepted types, where they are kept, and the ``note`` event naming them.

A photo is sniffed by its first bytes (JPEG, PNG, WebP; never trusted by its name), limited in
size, stored once under ``<photo_dir>/<incident id>/<sha256>.<ext>`` and referenced by a ``note``
event's ``data["photos"]``; it is served back (``GET /photos/…``, :mod:`app.pages.officer`) only
to users whose scope includes the incident and only if an event of that incident names it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from incidents.model import Event
from store import IncidentRecord, IncidentStore, ReadOnlyScope, Scope, StaleVersion

#: Accepted photo types: sniffed media type -> file extension.
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
PHOTO_NAME = re.compile(r"^[0-9a-f]{64}\.(jpg|png|webp)$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class ActionError(ValueError):
    """Input a use case cannot take, e.g. a photo too large (the message is bilingual, shown to
    the user); :mod:`app.officer_actions` raises it too."""


def sniff(content: bytes) -> str | None:
    """The media type of an accepted image by its first bytes (never by its name)."""
    if content[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if content[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def decode_upload(contents: str) -> bytes:
    """The bytes of a ``dcc.Upload`` data URL (``data:…;base64,…``)."""
    _, _, payload = (contents or "").partition(",")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ActionError("上传内容无法读取 / the upload could not be read") from None


def photo_path(photo_dir: str | Path, incident_id: str, name: str) -> Path:
    """Where a stored photo lives: ``<photo_dir>/<incident id>/<sha256>.<ext>``."""
    if not _SAFE_ID.match(incident_id) or not PHOTO_NAME.match(name):
        raise ActionError("照片名称无效 / invalid photo name")
    return Path(photo_dir) / incident_id / name


def add_photo(
    store: IncidentStore,
    scope: Scope,
    incident_id: str,
    content: bytes,
    *,
    photo_dir: str | Path,
    max_bytes: int,
    now: datetime | None = None,
) -> str:
    """Store a JPEG, PNG or WebP photo of an incident and reference it in a ``note`` event
    (``data["photos"] = [{"file", "type", "bytes"}]``); returns the file name.

    Raises
    ------
    ActionError
        Empty, too large or not an accepted image.
    IncidentNotFound, ReadOnlyScope
    """
    if not content:
        raise ActionError("照片为空 / the photo is empty")
    if len(content) > max_bytes:
        raise ActionError(
            f"照片超过 {max_bytes // 1024} KB / the photo is larger than {max_bytes // 1024} KB"
        )
    media = sniff(content)
    if media is None:
        raise ActionError("仅支持 JPEG、PNG、WebP 照片 / only JPEG, PNG and WebP photos")
    record = store.get_incident(incident_id, replace(scope, personal_data=False))
    if scope.read_only:
        raise ReadOnlyScope(scope.actor, incident_id)
    name = f"{hashlib.sha256(content).hexdigest()}.{PHOTO_TYPES[media]}"
    path = photo_path(photo_dir, record.incident.id, name)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(content)
        tmp.replace(path)
    photo = {"file": name, "type": media, "bytes": len(content)}
    version = record.status.version
    for _attempt in range(3):  # a note depends on no state: retry when someone acted first
        event = Event(
            incident_id, version + 1, "note", now or datetime.now(UTC), scope.actor, "照片 / photo",
            data={"photos": [photo]},
        )  # fmt: skip
        try:
            store.append_event(event, version, scope)
            return name
        except StaleVersion as exc:
            version = exc.actual
    raise StaleVersion(incident_id, version, version)


def photos_of(record: IncidentRecord) -> list[str]:
    """File names of the photos referenced by an incident's events, oldest first."""
    names: list[str] = []
    for event in record.events:
        for p in event.data.get("photos") or ():
            name = p.get("file") if isinstance(p, Mapping) else None
            if isinstance(name, str) and PHOTO_NAME.match(name) and name not in names:
                names.append(name)
    return names
