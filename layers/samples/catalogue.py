"""The sample datasets `manage.py sample_data` makes: what each file is, how it is written, and its metadata.

Each file is generated into SDI_SAMPLES_DIR and imported through `import_vector_dataset`, the path an admin's
upload takes, with only what an admin would declare (e.g. "the .dbf is TCVN3"). A file whose bytes did not change
is not rewritten, and a dataset whose source records the file's SHA-256 is not imported again.
"""
import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from django.conf import settings

from layers.crs import CANTHO_DEFAULT_SRID
from layers.models import Dataset
from layers.registry.services import DatasetMetadata, delete_dataset, import_vector_dataset
from layers.samples import files, monitoring, parcels

log = logging.getLogger(__name__)

LICENCE = {"licence_name": "CC0 1.0 (dữ liệu mẫu tự tạo / our own synthetic sample data)",
           "licence_url": "https://creativecommons.org/publicdomain/zero/1.0/",
           "attribution": "Cần Thơ SDI — DỮ LIỆU MẪU, giả lập / SYNTHETIC sample, not real data"}
NOT_REAL_VI = "DỮ LIỆU MẪU, KHÔNG CÓ THẬT: do Cần Thơ SDI sinh ra để minh hoạ; chỉ ranh giới quận, huyện là thật. "
NOT_REAL_EN = "SYNTHETIC SAMPLE DATA, NOT REAL: made by the Cần Thơ SDI to show how it works; only the district " \
              "boundaries are real. "


@dataclass(frozen=True)
class Sample:
    slug: str
    filename: str
    build: Callable[[], bytes]
    metadata: dict
    encoding: str | None = None  # what the admin would declare in the upload form (None: the loader decides)

    def path(self) -> Path:
        return Path(settings.SDI_SAMPLES_DIR) / self.filename


def _land(title_vi: str, title_en: str, abstract_vi: str, abstract_en: str, district: str) -> dict:
    return {"title_vi": f"{title_vi} (DỮ LIỆU MẪU)", "title_en": f"{title_en} (SYNTHETIC sample data)",
            "abstract_vi": NOT_REAL_VI + abstract_vi, "abstract_en": NOT_REAL_EN + abstract_en, "sector": "land",
            "keywords": ["dữ liệu mẫu", "synthetic", "sample data", "hiện trạng sử dụng đất", "land use", district],
            **LICENCE}


@lru_cache(maxsize=1)
def _stations() -> tuple:
    return tuple(monitoring.stations())


SAMPLES = (
    Sample(
        "binh-thuy-hien-trang-su-dung-dat", "binh_thuy_hien_trang_su_dung_dat.zip",
        lambda: files.legacy_shapefile_zip(parcels.binh_thuy_features(), srid=CANTHO_DEFAULT_SRID, encoding="tcvn3",
                                           layer="HTSDD_BinhThuy"),
        _land("Hiện trạng sử dụng đất quận Bình Thủy", "Bình Thủy land use",
              "Shapefile nén (zip) như phòng Tài nguyên và Môi trường cũ gửi: chữ trong .dbf mã TCVN3 (ABC), hệ tọa độ "
              "VN-2000 / TM-3 múi 482 (EPSG:5897, có .prj), cột SoHieu, MucDichSD (tên mục đích sử dụng đầy đủ), "
              "DienTich (m²), NgayCN. Lưới thửa 150 m; một dải thửa dọc ranh Ninh Kiều lấn ~30 m sang Ninh Kiều "
              "và một đoạn ranh bị hở 25 m, cố ý, để phép ghép lớp báo chồng lấn và khe hở.",
              "A zipped Shapefile as an old district office sends it: .dbf text in TCVN3 (ABC), CRS VN-2000 / TM-3 "
              "zone 482 (EPSG:5897, with a .prj), columns SoHieu, MucDichSD (the land-use purpose in full), DienTich "
              "(m²), NgayCN. A 150 m parcel grid; on purpose, a strip along the Ninh Kiều border reaches ~30 m into "
              "Ninh Kiều and one stretch of it is left 25 m short, so that the merge reports an overlap and a gap.",
              "Bình Thủy"),
        encoding="tcvn3"),
    Sample(
        "cai-rang-land-use", "cai_rang_land_use.gpkg",
        lambda: files.geopackage(parcels.cai_rang_features(), layer="cai_rang_land_use"),
        _land("Sử dụng đất quận Cái Răng", "Cái Răng land use",
              "GeoPackage WGS 84 với lược đồ tiếng Anh của riêng quận: parcel_id, landuse (bảng mã riêng: RES-URBAN, "
              "RICE, PERENNIAL, WATER, ROAD, COMMERCIAL, INDUSTRY, …), area_ha (héc-ta), surveyed (ngày đo). "
              "Lưới thửa 150 m.",
              "A WGS 84 GeoPackage with the district's own English schema: parcel_id, landuse (its own code list: "
              "RES-URBAN, RICE, PERENNIAL, WATER, ROAD, COMMERCIAL, INDUSTRY, …), area_ha (hectares), surveyed "
              "(date). A 150 m parcel grid.",
              "Cái Răng")),
    Sample(
        "phong-dien-land-use", "phong_dien_land_use.geojson",
        lambda: files.geojson_bytes(parcels.phong_dien_features(), CANTHO_DEFAULT_SRID),
        _land("Kiểm kê đất đai huyện Phong Điền 2019", "Phong Điền land inventory 2019",
              "GeoJSON trong VN-2000 / TM-3 (EPSG:5897, ghi ở thành phần \"crs\") theo bảng mã cũ năm 2014 "
              "(Thông tư 28/2014/TT-BTNMT: LUC, LUK, CLN, ONT, NTS, SON, DGT, …) ở cột MA_LOAI; mã số ở các cột "
              "MA_THUA, SO_TO, SO_THUA, MA_HUYEN; DT (m²). Thửa nông thôn lớn, lưới 250 m.",
              "GeoJSON in VN-2000 / TM-3 (EPSG:5897, named in its \"crs\" member) with the old 2014 code list "
              "(Circular 28/2014/TT-BTNMT: LUC, LUK, CLN, ONT, NTS, SON, DGT, …) in MA_LOAI; numeric MA_THUA, SO_TO, "
              "SO_THUA, MA_HUYEN; DT (m²). Large rural parcels, a 250 m grid.",
              "Phong Điền")),
    Sample(
        "quan-trac-moi-truong", "quan_trac_nuoc_mat_2024_2025.geojson",
        lambda: files.geojson_bytes(monitoring.readings(list(_stations()))),
        {"title_vi": "Quan trắc chất lượng nước mặt 2024–2025, kết quả hằng tháng (DỮ LIỆU MẪU)",
         "title_en": "Surface water monitoring 2024–2025, monthly readings (SYNTHETIC sample data)",
         "abstract_vi": NOT_REAL_VI + "Mỗi đối tượng là một lần đo của một trạm (ngày 15 hằng tháng): pH, DO, BOD5, "
                        "COD, TSS (mg/l), độ mặn (‰) và vuot_quy_chuan khi một thông số vượt giới hạn cột B1 của "
                        "QCVN 08-MT:2015/BTNMT (thong_so_vuot nêu thông số nào). Trường thời gian thoi_gian: lọc "
                        "bằng datetime=, ví dụ datetime=2025-01-01T00:00:00Z/2025-03-31T23:59:59Z.",
         "abstract_en": NOT_REAL_EN + "Each feature is one reading at one station (the 15th of each month): pH, DO, "
                        "BOD5, COD, TSS (mg/l), salinity (‰) and vuot_quy_chuan when a value breaks a column B1 "
                        "limit of QCVN 08-MT:2015/BTNMT (thong_so_vuot says which). Time field thoi_gian: filter with "
                        "datetime=, e.g. datetime=2025-01-01T00:00:00Z/2025-03-31T23:59:59Z.",
         "sector": "environment",
         "keywords": ["dữ liệu mẫu", "synthetic", "quan trắc", "monitoring", "nước mặt", "surface water", "QCVN 08"],
         **LICENCE}),
    Sample(
        "tram-quan-trac", "tram_quan_trac_nuoc_mat.csv",
        lambda: files.csv_points(monitoring.station_rows(list(_stations()))),
        {"title_vi": "Trạm quan trắc nước mặt (DỮ LIỆU MẪU)",
         "title_en": "Surface water monitoring stations (SYNTHETIC sample data)",
         "abstract_vi": NOT_REAL_VI + "20 trạm: ven sông, kênh thật nơi sông kênh đi qua quận, huyện, còn lại trong "
                        "kênh nội đồng. CSV có cột lon/lat. Kết quả đo: lớp quan-trac-moi-truong.",
         "abstract_en": NOT_REAL_EN + "20 stations: by the real rivers and canals where they cross a district, "
                        "inland otherwise. A CSV with lon/lat columns. Readings: collection quan-trac-moi-truong.",
         "sector": "environment",
         "keywords": ["dữ liệu mẫu", "synthetic", "quan trắc", "monitoring stations", "nước mặt"],
         **LICENCE}),
)
SLUGS = tuple(s.slug for s in SAMPLES)


@dataclass(frozen=True)
class Outcome:
    slug: str
    file_changed: bool
    imported: bool
    features: int | None = None
    replaced: bool = False  # real data holds the slug now: left alone


def replaced_by_real_data(sample: Sample) -> bool:
    """A dataset under the sample's slug that was not loaded from the sample file (someone uploaded real data, or
    registered a real source, under that slug): `sample_data` never touches it, --reset included."""
    source = Dataset.objects.filter(slug=sample.slug).values_list("source", flat=True).first()
    return source is not None and not source.startswith(f"{sample.filename} (sha256:")


def fingerprint(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write only new bytes, so an unchanged sample keeps its file (and its modification time)."""
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    partial.replace(path)
    return True


def make_sample(sample: Sample, *, load: bool = True) -> Outcome:
    """Write one sample file (if its bytes changed) and import it (if the published dataset came from other bytes)."""
    if replaced_by_real_data(sample):
        return Outcome(sample.slug, False, False, replaced=True)
    data = sample.build()
    changed = write_if_changed(sample.path(), data)
    if not load:
        return Outcome(sample.slug, changed, False)
    print_ = fingerprint(data)
    current = Dataset.objects.filter(slug=sample.slug).values_list("source", flat=True).first()
    if current and print_ in current:
        log.info("%s is up to date", sample.slug)
        return Outcome(sample.slug, changed, False)
    metadata = DatasetMetadata(**sample.metadata, source=f"{sample.filename} ({print_})")
    result = import_vector_dataset(sample.path(), slug=sample.slug, metadata=metadata, encoding=sample.encoding,
                                   replace=current is not None)
    return Outcome(sample.slug, changed, True, result.dataset.feature_count)


def reset_samples() -> list[str]:
    """Delete the sample datasets and files (the next run makes them afresh); returns the slugs deleted. A slug that
    real data has taken over is left alone."""
    deleted = []
    for sample in SAMPLES:
        if replaced_by_real_data(sample):
            continue
        if Dataset.objects.filter(slug=sample.slug).exists():
            delete_dataset(sample.slug)
            deleted.append(sample.slug)
        sample.path().unlink(missing_ok=True)
    return deleted
