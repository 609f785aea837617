"""Routes of the sources API, part of the REST registry's /api/ (no trailing slashes; nothing redirects)."""
from django.urls import path, re_path

from layers.sources.api import views

urlpatterns = [
    path("sources", views.SourceCollection.as_view(), name="sources"),
    path("sources/<slug:slug>", views.SourceDetail.as_view(), name="source"),
    path("sources/<slug:slug>/run", views.SourceRunNow.as_view(), name="source-run"),
    path("sources/<slug:slug>/runs", views.SourceRuns.as_view(), name="source-runs"),
    # Also with a trailing slash, as the issue writes it (`…/changes/?since=`), answered, not redirected.
    re_path(r"^datasets/(?P<slug>[-a-zA-Z0-9_]+)/changes/?$", views.DatasetChanges.as_view(), name="dataset-changes"),
]
