"""``ember watch`` against what an inbox meets: a file replaced or still growing while it is
imported, files that are not exports, on both backends."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from ingest import watch as watching
from ingest.pipeline import IngestContext
from ingest.watch import LOCK, watch
from store import IncidentQuery, IncidentStore, Scope
from tests.ingest.conftest import DATA, gbk_rows, write_csv

ALL = Scope.everything()


def _newer(tmp_path: Path) -> Path:
    """A later export of five calls the first one did not hold (new numbers)."""
    rows = [dict(r, 警情编号=r["警情编号"] + "N") for r in gbk_rows()[:5]]
    return write_csv(rows, tmp_path / "newer.csv")


@pytest.mark.parametrize("how", ["replaced", "appended"])
def test_a_file_that_changes_while_imported_is_not_moved_unread(
    store: IncidentStore,
    ctx: IngestContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """The exporter drops a newer export under the same name (renamed over the one being
    imported), or writes on in place after a pause longer than ``settle``: the file in the
    inbox was moved to done/ once the import of what was read ended, the newer rows unread."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(DATA / "110_gbk.csv", inbox / "a.csv")
    newer = _newer(tmp_path)
    real = watching.ingest_file
    changed: list[str] = []

    def ingest(path: Path, *a: Any, **kw: Any) -> Any:
        summary = real(path, *a, **kw)
        if not changed:  # once: while the first import ends
            changed.append(path.name)
            if how == "replaced":
                shutil.copy(newer, inbox / ".a.csv.tmp")
                os.replace(inbox / ".a.csv.tmp", path)
            else:  # the same file, written on (GBK, as the exporter writes it)
                text = newer.read_text(encoding="utf-8").split("\n", 1)[1]
                with path.open("ab") as fh:
                    fh.write(text.encode("gbk"))
        return summary

    monkeypatch.setattr(watching, "ingest_file", ingest)
    (first,) = watch(inbox, "110", store, ctx, once=True, settle=0)
    assert first.summary is not None and first.summary.stored == 20
    assert first.moved_to is None  # left in the inbox, not moved unread
    assert (inbox / "a.csv").is_file() and not (inbox / "done" / "a.csv").exists()
    (second,) = watch(inbox, "110", store, ctx, once=True, settle=0)
    assert second.summary is not None and second.summary.stored == 5
    assert second.moved_to == str(inbox / "done" / "a.csv")
    assert not (inbox / "a.csv").exists()
    ids = [r["警情编号"] for r in gbk_rows()[:5]]
    assert len(store.source_keys("110", [i + "N" for i in ids])) == 5


def test_office_lock_files_are_not_taken(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """Excel and WPS keep ``~$NAME.xlsx`` beside a workbook open for editing (the editor's
    name, a few hundred bytes): it was taken as an export and moved to failed/ as unreadable."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(DATA / "110_gbk.csv", inbox / "报警 导出.csv")
    owner = "~$警情导出.xlsx"
    (inbox / owner).write_bytes(b"\x06zhangsan" + bytes(155))
    (inbox / "~$报警.csv").write_bytes(b"\x04li" + bytes(160))
    results = watch(inbox, "110", store, ctx, once=True, settle=0)
    assert [r.file for r in results] == ["报警 导出.csv"]
    assert not (inbox / "failed").exists()
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == [LOCK, "~$报警.csv", owner]


@pytest.mark.parametrize("parallel", [False, True])
def test_a_geopackage_gone_under_a_running_watcher_is_not_made_anew(
    tmp_path: Path,
    town: dict[str, Any],
    ctx: IngestContext,
    monkeypatch: pytest.MonkeyPatch,
    parallel: bool,
) -> None:
    """``ember watch`` opens an existing store only (``create=False``); the file removed (or
    its disk gone) while it runs: the next export went into a new, empty GeoPackage made at
    the same path (no layers, none of the incidents a re-delivery is a duplicate of) and was
    moved to done/. It is a store error: the file waits in the inbox for the store."""
    from functools import partial

    from ingest.pipeline import ingest_file
    from store import open_store
    from store.base import StoreError

    db = tmp_path / "town.gpkg"
    open_store(str(db)).write_layers({k: v for k, v in town.items() if k != "incidents"})
    store = open_store(str(db), create=False)
    monkeypatch.setattr(
        watching, "ingest_file", partial(ingest_file, batch_size=2, parallel=parallel)
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(DATA / "110_gbk.csv", inbox / "a.csv")
    polls, errors = {"n": 0}, []

    def stop() -> bool:
        polls["n"] += 1
        if polls["n"] == 1:  # the store goes, the next export comes
            for p in tmp_path.glob("town.gpkg*"):
                p.unlink()
            shutil.copy(DATA / "110_swapped.csv", inbox / "b.csv")
        return polls["n"] >= 3

    watch(inbox, "110", store, ctx, interval=0.01, settle=0, stop=stop,
          on_error=lambda p, e: errors.append((p.name, type(e))))  # fmt: skip
    assert (inbox / "done" / "a.csv").is_file() and (inbox / "b.csv").is_file()
    assert not db.exists()
    assert errors and all(n == "b.csv" and issubclass(t, StoreError) for n, t in errors)


def test_an_inbox_gone_for_a_while_is_waited_for(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """The inbox on a share that drops out (or a directory made anew by a sync tool): the
    disk failing, which is waited for as a store is; the watcher ended with the error."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    polls, errors, taken = {"n": 0}, [], []

    def stop() -> bool:
        polls["n"] += 1
        if polls["n"] == 1:
            inbox.rename(tmp_path / "away")
        if polls["n"] == 3:  # back, with an export in it
            (tmp_path / "away").rename(inbox)
            shutil.copy(DATA / "110_swapped.csv", inbox / "b.csv")
        return polls["n"] >= 4

    watch(inbox, "110", store, ctx, interval=0.01, settle=0, stop=stop,
          on_result=taken.append, on_error=lambda p, e: errors.append((p, type(e))))  # fmt: skip
    assert [r.file for r in taken] == ["b.csv"] and (inbox / "done" / "b.csv").is_file()
    assert errors == [(inbox, FileNotFoundError)] * 2


def test_a_file_named_in_gbk_is_imported_under_its_name(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """A name in GBK bytes (a Windows zip unpacked here, a share mounted with another
    charset) is no UTF-8: Python keeps its bytes as surrogates, which no store can hold.
    Storing the file's name with its rows failed (UnicodeEncodeError), taken for an unreadable
    file: the export went to failed/ unread."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    name = os.fsdecode("警情导出 1.csv".encode("gbk"))
    shutil.copy(DATA / "110_bad_rows.csv", inbox / name)
    (r,) = watch(inbox, "110", store, ctx, once=True, settle=0)
    assert r.error is None and r.summary is not None and r.summary.stored > 0
    assert r.moved_to == str(inbox / "done" / name)
    assert {e.file for e in store.quarantine_list()} == {"警情导出 1.csv"}


def test_a_done_that_is_no_directory_is_said_at_the_start(
    store: IncidentStore, ctx: IngestContext, tmp_path: Path
) -> None:
    """A file named ``done`` in the inbox: every export was imported at every poll (its rows
    all duplicates after the first) and never moved, the log saying the import failed."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "done").write_text("not a directory")
    shutil.copy(DATA / "110_gbk.csv", inbox / "a.csv")
    with pytest.raises(NotADirectoryError, match="is no directory"):
        watch(inbox, "110", store, ctx, once=True, settle=0)
    assert (inbox / "a.csv").is_file() and store.source_keys("110", ["J3307842025120200090"]) == {}


def test_a_running_watcher_places_files_on_layers_imported_since(
    store: IncidentStore, town: dict[str, Any], tmp_path: Path
) -> None:
    """``ember layers import`` while ``ember watch`` runs (the grid cells renumbered): the
    files after it are placed on the new cells, without a restart; the town is built again
    only when the layers changed."""
    names = ("gazetteer", "grid_cells", "police_beats", "fire_stations", "town")
    store.write_layers({n: town[n] for n in names})
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(DATA / "110_gbk.csv", inbox / "a.csv")
    renumbered = town["grid_cells"].assign(code="R" + town["grid_cells"]["code"].astype(str))
    polls, reloads, built = {"n": 0}, [], []
    real = watching.IngestContext.from_store

    def from_store(s: Any, **kw: Any) -> IngestContext:
        built.append(s.layers_version())
        return real(s, **kw)

    def stop() -> bool:
        polls["n"] += 1
        if polls["n"] == 1:
            shutil.copy(DATA / "110_gbk.csv", inbox / "b.csv")  # the town as it was
        if polls["n"] == 2:
            store.write_layers({"grid_cells": renumbered})  # the layers imported anew
            shutil.copy(_newer(tmp_path), inbox / "c.csv")  # five new calls
        return polls["n"] >= 3

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(watching.IngestContext, "from_store", staticmethod(from_store))
        watch(inbox, "110", store, interval=0.01, settle=0, stop=stop, on_reload=reloads.append)
    # built once at the start, once after the import (said)
    assert len(built) == 2 and built[0] < built[1] and reloads == built[1:]
    found = store.query_incidents(IncidentQuery(columns=("source_id", "grid_code")), ALL)
    newer = found["source_id"].str.endswith("N")
    assert newer.sum() == 5 and len(found) == 25
    assert found.loc[newer, "grid_code"].str.startswith("R").all()
    assert not found.loc[~newer, "grid_code"].str.startswith("R").any()


def test_a_watcher_of_a_store_without_the_towns_layers_ends_saying_so(
    store: IncidentStore, tmp_path: Path
) -> None:
    """Nothing can be placed: the watch ends with the store's word for it (not a retry every
    poll), and the file stays in the inbox for the watch that follows ``ember layers import``."""
    from store import StoreError

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(DATA / "110_gbk.csv", inbox / "a.csv")
    with pytest.raises(StoreError, match=r"gazetteer|layers import"):
        watch(inbox, "110", store, interval=0.01, settle=0, stop=lambda: True)
    assert (inbox / "a.csv").is_file()
