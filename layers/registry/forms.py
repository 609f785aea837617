"""The admin's forms: the upload form and the dataset change form. They only parse; what is refused, and why,
is decided in layers.registry.registration. Their metadata fields derive from `services.DatasetMetadata`."""
from django import forms

from layers.crs import CANTHO_DEFAULT_SRID, OFFERED
from layers.models import Agency, Dataset, Sector
from layers.registry.registration import EDITABLE_FIELDS, EDITABLE_RELATIONS, parse_keywords, upload_limit_text
from layers.registry.services import GIVEN_METADATA, REQUIRED_METADATA

LABELS = {  # bilingual labels; the model's own verbose names are in one language only
    "title_vi": "Tiêu đề (vi)", "title_en": "Title (en)", "abstract_vi": "Tóm tắt (vi)",
    "abstract_en": "Abstract (en)", "sector": "Lĩnh vực / Sector", "agency": "Cơ quan / Agency",
    "licence_name": "Giấy phép / Licence", "licence_url": "Licence URL", "attribution": "Ghi công / Attribution",
    "keywords": "Từ khóa / Keywords", "access_level": "Quyền truy cập / Access",
    "update_frequency": "Tần suất cập nhật / Update frequency", "contact_name": "Liên hệ / Contact",
    "contact_email": "Email", "published": "Công bố / Published",
}


class KeywordsField(forms.CharField):
    """Keywords typed comma-separated; a list in the registry."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, (list, tuple)) else value

    def to_python(self, value):
        return parse_keywords(super().to_python(value))


def metadata_form_field(name: str) -> forms.Field:
    """The form field of one DatasetMetadata field, from the Dataset model field of the same name."""
    label = LABELS.get(name)
    if name in ("sector", "agency"):
        queryset = Sector.objects.all() if name == "sector" else Agency.objects.all()
        return forms.ModelChoiceField(queryset=queryset, to_field_name="code", required=name in REQUIRED_METADATA,
                                      label=label)
    if name == "keywords":
        return KeywordsField(required=False, label=label, help_text="comma-separated")
    field = Dataset._meta.get_field(name).formfield(label=label)
    field.required = name in REQUIRED_METADATA
    if isinstance(field.widget, forms.Textarea):
        field.widget.attrs["rows"] = 3 if name.startswith("abstract") else 2
    return field

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

    FIELDSETS = (
        ("Tệp / File", ("file", "slug", "replace", "crs", "encoding", "layer", "repair")),
        ("Siêu dữ liệu / Metadata", GIVEN_METADATA),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update({name: metadata_form_field(name) for name in GIVEN_METADATA})
        self.fields["file"].help_text = (f"zipped Shapefile, GeoPackage, GeoJSON, KML/KMZ or CSV, at most "
                                         f"{upload_limit_text()}")

    def fieldsets(self):
        return [(title, [self[name] for name in names]) for title, names in self.FIELDSETS]

    def import_arguments(self) -> dict:
        """Keyword arguments of layers.registry.registration.request_import."""
        data = self.cleaned_data
        metadata = metadata_values(data, GIVEN_METADATA)
        return {
            "slug": data["slug"].strip(), "metadata": metadata, "upload": data["file"],
            "crs": None if data["crs"] == DETECT else data["crs"], "encoding": data["encoding"],
            "layer": data["layer"].strip() or None, "replace": data["replace"], "repair": data["repair"],
        }


def metadata_values(cleaned: dict, names) -> dict:
    """DatasetMetadata values from a form's cleaned data (sector and agency by their code)."""
    values = {name: cleaned[name] for name in names if name in cleaned}
    for name in ("sector", "agency"):
        if name in values:
            values[name] = values[name].code if values[name] else None
    return values


class DatasetChangeForm(forms.ModelForm):
    """The admin's change form: only what registration.update_metadata may change, each field as at upload."""

    class Meta:
        model = Dataset
        fields = (*EDITABLE_FIELDS, *EDITABLE_RELATIONS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in GIVEN_METADATA:
            if name in self.fields:
                self.fields[name] = metadata_form_field(name)
        if self.instance.pk and "sector" in self.fields:  # ModelForm's initial is the pk; ours is the code
            self.initial["sector"] = self.instance.sector.code
            self.initial["agency"] = self.instance.agency.code if self.instance.agency else None

    def changes(self) -> dict:
        """The keyword arguments of registration.update_metadata: every field of the form, as submitted."""
        return {**metadata_values(self.cleaned_data, GIVEN_METADATA),
                **{name: self.cleaned_data[name] for name in self.Meta.fields
                   if name not in GIVEN_METADATA and name in self.cleaned_data}}
