"""Thin REST views of merges: call layers.merging.services, answer.

Anyone lists and reads the merges whose dataset they may see (others: 404); staff declare merges (anonymous:
401, others: 403); the merged dataset's owners and superusers change, build or delete them (403). The body of
POST and PUT/PATCH is the spec (the same object as the YAML file). Errors are {"detail": "<one sentence>"}.
"""
from rest_framework import exceptions, status
from rest_framework.response import Response

from layers.merging import services
from layers.merging.api.serializers import MergeSerializer
from layers.registry.api.views import RegistryView

BUILDS_LIMIT = 100


class MergeView(RegistryView):
    def merge(self, slug):
        merge = services.visible_merges(self.request.user).filter(slug=slug).first()
        if merge is None:
            raise exceptions.NotFound(f"no merge {slug!r}")
        return merge

    def answer(self, merge, code=status.HTTP_200_OK, **extra):
        return Response({**MergeSerializer(merge, context={"request": self.request}).data, **extra}, status=code)

    def spec_body(self) -> dict:
        if not isinstance(self.request.data, dict) or not self.request.data:
            raise exceptions.ParseError("send the merge's spec as a JSON object (slug, fields, members …)")
        return dict(self.request.data)


class MergeCollection(MergeView):
    def get(self, request):
        merges = services.visible_merges(request.user).select_related("created_by")
        return Response(MergeSerializer(merges, many=True, context={"request": request}).data)

    def post(self, request):
        merge, created = services.save_merge(self.spec_body(), request.user)
        if not created:
            raise exceptions.ParseError(f"merge {merge.slug!r} already exists: change it with PUT /api/merges/"
                                        f"{merge.slug}")
        queued = services.request_build(merge, request.user)
        return self.answer(merge, status.HTTP_201_CREATED, build_queued=queued)


class MergeDetail(MergeView):
    def get(self, request, slug):
        return self.answer(self.merge(slug))

    def put(self, request, slug):
        merge = services.update_merge(self.merge(slug), self.spec_body(), request.user)
        return self.answer(merge, build_queued=services.request_build(merge, request.user))

    patch = put

    def delete(self, request, slug):
        services.delete_merge(self.merge(slug), request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MergeBuildNow(MergeView):
    def post(self, request, slug):
        queued = services.request_build(self.merge(slug), request.user)
        return Response({"queued": queued, "detail": "build queued" if queued else "a build is already queued"},
                        status=status.HTTP_202_ACCEPTED)


class MergeBuilds(MergeView):
    def get(self, request, slug):
        return Response(services.history(self.merge(slug), BUILDS_LIMIT))
