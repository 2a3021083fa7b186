"""Where a need is: the optional point (WGS 84 degrees) a submitter drops on
the map, staff enter at intake or an Open311 client sends as lat/long.

The exact point is for the admins and the partner the need is assigned to.
Everything public (the need page, open data, the Atom feeds, Open311 answers,
the nearby hint of the form) uses `public_point()`: the point rounded to
three decimals, about 110 m north–south and less east–west, so a pin on a
house does not say which house.

"Nearby" is decided on public points only: were it decided on exact ones, a
stranger could move a pin about and watch a need enter and leave the hint
until its exact point was known. The database narrows the candidates with a
bounding box on the (is_listed, lat, lon) index, widened by the rounding so
that no need whose public point is near is missed; the exact distance is
then computed in Python on those few."""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa

from portal.areas.tree import nearest_area

#: Decimals of a public point (3: about 100 m).
PUBLIC_DECIMALS = 3
#: How far a need may be to count as nearby in the form's hint, in metres.
NEARBY_METRES = 500
#: The mean radius of the Earth (IUGG), in metres.
EARTH_RADIUS_METRES = 6_371_008.8
#: Metres in one degree of latitude (and of longitude on the equator).
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_METRES / 180
#: Half a unit of the last public decimal: how far rounding moves a point at most
#: along each axis, in degrees.
ROUNDING_DEGREES = 0.5 * 10**-PUBLIC_DECIMALS


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float

    def __str__(self) -> str:
        """Degrees with at most six decimals (10 cm): "39.9042, 116.4074"."""
        return f"{_degrees(self.lat)}, {_degrees(self.lon)}"


def _degrees(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@dataclass(frozen=True)
class Box:
    """A range of latitudes and longitudes, in degrees (west <= east: a box
    across the antimeridian is widened to every longitude)."""

    south: float
    north: float
    west: float
    east: float


def point_or_none(lat: float | None, lon: float | None) -> Point | None:
    if lat is None or lon is None:
        return None
    return Point(lat, lon)


def exact_point(need) -> Point | None:
    """The need's point as given: for admins and the assigned partner only."""
    return point_or_none(need.lat, need.lon)


def rounded(point: Point) -> Point:
    # + 0.0 turns a rounded -0.0 into 0.0.
    return Point(round(point.lat, PUBLIC_DECIMALS) + 0.0, round(point.lon, PUBLIC_DECIMALS) + 0.0)


def public_point(need) -> Point | None:
    """The need's point as the public may know it: rounded to about 100 m."""
    point = exact_point(need)
    return rounded(point) if point is not None else None


def distance_metres(a: Point, b: Point) -> float:
    """The great-circle distance (haversine), in metres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(min(1.0, math.sqrt(h)))


def box_around(point: Point, metres: float, *, margin_degrees: float = 0.0) -> Box:
    """Every point within `metres` of `point` (and `margin_degrees` more on each
    side) lies in this box. Near a pole, or across the antimeridian, the box
    takes every longitude rather than wrapping."""
    dlat = metres / METRES_PER_DEGREE + margin_degrees
    south, north = max(-90.0, point.lat - dlat), min(90.0, point.lat + dlat)
    widest = max(abs(south), abs(north))
    if widest >= 89.0:
        return Box(south, north, -180.0, 180.0)
    dlon = metres / (METRES_PER_DEGREE * math.cos(math.radians(widest))) + margin_degrees
    west, east = point.lon - dlon, point.lon + dlon
    if west < -180.0 or east > 180.0:
        return Box(south, north, -180.0, 180.0)
    return Box(south, north, west, east)


def in_box(lat_column, lon_column, box: Box):
    """The SQL condition of a bounding box (a range on the indexed latitude)."""
    return sa.and_(
        lat_column.between(box.south, box.north),
        lon_column.between(box.west, box.east),
    )


def public_box_around(point: Point, metres: float) -> Box:
    """The box of exact points whose public point may lie within `metres`."""
    return box_around(point, metres, margin_degrees=ROUNDING_DEGREES)


def within_public(point: Point, needs, metres: float = NEARBY_METRES) -> list:
    """Those of `needs` whose public point lies within `metres` of `point`,
    nearest first."""
    measured = []
    for need in needs:
        where = public_point(need)
        if where is not None:
            distance = distance_metres(point, where)
            if distance <= metres:
                measured.append((distance, need))
    measured.sort(key=lambda pair: pair[0])
    return [need for _distance, need in measured]


def suggest_area(point: Point | None):
    """The area a point lies in, to suggest on the form: the one whose centre
    is nearest (None without a point, or with no area centre near it)."""
    if point is None:
        return None
    return nearest_area(point.lat, point.lon)
