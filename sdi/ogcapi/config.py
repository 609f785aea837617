"""Generate pygeoapi's configuration from the dataset registry (never hand-edited)."""
import copy
from functools import cache

import yaml
from django.conf import settings

from layers.crs import CRS84_URI as CRS84, offered_uris, storage_crs_uri
from layers.models import Dataset
from sdi.database import connection_kwargs
from sdi.ogcapi.adapter import PROCESS_MANAGER

PROVIDER_CLASS = "layers.serving.provider.PostGISProvider"
# OGC API – Processes: summaries by district and ward (layers/summaries/process.py), run by adapter seam 12.
PROCESS_RESOURCES = {
    "summary": {"type": "process", "processor": {"name": "layers.summaries.process.SummaryProcessor"}},
}


@cache
def base_config() -> dict:
    with open(settings.SDI_PYGEOAPI_BASE_CONFIG, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def database_definition() -> dict:
    """The connection part of a provider definition, in the shape of pygeoapi's PostgreSQL provider."""
    return connection_kwargs()


def extents(dataset: Dataset, bbox: tuple) -> dict:
    result = {"spatial": {"bbox": list(bbox), "crs": CRS84}}
    if dataset.time_field:
        result["temporal"] = {"begin": dataset.temporal_begin, "end": dataset.temporal_end,
                              "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return result


def collection_resource(dataset: Dataset, database: dict) -> dict:
    """One pygeoapi `resources` entry for a dataset."""
    minx, miny, maxx, maxy = dataset.extent.extent if dataset.extent else (-180, -90, 180, 90)
    attribution = f"{dataset.attribution} — {dataset.licence_name}"
    links = [{
        "type": "text/html",
        "rel": "license",
        "title": dataset.licence_name,
        "href": dataset.licence_url or "https://www.cantho.gov.vn/",
        "hreflang": "en",
    }]
    return {
        "type": "collection",
        "title": {"vi": dataset.title_vi, "en": dataset.title_en},
        "description": {
            "vi": f"{dataset.abstract_vi or dataset.title_vi}\n\nNguồn: {attribution}",
            "en": f"{dataset.abstract_en or dataset.title_en}\n\nSource: {attribution}",
        },
        "keywords": list(dataset.keywords) or [dataset.slug],
        "links": links,
        "extents": extents(dataset, (minx, miny, maxx, maxy)),
        "providers": [{
            "type": "feature",
            "name": PROVIDER_CLASS,
            "data": database,
            "table": dataset.table_name,
            "schema": dataset.table_schema,
            "id_field": dataset.id_field,
            "geom_field": dataset.geometry_field,
            "storage_crs": storage_crs_uri(dataset.storage_srid),
            "crs": offered_uris(dataset.storage_srid),
            "fields": dataset.fields,
            "feature_count": dataset.feature_count,
            "time_field": dataset.time_field or None,
            "attribution": attribution,
            "serving": settings.SDI_SERVING.as_definition(),
        }],
    }


def build_config(datasets, base_url: str) -> dict:
    config = copy.deepcopy(base_config())
    config["server"]["url"] = base_url
    config["server"]["locale_dir"] = str(settings.SDI_CONFIG_DIR / "locale")  # our vi/en catalogs for the HTML
    limits = config["server"]["limits"]
    limits["default_items"] = settings.SDI_ITEMS_DEFAULT_LIMIT
    limits["max_items"] = settings.SDI_ITEMS_MAX_LIMIT
    database = database_definition()
    config["server"]["manager"] = {"name": PROCESS_MANAGER, "connection": None, "output_dir": None}
    config["resources"] = {dataset.slug: collection_resource(dataset, database) for dataset in datasets}
    config["resources"].update(PROCESS_RESOURCES)  # a dataset slugged like a process would be shadowed by it
    return config
