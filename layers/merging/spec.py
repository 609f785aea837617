"""The merge spec — a contract the admin, REST API, command line and other packages share — read and checked.

The spec is one object (a YAML/JSON file, or the REST body): `slug`, metadata (any DatasetMetadata field), `crs`,
`overlap` (priority | clip), `fields` (the target schema, in order) and `members`, each with its dataset,
`priority`, `key`, optional `clip` and one mapping per target field: a member field's name (rename), or
`{field, cast, map, unmapped}`, or `{value}` (a constant; `{value: null}` for an explicit NULL). Optional:
`min_area_m2` (smaller overlaps and gaps are noise of the reprojection, not reported; default 1) and
`gap_tolerance_m` (how far apart two members may be for the space between them to be a gap; default 5) and
`index_attributes` (B-tree indexes on every attribute column after publishing, as an upload has; default false:
they cost a third of a build of a million features).

Everything that can be refused without reading a member's data is refused here, naming the part at fault.
"""
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from layers.crs import UnknownCRS, parse_crs
from layers.registry.services import GIVEN_METADATA, RequestRefused, check_slug

TARGET_TYPES = ("text", "integer", "bigint", "double precision", "numeric", "date", "timestamptz", "boolean")
TYPE_ALIASES = {"int": "integer", "int4": "integer", "int8": "bigint", "float": "double precision",
                "float8": "double precision", "double": "double precision", "real": "double precision",
                "string": "text", "varchar": "text", "bool": "boolean", "timestamp": "timestamptz",
                "timestamp with time zone": "timestamptz"}
PROVENANCE = ("member_dataset", "member_key", "member_version")
RESERVED = ("fid", "geom", *PROVENANCE)
UNMAPPED = ("error", "keep", "null")
NAME_RE = re.compile(r"^[^\x00\"]{1,63}$")
MAPPING_KEYS = {"field", "cast", "map", "unmapped", "value", "scale"}
NUMERIC_TYPES = {"integer", "bigint", "double precision", "numeric"}
SPEC_KEYS = {"slug", "crs", "overlap", "fields", "members", "min_area_m2", "gap_tolerance_m", "index_attributes",
             *GIVEN_METADATA}
MEMBER_KEYS = {"dataset", "priority", "key", "clip", "fields"}


@dataclass(frozen=True)
class TargetField:
    name: str
    type: str


@dataclass(frozen=True)
class Mapping:
    """How one member fills one target field: from `field` (cast, value map) or a constant `value`."""
    target: str
    field: str | None = None
    cast: str | None = None
    map: dict | None = None
    unmapped: str = "error"
    value: object = None
    scale: float | None = None  # multiplies the (cast) value: a unit change, e.g. 10000 from hectares to m²

    @property
    def constant(self) -> bool:
        return self.field is None


@dataclass(frozen=True)
class Clip:
    dataset: str
    field: str
    value: object


@dataclass(frozen=True)
class Member:
    dataset: str
    priority: int
    key: str | None
    mappings: tuple[Mapping, ...]
    clip: Clip | None = None


@dataclass(frozen=True)
class MergeSpec:
    slug: str
    srid: int
    overlap: str
    fields: tuple[TargetField, ...]
    members: tuple[Member, ...]
    metadata: dict = field(default_factory=dict)  # DatasetMetadata values given (the service fills defaults)
    min_area_m2: float = 1.0
    gap_tolerance_m: float = 5.0
    index_attributes: bool = False

    def ranked(self) -> list[Member]:
        """Members in build order: priority 1 first."""
        return sorted(self.members, key=lambda m: m.priority)


def load_spec_file(path: str | Path) -> dict:
    """A spec file (YAML or JSON: JSON is YAML) as the raw object."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RequestRefused(f"{path}: cannot read the spec ({exc.strerror})", field="spec") from None
    except UnicodeDecodeError:
        raise RequestRefused(f"{path}: the spec is not UTF-8 text", field="spec") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RequestRefused(f"{path}: not valid YAML/JSON ({' '.join(str(exc).split())})", field="spec") from None
    if not isinstance(raw, dict):
        raise RequestRefused(f"{path}: the spec must be a mapping (slug, fields, members …)", field="spec")
    return raw


def nfc(value):
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def parse_spec(raw: dict) -> MergeSpec:
    """Check the spec's shape and values; raises RequestRefused naming the part at fault (`field` is its path)."""
    if not isinstance(raw, dict):
        raise RequestRefused("the spec must be an object (slug, fields, members …)", field="spec")
    slug = raw.get("slug")
    check_slug(slug)
    where = f"merge {slug}"
    unknown = sorted(set(raw) - SPEC_KEYS)
    if unknown:
        raise RequestRefused(f"{where}: unknown key {unknown[0]!r} (keys: slug, crs, overlap, fields, members, "
                             f"min_area_m2, gap_tolerance_m and the dataset metadata fields)", field=unknown[0])
    try:
        srid = parse_crs(raw.get("crs", ""))
    except UnknownCRS as exc:
        raise RequestRefused(f"{where}: crs: {exc}", field="crs") from None
    overlap = raw.get("overlap", "priority")
    if overlap not in ("priority", "clip"):
        raise RequestRefused(f"{where}: overlap {overlap!r}: choose priority or clip", field="overlap")
    targets = _target_fields(where, raw.get("fields"))
    members = raw.get("members")
    if not isinstance(members, list) or not members:
        raise RequestRefused(f"{where}: members: list at least one member dataset", field="members")
    parsed = tuple(_member(where, i, m, targets, overlap) for i, m in enumerate(members))
    slugs = [m.dataset for m in parsed]
    duplicate = next((s for s in slugs if slugs.count(s) > 1), None)
    if duplicate:
        raise RequestRefused(f"{where}: member {duplicate!r} is listed twice", field="members")
    if slug in slugs or f"{slug}-overlaps" in slugs:
        raise RequestRefused(f"{where}: a merge cannot be its own member", field="members")
    priorities = [m.priority for m in parsed]
    if overlap == "priority" and len(set(priorities)) != len(priorities):
        raise RequestRefused(f"{where}: members: give each member its own priority (1 wins over 2); found "
                             f"{sorted(priorities)}", field="members")
    metadata = {k: nfc(v) for k, v in raw.items() if k in GIVEN_METADATA}
    return MergeSpec(slug=slug, srid=srid, overlap=overlap, fields=targets, members=parsed, metadata=metadata,
                     min_area_m2=_number(where, raw, "min_area_m2", 1.0),
                     gap_tolerance_m=_number(where, raw, "gap_tolerance_m", 5.0),
                     index_attributes=_flag(where, raw, "index_attributes"))


def _flag(where: str, raw: dict, key: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise RequestRefused(f"{where}: {key} {value!r}: write true or false", field=key)
    return value


def _number(where: str, raw: dict, key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise RequestRefused(f"{where}: {key} {value!r}: give a number ≥ 0", field=key)
    return float(value)


def target_type(where: str, value, at: str) -> str:
    text = " ".join(str(value or "").lower().split())
    text = TYPE_ALIASES.get(text, text)
    if text not in TARGET_TYPES:
        raise RequestRefused(f"{where}: {at}: type {value!r} is not one of {', '.join(TARGET_TYPES)}", field=at)
    return text


def _target_fields(where: str, fields_) -> tuple[TargetField, ...]:
    if not isinstance(fields_, list) or not fields_:
        raise RequestRefused(f"{where}: fields: list the target schema ({{name, type}} in order)", field="fields")
    out = []
    for i, item in enumerate(fields_):
        at = f"fields[{i}]"
        if not isinstance(item, dict) or set(item) - {"name", "type"} or "name" not in item:
            raise RequestRefused(f"{where}: {at}: write each target field as {{name: …, type: …}}", field=at)
        name = nfc(item["name"])
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise RequestRefused(f"{where}: {at}: name {name!r} is not a column name (1-63 characters, no quotes)",
                                 field=at)
        if name in RESERVED:
            raise RequestRefused(f"{where}: {at}: {name!r} is the SDI's own column; choose another name", field=at)
        if name in (f.name for f in out):
            raise RequestRefused(f"{where}: {at}: field {name!r} is declared twice", field=at)
        out.append(TargetField(name, target_type(where, item.get("type", "text"), at)))
    return tuple(out)


def _member(where: str, index: int, raw, targets: tuple[TargetField, ...], overlap: str) -> Member:
    at = f"members[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("dataset"), str) or not raw["dataset"]:
        raise RequestRefused(f"{where}: {at}: name the member's dataset (dataset: SLUG)", field=at)
    slug = raw["dataset"]
    label = f"{where}, member {slug}"
    unknown = sorted(set(raw) - MEMBER_KEYS)
    if unknown:
        raise RequestRefused(f"{label}: unknown key {unknown[0]!r} (keys: {', '.join(sorted(MEMBER_KEYS))})",
                             field=f"{at}.{unknown[0]}")
    priority = raw.get("priority", index + 1)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise RequestRefused(f"{label}: priority {priority!r}: give a whole number (1 wins over 2)",
                             field=f"{at}.priority")
    key = raw.get("key")
    if key is not None and (not isinstance(key, str) or not NAME_RE.match(key)):
        raise RequestRefused(f"{label}: key {key!r} is not a field name", field=f"{at}.key")
    clip = None
    if raw.get("clip") is not None:
        c = raw["clip"]
        if not isinstance(c, dict) or not {"dataset", "field", "value"} <= set(c):
            raise RequestRefused(f"{label}: clip: write {{dataset: …, field: …, value: …}}", field=f"{at}.clip")
        clip = Clip(str(c["dataset"]), str(c["field"]), nfc(c["value"]))
    elif overlap == "clip":
        raise RequestRefused(f"{label}: overlap is clip, so each member needs its clip polygon "
                             f"(clip: {{dataset: …, field: …, value: …}})", field=f"{at}.clip")
    given = raw.get("fields")
    if not isinstance(given, dict):
        raise RequestRefused(f"{label}: fields: map every target field to a member field, a mapping or a value",
                             field=f"{at}.fields")
    names = [t.name for t in targets]
    extra = [nfc(k) for k in given if nfc(k) not in names]
    if extra:
        raise RequestRefused(f"{label}: field {extra[0]!r} is not a target field (target: {', '.join(names)})",
                             field=f"{at}.fields.{extra[0]}")
    given = {nfc(k): v for k, v in given.items()}
    mappings = []
    for target in targets:
        if target.name not in given:
            raise RequestRefused(f"{label}: target field {target.name!r} is not given (map it, or write "
                                 f"{{value: null}} for an explicit NULL)", field=f"{at}.fields.{target.name}")
        mappings.append(_mapping(f"{label}, field {target.name}", f"{at}.fields.{target.name}", target,
                                 given[target.name]))
    return Member(slug, priority, key, tuple(mappings), clip)


def _mapping(label: str, at: str, target: TargetField, raw) -> Mapping:
    if isinstance(raw, str):
        return Mapping(target.name, field=nfc(raw))
    if not isinstance(raw, dict) or not raw or set(raw) - MAPPING_KEYS:
        raise RequestRefused(f"{label}: write a member field name, {{field, cast, map, unmapped, scale}} or {{value}}",
                             field=at)
    if "value" in raw:
        if set(raw) != {"value"}:
            raise RequestRefused(f"{label}: a constant {{value}} takes no other key", field=at)
        value = raw["value"]
        if isinstance(value, dict | list):
            raise RequestRefused(f"{label}: value must be a single value", field=at)
        return Mapping(target.name, value=nfc(value))
    source = raw.get("field")
    if not isinstance(source, str) or not source:
        raise RequestRefused(f"{label}: name the member field (field: …) or give a value", field=at)
    cast = target_type(label, raw["cast"], at) if raw.get("cast") is not None else None
    value_map = raw.get("map")
    if value_map is not None:
        if not isinstance(value_map, dict) or not value_map:
            raise RequestRefused(f"{label}: map must be {{member value: target value, …}}", field=at)
        if any(isinstance(v, dict | list) for v in value_map.values()):
            raise RequestRefused(f"{label}: map values must be single values", field=at)
        value_map = {nfc(str(k)): (None if v is None else nfc(str(v))) for k, v in value_map.items()}
    unmapped = raw.get("unmapped", "error")
    if unmapped not in UNMAPPED:
        raise RequestRefused(f"{label}: unmapped {unmapped!r}: choose error, keep or null", field=at)
    scale = raw.get("scale")
    if scale is not None:
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale or scale != scale:
            raise RequestRefused(f"{label}: scale {scale!r}: give a number other than 0 (e.g. 10000 for ha → m²)",
                                 field=at)
        if target.type not in NUMERIC_TYPES or (cast is not None and cast not in NUMERIC_TYPES):
            raise RequestRefused(f"{label}: scale needs a number: the target type is {target.type}"
                                 + (f" and the cast {cast}" if cast else ""), field=at)
    return Mapping(target.name, field=nfc(source), cast=cast, map=value_map, unmapped=unmapped, scale=scale)
