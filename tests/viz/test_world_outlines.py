"""TopoJSON decoding for the offline world map (tokenworks.viz._world).

A hand-made topology with known coordinates checks the decoding (quantization, delta encoding,
reversed arcs, shared points); the real Natural Earth outlines are checked when the world-atlas
asset is fetched (`tokenworks assets fetch world-atlas`).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from tokenworks.errors import AssetMissing, InvalidInput
from tokenworks.viz import _world as W

# scale (0.5, 2), translate (10, -20): quantized (qx, qy) is (10 + qx / 2, -20 + 2 qy) degrees.
# arc 0: absolute q (0,0) (2,0) (2,3)   -> (10,-20) (11,-20) (11,-14)
# arc 1: absolute q (2,3) (0,3) (0,0)   -> (11,-14) (10,-14) (10,-20)
# arc 2: absolute q (2,3) (-2,2) (0,0)  -> (11,-14) (9,-16) (10,-20)
TINY = {
    "type": "Topology",
    "transform": {"scale": [0.5, 2.0], "translate": [10.0, -20.0]},
    "arcs": [
        [[0, 0], [2, 0], [0, 3]],
        [[2, 3], [-2, 0], [0, -3]],
        [[2, 3], [-4, -1], [2, -2]],
    ],
    "objects": {
        "land": {"type": "GeometryCollection", "geometries": [
            {"type": "MultiPolygon", "arcs": [[[0, 1]]]},
            {"type": "Point", "coordinates": [1, 1]},
        ]},
        # A is the rectangle (arcs 0, 1); B, west of it, is arc 2 reversed then arc 1: they share arc 1
        "countries": {"type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "arcs": [[0, 1]], "properties": {"name": "A"}},
            {"type": "Polygon", "arcs": [[~2, 1]], "properties": {"name": "B"}},
        ]},
        "road": {"type": "LineString", "arcs": [~1, ~0]},
    },
}


def test_arcs_are_dequantized_and_delta_decoded():
    arcs = W.decode_arcs(TINY)
    assert len(arcs) == 3
    assert arcs[0].tolist() == [[10.0, -20.0], [11.0, -20.0], [11.0, -14.0]]
    assert arcs[1].tolist() == [[11.0, -14.0], [10.0, -14.0], [10.0, -20.0]]
    assert arcs[2].tolist() == [[11.0, -14.0], [9.0, -16.0], [10.0, -20.0]]


def test_arcs_without_a_transform_are_absolute():
    topo = {"type": "Topology", "arcs": [[[1.5, 2.5], [3.0, 4.0, 99.0]]], "objects": {}}
    assert W.decode_arcs(topo)[0].tolist() == [[1.5, 2.5], [3.0, 4.0]]  # a third dimension is dropped


def test_rings_stitch_arcs_keeping_shared_points_once():
    arcs = W.decode_arcs(TINY)
    (ring,) = W.object_lines(TINY, "land")  # the Point adds no line
    assert ring.tolist() == [[10, -20], [11, -20], [11, -14], [10, -14], [10, -20]]  # closed, 5 points
    (road,) = W.object_lines(TINY, "road", arcs)  # ~1 then ~0: both reversed
    assert road.tolist() == [[10, -20], [10, -14], [11, -14], [11, -20], [10, -20]]
    b = W.object_lines(TINY, "countries", arcs)[1]
    assert b.tolist() == [[10, -20], [9, -16], [11, -14], [10, -14], [10, -20]]


def test_shared_arcs_are_the_borders():
    shared = W.shared_arcs(TINY, "countries")
    assert len(shared) == 1 and shared[0].tolist() == [[11, -14], [10, -14], [10, -20]]  # arc 1, used by A and B


def test_polylines_separate_with_nan_and_skip_the_antimeridian():
    xs, ys = W.polylines([np.array([[0.0, 0.0], [1.0, 1.0]]),
                          np.array([[170.0, 10.0], [180.0, 10.0], [180.0, 20.0], [170.0, 20.0]])])
    assert xs[:2] == [0.0, 1.0] and math.isnan(xs[2]) and math.isnan(ys[2])
    # the stretch along +180 is cut: a NaN between its two ends
    assert [x if x == x else None for x in xs[3:]] == [170.0, 180.0, None, 180.0, 170.0, None]
    assert len(xs) == len(ys)
    # a jump across the antimeridian (179.4 -> -180, as quantized data has it) is cut too
    xs, _ = W.polylines([np.array([[179.4, -16.8], [-180.0, -16.5], [-179.5, -16.0]])])
    assert [x if x == x else None for x in xs] == [179.4, None, -180.0, -179.5, None]


def test_outlines_from_a_topology():
    w = W.outlines_from(TINY, source="tiny")
    assert (w.rings, w.borders, w.source) == (1, 1, "tiny")
    assert [x for x in w.coast_lon if x == x] == [10, 11, 11, 10, 10]
    assert [y for y in w.border_lat if y == y] == [-14, -14, -20]


def test_bad_topologies_say_what_is_wrong():
    with pytest.raises(InvalidInput, match="type is 'FeatureCollection', expected 'Topology'"):
        W.decode_arcs({"type": "FeatureCollection"})
    with pytest.raises(InvalidInput, match="no object 'ocean'; it has land, countries, road"):
        W.object_lines(TINY, "ocean")
    bad = dict(TINY, objects={"x": {"type": "LineString", "arcs": [7]}})
    with pytest.raises(InvalidInput, match="arc index 7 refers to arc 7; the topology has 3 arcs"):
        W.object_lines(bad, "x")
    odd = dict(TINY, objects={"x": {"type": "Circle", "arcs": []}})
    with pytest.raises(InvalidInput, match="unknown TopoJSON geometry type 'Circle'"):
        W.object_lines(odd, "x")


def test_natural_earth_outlines_from_the_asset():
    try:
        w = W.world_outlines()
    except AssetMissing:
        pytest.skip("asset world-atlas not fetched (tokenworks assets fetch world-atlas)")
    assert w.rings > 100 and w.borders > 200
    pts = np.array([(x, y) for x, y in zip(w.coast_lon, w.coast_lat) if x == x])  # (N, 2)
    assert pts[:, 0].min() >= -180 and pts[:, 0].max() <= 180 and pts[:, 1].min() > -90 and pts[:, 1].max() < 90
    # Great Britain's coast: points between Land's End and Cape Wrath
    gb = pts[(pts[:, 0] > -6) & (pts[:, 0] < 2) & (pts[:, 1] > 50) & (pts[:, 1] < 59)]
    assert len(gb) >= 10
    assert W.world_outlines() is w  # decoded once per process
