"""Hotspot analysis of incidents: KDE, Getis-Ord Gi*, rates, emerging hot spots, clusters,
near-repeats (Knox) and forecast evaluation (PAI/PEI*).

Each function takes GeoDataFrames with a CRS and returns a GeoDataFrame (or a small result
object); metric work is done in EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E) unless a
``metric_crs`` is given. The statistics come from the field's libraries: esda and libpysal
(Gi*, weights, Empirical Bayes), scikit-learn (HDBSCAN/DBSCAN), scipy (filters, k-d trees,
Kendall's tau, Benjamini-Hochberg).
"""

from __future__ import annotations

from geo.hotspots.aggregate import area_index, count_points
from geo.hotspots.clusters import cluster_summary, density_clusters
from geo.hotspots.emerging import classify_cube, emerging_hotspots, space_time_cube
from geo.hotspots.forecast import counts_scorer, fit_and_score, gi_scorer, kde_scorer, pai_pei
from geo.hotspots.gistar import contiguity, gi_star, hot_cells
from geo.hotspots.kde import Surface, kde, peak, peaks
from geo.hotspots.knox import KnoxResult, knox_table, knox_test
from geo.hotspots.rates import eb_rates, incident_rates, migrant_rates, risk_ratio

__all__ = [
    "KnoxResult",
    "Surface",
    "area_index",
    "classify_cube",
    "cluster_summary",
    "contiguity",
    "count_points",
    "counts_scorer",
    "density_clusters",
    "eb_rates",
    "emerging_hotspots",
    "fit_and_score",
    "gi_scorer",
    "gi_star",
    "hot_cells",
    "incident_rates",
    "kde",
    "kde_scorer",
    "knox_table",
    "knox_test",
    "migrant_rates",
    "pai_pei",
    "peak",
    "peaks",
    "risk_ratio",
    "space_time_cube",
]
