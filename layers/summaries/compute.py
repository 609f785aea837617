"""`summarise()`: figures per unit for a dataset — the contract the OGC API process, the REST/CSV endpoint and
the dataset pages share.

Every feature is split among the units it crosses (area or length of `ST_Intersection`, in metres), so the 2025
wards, which do not nest in the old districts, get exact figures. What each measure means:

- `count`: each feature counted once, in the unit holding its `ST_PointOnSurface` (a point on a shared
  boundary goes to the unit with the lowest code);
- `area` / `length`: m² / m of the part of each feature inside the unit (VN-2000 / TM-3 zone 482);
- `sum`: a numeric attribute apportioned by the share of each feature's area (length) inside the unit, so a
  parcel half in one district gives half its value to each (extensive quantities); points give all of it to
  the unit they are counted in;
- `mean`: the attribute's mean weighted by that area (length) inside the unit; for points, the plain mean.

Features outside every unit are in no row and in no total.
"""
import json
import time
import unicodedata
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from layers.models import Dataset
from layers.registry.selectors import visible_datasets
from layers.registry.services import current_registry_version
from layers.summaries import cache
from layers.summaries.errors import NotVisible, SummaryRefused
from layers.summaries.sql import geometry_kind, summary_sql
from layers.summaries.units import DEFAULT_UNITS, KNOWN_UNITS, attribute_list, unit_layer

MEASURES = ("auto", "count", "length", "area", "sum", "mean")
AUTO_MEASURE = {"polygon": "area", "line": "length", "point": "count"}
SIZE_KEY = {"polygon": "area_m2", "line": "length_m"}
UNIT_OF_MEASURE = {"area": "m²", "length": "m", "count": "features"}
NUMERIC_TYPES = ("integer", "number")
# The planner puts a Memoize node, keyed by the geometries, under the per-feature measures: hashing every
# parcel's geometry made the 1M-parcel summary 3.7 times slower (28 s against 7.6 s).
PLANNER_SETTINGS = "SET LOCAL enable_memoize = off"
RESULT_FORMAT = 2
MAX_NAME = 200
RESULT_KEYS = ("dataset", "dataset_title_vi", "dataset_title_en", "units", "units_title_vi", "units_title_en",
               "units_label_vi", "units_label_en", "unit_code_field", "unit_name_field", "measure", "attribute",
               "unit_of_measure", "category", "rows", "totals", "dataset_version", "units_version", "computed_at")  # part of the cache key: a change to the answer's shape must not serve rows stored in the old one


@dataclass(frozen=True)
class SummaryRequest:
    dataset: str                      # slug of the dataset summarised
    units: str = DEFAULT_UNITS        # slug of the polygon units dataset
    measure: str = "auto"             # auto | count | length | area | sum | mean
    attribute: str | None = None      # numeric attribute for sum / mean
    category: str | None = None       # group by this attribute as well
    unit_code_field: str | None = None  # for a units dataset that is not one of units.KNOWN_UNITS
    unit_name_field: str | None = None

    def key(self) -> tuple:
        return (self.dataset, self.units, self.measure, self.attribute, self.category, self.unit_code_field,
                self.unit_name_field)


def summarise(request: SummaryRequest, user, *, registry_version: int | None = None) -> dict:
    """The figures of `request` as `user` may see them; raises SummaryRefused (400) or NotVisible (404).

    `registry_version`: the caller's reading of it in this request, if it has one (spares a query)."""
    _check_text(request)
    if registry_version is None:
        registry_version = current_registry_version()
    memo_key = (registry_version, request.key())
    if (entry := cache.memo_get(memo_key)) is not None and _may_see_memo(entry, user, request):
        return {**entry["result"], "cached": True}
    dataset, units = _visible(request, user)
    plan = _plan(request, dataset, units)
    parameters = json.dumps(plan.parameters, sort_keys=True, ensure_ascii=False)
    result = cache.stored(dataset, units, parameters, RESULT_KEYS)
    if result is None:
        started = time.perf_counter()
        result = _compute(plan, dataset, units)
        cache.store(dataset, units, parameters, result, timezone.now(), time.perf_counter() - started)
        cached = False
    else:
        cached = True
    public = all(d.access_level == Dataset.Access.PUBLIC for d in (dataset, units))
    cache.memo_put(memo_key, {"result": result, "public": public})
    return {**result, "cached": cached}


def _check_text(request: SummaryRequest) -> None:
    """Names reach PostgreSQL only as bound values or checked identifiers, but a NUL or a novel is refused here."""
    for name, value in vars(request).items():
        if value is not None and (not isinstance(value, str) or "\x00" in value or len(value) > MAX_NAME):
            raise SummaryRefused(f"{name}: must be a name of at most {MAX_NAME} characters", name)


def _may_see_memo(entry: dict, user, request: SummaryRequest) -> bool:
    """A memo entry was stored by someone who could see both datasets; may this user? Raises NotVisible."""
    if entry["public"] or (user is not None and user.is_superuser):
        return True
    slugs = {request.dataset, request.units}
    if user is None or not user.is_authenticated or visible_datasets(user).filter(slug__in=slugs).count() < len(slugs):
        _visible(request, user)  # raises the same refusal a first call would
    return True


def _visible(request: SummaryRequest, user) -> tuple[Dataset, Dataset]:
    found = {d.slug: d for d in visible_datasets(user).filter(slug__in={request.dataset, request.units})}
    if request.dataset not in found:
        raise NotVisible(request.dataset)
    if request.units not in found:  # unknown and hidden alike: a refused parameter, not a missing resource
        raise SummaryRefused(f"units: no dataset {request.units!r} (known unit layers: "
                             f"{', '.join(KNOWN_UNITS)})", "units")
    return found[request.dataset], found[request.units]


@dataclass(frozen=True)
class Plan:
    kind: str
    measure: str
    attribute: str | None
    category: str | None
    code_field: str
    name_field: str
    units_label_vi: str
    units_label_en: str

    @property
    def parameters(self) -> dict:
        return {"format": RESULT_FORMAT, "measure": self.measure, "attribute": self.attribute, "category": self.category,
                "unit_code_field": self.code_field, "unit_name_field": self.name_field}


def _plan(request: SummaryRequest, dataset: Dataset, units: Dataset) -> Plan:
    """Check the request against the two datasets and resolve `auto`; every refusal names its field."""
    layer = unit_layer(units, request.unit_code_field, request.unit_name_field)
    kind = geometry_kind(dataset.geometry_type)
    if kind == "mixed":
        raise SummaryRefused(f"dataset: {dataset.slug!r} mixes geometry kinds; it cannot be measured", "dataset")
    if request.measure not in MEASURES:
        raise SummaryRefused(f"measure: {request.measure!r} is not one of {', '.join(MEASURES)}", "measure")
    measure = AUTO_MEASURE[kind] if request.measure == "auto" else request.measure
    if measure == "area" and kind != "polygon" or measure == "length" and kind != "line":
        raise SummaryRefused(f"measure: {measure} needs {'polygons' if measure == 'area' else 'lines'}; "
                             f"{dataset.slug!r} has {dataset.geometry_type} geometries", "measure")
    fields = dataset.fields
    if measure in ("sum", "mean"):
        if not request.attribute:
            raise SummaryRefused(f"attribute: measure {measure} needs a numeric attribute", "attribute")
        _check_field(dataset, fields, request.attribute, "attribute")
        if fields[request.attribute].get("type") not in NUMERIC_TYPES:
            raise SummaryRefused(f"attribute: {request.attribute!r} of {dataset.slug!r} is not numeric "
                                 f"({fields[request.attribute].get('type')})", "attribute")
    elif request.attribute:
        raise SummaryRefused(f"attribute: only the measures sum and mean use an attribute (measure is {measure})",
                             "attribute")
    if request.category:
        _check_field(dataset, fields, request.category, "category")
    return Plan(kind, measure, request.attribute or None, request.category or None, layer.code_field,
                layer.name_field, layer.label_vi, layer.label_en)


def _check_field(dataset: Dataset, fields: dict, name: str, parameter: str) -> None:
    if name not in fields:
        raise SummaryRefused(f"{parameter}: {dataset.slug!r} has no attribute {name!r} "
                             f"(it has {attribute_list(fields)})", parameter)


def table_sql(dataset: Dataset) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(dataset.table_schema), sql.Identifier(dataset.table_name))


def query_for(plan: Plan, dataset: Dataset, units: Dataset, shortcut: bool = True) -> sql.Composed:
    return summary_sql(table=table_sql(dataset), geom=dataset.geometry_field, srid=dataset.storage_srid,
                       kind=plan.kind, attribute=plan.attribute, category=plan.category,
                       units_table=table_sql(units), units_geom=units.geometry_field, units_srid=units.storage_srid,
                       code_field=plan.code_field, name_field=plan.name_field, shortcut=shortcut)


def _compute(plan: Plan, dataset: Dataset, units: Dataset) -> dict:
    query = query_for(plan, dataset, units)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(PLANNER_SETTINGS)
        cursor.execute(query.as_string(cursor.connection))
        raw = cursor.fetchall()
    size_key = SIZE_KEY.get(plan.kind)
    rows, totals = [], _Totals()
    by_category: dict[str | None, _Totals] = {}
    for code, name, category, count, measure, apportioned, weighted, weight in raw:
        row = {"unit_code": code, "unit_name": name, "category": category, "count": int(count or 0)}
        if size_key:
            row[size_key] = float(measure or 0.0)
        row["value"] = _value(plan.measure, count, measure, apportioned, weighted, weight)
        rows.append(row)
        if count is not None:
            totals.add(count, measure, apportioned, weighted, weight)
            by_category.setdefault(category, _Totals()).add(count, measure, apportioned, weighted, weight)
    rows.sort(key=lambda r: (_collation_key(r["unit_name"]), r["unit_code"], r["category"] is not None,
                             _collation_key(r["category"])))
    result_totals = totals.as_dict(plan.measure, size_key)
    if plan.category:
        result_totals["by_category"] = [{"category": c, **t.as_dict(plan.measure, size_key)} for c, t in
                                        sorted(by_category.items(), key=lambda i: (i[0] is not None, _collation_key(i[0])))]
    return {
        "dataset": dataset.slug, "dataset_title_vi": dataset.title_vi, "dataset_title_en": dataset.title_en,
        "units": units.slug, "units_title_vi": units.title_vi, "units_title_en": units.title_en,
        "units_label_vi": plan.units_label_vi, "units_label_en": plan.units_label_en,
        "unit_code_field": plan.code_field, "unit_name_field": plan.name_field,
        "measure": plan.measure, "attribute": plan.attribute,
        "unit_of_measure": UNIT_OF_MEASURE.get(plan.measure, plan.attribute),
        "category": plan.category, "rows": rows, "totals": result_totals,
        "dataset_version": dataset.updated.isoformat(), "units_version": units.updated.isoformat(),
        "computed_at": timezone.now().isoformat(),
    }


def _value(measure: str, count, size, apportioned, weighted, weight):
    if measure == "count":
        return int(count or 0)
    if measure in ("area", "length"):
        return float(size or 0.0)
    if measure == "sum":
        return float(apportioned or 0.0)
    return float(weighted) / float(weight) if weight else None  # mean


class _Totals:
    def __init__(self):
        self.count, self.size, self.apportioned, self.weighted, self.weight = 0, 0.0, 0.0, 0.0, 0.0

    def add(self, count, size, apportioned, weighted, weight):
        self.count += int(count or 0)
        self.size += float(size or 0.0)
        self.apportioned += float(apportioned or 0.0)
        self.weighted += float(weighted or 0.0)
        self.weight += float(weight or 0.0)

    def as_dict(self, measure: str, size_key: str | None) -> dict:
        result = {"count": self.count}
        if size_key:
            result[size_key] = self.size
        result["value"] = _value(measure, self.count, self.size, self.apportioned, self.weighted, self.weight)
        return result


def _collation_key(text: str | None) -> str:
    """Vietnamese alphabetical order, near enough for a chart: letters without their marks first (Đ as D)."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in folded if not unicodedata.combining(c)).casefold() + "\0" + text
