"""Where and what an incident is: seeded from the incident, corrected by ``amend`` (a changed
re-delivery, a dispatcher placing a low-confidence geocode), never half-moved, and a point
placed by hand kept against a later guess from the address."""

from __future__ import annotations

import pytest

from incidents.lifecycle import InvalidEvent, fold
from incidents.model import Incident
from tests.incidents._helpers import Recorder, at

T0 = at("2026-03-02T09:00")


def _recorder() -> Recorder:
    inc = Incident(
        id="E0000001", source="110", source_id="J1", received_at=T0, category="wage",
        description="欠薪",
        address="演示镇白川村7组", lon=120.10, lat=29.00, geocode_level="village",
        geocode_confidence=0.4,
    )  # fmt: skip
    rec = Recorder(incident=inc)
    rec.add("receive", T0)
    return rec


def test_seeded_from_the_incident_and_moved_by_amend() -> None:
    rec = _recorder()
    assert rec.status is not None
    assert (rec.status.lon, rec.status.lat, rec.status.geocode_level) == (120.10, 29.00, "village")
    s = rec.add("amend", "2026-03-02T09:05", lon=120.11, lat=29.01, address="白川村7组47号",
                geocode_level="address", geocode_confidence=0.9)  # fmt: skip
    assert (s.lon, s.lat, s.address, s.geocode_confidence) == (120.11, 29.01, "白川村7组47号", 0.9)
    assert s.description == "欠薪"  # not in the amend: unchanged
    assert fold(rec.events, rec.incident) == s


@pytest.mark.parametrize(
    "data",
    [{"lon": 120.1}, {"lat": 29.0}, {"lon": float("nan"), "lat": 29.0}, {"lon": 200.0, "lat": 29.0},
     {"lon": "120.1", "lat": 29.0}, {"geocode_confidence": 1.5}],
)  # fmt: skip
def test_a_point_is_never_half_moved_or_out_of_range(data: dict[str, object]) -> None:
    rec = _recorder()
    with pytest.raises(InvalidEvent):
        rec.add("amend", "2026-03-02T09:05", **data)


def test_a_manual_placement_is_kept_against_a_geocoded_guess() -> None:
    rec = _recorder()
    rec.add("amend", "2026-03-02T09:05", lon=120.12, lat=29.02, geocode_level="manual",
            geocode_confidence=1.0)  # fmt: skip
    # the feed re-delivers the row with a new description, geocoded again from the address
    s = rec.add("amend", "2026-03-02T10:00", lon=120.10, lat=29.00, geocode_level="village",
                geocode_confidence=0.4, description="欠薪，已到劳动所")  # fmt: skip
    assert (s.lon, s.lat, s.geocode_level, s.geocode_confidence) == (120.12, 29.02, "manual", 1.0)
    assert s.description == "欠薪，已到劳动所"
    # the source's own coordinates still move it
    s = rec.add("amend", "2026-03-02T11:00", lon=120.13, lat=29.03, geocode_level="coordinates",
                geocode_confidence=1.0)  # fmt: skip
    assert (s.lon, s.lat, s.geocode_level) == (120.13, 29.03, "coordinates")
