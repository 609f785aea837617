"""What the merges API answers. The body a client sends is the spec itself (layers.merging.spec), checked by
layers.merging.services; nothing is parsed here."""
from django.urls import reverse
from rest_framework import serializers

from layers.merging.models import MergedDataset
from layers.merging.overlaps import companion_slug
from layers.merging.services import build_summary
from layers.registry.api.serializers import absolute


class MergeSerializer(serializers.ModelSerializer):
    dataset = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    members = serializers.SerializerMethodField()
    last_build = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = MergedDataset
        fields = ("slug", "overlap", "members", "dataset", "spec", "created_by", "created", "updated", "last_build",
                  "links")
        read_only_fields = fields

    def get_members(self, merge):
        return merge.member_slugs

    def get_last_build(self, merge):
        last = merge.builds.first()
        return build_summary(last) if last else None

    def get_links(self, merge):
        request = self.context["request"]
        links = {"self": absolute(request, reverse("api:merge", args=[merge.slug])),
                 "builds": absolute(request, reverse("api:merge-builds", args=[merge.slug])),
                 "build": absolute(request, reverse("api:merge-build", args=[merge.slug]))}
        if merge.dataset_id:
            links["collection"] = absolute(request, f"/ogcapi/collections/{merge.slug}")
            links["overlaps"] = absolute(request, f"/ogcapi/collections/{companion_slug(merge.slug)}")
        return links
