"""The optional map: where its tiles come from, what the pages need to draw it,
and the one host the Content Security Policy lets images come from for it.

The tiles are the operator's choice (`MAP_TILE_URL`: a city's own tile server
or a licensed service); Leaflet itself is served by the portal
(static/vendor/leaflet). With no tile URL there is no map anywhere: the forms
keep their two coordinate inputs and the need pages show the point as text.
static/js/map.js reads everything from data- attributes (no inline script)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, current_app, url_for

from portal.needs import rules
from portal.needs.location import Point


class MapSettingsError(ValueError):
    """A map setting the app cannot work with (it refuses to start)."""


@dataclass(frozen=True)
class MapSettings:
    tile_url: str
    attribution: str
    max_zoom: int
    zoom: int
    center: Point

    @property
    def data(self) -> dict[str, str]:
        """The data- attributes of a map element (see static/js/map.js)."""
        return {
            "data-tile-url": self.tile_url,
            "data-attribution": self.attribution,
            "data-max-zoom": str(self.max_zoom),
            "data-zoom": str(self.zoom),
            "data-center": f"{self.center.lat},{self.center.lon}",
            "data-leaflet-js": url_for("static", filename="vendor/leaflet/leaflet.js"),
            "data-leaflet-css": url_for("static", filename="vendor/leaflet/leaflet.css"),
        }


def tile_origin(tile_url: str) -> str:
    """The CSP source of a tile URL template: its scheme and host ("" for tiles
    the portal serves itself, under a path). Leaflet's `{s}` subdomain
    placeholder is allowed as the host's first label (`*.` in the CSP)."""
    if not tile_url or (tile_url.startswith("/") and not tile_url.startswith("//")):
        return ""
    parts = urlsplit(tile_url)
    host = parts.netloc
    if host.startswith("{s}."):
        host = "*." + host[len("{s}.") :]
    if parts.scheme not in ("http", "https") or not host or any(c in host for c in "{}@ "):
        raise MapSettingsError(
            "MAP_TILE_URL must be an http(s) URL template such as "
            "https://tiles.example.org/{z}/{x}/{y}.png (a {s}. prefix of the host is allowed), "
            "or a path on this site"
        )
    return f"{parts.scheme}://{host}"


def _center(value: str) -> Point:
    lat, _, lon = (value or "").partition(",")
    try:
        point = Point(float(lat), float(lon))
    except ValueError:
        point = None
    if point is None or rules.position_problem(point.lat, point.lon) is not None:
        raise MapSettingsError("MAP_CENTER must be 'latitude,longitude', e.g. 39.9042,116.4074")
    return point


def settings_of(config) -> MapSettings | None:
    """The map settings of a configuration, checked; None without a tile URL."""
    tile_url = (config.get("MAP_TILE_URL") or "").strip()
    if not tile_url:
        return None
    tile_origin(tile_url)
    max_zoom = int(config.get("MAP_MAX_ZOOM", 18))
    zoom = int(config.get("MAP_ZOOM", 12))
    if not 1 <= max_zoom <= 22 or not 1 <= zoom <= max_zoom:
        raise MapSettingsError("MAP_MAX_ZOOM must be 1 to 22, and MAP_ZOOM 1 to MAP_MAX_ZOOM")
    return MapSettings(
        tile_url=tile_url,
        attribution=config.get("MAP_TILE_ATTRIBUTION", ""),
        max_zoom=max_zoom,
        zoom=zoom,
        center=_center(config.get("MAP_CENTER", "")),
    )


def check_map_settings(app: Flask) -> None:
    """At start: a wrong map setting stops the app with a message, not a
    blank map on the citizens' phones."""
    settings_of(app.config)


def map_settings() -> MapSettings | None:
    """The map of this app, or None (no map): a template global."""
    return settings_of(current_app.config)


class ImageSources:
    """The CSP's img-src, read on each response from the app's settings: the
    portal itself, data: (QR codes) and blob: (previews of photos before they
    are sent), and the host of the map's tiles when there is one. Talisman joins
    any value that is not a string, so this is evaluated per request."""

    FIXED = ("'self'", "data:", "blob:")

    def __iter__(self):
        yield from self.FIXED
        origin = tile_origin((current_app.config.get("MAP_TILE_URL") or "").strip())
        if origin:
            yield origin
