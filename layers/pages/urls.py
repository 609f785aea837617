"""Routes of the human pages (no trailing slashes, as everywhere in the SDI: settings.APPEND_SLASH is off)."""
from django.urls import path

from layers.pages.views import dataset_page, leaders_page

urlpatterns = [
    path("datasets/<slug:slug>", dataset_page, name="dataset-page"),
    path("lanh-dao", leaders_page, name="leaders"),
]
