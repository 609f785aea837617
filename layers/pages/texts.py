"""Every label of the dataset page and the leaders' page, in Vietnamese and English, in one place.

Templates get the labels of one language as `t` (`{{ t.licence }}`); the pages are short, so a table of pairs
is easier to keep in step than two gettext catalogues.
"""
import unicodedata

TEXTS = {
    "site": ("Cần Thơ SDI", "Cần Thơ SDI"),
    "site_long": ("Hạ tầng dữ liệu không gian thành phố Cần Thơ", "Spatial data infrastructure of Cần Thơ city"),
    "home": ("Trang chủ", "Home"),
    "leaders": ("Bảng số liệu lãnh đạo", "Leaders' figures"),
    "other_language": ("English", "Tiếng Việt"),
    "sector": ("Lĩnh vực", "Sector"),
    "agency": ("Cơ quan", "Agency"),
    "licence": ("Giấy phép", "Licence"),
    "attribution": ("Nguồn", "Attribution"),
    "features": ("Số đối tượng", "Features"),
    "geometry": ("Kiểu hình học", "Geometry"),
    "extent": ("Phạm vi (WGS 84)", "Extent (WGS 84)"),
    "updated": ("Cập nhật", "Updated"),
    "links": ("Liên kết", "Links"),
    "link_collection": ("Bộ sưu tập trên OGC API – Features", "OGC API – Features collection"),
    "link_items": ("Các đối tượng (GeoJSON)", "Items (GeoJSON)"),
    "link_qgis": ("Địa chỉ kết nối QGIS (WFS / OGC API – Features → Mới)",
                  "QGIS connection URL (WFS / OGC API – Features → New)"),
    "link_csv": ("Tải bảng số liệu (CSV)", "Download the figures (CSV)"),
    "summary": ("Số liệu theo đơn vị hành chính", "Figures by administrative unit"),
    "units": ("Đơn vị", "Units"),
    "measure": ("Đại lượng", "Measure"),
    "attribute": ("Thuộc tính số (cho tổng, trung bình)", "Numeric attribute (for sum, mean)"),
    "category": ("Phân nhóm theo", "Group by"),
    "none": ("(không)", "(none)"),
    "show": ("Xem", "Show"),
    "unit": ("Đơn vị hành chính", "Unit"),
    "code": ("Mã", "Code"),
    "total": ("Tổng", "Total"),
    "no_value": ("(không có giá trị)", "(no value)"),
    "computed_at": ("Số liệu tính lúc", "Computed at"),
    "from_cache": ("từ bộ nhớ đệm", "from the cache"),
    "refused": ("Không tính được số liệu", "The figures could not be computed"),
    "chart": ("Biểu đồ", "Chart"),
    "leaders_intro": ("Các số liệu chính của thành phố Cần Thơ, tính từ các lớp dữ liệu đã gộp, dữ liệu dân số và "
                      "dữ liệu quan trắc. Mỗi bảng dẫn tới trang của lớp dữ liệu.",
                      "The key figures of Cần Thơ city, from the merged layers, the population data and the "
                      "monitoring data. Each panel links to its dataset's page."),
    "not_available": ("chưa có dữ liệu", "not available yet"),
    "open_dataset": ("Xem trang dữ liệu", "Open the dataset page"),
    "datasets": ("Dữ liệu", "Datasets"),
    "not_found": ("Không tìm thấy", "Not found"),
}

MEASURE_LABELS = {  # the measures of layers.summaries.compute.MEASURES
    "auto": ("Tự động (diện tích, chiều dài hoặc số đối tượng)", "Automatic (area, length or count)"),
    "count": ("Số đối tượng", "Number of features"),
    "length": ("Chiều dài", "Length"),
    "area": ("Diện tích", "Area"),
    "sum": ("Tổng của thuộc tính", "Sum of an attribute"),
    "mean": ("Trung bình của thuộc tính (theo diện tích, chiều dài)", "Mean of an attribute (weighted)"),
}

# Short column headings for the figure itself, by the measure the summary actually used.
VALUE_HEADINGS = {
    "count": ("Số đối tượng", "Features"),
    "length": ("Chiều dài", "Length"),
    "area": ("Diện tích", "Area"),
    "sum": ("Tổng {attribute}", "Sum of {attribute}"),
    "mean": ("Trung bình {attribute}", "Mean of {attribute}"),
}


def pick(pair: tuple[str, str], lang: str) -> str:
    return unicodedata.normalize("NFC", pair[1] if lang == "en" else pair[0])


def texts_for(lang: str) -> dict[str, str]:
    return {key: pick(pair, lang) for key, pair in TEXTS.items()}


def bilingual(obj, field: str, lang: str) -> str:
    """`obj.<field>_en` for English readers when it is filled in, else `obj.<field>_vi` (models and dicts)."""
    get = obj.get if isinstance(obj, dict) else lambda name: getattr(obj, name, "")
    text = (get(f"{field}_en") if lang == "en" else "") or get(f"{field}_vi") or ""
    return unicodedata.normalize("NFC", text)
