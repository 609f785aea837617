"""Routes of the OGC API. Mounted at /ogcapi; no route redirects (QGIS rejects redirected links)."""
from django.urls import path, re_path

from sdi.ogcapi import views

urlpatterns = [
    re_path(r"^/?$", views.landing_page),
    path("/conformance", views.conformance),
    path("/openapi", views.openapi),
    path("/collections", views.collections),
    path("/processes", views.processes),
    path("/processes/<str:process_id>", views.process),
    path("/processes/<str:process_id>/execution", views.execution),
    path("/TileMatrixSets", views.tile_matrix_sets),
    path("/tileMatrixSets", views.tile_matrix_sets),  # pygeoapi's own links on that page spell it so
    path("/TileMatrixSets/<str:tile_matrix_set_id>", views.tile_matrix_set),
    path("/collections/<str:collection_id>", views.collection),
    path("/collections/<str:collection_id>/queryables", views.queryables),
    path("/collections/<str:collection_id>/schema", views.schema),
    path("/collections/<str:collection_id>/items", views.items),
    path("/collections/<str:collection_id>/items/<str:item_id>", views.item),
    re_path(r"^/static/(?P<path>.+)$", views.pygeoapi_static),
]
