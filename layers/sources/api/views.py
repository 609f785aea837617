"""Thin REST views of sources and change logs: parse, call layers.sources.services, answer.

Sources are for superusers and users with the add/change source permission (others: 403; anonymous: 401).
A dataset's change log is readable by whoever may see the dataset (others: 404, as the registry answers).
"""
from datetime import UTC

from django.utils.dateparse import parse_datetime
from rest_framework import exceptions, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from layers.registry.api.views import RegistryView
from layers.sources import services
from layers.sources.api.serializers import (FeatureChangeSerializer, SourceRequestSerializer, SourceRunSerializer,
                                            SourceSerializer)
from layers.sources.models import FeatureChange, Source

CHANGES_LIMIT = 1000
RUNS_LIMIT = 100


class ManagesSources(BasePermission):
    message = "only superusers and users with the add/change source permission may see, register or run sources"

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and services.can_manage_sources(request.user))


class SourceView(RegistryView):
    permission_classes = [ManagesSources]

    def source(self, slug) -> Source:
        source = Source.objects.filter(slug=slug).first()
        if source is None:
            raise exceptions.NotFound(f"no source for dataset {slug!r}")
        return source

    def answer(self, source, code=status.HTTP_200_OK):
        return Response(SourceSerializer(source, context={"request": self.request}).data, status=code)


class SourceCollection(SourceView):
    def get(self, request):
        return Response(SourceSerializer(Source.objects.select_related("created_by"), many=True,
                                         context={"request": request}).data)

    def post(self, request):
        form = SourceRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        enabled = data.pop("enabled", True)
        source = services.register_source(user=request.user, enabled=enabled, **data)
        return self.answer(source, status.HTTP_201_CREATED)


class SourceDetail(SourceView):
    def get(self, request, slug):
        return self.answer(self.source(slug))

    def patch(self, request, slug):
        source = self.source(slug)
        form = SourceRequestSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        changes = dict(form.validated_data)
        if "slug" in changes or "kind" in changes:
            raise exceptions.ParseError("a source's slug and kind cannot change: delete it and register another")
        if "key" in changes:
            changes["key_field"] = changes.pop("key")
        if "crs" in changes:
            changes["srid"] = changes.pop("crs")
        if not changes:
            raise exceptions.ParseError("nothing to change: send at least one field")
        return self.answer(services.update_source(source, request.user, changes))

    def delete(self, request, slug):
        services.delete_source(self.source(slug), request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SourceRunNow(SourceView):
    def post(self, request, slug):
        source = self.source(slug)
        queued = services.request_run(source, request.user)
        return Response({"queued": queued, "detail": "run queued" if queued else "a run is already queued"},
                        status=status.HTTP_202_ACCEPTED)


class SourceRuns(SourceView):
    def get(self, request, slug):
        runs = self.source(slug).runs.all()[:RUNS_LIMIT]
        return Response(SourceRunSerializer(runs, many=True).data)


class DatasetChanges(RegistryView):
    """GET /api/datasets/<slug>/changes?since=<ISO 8601 time>&limit=N: the change log, oldest first."""

    def get(self, request, slug):
        dataset = self.dataset(slug)
        changes = FeatureChange.objects.filter(dataset=dataset).order_by("time", "pk")
        since = request.query_params.get("since")
        if since:
            moment = parse_datetime(since.replace(" ", "+"))  # an unencoded '+' arrives as a space
            if moment is None:
                raise exceptions.ParseError(f"since {since!r} is not an ISO 8601 time (e.g. 2026-12-01T08:00:00Z)")
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            changes = changes.filter(time__gt=moment)
        try:
            limit = min(int(request.query_params.get("limit", CHANGES_LIMIT)), CHANGES_LIMIT)
            if limit < 1:
                raise ValueError
        except ValueError:
            raise exceptions.ParseError(f"limit must be a whole number from 1 to {CHANGES_LIMIT}") from None
        page = list(changes[:limit + 1])
        return Response({"dataset": dataset.slug, "since": since, "truncated": len(page) > limit,
                         "changes": FeatureChangeSerializer(page[:limit], many=True).data})
