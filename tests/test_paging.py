"""Walking an /items result to its end by its `next` links, as clients do, over real HTTP.

Every feature comes exactly once, and the walk stops on the last page that has features: no next link after
it and no empty page (issue 9, defect 1: pygeoapi added its own offset link after the last keyset page, and a
full last page linked to an empty one). Sizes that are and are not multiples of the limit; unfiltered (the
count comes from the registry), filtered (property, CQL2, bbox) and sorted (offset links); GeoJSON and HTML.
"""
import html
import re

import pytest
import requests
from django.db import connection
from psycopg import sql

pytestmark = pytest.mark.django_db

SLUG = "mekong-delta-districts-population-2009"
TABLE = "mekong_delta_districts_population_2009"  # 228 districts
ITEM_HREF = re.compile(rf'href="[^"]*/collections/{SLUG}/items/(\d+)"')
NEXT_BUTTON = re.compile(r'<a role="button" href="([^"]+)">(?:Next|Tiếp)</a>')


def expected_ids(where: str = "TRUE", params=()) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SELECT fid FROM sdi_data.{} t WHERE " + where + " ORDER BY fid").format(
            sql.Identifier(TABLE)), params)
        return [row[0] for row in cursor.fetchall()]


def walk_geojson(url: str, params: dict | None, limit: int, expected: int) -> list[list[int]]:
    """None for params: `url` is a next link already."""
    pages, next_url, next_params = [], url, None if params is None else {**params, "limit": limit}
    while next_url:
        assert len(pages) <= expected // limit + 1, "the walk goes on past the end"
        response = requests.get(next_url, params=next_params, timeout=30)
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        pages.append([f["id"] for f in body["features"]])
        assert body["numberReturned"] == len(pages[-1])
        nexts = [link["href"] for link in body["links"] if link["rel"] == "next"]
        assert len(nexts) <= 1, nexts  # ours alone, never pygeoapi's as well
        next_url, next_params = (nexts[0] if nexts else None), None
    return pages


def walk_html(url: str, params: dict, limit: int, expected: int) -> list[list[int]]:
    pages, next_url, next_params = [], url, {**params, "limit": limit, "f": "html"}
    while next_url:
        assert len(pages) <= expected // limit + 1, "the walk goes on past the end"
        response = requests.get(next_url, params=next_params, timeout=30)
        assert response.status_code == 200, response.text[:300]
        pages.append([int(i) for i in dict.fromkeys(ITEM_HREF.findall(response.text))])
        nexts = NEXT_BUTTON.findall(response.text)
        assert len(nexts) <= 1, nexts
        next_url, next_params = (html.unescape(nexts[0]) if nexts else None), None
    return pages


def assert_walked_once_to_the_end(pages: list[list[int]], expected: list[int], limit: int, ordered=True):
    assert all(pages), f"an empty page: {[len(p) for p in pages]}"
    assert all(len(page) == limit for page in pages[:-1]) and len(pages[-1]) <= limit
    seen = [i for page in pages for i in page]
    assert len(seen) == len(set(seen)), "a feature came twice"
    assert sorted(seen) == expected
    if ordered:
        assert seen == expected  # keyset and offset pages are in id order unless sorted


FILTERS = {  # name: (query parameters, SQL for the expected ids)
    "none": ({}, "TRUE", ()),
    "property": ({"Ten_Tinh": "Cần Thơ"}, "\"Ten_Tinh\" = %s", ("Cần Thơ",)),
    "cql2": ({"filter": "Dan_So > 150000"}, "\"Dan_So\" > 150000", ()),
    "bbox": ({"bbox": "105.0,9.5,106.5,10.5"},
             "ST_Intersects(geom, ST_MakeEnvelope(105.0, 9.5, 106.5, 10.5, 4326))", ()),
}


@pytest.mark.parametrize("name", FILTERS)
@pytest.mark.parametrize("fmt", ["geojson", "html"])
def test_next_links_walk_every_feature_once_and_stop_at_the_last_page(ogcapi, name, fmt):
    params, where, values = FILTERS[name]
    expected = expected_ids(where, values)
    assert len(expected) > 4, "the filter must select several pages"
    # a limit that divides the size (the last page is full), one that does not, and one larger than the result
    divisor = next(d for d in (76, 57, 19, 3, 2) if len(expected) % d == 0 and d < len(expected))
    walk = walk_geojson if fmt == "geojson" else walk_html
    for limit in (divisor, divisor + 1, len(expected), len(expected) + 5):
        pages = walk(f"{ogcapi}/collections/{SLUG}/items", params, limit, len(expected))
        assert_walked_once_to_the_end(pages, expected, limit)


@pytest.mark.parametrize("fmt", ["geojson", "html"])
def test_sorted_pages_walk_by_offset_to_the_end(ogcapi, fmt):
    expected = expected_ids()
    walk = walk_geojson if fmt == "geojson" else walk_html
    for limit in (57, 100):  # 228 = 4 × 57
        pages = walk(f"{ogcapi}/collections/{SLUG}/items", {"sortby": "-Dan_So"}, limit, len(expected))
        assert_walked_once_to_the_end(pages, expected, limit, ordered=False)


def test_the_last_keyset_page_has_no_next_link_and_offset_pages_link_back(ogcapi):
    url = f"{ogcapi}/collections/{SLUG}/items"
    last = requests.get(url, params={"limit": 100, "cursor": 200}, timeout=30).json()
    assert last["numberReturned"] == 28 and last["numberMatched"] == 228
    assert [link["rel"] for link in last["links"] if link["rel"] in ("next", "prev")] == []
    middle = requests.get(url, params={"limit": 50, "offset": 100, "sortby": "Dan_So"}, timeout=30).json()
    links = {link["rel"]: link["href"] for link in middle["links"] if link["rel"] in ("next", "prev")}
    assert "offset=150" in links["next"] and "offset=50" in links["prev"] and "sortby=Dan_So" in links["next"]


def test_the_next_links_of_a_post_query_carry_its_cql2_json_filter(ogcapi):
    """POST /items with a CQL2 JSON body: its next links are GETs, so the filter goes into them."""
    expected = expected_ids("\"Ten_Tinh\" = %s", ("Cần Thơ",))
    body = {"op": "=", "args": [{"property": "Ten_Tinh"}, "Cần Thơ"]}
    first = requests.post(f"{ogcapi}/collections/{SLUG}/items", params={"limit": 4}, json=body, timeout=30).json()
    pages = [[f["id"] for f in first["features"]]]
    nexts = [link["href"] for link in first["links"] if link["rel"] == "next"]
    pages += walk_geojson(nexts[0], None, 4, len(expected))
    assert_walked_once_to_the_end(pages, expected, 4)


def test_a_post_body_that_is_not_utf8_is_a_400(ogcapi):
    response = requests.post(f"{ogcapi}/collections/{SLUG}/items", data=b'{"op": "\xff"}',
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 400 and response.json()["code"] == "InvalidParameterValue"
