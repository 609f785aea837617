"""Django admin for the registry. Thin: it lists, edits metadata and uploads; the rules live in
layers.registry.registration and layers.registry.services.

Datasets follow the registry's own rule rather than Django's per-model permissions, so that the admin and the
REST API agree: every staff user may see the registry and upload; only a dataset's owners and superusers
(`services.can_modify`) may change or delete it.
"""
from functools import wraps

from django.contrib import messages
from django.contrib.gis import admin
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.csrf import csrf_protect

from layers.registry import registration, services
from layers.registry.forms import DatasetChangeForm, UploadForm
from layers.loading import ImportRefused
from layers.models import Agency, Dataset, ImportJob, Sector
from layers.registry.selectors import manageable_datasets, visible_jobs

REFRESH_SECONDS = 2  # how often a running job's pages reload themselves


def is_staff(request) -> bool:
    return request.user.is_active and request.user.is_staff


def progress_bar(job: ImportJob) -> str:
    return format_html('<progress value="{}" max="100" title="{}%">{}%</progress> {}%',
                       job.progress, job.progress, job.progress, job.progress)


@admin.register(Sector)
class SectorAdmin(admin.ModelAdmin):
    list_display = ("ordering", "code", "name_vi", "name_en")


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name_vi", "name_en")
    search_fields = ("code", "name_vi", "name_en")


@admin.register(Dataset)
class DatasetAdmin(admin.GISModelAdmin):
    list_display = ("slug", "title_vi", "sector", "access_level", "geometry_type", "feature_count", "storage_srid",
                    "published")
    list_filter = ("sector", "access_level", "published", "geometry_type")
    search_fields = ("slug", "title_vi", "title_en", "keywords")
    filter_horizontal = ("owners", "allowed_users", "allowed_groups")
    form = DatasetChangeForm  # only what registration.update_metadata may change; the rest is shown read-only
    MEASURED = ("extent_display", "districts", "feature_count", "geometry_type", "storage_srid", "table_schema",
                "table_name", "id_field", "geometry_field", "attribute_schema", "time_field", "temporal_begin",
                "temporal_end")
    readonly_fields = ("slug", "source", *MEASURED, "created", "updated")
    fieldsets = (
        (None, {"fields": ("slug", *registration.EDITABLE_FIELDS)}),
        ("Quyền truy cập / Access", {"fields": registration.EDITABLE_RELATIONS}),
        ("Dữ liệu / Data (measured by the loader, read-only)",
         {"fields": (*MEASURED, "source", "created", "updated")}),
    )

    @admin.display(description="extent (WGS 84)")
    def extent_display(self, dataset):
        if dataset.extent is None:
            return "—"
        minx, miny, maxx, maxy = dataset.extent.extent
        return f"lon {minx:.6f} … {maxx:.6f}, lat {miny:.6f} … {maxy:.6f}"

    # --- who may do what -------------------------------------------------------------------------------------

    def get_queryset(self, request):
        return manageable_datasets(request.user).select_related("sector")

    def has_module_permission(self, request):
        return is_staff(request)

    def has_view_permission(self, request, obj=None):
        return is_staff(request)

    def has_add_permission(self, request):
        return False  # a dataset is registered by uploading its data (the Upload view), never typed in

    def has_change_permission(self, request, obj=None):
        return is_staff(request) and (obj is None or services.can_modify(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        return is_staff(request) and (obj is None or services.can_modify(request.user, obj))

    # --- saving and deleting go through the services ------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        """Through the same service as the REST API's PATCH: rights checked, registry version bumped."""
        registration.update_metadata(Dataset.objects.get(pk=obj.pk), request.user, form.changes())

    def save_related(self, request, form, formsets, change):
        pass  # owners and allowed users/groups were saved by update_metadata, with the rest

    def delete_model(self, request, obj):
        services.delete_dataset(obj.slug, request.user)

    def delete_queryset(self, request, queryset):
        for dataset in queryset:
            try:
                services.delete_dataset(dataset.slug, request.user)
            except ImportRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)

    # --- the upload view -----------------------------------------------------------------------------------------

    def get_urls(self):
        upload = self.admin_site.admin_view(self._limit_upload_size(csrf_protect(self.upload_view)))
        return [path("upload/", upload, name="layers_dataset_upload"), *super().get_urls()]

    def _limit_upload_size(self, view):
        """Answer 413 from Content-Length before anything reads the body (so CSRF is checked after this)."""
        @wraps(view)
        def limited(request, *args, **kwargs):
            if request.method == "POST":
                try:
                    registration.check_upload_size(registration.content_length(request.META))
                except registration.UploadTooLarge as exc:
                    return self._upload_page(request, UploadForm(), error=str(exc), status=413)
            return view(request, *args, **kwargs)
        limited.csrf_exempt = True  # CsrfViewMiddleware must not read the body first; csrf_protect runs inside
        return limited

    def upload_view(self, request):
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = registration.request_import(user=request.user, **form.import_arguments())
            except ImportRefused as exc:
                field = getattr(exc, "field", None)
                form.add_error(field if field in form.fields else None, str(exc))
            else:
                self.message_user(request, f"Đã xếp hàng / queued import job {job.pk} for {job.slug}",
                                  messages.SUCCESS)
                return redirect(reverse("admin:layers_importjob_change", args=[job.pk]))
        return self._upload_page(request, form)

    def _upload_page(self, request, form, error=None, status=200):
        context = {**self.admin_site.each_context(request), "title": "Tải lên / Upload a dataset", "form": form,
                   "opts": self.model._meta, "error": error}
        return TemplateResponse(request, "admin/layers/dataset/upload.html", context, status=status)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only: jobs are created by uploads and commands, and written by the worker."""

    list_display = ("id", "slug", "status", "progress_display", "stage", "short_message", "created_by", "created",
                    "finished")
    list_display_links = ("id", "slug")
    list_filter = ("status",)
    search_fields = ("slug", "message")
    fields = ("slug", "status", "progress_display", "stage", "message", "warnings", "report", "source_path",
              "options", "created_by", "created", "started", "finished")
    readonly_fields = fields

    @admin.display(description="tiến độ / progress")
    def progress_display(self, job):
        return progress_bar(job)

    @admin.display(description="cảnh báo / warnings")
    def warnings(self, job):
        """What the import published but wants a person to check (e.g. a VN-2000 zone that puts it elsewhere)."""
        return format_html_join("", '<p class="warning">{}</p>', ((w,) for w in job.report.get("warnings", []))) \
            or "—"

    @admin.display(description="message")
    def short_message(self, job):
        return job.message if len(job.message) <= 120 else job.message[:119] + "…"

    def get_queryset(self, request):
        return visible_jobs(request.user)

    def has_module_permission(self, request):
        return is_staff(request)

    def has_view_permission(self, request, obj=None):
        return is_staff(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        running = obj is not None and obj.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
        return request.user.is_superuser and not running

    def change_view(self, request, object_id, form_url="", extra_context=None):
        status = (self.get_queryset(request).filter(pk=object_id).values_list("status", flat=True).first()
                  if object_id.isdigit() else None)
        unfinished = status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
        report = (self.get_queryset(request).filter(pk=object_id).values_list("report", flat=True).first()
                  if object_id.isdigit() else None) or {}
        return super().change_view(request, object_id, form_url, {
            **(extra_context or {}), "refresh_seconds": REFRESH_SECONDS if unfinished else 0,
            "import_warnings": report.get("warnings", [])})

    def changelist_view(self, request, extra_context=None):
        unfinished = self.get_queryset(request).filter(
            Q(status=ImportJob.Status.QUEUED) | Q(status=ImportJob.Status.RUNNING)).exists()
        return super().changelist_view(request, {**(extra_context or {}),
                                                 "refresh_seconds": REFRESH_SECONDS if unfinished else 0})


from layers.sources import admin as sources_admin  # noqa: E402,F401 (registers the source pages)
from layers.merging import admin as merging_admin  # noqa: E402,F401 (registers the merge pages)
