"""What the REST registry reads and writes. Input serializers only parse; the rules live in layers.registry.registration."""
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.db.models import EmailField, URLField
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.fields import empty
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from layers.crs import storage_crs_uri
from layers.models import Dataset, ImportJob, Sector
from layers.registry.registration import EDITABLE_FIELDS, EDITABLE_RELATIONS, parse_keywords
from layers.registry.services import GIVEN_METADATA, METADATA_FIELDS, REQUIRED_METADATA


def absolute(request, path: str) -> str:
    """Links use the public URL when one is configured (behind nginx), else the address the client used."""
    return f"{settings.SDI_BASE_URL}{path}" if settings.SDI_BASE_URL else request.build_absolute_uri(path)


def messages(name: str, **extra) -> dict:
    """DRF's default messages name no field; ours say which one, so the error body is one precise sentence."""
    return {
        "required": f"{name} is required",
        "blank": f"{name} must not be blank",
        "null": f"{name} must not be null",
        "max_length": f"{name} is longer than {{max_length}} characters",
        "invalid": f"{name} is not valid",
        "invalid_choice": f"{name} {{input!r}} is not one of the allowed values",
        **extra,
    }


def text(name: str, *, required: bool = False, max_length: int | None = None, **kwargs):
    return serializers.CharField(required=required, allow_blank=not required, max_length=max_length,
                                 error_messages=messages(name), **kwargs)


class KeywordsField(serializers.Field):
    """A JSON list, repeated form fields, or one comma-separated string."""

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist"):  # multipart / form data
            return dictionary.getlist(self.field_name) if self.field_name in dictionary else empty
        return dictionary.get(self.field_name, empty)

    def to_internal_value(self, data):
        if not isinstance(data, (str, list, tuple)) or any(not isinstance(k, str) for k in (
                data if isinstance(data, (list, tuple)) else [data])):
            raise serializers.ValidationError("keywords must be a list of strings or a comma-separated string")
        keywords = parse_keywords(data)
        if any(len(k) > 100 for k in keywords):
            raise serializers.ValidationError("keywords: each keyword must be at most 100 characters")
        return keywords

    def to_representation(self, value):
        return list(value)


def metadata_field(name: str, required: bool) -> serializers.Field:
    """The serializer field of one DatasetMetadata field, from the Dataset model field of the same name
    (sector and agency by their code). Codes and choices are parsed as text: whether they are known is the
    service's to say (services.check_metadata_values), in the same words at every front door."""
    if name == "keywords":
        return KeywordsField(required=False)
    model_field = Dataset._meta.get_field(name)  # choices are checked by the service, in its own words
    if isinstance(model_field, (URLField, EmailField)):
        kind = "URL" if isinstance(model_field, URLField) else "e-mail address"
        field_class = serializers.URLField if isinstance(model_field, URLField) else serializers.EmailField
        return field_class(required=False, allow_blank=True, error_messages=messages(
            name, invalid=f"{name} is not a valid {kind}"))
    free_text = name not in ("sector", "agency") and not model_field.choices
    return text(name, required=required, max_length=model_field.max_length if free_text else None)


class TokenRequestSerializer(AuthTokenSerializer):
    """DRF's username + password, with the user model's length limit: a longer name is no account, and the
    sign-in limits (django-axes) could not record it (their column is shorter than an unbounded string)."""

    username = serializers.CharField(label=_("Username"), write_only=True, error_messages=messages("username"),
                                     max_length=get_user_model()._meta.get_field("username").max_length)


class SectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sector
        fields = ("code", "name_vi", "name_en")


class DatasetSerializer(GeoFeatureModelSerializer):
    """A dataset as a GeoJSON Feature: its WGS 84 extent as the geometry, the registry entry as properties.

    Who may read or change it (owners, allowed users and groups) and where it came from are shown only to
    those who may change it (context `show_access`).
    """

    sector = serializers.SlugRelatedField(slug_field="code", read_only=True)
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    storage_crs = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()
    owners = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    allowed_users = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    allowed_groups = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    ACCESS_FIELDS = ("owners", "allowed_users", "allowed_groups", "source")

    class Meta:
        model = Dataset
        geo_field = "extent"
        id_field = "slug"
        fields = (
            "slug", *METADATA_FIELDS, "published", "districts", "feature_count", "geometry_type", "storage_srid",
            "storage_crs", "attribute_schema", "created", "updated", "owners", "allowed_users", "allowed_groups",
            "links", "extent",
        )
        read_only_fields = fields

    def get_storage_crs(self, dataset):
        """The URI the OGC API gives as this collection's storageCrs (CRS84 for lon/lat tables)."""
        return storage_crs_uri(dataset.storage_srid)

    def get_links(self, dataset):
        request = self.context["request"]
        collection = absolute(request, f"/ogcapi/collections/{dataset.slug}")
        return [
            {"rel": "self", "type": "application/geo+json",
             "href": absolute(request, reverse("api:dataset", args=[dataset.slug]))},
            {"rel": "collection", "type": "application/json", "title": "OGC API – Features collection",
             "href": collection},
            {"rel": "items", "type": "application/geo+json", "href": f"{collection}/items"},
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.context.get("show_access"):
            for name in self.ACCESS_FIELDS:
                self.fields.pop(name)


class ImportRequestSerializer(serializers.Serializer):
    """A multipart upload (`file`) or a file on the server (`source_path`), plus the dataset's metadata.

    With replacing=True (POST /api/datasets/<slug>/replace) every metadata field is optional: what is not
    given keeps its current value.
    """

    file = serializers.FileField(required=False, error_messages=messages(
        "file", invalid="file must be sent as a file part of a multipart/form-data request",
        empty="file: the uploaded file is empty", no_name="file: the uploaded file has no name"))
    source_path = text("source_path")
    slug = text("slug", required=True, max_length=63)
    crs = text("crs")
    encoding = text("encoding")
    layer = text("layer")
    repair = serializers.BooleanField(required=False, default=False, error_messages=messages(
        "repair", invalid="repair must be true or false"))

    def __init__(self, *args, replacing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.replacing = replacing
        if replacing:
            del self.fields["slug"]

    def get_fields(self):
        return {**super().get_fields(), **{
            name: metadata_field(name, required=name in REQUIRED_METADATA and not self.replacing)
            for name in GIVEN_METADATA}}

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(f"unknown field {unknown[0]!r} (fields: {', '.join(self.fields)})")
        if not attrs.get("file") and not attrs.get("source_path"):
            raise serializers.ValidationError(
                "file is required: send the data as a multipart/form-data part named 'file' "
                "(or, for superusers, the path of a file on the server as source_path)")
        if attrs.get("file") and attrs.get("source_path"):
            raise serializers.ValidationError("send either file or source_path, not both")
        return attrs

    def import_arguments(self) -> dict:
        """Keyword arguments of layers.registry.registration.request_import."""
        data = self.validated_data
        return {
            "metadata": {k: v for k, v in data.items() if k in GIVEN_METADATA},
            "upload": data.get("file"), "source_path": data.get("source_path") or None, "crs": data.get("crs"),
            "encoding": data.get("encoding"), "layer": data.get("layer") or None, "repair": data["repair"],
        }


class DatasetUpdateSerializer(serializers.Serializer):
    """PATCH /api/datasets/<slug>: what an admin says about a dataset; never what the loader measured."""

    published = serializers.BooleanField(required=False, error_messages=messages(
        "published", invalid="published must be true or false"))
    owners = serializers.SlugRelatedField(
        slug_field="username", many=True, required=False, queryset=get_user_model().objects.all(),
        error_messages={"does_not_exist": "owners: no user named {value!r}",
                        "invalid": "owners must be a list of user names",
                        "not_a_list": "owners must be a list of user names"})
    allowed_users = serializers.SlugRelatedField(
        slug_field="username", many=True, required=False, queryset=get_user_model().objects.all(),
        error_messages={"does_not_exist": "allowed_users: no user named {value!r}",
                        "invalid": "allowed_users must be a list of user names",
                        "not_a_list": "allowed_users must be a list of user names"})
    allowed_groups = serializers.SlugRelatedField(
        slug_field="name", many=True, required=False, queryset=Group.objects.all(),
        error_messages={"does_not_exist": "allowed_groups: no group named {value!r}",
                        "invalid": "allowed_groups must be a list of group names",
                        "not_a_list": "allowed_groups must be a list of group names"})

    def get_fields(self):
        return {**{name: metadata_field(name, required=name in REQUIRED_METADATA) for name in GIVEN_METADATA},
                **super().get_fields()}

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                f"{unknown[0]!r} cannot be changed here (editable: {', '.join(EDITABLE_FIELDS + EDITABLE_RELATIONS)}; "
                f"to change the data, POST a new file to /api/datasets/<slug>/replace)")
        if not attrs:
            raise serializers.ValidationError("nothing to change: send at least one editable field")
        return attrs


class ImportJobSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    dataset = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ImportJob
        fields = ("id", "url", "slug", "status", "progress", "stage", "message", "report", "dataset", "created_by",
                  "created", "started", "finished")
        read_only_fields = fields

    def get_url(self, job):
        return absolute(self.context["request"], reverse("api:job", args=[job.pk]))

    def get_dataset(self, job):
        """The registry entry, once the job has published it."""
        if job.status != ImportJob.Status.SUCCEEDED:
            return None
        return absolute(self.context["request"], reverse("api:dataset", args=[job.slug]))
