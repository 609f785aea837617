"""A summary as a CSV table for spreadsheets: UTF-8 with a BOM (so Excel reads Vietnamese), one row per unit and
category, the header in Vietnamese or English."""
import csv
import io

HEADERS = {
    "vi": {"unit_code": "Mã đơn vị", "unit_name": "Tên đơn vị", "category": "Nhóm ({})", "count": "Số đối tượng",
           "area_m2": "Diện tích (m²)", "length_m": "Chiều dài (m)",
           "value": {"sum": "Tổng {} (phân bổ theo diện tích/chiều dài)", "mean": "Trung bình {} (có trọng số)",
                     "area": "Diện tích (m²)", "length": "Chiều dài (m)", "count": "Số đối tượng"}},
    "en": {"unit_code": "Unit code", "unit_name": "Unit name", "category": "Category ({})", "count": "Features",
           "area_m2": "Area (m²)", "length_m": "Length (m)",
           "value": {"sum": "Sum of {} (apportioned by area/length)", "mean": "Mean of {} (weighted)",
                     "area": "Area (m²)", "length": "Length (m)", "count": "Features"}},
}
BOM = "\ufeff"


def summary_csv(result: dict, language: str = "vi") -> str:
    """The rows of `summarise()`'s answer; the value column is left out when it repeats count, area or length."""
    words = HEADERS[language]
    columns = ["unit_code", "unit_name"]
    if result["category"]:
        columns.append("category")
    columns.append("count")
    size = next((key for key in ("area_m2", "length_m") if result["rows"] and key in result["rows"][0]), None)
    if size:
        columns.append(size)
    if result["measure"] in ("sum", "mean"):
        columns.append("value")
    header = []
    for column in columns:
        if column == "category":
            header.append(words["category"].format(result["category"]))
        elif column == "value":
            header.append(words["value"][result["measure"]].format(result["attribute"]))
        else:
            header.append(words[column])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in result["rows"]:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return BOM + out.getvalue()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) >= 1 else f"{value:.6g}"
    return value
