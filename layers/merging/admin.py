"""The admin's merge pages: the spec as JSON text (checked by layers.merging.services, its errors shown with the
part of the spec at fault), the build history with each build's report, and "Build now" (queued through
layers.jobs.deferral.defer_merge). Rights follow the datasets' rule: staff declare; the merged dataset's owners
and superusers change, build or delete."""
import json

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from layers.loading import ImportRefused
from layers.merging import services
from layers.merging.models import MergedDataset

HISTORY_BUILDS = 20


class MergeForm(forms.ModelForm):
    spec_text = forms.CharField(label="spec (JSON)", widget=forms.Textarea(attrs={"rows": 30, "cols": 100,
                                                                                   "style": "font-family:monospace"}),
                                help_text="slug, title_vi, title_en, sector, crs, overlap (priority | clip), fields, "
                                          "members — the same object as the YAML file of manage.py add_merge "
                                          "(docs/merging.md)")

    class Meta:
        model = MergedDataset
        fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["spec_text"].initial = json.dumps(self.instance.spec, ensure_ascii=False, indent=2)

    def clean_spec_text(self):
        text = self.cleaned_data["spec_text"]
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
        try:
            services.check_spec(raw, self.user, self.instance if self.instance.pk else None)
        except ImportRefused as exc:
            at = getattr(exc, "field", None)
            raise forms.ValidationError(f"{at}: {exc}" if at else str(exc)) from None
        return raw


@admin.register(MergedDataset)
class MergedDatasetAdmin(admin.ModelAdmin):
    form = MergeForm
    list_display = ("slug", "overlap", "member_list", "dataset", "last_build")
    search_fields = ("slug",)
    readonly_fields = ("dataset", "build_history", "last_report")
    actions = ["build_now"]
    change_form_template = "admin/layers/mergeddataset/change_form.html"

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.user = request.user
        return form

    def get_fields(self, request, obj=None):
        return ["spec_text", *self.readonly_fields] if obj else ["spec_text"]

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    has_module_permission = has_view_permission
    has_add_permission = has_view_permission

    def has_change_permission(self, request, obj=None):
        return request.user.is_staff and (obj is None or services.can_manage(request.user, obj))

    has_delete_permission = has_change_permission

    def get_queryset(self, request):
        return services.visible_merges(request.user)

    @admin.display(description="members")
    def member_list(self, merge):
        return ", ".join(merge.member_slugs)

    @admin.display(description="last build")
    def last_build(self, merge):
        build = merge.builds.first()
        return f"{build.status} {build.started:%Y-%m-%d %H:%M}" if build else "—"

    @admin.display(description="build history (newest first)")
    def build_history(self, merge):
        builds = merge.builds.all()[:HISTORY_BUILDS]
        if not builds:
            return "no build yet"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}"
                                    "</td></tr>", (
            (f"{b.started:%Y-%m-%d %H:%M:%S}", f"{b.finished:%H:%M:%S}" if b.finished else "", b.status,
             b.report.get("features", ""), b.report.get("overlap_area_m2", ""), b.report.get("gap_area_m2", ""),
             b.error) for b in builds))
        return format_html("<table><tr><th>started</th><th>finished</th><th>status</th><th>features</th>"
                           "<th>overlaps m²</th><th>gaps m²</th><th>error</th></tr>{}</table>", rows)

    @admin.display(description="report of the last successful build")
    def last_report(self, merge):
        build = merge.builds.filter(status="succeeded").first()
        if build is None:
            return "—"
        counts = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (slug, c.get("read"), c.get("outside_clip"), c.get("trimmed"), c.get("dropped"), c.get("published"))
            for slug, c in build.report.get("members", {}).items()))
        places = format_html_join("", "<tr><td>{}</td><td>{} – {}</td><td>{}</td><td>{}, {}</td></tr>", (
            (kind, o["member_a"], o["member_b"], o["area_m2"], o["lat"], o["lon"])
            for kind in ("overlaps", "gaps") for o in build.report.get(kind, [])))
        return format_html("<table><tr><th>member</th><th>read</th><th>outside clip</th><th>trimmed</th>"
                           "<th>dropped</th><th>published</th></tr>{}</table><table><tr><th>kind</th>"
                           "<th>members</th><th>area m²</th><th>lat, lon</th></tr>{}</table>", counts, places)

    def save_model(self, request, obj, form, change):
        raw = form.cleaned_data["spec_text"]
        if change:
            saved = services.update_merge(MergedDataset.objects.get(pk=obj.pk), raw, request.user)
        else:
            saved, _ = services.save_merge(raw, request.user)
        obj.pk, obj.slug, obj.spec, obj.overlap = saved.pk, saved.slug, saved.spec, saved.overlap

    def delete_model(self, request, obj):
        services.delete_merge(obj, request.user)

    def delete_queryset(self, request, queryset):
        for merge in queryset:
            services.delete_merge(merge, request.user)

    def get_urls(self):
        return [path("<int:merge_id>/build/", self.admin_site.admin_view(require_POST(self.build_view)),
                     name="layers_mergeddataset_build"), *super().get_urls()]

    def build_view(self, request, merge_id):
        merge = services.visible_merges(request.user).filter(pk=merge_id).first()
        if merge is not None:
            self._queue(request, [merge])
        return redirect(reverse("admin:layers_mergeddataset_change", args=[merge_id]))

    @admin.action(description="Build now")
    def build_now(self, request, queryset):
        self._queue(request, list(queryset))

    def _queue(self, request, merges):
        for merge in merges:
            try:
                queued = services.request_build(merge, request.user)
            except ImportRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.message_user(request, f"{merge.slug}: build queued" if queued else
                              f"{merge.slug}: a build is already queued", messages.SUCCESS)
