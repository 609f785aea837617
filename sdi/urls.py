"""URL map: home page, Django admin, and the OGC API under /ogcapi/."""
from django.contrib import admin
from django.urls import include, path

from layers.views import home

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("ogcapi", include("sdi.ogcapi.urls")),
]
