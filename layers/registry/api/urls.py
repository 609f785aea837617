"""Routes of the REST registry, mounted at /api/ (no trailing slashes, like the OGC API: nothing redirects)."""
from django.urls import path

from layers.registry.api import views
from layers.merging.api.urls import urlpatterns as merge_urlpatterns
from layers.sources.api.urls import urlpatterns as source_urlpatterns
from layers.summaries import views as summaries

app_name = "api"

urlpatterns = [
    path("", views.Root.as_view(), name="root"),
    path("token", views.TokenView.as_view(), name="token"),
    path("sectors", views.SectorList.as_view(), name="sectors"),
    path("datasets", views.DatasetCollection.as_view(), name="datasets"),
    path("datasets/<slug:slug>", views.DatasetDetail.as_view(), name="dataset"),
    path("datasets/<slug:slug>/replace", views.DatasetReplace.as_view(), name="dataset-replace"),
    path("jobs", views.JobList.as_view(), name="jobs"),
    path("jobs/<int:job_id>", views.JobDetail.as_view(), name="job"),
    path("summaries/<slug:slug>", summaries.summary, name="summary"),  # JSON/CSV (layers/summaries/views.py)
    *source_urlpatterns,  # sources and change logs (layers/sources/api)
    *merge_urlpatterns,  # merged datasets (layers/merging/api)
]
