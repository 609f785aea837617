"""Conformance details a validator checks (issue 9, defect 3), over real HTTP."""
import pytest
import requests

pytestmark = pytest.mark.django_db

NO_TIME_FIELD = "cantho-districts"


def get(url, **params):
    return requests.get(url, params=params, timeout=30)


@pytest.mark.parametrize("value", ["not-a-date", "2023-13-45", "2023-01-01/2023-02-01/2023-03-01", "../..x", ".."])
def test_a_malformed_datetime_is_a_400_on_a_collection_without_a_time_field(ogcapi, value):
    response = get(f"{ogcapi}/collections/{NO_TIME_FIELD}/items", datetime=value)
    assert response.status_code == 400, response.text[:300]
    body = response.json()
    assert body["code"] == "InvalidParameterValue" and "datetime" in body["description"]


@pytest.mark.parametrize("value", ["2023-06-30", "2023-06-30T10:00:00Z", "2023-01-01/..", "../2023-12-31",
                                   "2023-01-01T00:00:00+07:00/2024-01-01"])
def test_a_wellformed_datetime_is_accepted_where_there_is_no_time_field(ogcapi, value):
    body = get(f"{ogcapi}/collections/{NO_TIME_FIELD}/items", datetime=value).json()
    assert body["numberMatched"] == 9  # nothing to filter on: every feature


@pytest.mark.parametrize("document", ["queryables", "schema"])
def test_json_schema_documents_name_the_dialect_part_3_requires(ogcapi, document):
    response = get(f"{ogcapi}/collections/{NO_TIME_FIELD}/{document}")
    assert response.status_code == 200 and "json" in response.headers["Content-Type"]
    body = response.json()
    assert body["$schema"] in ("https://json-schema.org/draft/2019-09/schema",
                               "https://json-schema.org/draft/2020-12/schema")
    assert body["properties"]  # the rest of pygeoapi's document is intact
    assert body["$id"].endswith(f"/collections/{NO_TIME_FIELD}/{document}")
