"""The geometry of a need's position: the public rounding, distances, the
bounding box the nearby query uses, and the rules every channel checks."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from portal.core.params import bounded_float
from portal.needs import location, rules
from portal.needs.location import Point

TIANANMEN = Point(39.9042, 116.4074)


def _at(lat, lon):
    return SimpleNamespace(lat=lat, lon=lon)


def test_the_public_point_is_rounded_to_about_100_m():
    assert location.public_point(_at(39.904249, 116.407451)) == Point(39.904, 116.407)
    assert location.public_point(_at(-0.0004, -0.0004)) == Point(0.0, 0.0)
    assert str(location.public_point(_at(-0.0004, 179.99951))) == "0, 180"
    assert location.public_point(_at(None, None)) is None
    assert location.public_point(_at(39.9, None)) is None
    # Rounding moves a point by at most half a unit of the last decimal on each axis.
    exact = Point(31.2304567, 121.4737891)
    moved = location.distance_metres(exact, location.rounded(exact))
    assert moved <= math.hypot(55.6, 55.6 * math.cos(math.radians(31.23)))


def test_a_point_reads_as_degrees_with_at_most_six_decimals():
    assert str(Point(39.9042, 116.4074)) == "39.9042, 116.4074"
    assert str(Point(31.230456789, -0.0000001)) == "31.230457, 0"


def test_distances_are_great_circle_metres():
    # One degree of latitude is about 111.2 km anywhere.
    assert location.distance_metres(Point(0, 0), Point(1, 0)) == pytest.approx(111_195, rel=1e-3)
    # Beijing to Shanghai, about 1068 km.
    shanghai = Point(31.2304, 121.4737)
    assert location.distance_metres(TIANANMEN, shanghai) == pytest.approx(1_068_000, rel=0.01)
    assert location.distance_metres(TIANANMEN, TIANANMEN) == 0


@pytest.mark.parametrize(
    "centre",
    [TIANANMEN, Point(0, 0), Point(-33.86, 151.21), Point(64.1, -21.9), Point(0, 179.999)],
)
def test_every_point_within_the_radius_lies_in_the_box(centre):
    box = location.box_around(centre, 500)
    for bearing in range(0, 360, 15):
        # A point 499 m away in this direction (on a sphere).
        d = 499 / location.EARTH_RADIUS_METRES
        lat1, lon1, b = map(math.radians, (centre.lat, centre.lon, bearing))
        sin_lat2 = math.sin(lat1) * math.cos(d) + math.cos(lat1) * math.sin(d) * math.cos(b)
        lat2 = math.asin(sin_lat2)
        y = math.sin(b) * math.sin(d) * math.cos(lat1)
        lon2 = lon1 + math.atan2(y, math.cos(d) - math.sin(lat1) * sin_lat2)
        lat, lon = math.degrees(lat2), (math.degrees(lon2) + 540) % 360 - 180
        assert box.south <= lat <= box.north and box.west <= lon <= box.east, bearing


def test_a_box_is_small_in_a_city_and_takes_every_longitude_near_a_pole_or_the_antimeridian():
    box = location.box_around(TIANANMEN, 500)
    assert box.north - box.south == pytest.approx(2 * 500 / 111_195, rel=1e-3)
    assert 0.01 < box.east - box.west < 0.015  # longitudes are closer at 40° N
    polar = location.box_around(Point(89.999, 10), 500)
    assert (polar.west, polar.east, polar.north) == (-180.0, 180.0, 90.0)
    across = location.box_around(Point(0, 179.999), 500)
    assert (across.west, across.east) == (-180.0, 180.0)


def test_within_public_measures_the_public_points_nearest_first():
    near = _at(39.9060, 116.4074)  # 200 m north
    nearer = _at(39.9045, 116.4074)
    far = _at(39.9142, 116.4074)  # 1.1 km north
    # 497 m away exactly, but its public point (39.909) is 534 m away: not near.
    edge = _at(39.908669, 116.4074)
    unplaced = _at(None, None)
    assert location.within_public(TIANANMEN, [far, near, edge, unplaced, nearer]) == [
        nearer,
        near,
    ]


def test_no_area_is_suggested_while_the_portal_has_none(app):
    assert location.suggest_area(TIANANMEN) is None
    assert location.suggest_area(None) is None


@pytest.mark.parametrize(
    ("lat", "lon", "problem"),
    [
        (None, None, None),
        (39.9, 116.4, None),
        (-90.0, 180.0, None),
        (90.0001, 116.4, rules.PositionProblem.LATITUDE),
        (math.nan, 116.4, rules.PositionProblem.LATITUDE),
        (39.9, -180.5, rules.PositionProblem.LONGITUDE),
        (39.9, math.inf, rules.PositionProblem.LONGITUDE),
        (39.9, None, rules.PositionProblem.HALF),
        (None, 116.4, rules.PositionProblem.HALF),
    ],
)
def test_the_position_rule_of_every_channel(lat, lon, problem):
    assert rules.position_problem(lat, lon) == problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("39.9042", 39.9042),
        (" -0.5 ", -0.5),
        (".5", 0.5),
        ("90", 90.0),
        ("90.0000001", None),
        ("nan", None),
        ("inf", None),
        ("1e1", None),
        ("３９.９", None),  # full-width digits
        ("39,9", None),
        ("", None),
        ("1" * 30, None),
        (None, None),
        (39.9, None),  # only text is read
    ],
)
def test_bounded_float_reads_plain_decimals_in_range(text, expected):
    assert bounded_float(text, -90, 90) == expected
