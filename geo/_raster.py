"""Private helpers of :mod:`geo.trinity`: a pixel grid in EPSG:4549 labelled by the faces of a
polygon arrangement, with label 0 ("mixed") on every pixel a boundary comes near.

Why this is written here: the labelling itself is ``scipy.ndimage.label`` (connected regions of
boundary-free pixels, 4-connected) and the densification is ``shapely.segmentize``; what no library
gives is the margin the trinity index relies on — every pixel within one pixel of an edge, *as
shapely sees the edge* (straight in lon/lat), marked. ``rasterio.features.rasterize`` burns pixel
centres or "all touched" pixels of edges straight in the raster's own CRS and states no tolerance
for points next to an edge; it would also add a GDAL wheel (~36 MB) for this one call.

The argument, for a pixel size ``p``: boundary samples are at most ``p/2`` apart, so every
boundary point is within ``p/4`` of a sample; a pixel is mixed when a sample falls in it or in one
of its 8 neighbours. So a pure pixel, grown by ``0.75 p`` on every side, meets no boundary: a
point that falls in it (rounding moves a point by nanometres, not ``0.75 p``) lies in the same face
as the pixel's centre, and 4-connected pure pixels lie in one face. Each face is classified once,
by the exact shapely test at the centre of one of its pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from scipy import ndimage

from geo.crs import to_metric

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
LabelArray = npt.NDArray[np.unsignedinteger[Any]]

#: Upper bound of metres per degree along any direction near China (latitude degree 110.6-111.7
#: km, times the Gauss-Kruger scale factor); only a first guess, the gaps are checked afterwards.
_M_PER_DEG = 112_000.0
_FOUR = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)


@dataclass(frozen=True)
class Grid:
    """A north-up pixel grid in EPSG:4549: ``nx`` × ``ny`` pixels of ``px`` metres from
    ``(x0, y0)``, the south-west corner; flat index = row * nx + col, row 0 in the south."""

    x0: float
    y0: float
    px: float
    nx: int
    ny: int

    @classmethod
    def around(cls, x: FloatArray, y: FloatArray, px: float, max_pixels: int) -> Grid:
        """A grid covering the points with two pixels to spare; ``px`` grows past ``max_pixels``."""
        width = float(np.max(x) - np.min(x))
        height = float(np.max(y) - np.min(y))
        if width * height / (px * px) > max_pixels:
            px = float(np.sqrt(width * height / max_pixels))
        x0, y0 = float(np.min(x)) - 2 * px, float(np.min(y)) - 2 * px
        nx = int(np.ceil(width / px)) + 5
        ny = int(np.ceil(height / px)) + 5
        return cls(x0, y0, px, nx, ny)

    @property
    def size(self) -> int:
        return self.nx * self.ny

    def locate(self, x: FloatArray, y: FloatArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """Flat pixel index of each point (0 where outside) and whether it is on the grid."""
        with np.errstate(invalid="ignore"):
            fx = (x - self.x0) / self.px
            fy = (y - self.y0) / self.px
            on = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        col = np.where(on, fx, 0.0).astype(np.intp)
        row = np.where(on, fy, 0.0).astype(np.intp)
        np.minimum(col, self.nx - 1, out=col)
        np.minimum(row, self.ny - 1, out=row)
        return row * self.nx + col, on

    def centre(self, flat: IntArray) -> tuple[FloatArray, FloatArray]:
        """Metric coordinates of the centres of the pixels ``flat``."""
        row, col = np.divmod(flat, self.nx)
        return self.x0 + (col + 0.5) * self.px, self.y0 + (row + 0.5) * self.px


def boundary_samples(
    geoms: npt.NDArray[np.object_], max_gap_m: float
) -> tuple[FloatArray, FloatArray]:
    """EPSG:4549 points along the boundaries of WGS84 ``geoms``, consecutive ones at most
    ``max_gap_m`` apart (densified in lon/lat, where shapely's edges are straight)."""
    lines = shapely.get_parts(shapely.boundary(geoms[~shapely.is_empty(geoms)]))
    lines = lines[~shapely.is_empty(lines)]
    if len(lines) == 0:
        return np.empty(0), np.empty(0)
    step = max_gap_m / _M_PER_DEG
    for _ in range(12):
        coords, part = shapely.get_coordinates(shapely.segmentize(lines, step), return_index=True)
        x, y = to_metric(coords[:, 0], coords[:, 1])
        same = part[1:] == part[:-1]
        gap = np.hypot(np.diff(x), np.diff(y))[same]
        worst = float(gap.max(initial=0.0))
        if worst <= max_gap_m:
            return x, y
        step *= 0.9 * max_gap_m / worst
    raise RuntimeError(f"could not densify boundaries to {max_gap_m} m (worst gap {worst} m)")


def face_labels(grid: Grid, x: FloatArray, y: FloatArray) -> tuple[LabelArray, IntArray]:
    """Label the boundary-free faces of the grid, given boundary samples ``x, y`` (metres).

    Returns the flat label raster (0 = mixed, 1..n = faces) in the smallest unsigned type that
    also holds n + 1 (a town's few hundred faces: one byte a pixel, not four — the raster is
    most of what an index weighs, and what a forked builder sends back), and, for face k, the
    flat index of one of its pixels at position k - 1.
    """
    flat, on = grid.locate(x, y)
    if not on.all():
        raise ValueError("boundary samples outside the grid")
    near = np.zeros(grid.size, dtype=bool)
    near[flat] = True
    # the 8-neighbour dilation (binary_dilation with a 3×3 structure, a third slower)
    near2d = ndimage.maximum_filter(near.reshape(grid.ny, grid.nx), size=3, mode="constant")
    labels, n = ndimage.label(~near2d, structure=_FOUR)
    reps = np.empty(n, dtype=np.intp)
    for k, box in enumerate(ndimage.find_objects(labels), start=1):
        # find_objects gives each label's bounding box; its first row holds a pixel of it.
        rows, cols = box
        first = int(np.argmax(labels[rows.start, cols] == k))
        reps[k - 1] = rows.start * grid.nx + cols.start + first
    return labels.ravel().astype(np.min_scalar_type(n + 1), copy=False), reps


__all__ = ["Grid", "boundary_samples", "face_labels"]
