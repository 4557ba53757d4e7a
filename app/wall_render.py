"""What the wall page's layout and callbacks show: the wall's data (:mod:`app.wall_view`)
rendered into its components, one function per callback (:mod:`app.pages.wall`)."""

from __future__ import annotations

from typing import Any

from app import wall_choropleth as choro
from app import wall_history, wall_view
from app.basemap import IDENTITY, Display
from app.components import wall_grid as wg
from app.components import wall_map as wm
from app.components import wall_panels as wp
from app.components.town_map import TownData, empty_collection
from app.i18n import Lang
from app.wall_choropleth import DEFAULT_MODE
from app.wall_data import WallFilters, now_utc


def overview(
    url: str,
    filters: dict[str, Any],
    cut: str | None,
    lang: Lang,
    refresh: bool = False,
    display: Display = IDENTITY,
) -> tuple[Any, ...]:
    """cut, history URL, tiles, legend, feed, language links: the overview callback's outputs.

    The history layer's clusters for these filters are computed here, before the answer: the
    browser asks for them next, and would otherwise wait while the grid and chart callbacks
    that this answer also triggers compete for the server."""
    view = wall_view.overview(url, filters, cut, advance=refresh)
    f = WallFilters.from_args(filters)
    wall_history.prepare(url, view.cut, f, display)
    return (
        view.cut,
        view.history_url,
        wp.tiles(view.tiles, lang),
        wp.legend(view.states, view.total, lang),
        wp.feed(view.feed, lang),
        wp.lang_links(f, lang),
    )


def grid(
    url: str, cut: str | None, filters: dict[str, Any], mode: Any, data: TownData, lang: Lang
) -> tuple[dict[str, Any], Any]:
    """The grid layer's hideout and the choropleth legend."""
    shading = choro.for_wall(url, cut, filters, mode, _population(data))
    f = WallFilters.from_args(filters)
    wall_view.remember(("grid", url, cut, f, mode), shading, now_utc())
    return shading.hideout(), wg.legend(shading, f.window, lang)


def first(
    url: str, args: dict[str, str], f: WallFilters, cut: str, data: TownData, lang: Lang
) -> tuple[tuple[Any, ...], Any]:
    """(tiles, legend, feed, grid hideout) and the grid legend for the page's layout: from a
    recent overview of ``f`` at ``cut`` (:func:`app.wall_view.recent`), else computed (and
    kept for the next page)."""
    view = wall_view.recent(("overview", url, cut, f)) or wall_view.overview(url, args, cut)
    shading = wall_view.recent(("grid", url, cut, f, DEFAULT_MODE))
    if shading is None:
        hideout, grid_legend = grid(url, cut, args, DEFAULT_MODE, data, lang)
    else:
        hideout, grid_legend = shading.hideout(), wg.legend(shading, f.window, lang)
    parts = (
        wp.tiles(view.tiles, lang),
        wp.legend(view.states, view.total, lang),
        wp.feed(view.feed, lang),
        hideout,
    )
    return parts, grid_legend


def first_frame(url: str, cut: str, f: WallFilters, basemap: Any) -> dict[str, Any]:
    """The history layer's first frame for the page's layout (:func:`wall_history.first_frame`),
    in the display coordinates of ``basemap`` (a :class:`~app.basemap.Basemap` or a URL)."""
    return wall_history.first_frame(url, cut, f, getattr(basemap, "display", IDENTITY))


def set_hideout(the_map: Any, hideout: dict[str, Any]) -> None:
    """Put the grid layer's first shading into the map built by :func:`wm.wall_map`."""
    for node in the_map._traverse():
        if getattr(node, "id", None) == wm.GRID_ID:
            node.hideout = hideout


def drawer(
    url: str,
    incident_id: str | None,
    cut: str | None,
    lang: Lang,
    data: TownData,
    display: Display = IDENTITY,
) -> tuple[Any, str, Any]:
    """The drawer's content and class, and the trinity highlight, for ``incident_id`` (masked;
    closed when there is none or it is not found)."""
    detail = wall_view.detail(url, incident_id, cut, lang) if incident_id else {}
    if not detail:
        return [], "wall-drawer", empty_collection()
    people = wm.people_on_duty(data, detail, lang)
    lon, lat = detail.get("lonlat") or (None, None)
    shown = detail
    if lon is not None and lat is not None:
        shown = {**detail, "lonlat": list(display.point(lon, lat))}
    trinity = wm.trinity_geojson(data, shown)
    return wp.drawer(detail, people, lang), "wall-drawer wall-drawer-open", trinity


_POPULATION: dict[int, Any] = {}


def _population(data: TownData) -> Any:
    """Residents per grid cell of the town ``data`` (computed once per town)."""
    key = id(data)
    if key not in _POPULATION:
        cells = data.layers.get("grid_cells", empty_collection())
        _POPULATION[key] = choro.population_by_grid(cells)
    return _POPULATION[key]
