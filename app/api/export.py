"""``GET /export/incidents.<fmt>``: the filtered incidents of the signed-in user's scope as a
file (GeoPackage, GeoJSON, zipped Shapefile or .xlsx), personal data masked.

Query parameters as ``ember export incidents``: ``from``, ``to``, ``category``, ``village``,
``state`` (repeatable or comma-separated), ``crs`` (4326 or 4490) and ``encoding`` (UTF-8 or GBK,
Shapefile only). Every export is audited (:func:`app.exports.export_incidents`).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from flask import Blueprint, Response, request

from app.api._common import state
from app.auth.session import current_scope, require_login
from app.exports import CRS_CHOICES, FORMATS, SUFFIX, ExportFilters, export_incidents

bp = Blueprint("ember_export", __name__)
MIMETYPES = {
    "gpkg": "application/geopackage+sqlite3",
    "geojson": "application/geo+json",
    "shp": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _text(status: int, message: str) -> Response:
    return Response(message, status=status, mimetype="text/plain")


@bp.get("/export/incidents.<fmt>")
@require_login
def incidents(fmt: str) -> Response:
    """The file; 400 for a bad parameter, 404 for an unknown format."""
    if fmt not in FORMATS:
        return _text(404, f"未知格式 / unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    args = request.args
    try:
        filters = ExportFilters.parse(
            args.get("from"),
            args.get("to"),
            args.getlist("category"),
            args.getlist("village"),
            args.getlist("state"),
        )
        given = args.get("crs", "4326")
        crs = int(given) if given.isascii() and given.isdigit() else -1
        if crs not in CRS_CHOICES:
            raise ValueError(f"crs 只能是 4326 或 4490 / crs must be 4326 or 4490: {given!r}")
        with tempfile.TemporaryDirectory(prefix="ember-export-") as tmp:
            target = Path(tmp) / f"incidents{SUFFIX[fmt]}"
            export_incidents(
                state().store,
                filters,
                current_scope(),
                target,
                fmt,
                encoding=args.get("encoding", "UTF-8"),
                epsg=crs,
            )
            body = _zip(Path(tmp)) if fmt == "shp" else target.read_bytes()
    except ValueError as exc:
        return _text(400, str(exc))
    name = f"incidents.{'zip' if fmt == 'shp' else fmt}"
    return Response(
        body,
        mimetype=MIMETYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return buffer.getvalue()
