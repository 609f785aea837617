"""Routes of the merges API, part of the REST registry's /api/ (no trailing slashes; nothing redirects)."""
from django.urls import path

from layers.merging.api import views

urlpatterns = [
    path("merges", views.MergeCollection.as_view(), name="merges"),
    path("merges/<slug:slug>", views.MergeDetail.as_view(), name="merge"),
    path("merges/<slug:slug>/build", views.MergeBuildNow.as_view(), name="merge-build"),
    path("merges/<slug:slug>/builds", views.MergeBuilds.as_view(), name="merge-builds"),
]
