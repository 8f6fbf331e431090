"""World outlines for maps drawn offline: Natural Earth's 1:110m land and country borders, decoded from
the TopoJSON of the npm package ``world-atlas@2.0.2`` (asset ``world-atlas``) into longitude/latitude
polylines that a plain plotly ``Scatter`` line trace draws (no geo subplot, no CDN).

    from tokenworks.viz._world import world_outlines
    w = world_outlines()              # cached; AssetMissing names `tokenworks assets fetch world-atlas`
    w.coast_lon, w.coast_lat          # every land ring, one list each, rings separated by NaN
    w.border_lon, w.border_lat        # arcs shared by two countries (land borders), NaN-separated

TopoJSON in brief (the parts used here). A topology stores each line once, as an *arc*: a list of
positions. With a ``transform`` ({scale: [sx, sy], translate: [tx, ty]}) positions are quantized
integers and *delta-encoded*: the first is absolute, each next one is the difference from the one
before, so position k is ``(sum of the first k+1 entries) * scale + translate``. Geometries refer
to arcs by index: ``i`` is arc i as stored, ``~i`` (that is ``-i - 1``) is arc i reversed. A line
or ring is a list of such indices; consecutive arcs share their joining point, which is kept once.
Polygons are lists of rings, MultiPolygons lists of polygons, MultiLineStrings lists of lines;
GeometryCollections hold geometries.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..errors import InvalidInput

ASSET = "world-atlas"
MEMBER = "package/countries-110m.json"  # objects "land" (1 MultiPolygon) and "countries" (177)

_LINE_TYPES = ("LineString", "MultiLineString", "Polygon", "MultiPolygon")


@dataclass(frozen=True)
class WorldOutlines:
    """Polylines in degrees, ready for ``go.Scatter(x=lon, y=lat, mode="lines")``."""

    coast_lon: list[float]  # land rings, NaN between rings
    coast_lat: list[float]
    border_lon: list[float]  # arcs shared by two countries, NaN between arcs
    border_lat: list[float]
    rings: int  # how many land rings
    borders: int  # how many shared arcs
    source: str  # e.g. "world-atlas@2.0.2 countries-110m.json (Natural Earth 1:110m)"


def decode_arcs(topology: Mapping[str, Any]) -> list[np.ndarray]:
    """Every arc of ``topology`` as absolute coordinates, each (N, 2) float64 (x, y): undoes the
    delta encoding and the quantization when the topology has a ``transform``."""
    if topology.get("type") != "Topology":
        raise InvalidInput(f"not a TopoJSON topology: type is {topology.get('type')!r}, expected 'Topology'")
    transform = topology.get("transform")
    out: list[np.ndarray] = []
    for k, arc in enumerate(topology.get("arcs", [])):
        if not arc:
            raise InvalidInput(f"TopoJSON arc {k} is empty; every arc needs at least one position")
        pts = np.asarray([p[:2] for p in arc], dtype=np.float64)  # (N, 2): x, y (extra dimensions dropped)
        if transform is not None:
            scale = np.asarray(transform["scale"], dtype=np.float64)  # (2,)
            translate = np.asarray(transform["translate"], dtype=np.float64)  # (2,)
            pts = np.cumsum(pts, axis=0) * scale + translate  # (N, 2) delta -> absolute -> degrees
        out.append(pts)
    return out


def _arc(arcs: Sequence[np.ndarray], index: int) -> np.ndarray:
    i = index if index >= 0 else ~index
    if not 0 <= i < len(arcs):
        raise InvalidInput(f"TopoJSON arc index {index} refers to arc {i}; the topology has {len(arcs)} arcs")
    return arcs[i] if index >= 0 else arcs[i][::-1]


def stitch(arcs: Sequence[np.ndarray], indices: Iterable[int]) -> np.ndarray:
    """One line or ring from arc indices (``~i`` reversed); the point two arcs share is kept once.
    Returns (N, 2)."""
    parts: list[np.ndarray] = []
    for n, index in enumerate(indices):
        a = _arc(arcs, int(index))
        parts.append(a if n == 0 else a[1:])
    if not parts:
        return np.zeros((0, 2))
    return np.concatenate(parts, axis=0)  # (N, 2)


def geometry_lines(geometry: Mapping[str, Any], arcs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The lines and rings of one geometry (any type; points and null geometries give none)."""
    geometry_type = geometry.get("type")
    if geometry_type == "GeometryCollection":
        return [line for g in geometry.get("geometries", []) for line in geometry_lines(g, arcs)]
    refs = geometry.get("arcs")
    if geometry_type == "LineString":
        return [stitch(arcs, refs)]
    if geometry_type in ("MultiLineString", "Polygon"):
        return [stitch(arcs, r) for r in refs]
    if geometry_type == "MultiPolygon":
        return [stitch(arcs, r) for polygon in refs for r in polygon]
    if geometry_type in (None, "Point", "MultiPoint"):
        return []
    raise InvalidInput(f"unknown TopoJSON geometry type {geometry_type!r}; known: {', '.join(_LINE_TYPES)}, "
                       "Point, MultiPoint, GeometryCollection")


def _object(topology: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    objects = topology.get("objects", {})
    if name not in objects:
        raise InvalidInput(f"the topology has no object {name!r}; it has {', '.join(objects) or 'none'}")
    return objects[name]


def object_lines(topology: Mapping[str, Any], name: str, arcs: Sequence[np.ndarray] | None = None) -> list[np.ndarray]:
    """Every line and ring of the named object (e.g. "land"), each (N, 2)."""
    arcs = decode_arcs(topology) if arcs is None else arcs
    return geometry_lines(_object(topology, name), arcs)


def _arc_refs(node: Any) -> Iterable[int]:
    if isinstance(node, (list, tuple)):
        for x in node:
            yield from _arc_refs(x)
    else:
        yield int(node)


def shared_arcs(topology: Mapping[str, Any], name: str, arcs: Sequence[np.ndarray] | None = None) -> list[np.ndarray]:
    """Arcs used by two or more different geometries of a collection: between countries, the land
    borders (an arc used by one country only is its coast)."""
    arcs = decode_arcs(topology) if arcs is None else arcs
    obj = _object(topology, name)
    members = obj.get("geometries", [obj])
    users: dict[int, set[int]] = {}
    for g, geom in enumerate(members):
        for ref in _arc_refs(geom.get("arcs", [])):
            users.setdefault(ref if ref >= 0 else ~ref, set()).add(g)
    return [arcs[i] for i in sorted(users) if len(users[i]) > 1]


def _on_antimeridian(lon: float) -> bool:
    return abs(abs(lon) - 180.0) < 1e-6


def _wraps(x0: float, x1: float) -> bool:
    """A segment that runs along the antimeridian or jumps across it (more than half the world)."""
    return (_on_antimeridian(x0) and _on_antimeridian(x1)) or abs(x1 - x0) > 180.0


def polylines(lines: Iterable[np.ndarray]) -> tuple[list[float], list[float]]:
    """(lons, lats) for one line trace: the lines one after another with NaN between them. Where a
    polygon crosses +/-180 (Chukotka, Fiji, Antarctica), the segments that run along the
    antimeridian or jump from one side of the map to the other are left out, so no false coast
    crosses the map."""
    xs: list[float] = []
    ys: list[float] = []
    for line in lines:
        for k, (x, y) in enumerate(line):
            if k and _wraps(float(line[k - 1][0]), float(x)):
                xs.append(math.nan)
                ys.append(math.nan)
            xs.append(float(x))
            ys.append(float(y))
        xs.append(math.nan)
        ys.append(math.nan)
    return xs, ys


def outlines_from(topology: Mapping[str, Any], source: str = "") -> WorldOutlines:
    """Coastlines (object "land") and borders (arcs shared within "countries") of a world-atlas
    topology."""
    arcs = decode_arcs(topology)
    rings = object_lines(topology, "land", arcs)
    borders = shared_arcs(topology, "countries", arcs) if "countries" in topology.get("objects", {}) else []
    cx, cy = polylines(rings)
    bx, by = polylines(borders)
    return WorldOutlines(coast_lon=cx, coast_lat=cy, border_lon=bx, border_lat=by, rings=len(rings),
                         borders=len(borders), source=source)


@lru_cache(maxsize=2)
def _load(path: str) -> WorldOutlines:
    topology = json.loads(Path(path).read_text(encoding="utf-8"))
    return outlines_from(topology, source="world-atlas@2.0.2 countries-110m.json (Natural Earth 1:110m)")


def world_outlines() -> WorldOutlines:
    """The outlines from the fetched asset, decoded once per process. Raises ``AssetMissing``
    (naming ``tokenworks assets fetch world-atlas``) when the asset is not there."""
    from .. import assets

    return _load(str(assets.asset_path(ASSET, MEMBER)))
