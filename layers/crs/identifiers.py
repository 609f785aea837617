"""CRS names as clients, files and pygeoapi write them, read by one set of rules, with their axis order.

Accepted: an EPSG code (5897, '5897', 'EPSG:5897'), its OGC URI (http://www.opengis.net/def/crs/EPSG/0/5897) or
URN (urn:ogc:def:crs:EPSG::5897, with or without a version), and CRS84 ('CRS84', 'OGC:CRS84', its URI or URN;
CRS84h too, whose heights the SDI ignores). CRS84 and EPSG:4326 are the same datum and the same SRID in
PostGIS (x = longitude); they differ in axis order only: EPSG:4326, like every geographic EPSG CRS, is
latitude first by authority, so a box or geometry written in it comes as lat,lon.
"""
import re
from dataclasses import dataclass
from functools import lru_cache

import pyproj

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
WGS84_SRID = 4326  # the SRID of CRS84 and EPSG:4326 in PostGIS (always x = longitude there)

_CRS84 = re.compile(r"(?:OGC:|urn:ogc:def:crs:OGC:[\d.]*:|https?://www\.opengis\.net/def/crs/OGC/[\d.]+/)?CRS84h?",
                    re.IGNORECASE)
_EPSG = re.compile(r"(?:EPSG:|urn:ogc:def:crs:EPSG:[\d.]*:|https?://www\.opengis\.net/def/crs/EPSG/[\d.]+/)?(\d+)",
                   re.IGNORECASE)


class UnknownCRS(ValueError):
    """A CRS name that is not CRS84 or an EPSG code (or an EPSG code PROJ does not know, where that matters)."""


@dataclass(frozen=True)
class CRS:
    srid: int  # EPSG code, which is also the PostGIS SRID; CRS84 is 4326
    crs84: bool = False  # OGC CRS84: WGS 84 with longitude first

    @property
    def uri(self) -> str:
        """The URI the OGC API names this CRS by."""
        return CRS84_URI if self.crs84 else epsg_uri(self.srid)

    @property
    def lat_first(self) -> bool:
        """Whether coordinates in this CRS come latitude first (EPSG:4326, 4756; never CRS84)."""
        return not self.crs84 and latitude_first(self.srid)


def parse(value: str | int) -> CRS:
    """'EPSG:5897', '5897', 5897, an OGC CRS URI or URN, or a CRS84 name → CRS; anything else is UnknownCRS."""
    text = str(value).strip()
    if _CRS84.fullmatch(text):
        return CRS(WGS84_SRID, crs84=True)
    match = _EPSG.fullmatch(text)
    if not match:
        raise UnknownCRS(f"CRS {str(value)[:100]!r} is not an EPSG code (write it as EPSG:5897)")
    return CRS(int(match.group(1)))


def parse_crs(value: str | int) -> int:
    """The SRID of a CRS name (see `parse`): where only the stored CRS matters (uploads, the command line)."""
    return parse(value).srid


@lru_cache(maxsize=256)
def latitude_first(srid: int) -> bool:
    """The EPSG registry's axis order: geographic CRSs are latitude first, projected ones easting first."""
    try:
        axes = pyproj.CRS.from_epsg(srid).axis_info
    except pyproj.exceptions.CRSError:
        raise UnknownCRS(f"EPSG:{srid} is not a CRS PROJ knows") from None
    return bool(axes) and axes[0].direction in ("north", "south")


def epsg_uri(srid: int) -> str:
    return f"http://www.opengis.net/def/crs/EPSG/0/{srid}"


def storage_crs_uri(srid: int) -> str:
    """How the OGC API and the REST API name a table's CRS: lon/lat tables as CRS84, since PostGIS keeps
    x = longitude (EPSG:4326 would promise latitude first)."""
    return CRS84_URI if srid == WGS84_SRID else epsg_uri(srid)
