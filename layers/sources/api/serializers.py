"""What the sources API reads and writes. Input serializers only parse; the rules are layers.sources.services'."""
from django.urls import reverse
from rest_framework import serializers

from layers.registry.api.serializers import absolute, messages, text
from layers.sources.models import FeatureChange, Source, SourceRun
from layers.sources.services import format_every, public_url


class SourceSerializer(serializers.ModelSerializer):
    """A source as its managers see it: never the password (only whether one is stored)."""

    url = serializers.SerializerMethodField()
    every = serializers.SerializerMethodField()
    crs = serializers.SerializerMethodField()
    has_password = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    last_run = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = Source
        fields = ("slug", "kind", "url", "dsn", "has_password", "table", "key_field", "every", "crs", "metadata",
                  "enabled", "next_run_at", "created_by", "created", "updated", "last_run", "links")
        read_only_fields = fields

    def get_url(self, source):
        return public_url(source.url) if source.url else ""

    def get_every(self, source):
        return format_every(source.every) or None

    def get_crs(self, source):
        return f"EPSG:{source.srid}" if source.srid else None

    def get_has_password(self, source):
        return bool(source.secret)

    def get_last_run(self, source):
        run = source.runs.first()
        return SourceRunSerializer(run).data if run else None

    def get_links(self, source):
        request = self.context["request"]
        return [{"rel": "self", "href": absolute(request, reverse("api:source", args=[source.slug]))},
                {"rel": "runs", "href": absolute(request, reverse("api:source-runs", args=[source.slug]))},
                {"rel": "run", "href": absolute(request, reverse("api:source-run", args=[source.slug])),
                 "method": "POST"},
                {"rel": "changes", "href": absolute(request, reverse("api:dataset-changes", args=[source.slug]))}]


class SourceRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = SourceRun
        fields = ("id", "status", "started", "finished", "added", "changed", "removed", "error", "report")
        read_only_fields = fields


class FeatureChangeSerializer(serializers.ModelSerializer):
    run = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = FeatureChange
        fields = ("time", "run", "action", "key", "fid", "old", "new")
        read_only_fields = fields


class SourceRequestSerializer(serializers.Serializer):
    """POST /api/sources (and, partially, PATCH /api/sources/<slug>)."""

    slug = text("slug", required=True, max_length=63)
    kind = serializers.ChoiceField(choices=Source.Kind.values, required=False, error_messages=messages("kind"))
    url = text("url")
    dsn = text("dsn")
    table = text("table", max_length=200)
    key = text("key", max_length=63)
    every = text("every")
    crs = text("crs")
    metadata = serializers.DictField(required=False, error_messages=messages(
        "metadata", not_a_dict="metadata must be an object of dataset metadata fields"))
    enabled = serializers.BooleanField(required=False, error_messages=messages(
        "enabled", invalid="enabled must be true or false"))

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(f"unknown field {unknown[0]!r} (fields: {', '.join(self.fields)})")
        return attrs
