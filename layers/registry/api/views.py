"""Thin REST views: parse with a serializer, call layers.registry.registration / services / selectors, answer.

Status codes: 202 with the job for imports (the worker loads the data), 400 for a request refused before
queuing, 401 without credentials, 403 for a user who may not do it, 404 for what the user may not see,
411 for an upload without Content-Length (chunked), 413 for an upload over SDI_MAX_UPLOAD_MB (answered from
Content-Length, before the body is read), 429 for a locked-out sign-in on /api/token.
"""
from django.urls import reverse
from rest_framework import exceptions, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from layers.registry import registration, services
from layers.registry.api.serializers import (DatasetSerializer, DatasetUpdateSerializer, ImportJobSerializer,
                                    ImportRequestSerializer, SectorSerializer, TokenRequestSerializer, absolute)
from layers.loading import ImportRefused
from layers.models import Sector
from layers.registry.selectors import manageable_datasets, visible_datasets, visible_jobs
from sdi.security.lockout import lockout_response

JOB_LIST_LIMIT = 100


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


class LengthRequired(exceptions.APIException):
    status_code = status.HTTP_411_LENGTH_REQUIRED
    default_code = "length_required"


def one_sentence(detail) -> str:
    """The first message of a DRF validation error, naming its field when the message does not."""
    if isinstance(detail, dict):
        field, value = next(iter(detail.items()))
        message = one_sentence(value)
        if field in ("non_field_errors", "detail") or message.startswith(field.split(".")[0]):
            return message
        return f"{field}: {message}"
    if isinstance(detail, list):
        return one_sentence(detail[0]) if detail else "invalid request"
    return str(detail)


def exception_handler(exc, context):
    """Every error body is {"detail": "<one sentence>"}; refusals of layers.registry.registration map to 400/403/413."""
    if isinstance(exc, services.PermissionRefused):
        exc = exceptions.PermissionDenied(str(exc))
    elif isinstance(exc, registration.UploadTooLarge):
        exc = PayloadTooLarge(str(exc))
    elif isinstance(exc, registration.LengthRequired):
        exc = LengthRequired(str(exc))
    elif isinstance(exc, ImportRefused):
        exc = exceptions.ValidationError(str(exc))
    if isinstance(exc, exceptions.ValidationError):
        exc = exceptions.ParseError(one_sentence(exc.detail))  # 400 with a "detail" string
    return drf_exception_handler(exc, context)


class StaffWrites(BasePermission):
    """Anyone reads (what they may see); only staff register, change or delete."""

    message = "only staff users may register, change or delete datasets"

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or bool(request.user and request.user.is_staff)


class RegistryView(APIView):
    permission_classes = [StaffWrites]

    def get_exception_handler(self):
        return exception_handler

    def permission_denied(self, request, message=None, code=None):
        if request.authenticators and not request.successful_authenticator:
            raise exceptions.NotAuthenticated("authentication required: send 'Authorization: Token <key>' "
                                              "(a key from POST /api/token) or sign in")
        raise exceptions.PermissionDenied(message)

    def dataset(self, slug):
        """The dataset, or 404 for a user who may not see it (its existence is not revealed)."""
        dataset = manageable_datasets(self.request.user).select_related("sector", "agency").filter(slug=slug).first()
        if dataset is None:
            raise exceptions.NotFound(f"no dataset {slug!r}")
        return dataset

    def job_accepted(self, job):
        data = ImportJobSerializer(job, context={"request": self.request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


class UploadView(RegistryView):
    def initial(self, request, *args, **kwargs):
        # Before authentication: session authentication's CSRF check would parse (read) the whole body.
        if request.method == "POST":
            registration.check_upload_size(registration.required_content_length(request.META))
        super().initial(request, *args, **kwargs)


class TokenView(ObtainAuthToken):
    """POST username + password → {"token": key}; QGIS sends it as 'Authorization: Token <key>'.

    Sign-ins are limited like the admin's (django-axes, docs/security.md). axes marks the DRF request it was given
    as locked out; its middleware only sees Django's request, so the 429 is answered here.
    """

    serializer_class = TokenRequestSerializer

    def get_exception_handler(self):
        return exception_handler

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except exceptions.ValidationError:
            if getattr(request, "axes_locked_out", False):
                return lockout_response(request)
            raise


class SectorList(RegistryView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response(SectorSerializer(Sector.objects.all(), many=True).data)


class DatasetCollection(UploadView):
    def get(self, request):
        datasets = visible_datasets(request.user).select_related("sector", "agency")
        return Response(DatasetSerializer(datasets, many=True, context={"request": request}).data)

    def post(self, request):
        form = ImportRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        job = registration.request_import(user=request.user, slug=form.validated_data["slug"],
                                          **form.import_arguments())
        return self.job_accepted(job)


class DatasetDetail(RegistryView):
    def get(self, request, slug):
        dataset = self.dataset(slug)
        context = {"request": request, "show_access": services.can_modify(request.user, dataset)
                   if request.user.is_authenticated else False}
        return Response(DatasetSerializer(dataset, context=context).data)

    def patch(self, request, slug):
        dataset = self.dataset(slug)
        registration.check_can_modify(request.user, dataset)
        changes = DatasetUpdateSerializer(data=request.data, partial=True)
        changes.is_valid(raise_exception=True)
        dataset = registration.update_metadata(dataset, request.user, changes.validated_data)
        return Response(DatasetSerializer(dataset, context={"request": request, "show_access": True}).data)

    def delete(self, request, slug):
        services.delete_dataset(self.dataset(slug).slug, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DatasetReplace(UploadView):
    def post(self, request, slug):
        dataset = self.dataset(slug)
        registration.check_can_modify(request.user, dataset, "replace")
        form = ImportRequestSerializer(data=request.data, replacing=True)
        form.is_valid(raise_exception=True)
        job = registration.request_import(user=request.user, slug=dataset.slug, replace=True,
                                          **form.import_arguments())
        return self.job_accepted(job)


class JobList(RegistryView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        jobs = visible_jobs(request.user).filter(created_by=request.user)[:JOB_LIST_LIMIT]
        return Response(ImportJobSerializer(jobs, many=True, context={"request": request}).data)


class JobDetail(RegistryView):
    permission_classes = [IsAuthenticated]

    def get(self, request, job_id):
        job = visible_jobs(request.user).filter(pk=job_id).first()
        if job is None:
            raise exceptions.NotFound(f"no import job {job_id}")
        return Response(ImportJobSerializer(job, context={"request": request}).data)


class Root(RegistryView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"links": [
            {"rel": name, "href": absolute(request, reverse(f"api:{name}"))}
            for name in ("token", "sectors", "datasets", "jobs", "sources")
        ]})
