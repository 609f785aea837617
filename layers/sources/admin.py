"""The admin's source pages: register and change a source through layers.sources.services, see its run history
and its dataset's change log, and "run now" (queued through layers.jobs.deferral.defer_harvest).

Sources follow Django's model permissions: superusers, and users given the add/change source permission.
"""
from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from layers.loading import ImportRefused
from layers.models import Sector
from layers.sources import services
from layers.sources.models import FeatureChange, Source

HISTORY_RUNS = 20
LOG_CHANGES = 50


class SourceForm(forms.ModelForm):
    """The fields of a source, as text the service parses (durations like 15m, CRSs like EPSG:9210)."""

    dsn = forms.CharField(required=False, label="PostgreSQL connection", widget=forms.PasswordInput(render_value=False),
                          help_text="host=… port=… dbname=… user=… password=…, a postgresql:// URI, or service=NAME. "
                                    "The password is stored encrypted and never shown; leave empty to keep the "
                                    "current connection.")
    every_text = forms.CharField(required=False, label="every", help_text="15m, 1h, 1d; empty: by hand only")
    crs = forms.CharField(required=False, help_text="EPSG:9210 …; empty: read it from the source")
    title = forms.CharField(required=False, help_text="title of the dataset the first run creates")
    sector = forms.ModelChoiceField(Sector.objects.all(), required=False, to_field_name="code")

    class Meta:
        model = Source
        fields = ("slug", "kind", "url", "dsn", "table", "key_field", "every_text", "crs", "title", "sector",
                  "enabled")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key_field"].required = False
        if self.instance.pk:
            self.fields["slug"].disabled = self.fields["kind"].disabled = True
            # a token in the URL is a credential: shown as ***, and kept when the field comes back unchanged
            self.initial["url"] = services.public_url(self.instance.url) if self.instance.url else ""
            self.fields["url"].help_text = "values of a token or key in the URL show as ***; leave them so to keep them"
            self.fields["every_text"].initial = services.format_every(self.instance.every)
            self.fields["crs"].initial = f"EPSG:{self.instance.srid}" if self.instance.srid else ""
            self.fields["title"].initial = self.instance.metadata.get("title_vi", "")
            self.fields["sector"].initial = self.instance.metadata.get("sector")

    def request(self) -> dict:
        data = self.cleaned_data
        metadata = {k: v for k, v in {"title_vi": data.get("title"),
                                      "sector": data["sector"].code if data.get("sector") else None}.items() if v}
        return dict(slug=data.get("slug"), kind=data.get("kind"), url=data.get("url") or "", dsn=data.get("dsn") or "",
                    table=data.get("table") or "", key=data.get("key_field") or "", every=data.get("every_text"),
                    crs=data.get("crs"), metadata=metadata)

    def clean(self):
        super().clean()
        if self.errors:
            return
        try:
            if self.instance.pk is None:
                services.check_source_request(user=self.user, **self.request())
            else:
                services.parse_every(self.cleaned_data.get("every_text"))
                services._check_srid(self.cleaned_data.get("crs"))
        except ImportRefused as exc:
            field = getattr(exc, "field", None)
            field = {"every": "every_text", "key": "key_field"}.get(field, field)
            raise forms.ValidationError({field if field in self.fields else None: str(exc)}) from None


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceForm
    list_display = ("slug", "kind", "where", "every_display", "enabled", "next_run_at", "last_run")
    list_filter = ("kind", "enabled")
    search_fields = ("slug", "url", "table")
    readonly_fields = ("has_password", "run_history", "change_log")
    actions = ["run_now"]
    change_form_template = "admin/layers/source/change_form.html"

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.user = request.user
        return form

    def get_fields(self, request, obj=None):
        fields = list(SourceForm.Meta.fields)
        return fields + list(self.readonly_fields) if obj else fields

    @admin.display(description="reads")
    def where(self, source):
        return services.source_label(source).split(" (", 1)[-1].rstrip(")")

    @admin.display(description="every")
    def every_display(self, source):
        return services.format_every(source.every) or "—"

    @admin.display(description="last run")
    def last_run(self, source):
        run = source.runs.first()
        return f"{run.status} {run.started:%Y-%m-%d %H:%M}" if run else "—"

    @admin.display(description="password stored")
    def has_password(self, source):
        return "yes (encrypted)" if source.secret else "no (service / pgpass, or none)"

    @admin.display(description="run history (newest first)")
    def run_history(self, source):
        runs = source.runs.all()[:HISTORY_RUNS]
        if not runs:
            return "no run yet"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>+{} ~{} -{}</td><td>{}</td></tr>", (
            (f"{r.started:%Y-%m-%d %H:%M:%S}", f"{r.finished:%H:%M:%S}" if r.finished else "", r.status,
             r.added, r.changed, r.removed, r.error) for r in runs))
        return format_html("<table><tr><th>started</th><th>finished</th><th>status</th><th>added/changed/removed"
                           "</th><th>error</th></tr>{}</table>", rows)

    @admin.display(description="change log of the dataset (newest first)")
    def change_log(self, source):
        if source.dataset_id is None:
            return "no dataset yet (the first run creates it)"
        changes = FeatureChange.objects.filter(dataset_id=source.dataset_id)[:LOG_CHANGES]
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (f"{c.time:%Y-%m-%d %H:%M:%S}", c.action, c.key or "(whole dataset)", _brief(c.old), _brief(c.new))
            for c in changes))
        api = reverse("api:dataset-changes", args=[source.slug])
        return format_html("<table><tr><th>time</th><th>action</th><th>key</th><th>old</th><th>new</th></tr>{}"
                           "</table><p>All of it: <a href=\"{}\">{}</a>?since=…</p>", rows, api, api)

    def save_model(self, request, obj, form, change):
        data = form.request()
        if not change:
            saved = services.register_source(user=request.user, enabled=form.cleaned_data.get("enabled", True), **data)
            obj.pk = saved.pk
            return
        stored = Source.objects.get(pk=obj.pk)
        url = stored.url if data["url"] == services.public_url(stored.url) else data["url"]
        changes = {"url": url, "table": data["table"], "key_field": data["key"], "every": data["every"],
                   "srid": data["crs"], "enabled": form.cleaned_data.get("enabled", True)}
        if obj.kind != Source.Kind.POSTGRES:
            changes.pop("table")
        else:
            changes.pop("url")
        if data["dsn"]:
            changes["dsn"] = data["dsn"]
        if data["metadata"]:
            changes["metadata"] = data["metadata"]
        services.update_source(stored, request.user, changes)

    def get_urls(self):
        return [path("<int:source_id>/run/", self.admin_site.admin_view(require_POST(self.run_view)),
                     name="layers_source_run"), *super().get_urls()]

    def run_view(self, request, source_id):
        source = Source.objects.filter(pk=source_id).first()
        if source is not None:
            self._queue(request, [source])
        return redirect(reverse("admin:layers_source_change", args=[source_id]))

    @admin.action(description="Run now")
    def run_now(self, request, queryset):
        self._queue(request, list(queryset))

    def _queue(self, request, sources):
        for source in sources:
            try:
                queued = services.request_run(source, request.user)
            except ImportRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.message_user(request, f"{source.slug}: run queued" if queued else
                              f"{source.slug}: a run is already queued", messages.SUCCESS)


def _brief(values) -> str:
    if not values:
        return ""
    shown = {k: v for k, v in values.items() if k != "geometry"}
    text = ", ".join(f"{k}={v}" for k, v in shown.items())
    return text[:200] + ("…" if len(text) > 200 else "")

