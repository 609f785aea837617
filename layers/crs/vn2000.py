"""The VN-2000 coordinate reference systems (EPSG codes) and how their datum shift is pinned to EPSG:6960.

Left to itself at Cần Thơ, PROJ picks EPSG:5194 (an offshore Mekong-delta transformation), 0.8 m away from the
official VN-2000 → WGS 84 parameters (EPSG:6960, Decision 05/2007/QĐ-BTNMT). Two pins keep every transform on
6960: in PostGIS, the SRIDs 900000+X (below); in pyproj, the operation named `OFFICIAL_OPERATION`.
"""

VN2000_GEOGRAPHIC = 4756
VN2000_UTM = {3405: "VN-2000 / UTM zone 48N", 3406: "VN-2000 / UTM zone 49N"}
VN2000_TM3 = {
    5896: "VN-2000 / TM-3 zone 481", 5897: "VN-2000 / TM-3 zone 482 (Cần Thơ)", 5898: "VN-2000 / TM-3 zone 491",
    5899: "VN-2000 / TM-3 107-45",
    **{code: f"VN-2000 / TM-3 {meridian}" for code, meridian in zip(range(9205, 9219), (
        "103-00", "104-00", "104-30", "104-45", "105-30", "105-45", "106-00", "106-15", "106-30", "107-00",
        "107-15", "107-30", "108-15", "108-30"))},
}
VN2000 = {VN2000_GEOGRAPHIC: "VN-2000 (geographic)", **VN2000_UTM, **VN2000_TM3}
CANTHO_DEFAULT_SRID = 5897

# Each VN-2000 code X also exists as SRID 900000+X (auth_name 'SDI', proj4text with the 6960 +towgs84, no
# EPSG code), created by migration layers/0004. PostGIS hands such a row's proj4text to PROJ and caches the
# result per SRID, so `ST_Transform(ST_SetSRID(geom, 905897), 4326)` applies EPSG:6960 at full speed —
# transforming through a proj4 *string* builds a new PROJ object per row (~0.5 ms each).
PINNED_SRID_OFFSET = 900000

OFFICIAL_OPERATION = "VN-2000 to WGS 84 (2)"  # EPSG:6960's name in the EPSG registry (pyproj's description)


def pinned_srid(srid: int) -> int:
    """The SRID PostGIS must transform through so that VN-2000 uses EPSG:6960 (other SRIDs unchanged)."""
    return PINNED_SRID_OFFSET + srid if srid in VN2000 else srid
