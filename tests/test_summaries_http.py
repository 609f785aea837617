"""The summary over real HTTP (gunicorn on the test database): the OGC API process and /api/summaries."""
import csv
import io

import pytest
import requests
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from layers.models import Dataset
from layers.registry.services import delete_dataset
from tests.summaries_made import (CAI_RANG, NINH_KIEU, anchors, expected_by_unit, load, parcels_features,
                                  point_features)

PREFIX = "t-sumh-"
PARCELS, STATIONS, HIDDEN = f"{PREFIX}parcels", f"{PREFIX}stations", f"{PREFIX}hidden"
OGC = "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf"


@pytest.fixture(scope="module")
def made(django_db_setup, django_db_blocker, tmp_path_factory):
    folder = tmp_path_factory.mktemp("summaries-http")
    with django_db_blocker.unblock():
        points = anchors()
        load(folder, PARCELS, parcels_features(points))
        load(folder, STATIONS, point_features(points))
        load(folder, HIDDEN, parcels_features(points), access="restricted")
        boss = User.objects.create_superuser(f"{PREFIX}boss", password="pw")
        token = Token.objects.create(user=boss).key
        expected = expected_by_unit(PARCELS.replace("-", "_"), "cantho_districts", "level2_id", "polygon")
        yield {"points": points, "folder": folder, "token": token, "expected": expected}
        User.objects.filter(username__startswith=PREFIX).delete()
        for slug in Dataset.objects.filter(slug__startswith=PREFIX).values_list("slug", flat=True):
            delete_dataset(slug)


def execute(ogcapi, inputs, token=None, **kwargs):
    headers = {"Authorization": f"Token {token}"} if token else {}
    return requests.post(f"{ogcapi}/processes/summary/execution", json={"inputs": inputs}, headers=headers,
                         timeout=60, **kwargs)


def endpoint(server, slug, token=None, **params):
    headers = {"Authorization": f"Token {token}"} if token else {}
    return requests.get(f"{server}/api/summaries/{slug}", params=params, headers=headers, timeout=60)


def test_the_process_is_listed_and_described_in_both_languages(ogcapi):
    listed = requests.get(f"{ogcapi}/processes", timeout=30).json()["processes"]
    summary = next(p for p in listed if p["id"] == "summary")
    assert summary["title"] == "Thống kê theo quận, huyện và phường, xã"
    assert summary["jobControlOptions"] == ["sync-execute"]
    english = requests.get(f"{ogcapi}/processes/summary", params={"lang": "en"}, timeout=30).json()
    assert english["title"] == "Summary by district and ward"
    assert {"dataset", "units", "measure", "attribute", "category"} <= set(english["inputs"])
    assert english["inputs"]["dataset"]["minOccurs"] == 1
    assert english["inputs"]["measure"]["schema"]["enum"] == ["auto", "count", "length", "area", "sum", "mean"]
    assert "summary" in english["outputs"]
    assert any(link["rel"].endswith("/execute") and link["href"].startswith(f"{ogcapi}/processes/summary/execution")
               for link in english["links"])
    html = requests.get(f"{ogcapi}/processes/summary", params={"f": "html"}, timeout=30)
    assert html.status_code == 200 and "Thống kê theo quận" in html.text


def test_conformance_declares_the_processes_classes_we_test(ogcapi):
    classes = requests.get(f"{ogcapi}/conformance", timeout=30).json()["conformsTo"]
    assert {f"{OGC}/core", f"{OGC}/json", f"{OGC}/ogc-process-description"} <= set(classes)
    assert not any(c.endswith(("/job-list", "/callback", "/dismiss")) for c in classes)


def test_executing_the_process_splits_a_parcel_across_two_districts(ogcapi, made):
    response = execute(ogcapi, {"dataset": PARCELS, "measure": "area"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    result = response.json()
    assert result["dataset"] == PARCELS and result["units"] == "cantho-districts" and len(result["rows"]) == 9
    rows = {row["unit_code"]: row for row in result["rows"]}
    assert set(made["expected"]) == {code for code, row in rows.items() if row["area_m2"] > 0}
    for code, (area, _, _) in made["expected"].items():
        assert rows[code]["area_m2"] == pytest.approx(area, rel=2e-3)
    names = {row["unit_name"] for row in result["rows"] if row["count"]}
    assert names <= {NINH_KIEU, CAI_RANG} and result["totals"]["count"] == 3


def test_a_second_call_is_cached_and_a_reimport_is_summarised_again(server, made, django_db_blocker):
    first = endpoint(server, STATIONS, units="cantho-wards-2025").json()
    again = endpoint(server, STATIONS, units="cantho-wards-2025").json()
    assert again["cached"] is True and again["rows"] == first["rows"]
    with django_db_blocker.unblock():
        load(made["folder"], STATIONS, point_features(made["points"])[2:], replace=True)  # one station left
    replaced = endpoint(server, STATIONS, units="cantho-wards-2025").json()
    assert replaced["cached"] is False and replaced["totals"]["count"] == 1 and first["totals"]["count"] == 3
    with django_db_blocker.unblock():
        load(made["folder"], STATIONS, point_features(made["points"]), replace=True)


def test_a_hidden_dataset_is_404_on_the_process_and_the_endpoint(ogcapi, server, made):
    process = execute(ogcapi, {"dataset": HIDDEN})
    assert process.status_code == 404
    assert process.json()["code"] == "NotFound" and HIDDEN in process.json()["description"]
    rest = endpoint(server, HIDDEN)
    assert rest.status_code == 404 and rest.json() == {"detail": f"no dataset {HIDDEN!r}"}
    assert execute(ogcapi, {"dataset": HIDDEN}, token=made["token"]).status_code == 200  # its readers see it
    assert endpoint(server, HIDDEN, token=made["token"]).status_code == 200
    assert execute(ogcapi, {"dataset": HIDDEN}).status_code == 404  # and the worker's memo does not leak it


@pytest.mark.parametrize("inputs, field", [
    ({"measure": "sum", "attribute": "khong_co"}, "attribute"),
    ({"category": "mau_sac"}, "category"),
    ({"units": "cantho-wards-2030"}, "units"),
    ({"measure": "volume"}, "measure"),
])
def test_an_unknown_field_or_units_is_a_400_naming_it(ogcapi, server, made, inputs, field):
    process = execute(ogcapi, {"dataset": PARCELS, **inputs})
    assert process.status_code == 400 and process.json()["code"] == "InvalidParameterValue"
    assert process.json()["description"].startswith(f"{field}:")
    assert list(inputs.values())[-1] in process.json()["description"]
    rest = endpoint(server, PARCELS, **inputs)
    assert rest.status_code == 400 and rest.json()["detail"] == process.json()["description"]


def test_bad_process_bodies_are_400s(ogcapi, made):
    for body in ([1, 2], "text", {"inputs": ["dataset"]}):
        response = requests.post(f"{ogcapi}/processes/summary/execution", json=body, timeout=30)
        assert response.status_code == 400 and response.json()["code"] == "InvalidParameterValue"
    unknown_input = execute(ogcapi, {"dataset": PARCELS, "colour": "red"})
    assert unknown_input.status_code == 400 and unknown_input.json()["description"].startswith("colour:")
    callback = requests.post(f"{ogcapi}/processes/summary/execution", timeout=30, json={
        "inputs": {"dataset": PARCELS}, "subscriber": {"successUri": "http://127.0.0.1:9/hook"}})
    assert callback.status_code == 400 and "subscriber" in callback.json()["description"]
    assert requests.get(f"{ogcapi}/processes/summary/execution", timeout=30).status_code == 405
    assert requests.post(f"{ogcapi}/processes/nothing/execution", json={"inputs": {}}, timeout=30).status_code == 404


def test_csv_has_a_bom_a_vietnamese_header_and_the_numbers(server, made):
    response = endpoint(server, PARCELS, measure="sum", attribute="gia_tri", category="loai", format="csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == ["Mã đơn vị", "Tên đơn vị", "Nhóm (loai)", "Số đối tượng", "Diện tích (m²)",
                        "Tổng gia_tri (phân bổ theo diện tích/chiều dài)"]
    as_json = endpoint(server, PARCELS, measure="sum", attribute="gia_tri", category="loai").json()
    assert len(table) == 1 + len(as_json["rows"])
    for line, row in zip(table[1:], as_json["rows"]):
        assert line[:2] == [row["unit_code"], row["unit_name"]] and line[2] == (row["category"] or "")
        assert int(line[3]) == row["count"]
        assert float(line[4]) == pytest.approx(row["area_m2"], abs=0.01)
        assert float(line[5]) == pytest.approx(row["value"], abs=0.01)
    english = endpoint(server, PARCELS, format="csv", lang="en")
    assert english.content.decode("utf-8-sig").splitlines()[0] == "Unit code,Unit name,Features,Area (m²)"


def test_the_endpoint_refuses_unknown_parameters_and_formats(server, made):
    assert endpoint(server, PARCELS, unit="x").json()["detail"].startswith("unit: unknown parameter")
    assert endpoint(server, PARCELS, format="xlsx").json()["detail"].startswith("format:")
    bad_token = endpoint(server, PARCELS, token="nonsense")
    assert bad_token.status_code == 401 and "detail" in bad_token.json()
