"""A WFS GetFeature answer in GML, turned into GeoJSON features here, for servers that offer no GeoJSON.

Not GDAL's GML driver: it reads the .xsd a document names (downloading it, or a local path), resolves xlinks
and writes .gfs files beside its input, all on behalf of a file we did not make. Here the XML is parsed by
defusedxml (no DTD, so no entities and no external references), the properties are the simple child elements'
text, and each geometry fragment alone is given to OGR_G_CreateFromGML (Django's `OGRGeometry.from_gml`),
which parses that fragment and reads nothing else (an `xlink:href` geometry is refused, not fetched).

Values come as text (GML carries no types without its schema, which is not read). Coordinates are kept in
the order the server wrote them, except under a URN/URI srsName of a latitude-first CRS (urn:ogc:def:crs:EPSG::4326),
whose axes are swapped to x = longitude as GeoJSON wants.
"""
import ctypes
import json
import re
from xml.etree.ElementTree import tostring

from django.contrib.gis.gdal import GDALException, OGRGeometry
from django.contrib.gis.gdal.libgdal import lgdal

from layers.crs.identifiers import UnknownCRS, latitude_first

GML_NAMESPACES = ("http://www.opengis.net/gml/3.2", "http://www.opengis.net/gml")
MEMBERS = ("member", "featureMember", "featureMembers")
AUTHORITY_AXES = re.compile(r"^(?:urn:ogc:def:crs:EPSG:[\d.]*:|https?://www\.opengis\.net/def/crs/EPSG/[\d.]+/)(\d+)$",
                            re.IGNORECASE)
_swap_xy = lgdal.OGR_G_SwapXY
_swap_xy.restype, _swap_xy.argtypes = None, [ctypes.c_void_p]


def is_gml_format(output_format: str) -> bool:
    text = output_format.lower()
    return "gml" in text and "json" not in text


def gml_page(root, fail, where: str) -> tuple[list[dict], int | None]:
    """The features of a parsed GML FeatureCollection, and its numberMatched (None when not given)."""
    if _local(root.tag) != "FeatureCollection":
        raise fail(f"answered {_local(root.tag)} XML, not a GML FeatureCollection", where)
    said = root.get("numberMatched", root.get("numberOfFeatures", ""))
    matched = int(said) if said.isdigit() else None
    features = []
    for member in root:
        if _local(member.tag) not in MEMBERS:
            continue
        for element in member:
            features.append(_feature(element, len(features) + 1, fail, where))
    return features, matched


def _feature(element, number: int, fail, where: str) -> dict:
    gml_id = next((element.get(f"{{{ns}}}id") for ns in GML_NAMESPACES if element.get(f"{{{ns}}}id")), None)
    name = f"feature {gml_id or number}"
    properties, geometry, geometry_field = {}, None, None
    for child in element:
        if _namespace(child.tag) in GML_NAMESPACES:
            continue  # gml:boundedBy, gml:name…: GML's own, not the feature type's
        field = _local(child.tag)
        parts = list(child)
        if not parts:
            nil = child.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
            properties[field] = None if nil else (child.text or "").strip()
            continue
        if len(parts) != 1 or _namespace(parts[0].tag) not in GML_NAMESPACES:
            raise fail(f"{name}: property {field!r} is a nested element; only simple features are read", where)
        if geometry is not None:
            raise fail(f"{name}: has a second geometry property {field!r} (besides {geometry_field!r})", where)
        geometry, geometry_field = _geometry(parts[0], f"{name}: geometry {field!r}", fail, where), field
    feature = {"type": "Feature", "properties": properties, "geometry": geometry}
    if gml_id:
        feature["id"] = gml_id
    return feature


def _geometry(element, name: str, fail, where: str) -> dict:
    if any(key.endswith("}href") for key in element.attrib):
        raise fail(f"{name} is a link (xlink:href); linked geometries are not fetched", where)
    try:
        geometry = OGRGeometry.from_gml(tostring(element, encoding="unicode"))
    except GDALException:
        raise fail(f"{name} is not GML that OGR can read", where) from None
    srs_name = element.get("srsName", "")
    match = AUTHORITY_AXES.match(srs_name.strip())
    try:
        swap = bool(match) and latitude_first(int(match.group(1)))
    except UnknownCRS:
        swap = False
    if swap:
        _swap_xy(geometry.ptr)
    return json.loads(geometry.json)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""
