"""The summary as an OGC API – Processes process (`summary`), run synchronously by pygeoapi.

pygeoapi hands a processor only the inputs, so the web layer says who is asking through `requesting_user`
(a ContextVar set by sdi/ogcapi/views.py around the execution); a dataset that user may not see is a 404, a
refused request a 400 naming the input, both as OGC exceptions (pygeoapi answers a `ProcessorExecuteError`'s
status and code once sdi/ogcapi/adapter.py's manager lets it through).
"""
from contextvars import ContextVar
from http import HTTPStatus

from pygeoapi.process.base import BaseProcessor, ProcessorExecuteError

from layers.summaries.compute import MEASURES, SummaryRequest, summarise
from layers.summaries.errors import NotVisible, SummaryRefused
from layers.summaries.units import DEFAULT_UNITS, KNOWN_UNITS

PROCESS_ID = "summary"
MEDIA_TYPE = "application/json"  # of the answer (sdi/ogcapi/process_fast_path.py rebuilds it)
requesting_user: ContextVar = ContextVar("requesting_user", default=None)


def _text_input(title_vi: str, title_en: str, description_vi: str, description_en: str, *, required: bool = False,
                schema: dict | None = None) -> dict:
    return {"title": {"vi": title_vi, "en": title_en}, "description": {"vi": description_vi, "en": description_en},
            "schema": schema or {"type": "string"}, "minOccurs": 1 if required else 0, "maxOccurs": 1}


PROCESS_METADATA = {
    "version": "1.0.0",
    "id": PROCESS_ID,
    "title": {"vi": "Thống kê theo quận, huyện và phường, xã", "en": "Summary by district and ward"},
    "description": {
        "vi": "Số đối tượng, tổng chiều dài hoặc diện tích, tổng (phân bổ theo diện tích) hoặc trung bình (có trọng "
              "số) của một thuộc tính số, theo từng đơn vị hành chính (9 quận, huyện trước 2025, 85 phường, xã 2009 "
              "hoặc 103 phường, xã từ 1/7/2025), có thể nhóm theo một thuộc tính. Đối tượng nằm vắt qua ranh giới "
              "được chia theo diện tích hoặc chiều dài; mỗi đối tượng được đếm một lần, tại đơn vị chứa điểm đại "
              "diện (ST_PointOnSurface) của nó.",
        "en": "Feature count, total length or area, sum (apportioned by area) or weighted mean of a numeric "
              "attribute per administrative unit (the 9 districts before 2025, the 85 communes of 2009 or the 103 "
              "wards of 1 July 2025), optionally grouped by an attribute. A feature crossing a boundary is split by "
              "area or length; each feature is counted once, in the unit holding its point on surface.",
    },
    "keywords": ["thống kê", "summary", "quận huyện", "districts", "phường xã", "wards"],
    "jobControlOptions": ["sync-execute"],
    "outputTransmission": ["value"],
    "links": [],
    "inputs": {
        "dataset": _text_input("Dữ liệu", "Dataset", "Mã (slug) của bộ dữ liệu cần thống kê.",
                               "Slug of the dataset to summarise.", required=True),
        "units": _text_input("Đơn vị", "Units", "Lớp đơn vị hành chính (một lớp đa giác).",
                             "The polygon layer of units.",
                             schema={"type": "string", "default": DEFAULT_UNITS, "examples": list(KNOWN_UNITS)}),
        "measure": _text_input("Đại lượng", "Measure", "auto: diện tích cho đa giác, chiều dài cho đường, số lượng "
                               "cho điểm.", "auto: area for polygons, length for lines, count for points.",
                               schema={"type": "string", "enum": list(MEASURES), "default": "auto"}),
        "attribute": _text_input("Thuộc tính", "Attribute", "Thuộc tính số cho sum và mean.",
                                 "Numeric attribute for sum and mean."),
        "category": _text_input("Nhóm theo", "Group by", "Nhóm kết quả theo thuộc tính này.",
                                "Group the figures by this attribute as well."),
        "unit_code_field": _text_input("Trường mã đơn vị", "Unit code field",
                                       "Cho một lớp đơn vị khác ba lớp có sẵn.", "For a units layer other than the "
                                       "three known ones."),
        "unit_name_field": _text_input("Trường tên đơn vị", "Unit name field",
                                       "Cho một lớp đơn vị khác ba lớp có sẵn.", "For a units layer other than the "
                                       "three known ones."),
    },
    "outputs": {
        "summary": {
            "title": {"vi": "Kết quả thống kê", "en": "Summary"},
            "description": {"vi": "Một dòng cho mỗi đơn vị (và nhóm), kèm tổng.",
                            "en": "One row per unit (and category), with totals."},
            "schema": {"type": "object", "contentMediaType": "application/json"},
        }
    },
    "example": {"inputs": {"dataset": "cantho-communes-2009", "units": "cantho-wards-2025", "measure": "area"}},
}


class SummaryInputRefused(ProcessorExecuteError):
    http_status_code = HTTPStatus.BAD_REQUEST
    ogc_exception_code = "InvalidParameterValue"


class SummaryDatasetNotFound(ProcessorExecuteError):
    http_status_code = HTTPStatus.NOT_FOUND
    ogc_exception_code = "NotFound"


def request_from_inputs(inputs: dict) -> SummaryRequest:
    """The process inputs as a SummaryRequest: known names only, each a string (refused naming the input)."""
    if not isinstance(inputs, dict):
        raise SummaryRefused("inputs: must be an object", "inputs")
    known = set(PROCESS_METADATA["inputs"])
    if unknown := sorted(set(inputs) - known):
        raise SummaryRefused(f"{unknown[0]}: not an input of this process ({', '.join(sorted(known))})", unknown[0])
    for name, value in inputs.items():
        if value is not None and not isinstance(value, str):
            raise SummaryRefused(f"{name}: must be a string", name)
    if not inputs.get("dataset"):
        raise SummaryRefused("dataset: required", "dataset")
    return SummaryRequest(**{name: value for name, value in inputs.items() if value not in (None, "")})


class SummaryProcessor(BaseProcessor):
    def __init__(self, processor_def: dict):
        super().__init__(processor_def, PROCESS_METADATA)

    def execute(self, data: dict, outputs=None):
        try:
            result = summarise(request_from_inputs(data), requesting_user.get())
        except SummaryRefused as refused:
            raise SummaryInputRefused(user_msg=refused.message) from None
        except NotVisible as missing:
            raise SummaryDatasetNotFound(user_msg=str(missing)) from None
        return MEDIA_TYPE, result

    def __repr__(self):
        return f"<SummaryProcessor> {self.name}"
