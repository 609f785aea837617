"""Checks and measurements run on a staging table before it may replace anything that is published."""
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from psycopg import sql

from layers.crs import CANTHO_DEFAULT_SRID, VN2000_TM3, VN2000_UTM, from_wgs84, to_wgs84
from layers.loading import ImportRefused
from layers.loading.feature_names import FeatureNames
from layers.loading.inspect import SourceLayer
from layers.postgis import PG_TO_JSON_SCHEMA
from layers.statements import execute as _execute, rows as _rows

# Generous box around Vietnam (incl. its islands): data outside it was declared in the wrong CRS.
VIETNAM_LON = (100.0, 118.0)
VIETNAM_LAT = (6.0, 24.5)
EXAMPLES = 5
# The city's districts (2008–2025 boundary, config/data/cantho), WGS 84 (lon, lat, lon, lat), a little wider.
CANTHO_BOX = (105.20, 9.90, 105.87, 10.35)
PROJECTED_VN2000 = {**VN2000_TM3, **VN2000_UTM}  # the zones one file's numbers could have been meant in

BASE_TYPES = {"POINT": "Point", "MULTIPOINT": "Point", "LINESTRING": "LineString", "MULTILINESTRING": "LineString",
              "POLYGON": "Polygon", "MULTIPOLYGON": "Polygon"}
COLLECTION_DIMENSION = {"Point": 1, "LineString": 2, "Polygon": 3}


@dataclass
class TableFacts:
    feature_count: int
    geometry_type: str
    extent_wgs84: tuple[float, float, float, float]
    attribute_schema: list[dict]
    districts: list[str] = field(default_factory=list)
    report: dict = field(default_factory=dict)
    time_field: str = ""
    temporal_extent: tuple = (None, None)


def table_ident(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def attribute_schema(schema: str, table: str, skip: tuple[str, ...] = ("fid", "geom")) -> list[dict]:
    """Columns in source order, each as {"name": ..., "type": ...[, "format": ...]} (JSON Schema types)."""
    return [
        {"name": name, **PG_TO_JSON_SCHEMA.get(data_type, {"type": "string"})}
        for name, data_type in _rows(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, table),
        )
        if name not in skip
    ]


def text_columns(columns: list[dict]) -> list[str]:
    return [c["name"] for c in columns if c == {"name": c["name"], "type": "string"}]


def normalise_text_to_nfc(schema: str, table: str, columns: list[dict]) -> None:
    """Vietnamese text is stored as NFC so that equality filters match whatever form the source used."""
    names = text_columns(columns)
    if not names:
        return
    assignments = sql.SQL(", ").join(sql.SQL("{c} = normalize({c}, NFC)").format(c=sql.Identifier(c)) for c in names)
    needs = sql.SQL(" OR ").join(sql.SQL("{c} IS NOT NFC NORMALIZED").format(c=sql.Identifier(c)) for c in names)
    _execute(sql.SQL("UPDATE {t} SET {a} WHERE {w}").format(t=table_ident(schema, table), a=assignments, w=needs))


@dataclass(frozen=True)
class Survey:
    """What one parallel scan of the staging table tells (the checks below act on it)."""

    total: int
    without_geometry: int
    invalid: int
    type_counts: dict[str, int]
    box: tuple | None  # (minx, miny, maxx, maxy) in the storage CRS
    not_nfc: int  # rows with a text value not in NFC
    time_field: str
    time_range: tuple


def survey(t, columns: list[dict]) -> Survey:
    """Counts, geometry types, validity, extent, NFC and time range, in one scan."""
    type_counts = [sql.SQL("count(*) FILTER (WHERE GeometryType(geom) = {})").format(sql.Literal(k)) for k in BASE_TYPES]
    texts = text_columns(columns)
    not_nfc = sql.SQL(" OR ").join(sql.SQL("{} IS NOT NFC NORMALIZED").format(sql.Identifier(c)) for c in texts) \
        if texts else sql.SQL("false")
    time_field = next((c["name"] for c in columns if c.get("format") in ("date", "date-time")), "")
    time_range = sql.SQL("min({c})::timestamptz, max({c})::timestamptz").format(c=sql.Identifier(time_field)) \
        if time_field else sql.SQL("NULL::timestamptz, NULL::timestamptz")
    row = _rows(sql.SQL(
        "SELECT count(*), count(*) FILTER (WHERE geom IS NULL OR ST_IsEmpty(geom)), "
        "count(*) FILTER (WHERE NOT ST_IsValid(geom)), {types}, "
        "count(*) FILTER (WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom) AND GeometryType(geom) NOT IN ({known})), "
        "ST_Extent(geom), count(*) FILTER (WHERE {not_nfc}), {time_range} FROM {t}"
    ).format(types=sql.SQL(", ").join(type_counts), known=sql.SQL(", ").join(map(sql.Literal, BASE_TYPES)),
             not_nfc=not_nfc, time_range=time_range, t=t))[0]
    total, missing, invalid, *counts, other, box, nfc, begin, end = row
    types = {k: n for k, n in zip(BASE_TYPES, counts) if n}
    if other:
        types["OTHER"] = other
    return Survey(total, missing, invalid, types, parse_box(box), nfc, time_field, (begin, end))


def parse_box(box: str | None) -> tuple | None:
    """PostGIS box2d text 'BOX(minx miny,maxx maxy)' → (minx, miny, maxx, maxy)."""
    if not box:
        return None
    low, high = box[box.index("(") + 1:box.index(")")].split(",")
    return (*map(float, low.split()), *map(float, high.split()))


def drop_features_without_geometry(t, found: Survey, label: str, report: dict, names: FeatureNames) -> None:
    if found.total == 0:
        raise ImportRefused(f"{label}: contains 0 features")
    if found.without_geometry == found.total:
        raise ImportRefused(f"{label}: no feature has a geometry (coordinate columns empty or not numbers?)")
    if found.without_geometry:
        fids = sorted(r[0] for r in _rows(sql.SQL("SELECT fid FROM {} WHERE geom IS NULL OR ST_IsEmpty(geom) "
                                                  "ORDER BY fid LIMIT %s").format(t), (EXAMPLES,)))
        examples = names(fids)  # named before they are deleted (a key column is read from the table)
        _execute(sql.SQL("DELETE FROM {} WHERE geom IS NULL OR ST_IsEmpty(geom)").format(t))
        report["dropped_without_geometry"] = {"count": found.without_geometry, "fids": fids, "features": examples}


def without_geometry_note(report: dict) -> str:
    """The features without geometry, for a message that refuses the file for something else."""
    dropped = report.get("dropped_without_geometry")
    if not dropped:
        return ""
    more = ", …" if dropped["count"] > len(dropped["features"]) else ""
    return (f"; {dropped['count']} feature(s) without geometry would be dropped "
            f"({', '.join(dropped['features'])}{more})")


def settle_geometry_type(t, srid: int, label: str, counts: dict[str, int] | None = None) -> str:
    """One geometry type per dataset: refuse a mix of points/lines/polygons, promote single+multi to multi."""
    if counts is None:
        counts = dict(_rows(sql.SQL("SELECT upper(GeometryType(geom)), count(*) FROM {} GROUP BY 1").format(t)))
    unknown = set(counts) - set(BASE_TYPES)
    if unknown:
        raise ImportRefused(f"{label}: unsupported geometry type(s) {', '.join(sorted(unknown))}; "
                            "the SDI publishes points, lines and polygons")
    bases = {BASE_TYPES[k] for k in counts}
    if len(bases) > 1:
        per_base = {base: sum(n for k, n in counts.items() if BASE_TYPES[k] == base) for base in sorted(bases)}
        mix = ", ".join(f"{n} {base}" for base, n in per_base.items())
        raise ImportRefused(f"{label}: mixed geometry types ({mix}); a dataset holds one type, split the file by type")
    base = bases.pop()
    multi = any(k.startswith("MULTI") for k in counts)
    target = f"Multi{base}" if multi else base
    (current,) = _rows("SELECT type FROM geometry_columns WHERE f_table_schema || '.' || f_table_name = %s",
                       (t.as_string(None).replace('"', ""),))[0]
    if current.upper() == target.upper():
        return target
    _execute(sql.SQL("ALTER TABLE {t} ALTER COLUMN geom TYPE geometry({typ}, {srid}) USING {expr}").format(
        t=t, typ=sql.SQL(target), srid=sql.Literal(srid),
        expr=sql.SQL("ST_Multi(geom)") if multi else sql.SQL("geom")))
    return target


def check_validity(t, geometry_type: str, label: str, repair: bool, report: dict, names: FeatureNames) -> bool:
    """Refuse invalid geometries, or repair them when asked; True when something was repaired."""
    invalid = _rows(sql.SQL("SELECT fid, ST_IsValidReason(geom) FROM {} WHERE NOT ST_IsValid(geom) ORDER BY fid").format(t))
    named = [f"{name}: {reason}" for name, (_, reason) in zip(names([fid for fid, _ in invalid[:EXAMPLES]]), invalid)]
    examples = "; ".join(named)
    if not repair:
        raise ImportRefused(f"{label}: {len(invalid)} invalid geometries ({examples}){without_geometry_note(report)}; "
                            "fix them at the source or ask for repair (ST_MakeValid)")
    dimension = COLLECTION_DIMENSION[geometry_type.removeprefix("Multi")]
    fixed = sql.SQL("ST_CollectionExtract(ST_MakeValid(geom), {})").format(sql.Literal(dimension))
    # A repaired polygon may come back as a multipolygon: free the column type, then settle it again.
    _execute(sql.SQL("ALTER TABLE {} ALTER COLUMN geom TYPE geometry").format(t))
    _execute(sql.SQL("UPDATE {t} SET geom = {fixed} WHERE NOT ST_IsValid(geom)").format(t=t, fixed=fixed))
    still = _rows(sql.SQL("SELECT count(*) FROM {} WHERE NOT ST_IsValid(geom) OR ST_IsEmpty(geom)").format(t))[0][0]
    if still:
        raise ImportRefused(f"{label}: {still} geometries could not be repaired ({examples})")
    report["repaired_invalid"] = {"count": len(invalid), "examples": named}
    return True


def wgs84_extent(box: tuple, srid: int, label: str) -> tuple[float, float, float, float]:
    """The storage-CRS box in WGS 84; refuse data that is not in or near Vietnam for the declared CRS."""
    envelope = sql.SQL("ST_MakeEnvelope(%s, %s, %s, %s, {})").format(sql.Literal(srid))
    try:
        with transaction.atomic():
            (bounds,) = _rows(sql.SQL("SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT {} AS b) e")
                              .format(to_wgs84(envelope, srid)), box)
    except DatabaseError as exc:
        raise ImportRefused(f"{label}: coordinates cannot be transformed from EPSG:{srid} ({exc}); is the CRS right?") from None
    minx, miny, maxx, maxy = bounds
    if not (VIETNAM_LON[0] <= minx and maxx <= VIETNAM_LON[1] and VIETNAM_LAT[0] <= miny and maxy <= VIETNAM_LAT[1]):
        raise ImportRefused(
            f"{label}: in EPSG:{srid} its extent is lon {minx:.4f}..{maxx:.4f}, lat {miny:.4f}..{maxy:.4f}, "
            "which is not in or near Vietnam: wrong CRS, or swapped x/y columns?"
        )
    return bounds


def _in_cantho(lon: float, lat: float) -> bool:
    return CANTHO_BOX[0] <= lon <= CANTHO_BOX[2] and CANTHO_BOX[1] <= lat <= CANTHO_BOX[3]


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two lon/lat points (a sphere is plenty for "about 82 km")."""
    (lon1, lat1), (lon2, lat2) = [(math.radians(x), math.radians(y)) for x, y in (a, b)]
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _direction(frm: tuple[float, float], to: tuple[float, float]) -> str:
    dx, dy = (to[0] - frm[0]) * math.cos(math.radians(frm[1])), to[1] - frm[1]
    return ("east" if dx > 0 else "west") if abs(dx) >= abs(dy) else ("north" if dy > 0 else "south")


def zone_warning(box: tuple, srid: int, extent: tuple, label: str, crs_origin: str) -> str | None:
    """A warning when the declared VN-2000 zone puts the data outside Cần Thơ but another zone puts it inside.

    Only a warning: a dataset may really cover another province. The numbers of a file exported in one TM-3 zone
    and declared in another land tens of kilometres east or west (EPSG:5897 numbers read as EPSG:9210 land
    ~82 km east, in Tiền Giang), still "in Vietnam", so nothing else would notice.
    """
    minx, miny, maxx, maxy = extent
    outside = maxx < CANTHO_BOX[0] or minx > CANTHO_BOX[2] or maxy < CANTHO_BOX[1] or miny > CANTHO_BOX[3]
    if srid not in PROJECTED_VN2000 or not outside:
        return None
    centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    zones = [code for code in PROJECTED_VN2000 if code != srid]
    point = sql.SQL("ST_SetSRID(ST_MakePoint(%s, %s), {})")
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}, ST_X(p), ST_Y(p) FROM (SELECT {} AS p) z").format(
            sql.Literal(code), to_wgs84(point.format(sql.Literal(code)), code))
        for code in zones)
    try:
        with transaction.atomic():
            placed = {code: (lon, lat) for code, lon, lat in _rows(query, centre * len(zones))}
    except DatabaseError:
        return None
    inside = [code for code in zones if code in placed and _in_cantho(*placed[code])]
    if not inside:
        return None
    middle = ((CANTHO_BOX[0] + CANTHO_BOX[2]) / 2, (CANTHO_BOX[1] + CANTHO_BOX[3]) / 2)
    inside.sort(key=lambda code: (code != CANTHO_DEFAULT_SRID, _km(placed[code], middle)))
    best, here = inside[0], ((minx + maxx) / 2, (miny + maxy) / 2)
    others = f" (so would {', '.join(f'EPSG:{code}' for code in inside[1:4])})" if len(inside) > 1 else ""
    return (f"{label}: EPSG:{srid} ({PROJECTED_VN2000[srid]}), {crs_origin}, puts the data at lon "
            f"{minx:.4f}..{maxx:.4f}, lat {miny:.4f}..{maxy:.4f}, outside Cần Thơ and about "
            f"{_km(here, placed[best]):.0f} km {_direction(placed[best], here)} of where EPSG:{best} "
            f"({PROJECTED_VN2000[best]}) puts it, inside the city{others}. If the data is in Cần Thơ, its numbers "
            f"are in EPSG:{best}: import it again declaring that CRS.")


def districts_covered(t, srid: int) -> list[str]:
    """Names of the Cần Thơ districts the data touches, from the district dataset when it is loaded."""
    from layers.models import Dataset

    districts = Dataset.objects.filter(slug=settings.SDI_DISTRICTS_DATASET).first()
    if districts is None or districts.storage_srid != 4326 or "name" not in districts.fields:
        return []
    district_table = table_ident(districts.table_schema, districts.table_name)
    # Districts are brought into the data's CRS once (9 rows), so the data's spatial index does the rest.
    return [name for (name,) in _rows(sql.SQL(
        "WITH d AS MATERIALIZED (SELECT name, {dg} AS geom FROM {d}) "
        "SELECT d.name FROM d WHERE EXISTS (SELECT 1 FROM {t} s WHERE ST_Intersects(s.geom, d.geom)) ORDER BY d.name"
    ).format(d=district_table, t=t, dg=from_wgs84(sql.SQL("geom"), srid)))]


def check_and_measure(schema: str, table: str, srid: int, label: str, repair: bool = False, *,
                      source: SourceLayer | None = None, crs_origin: str = "declared") -> TableFacts:
    """Refuse what cannot be published; repair, normalise and measure the rest. Runs on the staging table.

    `source` is the layer it was loaded from (messages name features by its own ids); `crs_origin` says where
    the CRS came from, for a warning about it. Warnings go to `report["warnings"]`.
    """
    t = table_ident(schema, table)
    report: dict = {}
    columns = attribute_schema(schema, table)
    names = FeatureNames(t, columns, source)
    found = survey(t, columns)
    drop_features_without_geometry(t, found, label, report, names)
    exact_types = None if "OTHER" in found.type_counts else found.type_counts  # else name the odd types exactly
    geometry_type = settle_geometry_type(t, srid, label, exact_types)
    box = found.box
    if found.invalid and check_validity(t, geometry_type, label, repair, report, names):
        geometry_type = settle_geometry_type(t, srid, label)
        box = parse_box(_rows(sql.SQL("SELECT ST_Extent(geom)::text FROM {}").format(t))[0][0])
    extent = wgs84_extent(box, srid, label)
    warning = zone_warning(box, srid, extent, label, crs_origin)
    if warning:
        report["warnings"] = [warning]
    if found.not_nfc:
        normalise_text_to_nfc(schema, table, columns)
    count = found.total - found.without_geometry
    return TableFacts(count, geometry_type, extent, columns, districts_covered(t, srid), report, found.time_field,
                      found.time_range if found.time_field else (None, None))
