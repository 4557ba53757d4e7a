"""Kernel density surfaces of incidents (the heat layer), in metres.

Points are projected to a metric CRS (EPSG:4549 by default), linearly binned onto a regular grid
and smoothed with :func:`scipy.ndimage.gaussian_filter`: the same Gaussian KDE as
``sklearn.neighbors.KernelDensity`` (scaled by the total weight, so values are incidents per
square metre), at a cost linear in points plus grid cells instead of their product.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from scipy import ndimage

from geo.hotspots._dask import is_dask
from geo.hotspots._frames import METRIC_EPSG, point_xy, weights_of
from geo.hotspots._kde_grid import linear_bin, smooth

FloatArray = npt.NDArray[np.float64]
#: The Gaussian is cut at this many bandwidths (its mass beyond is below 4e-6 in 2-D).
TRUNCATE = 5.0


@dataclass(frozen=True)
class Surface:
    """A density grid: ``values[row, col]`` at cell centres, row 0 at the south edge.

    Attributes
    ----------
    values : ndarray, shape (ny, nx)
        Intensity at each cell centre, in (weighted) incidents per square metre.
    x0, y0 : float
        South-west corner of the grid in ``crs``.
    cell_m : float
        Cell size in metres.
    bandwidth_m : float
        Gaussian kernel standard deviation in metres.
    crs : Any
        Metric CRS of the grid (pyproj-compatible).
    total_weight : float
        Sum of the weights of the points (integral of the surface over an unbounded grid).
    """

    values: FloatArray
    x0: float
    y0: float
    cell_m: float
    bandwidth_m: float
    crs: Any
    total_weight: float

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape (ny, nx)."""
        ny, nx = self.values.shape
        return int(ny), int(nx)

    def centres(self) -> tuple[FloatArray, FloatArray]:
        """Cell-centre coordinates ``(x, y)``, each of shape (ny, nx)."""
        ny, nx = self.shape
        xs = self.x0 + (np.arange(nx) + 0.5) * self.cell_m
        ys = self.y0 + (np.arange(ny) + 0.5) * self.cell_m
        gx, gy = np.meshgrid(xs, ys)
        return gx, gy

    def sample(self, x: npt.ArrayLike, y: npt.ArrayLike) -> FloatArray:
        """Bilinear interpolation of the surface at metric points (0 outside the grid)."""
        fx = (np.asarray(x, dtype=np.float64) - self.x0) / self.cell_m - 0.5
        fy = (np.asarray(y, dtype=np.float64) - self.y0) / self.cell_m - 0.5
        out = ndimage.map_coordinates(self.values, [fy, fx], order=1, mode="constant")
        return np.asarray(out, dtype=np.float64)

    def to_frame(self, min_share: float = 0.0) -> gpd.GeoDataFrame:
        """Cells as square polygons with a ``density`` column (per m²) and ``density_km2``.

        Parameters
        ----------
        min_share : float
            Drop cells below this share of the peak density (0 keeps all cells).
        """
        gx, gy = self.centres()
        keep = self.values >= min_share * float(self.values.max(initial=0.0))
        h = self.cell_m / 2
        cx, cy = gx[keep], gy[keep]
        boxes = shapely.box(cx - h, cy - h, cx + h, cy + h)
        rows, cols = np.nonzero(keep)
        return gpd.GeoDataFrame(
            {
                "row": rows,
                "col": cols,
                "density": self.values[keep],
                "density_km2": self.values[keep] * 1e6,
            },
            geometry=boxes,
            crs=self.crs,
        )


def _grid(
    x: FloatArray,
    y: FloatArray,
    bandwidth_m: float,
    cell_m: float | None,
    shape: tuple[int, int] | None,
    bounds: tuple[float, float, float, float] | None,
) -> tuple[float, float, float, tuple[int, int]]:
    if bounds is None:
        if not len(x):
            raise ValueError("no points and no bounds: cannot place the grid")
        pad = 3 * bandwidth_m
        bounds = (x.min() - pad, y.min() - pad, x.max() + pad, y.max() + pad)
    x0, y0, x1, y1 = (float(b) for b in bounds)
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"empty bounds {bounds}")
    if shape is not None:
        ny, nx = shape
        cell = max((x1 - x0) / nx, (y1 - y0) / ny)
        return x0, y0, cell, (int(ny), int(nx))
    cell = bandwidth_m / 4 if cell_m is None else float(cell_m)
    if cell <= 0:
        raise ValueError("cell_m must be positive")
    nx, ny = int(np.ceil((x1 - x0) / cell)), int(np.ceil((y1 - y0) / cell))
    return x0, y0, cell, (max(ny, 1), max(nx, 1))


def kde(
    points: gpd.GeoDataFrame,
    bandwidth_m: float,
    *,
    cell_m: float | None = None,
    shape: tuple[int, int] | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    weight: str | None = None,
    metric_crs: Any = METRIC_EPSG,
) -> Surface:
    """Gaussian kernel density of a point layer on a regular metric grid.

    Parameters
    ----------
    points : GeoDataFrame
        Points with a CRS (incidents are stored in EPSG:4326); projected to ``metric_crs``.
        A dask-geopandas frame is binned per partition and the grids summed before smoothing.
    bandwidth_m : float
        Standard deviation of the Gaussian kernel in metres.
    cell_m : float, optional
        Cell size in metres (default a quarter of the bandwidth). Ignored when ``shape`` is given.
    shape : (ny, nx), optional
        Grid shape; the cell is the larger of width / nx and height / ny (square cells).
    bounds : (xmin, ymin, xmax, ymax), optional
        Grid extent in ``metric_crs`` (default: the points padded by 3 bandwidths).
    weight : str, optional
        Column of non-negative weights (for example a count per point).
    metric_crs : CRS-like
        Projected CRS to work in; default EPSG:4549. Use a local one outside China.

    Returns
    -------
    Surface
        Intensity in weighted points per square metre at cell centres.
    """
    if bandwidth_m <= 0:
        raise ValueError("bandwidth_m must be positive")
    if is_dask(points):
        from geo.hotspots._dask import kde_dask

        return kde_dask(points, bandwidth_m, cell_m=cell_m, shape=shape, bounds=bounds,
                        weight=weight, metric_crs=metric_crs)  # fmt: skip
    x, y = point_xy(points, metric_crs)
    w = weights_of(points, weight)
    x0, y0, cell, grid_shape = _grid(x, y, bandwidth_m, cell_m, shape, bounds)
    # Bin on a grid padded by the kernel's reach, so that points just outside the requested
    # extent still add to the cells near its edge, then crop.
    m = int(np.ceil(TRUNCATE * bandwidth_m / cell)) + 1
    ny, nx = grid_shape
    binned = linear_bin(x, y, w, x0 - m * cell, y0 - m * cell, cell, (ny + 2 * m, nx + 2 * m))
    values = smooth(binned, cell, bandwidth_m, truncate=TRUNCATE)[m : m + ny, m : m + nx]
    crs = gpd.GeoSeries([], crs=metric_crs).crs
    return Surface(
        values=np.ascontiguousarray(values),
        x0=x0,
        y0=y0,
        cell_m=cell,
        bandwidth_m=float(bandwidth_m),
        crs=crs,
        total_weight=float(w.sum()),
    )


def peaks(surface: Surface, n: int = 10, min_distance_m: float | None = None) -> gpd.GeoDataFrame:
    """The ``n`` highest local maxima of a surface, as points in the surface's CRS.

    Parameters
    ----------
    surface : Surface
        A density grid from :func:`kde`.
    n : int
        How many peaks at most.
    min_distance_m : float, optional
        Peaks closer than this to a higher one are dropped (default: 2 bandwidths).

    Returns
    -------
    GeoDataFrame
        ``rank`` (1 = highest), ``density`` (per m²), ``density_km2`` and Point geometry.
    """
    dist = 2 * surface.bandwidth_m if min_distance_m is None else float(min_distance_m)
    size = 2 * max(round(dist / surface.cell_m), 1) + 1
    v = surface.values
    is_max = (v == ndimage.maximum_filter(v, size=size, mode="constant")) & (v > 0)
    rows, cols = np.nonzero(is_max)
    order = np.argsort(-v[rows, cols], kind="stable")
    rows, cols = rows[order], cols[order]
    gx, gy = surface.centres()
    # Plateaus give several equal maxima: keep the first of any group closer than ``dist``.
    kept: list[int] = []
    for k in range(len(rows)):
        if len(kept) >= n:
            break
        dx = gx[rows[k], cols[k]] - gx[rows[kept], cols[kept]]
        dy = gy[rows[k], cols[k]] - gy[rows[kept], cols[kept]]
        if not kept or np.hypot(dx, dy).min() >= dist:
            kept.append(k)
    rows, cols = rows[kept], cols[kept]
    dens = v[rows, cols]
    return gpd.GeoDataFrame(
        {"rank": np.arange(1, len(rows) + 1), "density": dens, "density_km2": dens * 1e6},
        geometry=shapely.points(gx[rows, cols], gy[rows, cols]),
        crs=surface.crs,
    )


def peak(surface: Surface) -> gpd.GeoDataFrame:
    """The highest cell of a surface as a one-row point layer (see :func:`peaks`)."""
    return peaks(surface, n=1)


__all__ = ["Surface", "kde", "peak", "peaks"]
