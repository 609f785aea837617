"""URL map: home page, the dataset pages and the leaders' page (layers.pages), Django admin, the REST registry
under /api/, and the OGC API under /ogcapi/."""
from django.contrib import admin
from django.urls import include, path

from layers.registry.views import home
from sdi.health import healthz, readyz

urlpatterns = [
    path("", home, name="home"),
    path("", include("layers.pages.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("layers.registry.api.urls")),
    path("ogcapi", include("sdi.ogcapi.urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]
