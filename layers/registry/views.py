"""The human front page: what the SDI holds and where to reach it."""
from django.shortcuts import render

from layers.registry.selectors import visible_datasets


def home(request):
    return render(request, "layers/home.html", {"datasets": visible_datasets(request.user).select_related("sector")})
