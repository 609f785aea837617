"""The admin's upload form. It only parses; what is refused, and why, is decided in layers.registration."""
from django import forms

from layers.crs import CANTHO_DEFAULT_SRID, OFFERED
from layers.models import Agency, Dataset, Sector
from layers.registration import parse_keywords, upload_limit_text

DETECT = "detect"
CRS_CHOICES = [
    (f"EPSG:{CANTHO_DEFAULT_SRID}", f"EPSG:{CANTHO_DEFAULT_SRID} — {OFFERED[CANTHO_DEFAULT_SRID]}"),
    (DETECT, "Theo tệp / detect from file (.prj, GeoPackage, GeoJSON)"),
    *[(f"EPSG:{code}", f"EPSG:{code} — {name}") for code, name in OFFERED.items() if code != CANTHO_DEFAULT_SRID],
]
ENCODING_CHOICES = [
    ("auto", "Tự động / auto (.cpg, else detected from the text)"),
    ("utf-8", "UTF-8"),
    ("cp1258", "Windows-1258"),
    ("tcvn3", "TCVN3 (ABC, .VnTime)"),
    ("vni", "VNI (VNI-Times)"),
]


class UploadForm(forms.Form):
    file = forms.FileField(label="Tệp / File")
    slug = forms.CharField(max_length=63, label="Mã / Slug",
                           help_text="collection id in the OGC API, e.g. thua-dat-ninh-kieu")
    replace = forms.BooleanField(required=False, label="Thay thế / Replace",
                                 help_text="replace the data of an existing dataset you own (same URL and id)")
    crs = forms.ChoiceField(choices=CRS_CHOICES, initial=f"EPSG:{CANTHO_DEFAULT_SRID}", label="Hệ tọa độ / CRS",
                            help_text="declare or override the CRS; 'detect' uses the one the file carries")
    encoding = forms.ChoiceField(choices=ENCODING_CHOICES, initial="auto", label="Bảng mã / Encoding",
                                 help_text="text encoding of the attributes (old shapefiles: TCVN3, VNI, 1258)")
    layer = forms.CharField(required=False, label="Lớp / Layer", help_text="layer to load when the file has several")
    repair = forms.BooleanField(required=False, label="Sửa hình học / Repair",
                                help_text="repair invalid geometries with ST_MakeValid instead of refusing them")

    title_vi = forms.CharField(max_length=300, label="Tiêu đề (vi)")
    title_en = forms.CharField(max_length=300, label="Title (en)")
    abstract_vi = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Tóm tắt (vi)")
    abstract_en = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Abstract (en)")
    sector = forms.ModelChoiceField(queryset=Sector.objects.all(), to_field_name="code", label="Lĩnh vực / Sector")
    agency = forms.ModelChoiceField(queryset=Agency.objects.all(), to_field_name="code", required=False,
                                    label="Cơ quan / Agency")
    licence_name = forms.CharField(max_length=200, label="Giấy phép / Licence")
    licence_url = forms.URLField(required=False, label="Licence URL")
    attribution = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Ghi công / Attribution")
    keywords = forms.CharField(required=False, label="Từ khóa / Keywords", help_text="comma-separated")
    access_level = forms.ChoiceField(choices=Dataset.Access.choices, initial=Dataset.Access.PUBLIC,
                                     label="Quyền truy cập / Access")
    update_frequency = forms.ChoiceField(choices=Dataset.Frequency.choices, initial=Dataset.Frequency.UNKNOWN,
                                         label="Tần suất cập nhật / Update frequency")
    contact_name = forms.CharField(max_length=200, required=False, label="Liên hệ / Contact")
    contact_email = forms.EmailField(required=False, label="Email")

    FIELDSETS = (
        ("Tệp / File", ("file", "slug", "replace", "crs", "encoding", "layer", "repair")),
        ("Siêu dữ liệu / Metadata", ("title_vi", "title_en", "abstract_vi", "abstract_en", "sector", "agency",
                                     "licence_name", "licence_url", "attribution", "keywords", "access_level",
                                     "update_frequency", "contact_name", "contact_email")),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (f"zipped Shapefile, GeoPackage, GeoJSON, KML/KMZ or CSV, at most "
                                         f"{upload_limit_text()}")

    def fieldsets(self):
        return [(title, [self[name] for name in names]) for title, names in self.FIELDSETS]

    def import_arguments(self) -> dict:
        """Keyword arguments of layers.registration.request_import."""
        data = self.cleaned_data
        metadata = {name: data[name] for name in self.FIELDSETS[1][1]}
        metadata["sector"] = data["sector"].code
        metadata["agency"] = data["agency"].code if data["agency"] else None
        metadata["keywords"] = parse_keywords(data["keywords"])
        return {
            "slug": data["slug"].strip(), "metadata": metadata, "upload": data["file"],
            "crs": None if data["crs"] == DETECT else data["crs"], "encoding": data["encoding"],
            "layer": data["layer"].strip() or None, "replace": data["replace"], "repair": data["repair"],
        }
