"""The polygon layers figures are given per: the three known unit layers, and the rule for any other one.

A unit layer needs a code (stable key of a unit) and a name (what a chart shows). The known layers name theirs
here; for any other polygon dataset the caller names both fields, and they must be attributes of it.
"""
from dataclasses import dataclass

from layers.models import Dataset
from layers.summaries.errors import SummaryRefused

POLYGON_TYPES = frozenset({"Polygon", "MultiPolygon"})


@dataclass(frozen=True)
class UnitLayer:
    code_field: str
    name_field: str
    label_vi: str
    label_en: str


KNOWN_UNITS = {
    "cantho-districts": UnitLayer("level2_id", "name", "quận, huyện (trước 2025)", "districts (before 2025)"),
    "cantho-communes-2009": UnitLayer("commune_id", "commune_vn", "phường, xã (2009)", "communes (2009)"),
    "cantho-wards-2025": UnitLayer("code", "fullName", "phường, xã (từ 1/7/2025)", "wards and communes (since 2025)"),
}
DEFAULT_UNITS = "cantho-districts"


def unit_layer(units: Dataset, code_field: str | None = None, name_field: str | None = None) -> UnitLayer:
    """How `units` is read as units: its known fields, or the ones the caller names (checked against it)."""
    if units.geometry_type not in POLYGON_TYPES:
        raise SummaryRefused(f"units: dataset {units.slug!r} has {units.geometry_type} geometries, "
                             "not polygons; figures can only be given per polygon", field="units")
    known = KNOWN_UNITS.get(units.slug)
    code_field = code_field or (known.code_field if known else None)
    name_field = name_field or (known.name_field if known else None)
    if not code_field or not name_field:
        missing = "unit_code_field" if not code_field else "unit_name_field"
        raise SummaryRefused(f"{missing}: units {units.slug!r} is not a known unit layer "
                             f"({', '.join(KNOWN_UNITS)}); name its code and name fields", field=missing)
    attributes = units.fields
    for parameter, field in (("unit_code_field", code_field), ("unit_name_field", name_field)):
        if field not in attributes:
            raise SummaryRefused(f"{parameter}: units {units.slug!r} has no attribute {field!r} "
                                 f"(it has {attribute_list(attributes)})", field=parameter)
    if known and (code_field, name_field) == (known.code_field, known.name_field):
        return known
    return UnitLayer(code_field, name_field, units.title_vi, units.title_en)


def attribute_list(fields, shown: int = 12) -> str:
    """A dataset's attribute names for a message: the first few, and how many more."""
    names = list(fields)
    if not names:
        return "no attributes"
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more
