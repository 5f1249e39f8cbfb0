"""Local metric projections, so every distance is metres on the ground.

An azimuthal equidistant projection centred on the area keeps distances from
the centre exact and everything else within centimetres over a few kilometres,
which is all Lookout's areas ever span.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class LocalProjection:
    to_metric: Transformer
    to_lonlat: Transformer

    def forward(self, geometry: BaseGeometry) -> BaseGeometry:
        """lon/lat → metres (x east, y north) around the centre."""
        return shapely.transform(geometry, lambda xy: _apply(self.to_metric, xy))

    def inverse(self, geometry: BaseGeometry) -> BaseGeometry:
        """metres → lon/lat."""
        return shapely.transform(geometry, lambda xy: _apply(self.to_lonlat, xy))


def _apply(transformer: Transformer, xy):  # noqa: ANN001, ANN202 - numpy arrays in and out
    import numpy as np

    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def projection_around(lat: float, lon: float) -> LocalProjection:
    """The projection centred on (lat, lon), rounded so nearby areas share one."""
    return _cached_projection(round(lat, 3), round(lon, 3))


@lru_cache(maxsize=256)
def _cached_projection(lat: float, lon: float) -> LocalProjection:
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m +no_defs")
    return LocalProjection(
        to_metric=Transformer.from_crs("EPSG:4326", crs, always_xy=True),
        to_lonlat=Transformer.from_crs(crs, "EPSG:4326", always_xy=True),
    )
