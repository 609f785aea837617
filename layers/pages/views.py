"""The two pages: a dataset's own page (/datasets/<slug>) with its summary panel, and the leaders' page (/lanh-dao).

Both answer GET and HEAD only (405 otherwise, before any CSRF check: they change nothing), read nothing but the
query string and the session, and show only what `visible_datasets(user)` lets the reader see (any other slug is
a 404, as on the API).
"""
from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from layers.pages.language import language_query, page_language, set_language_headers
from layers.pages.leaders import panel_figures, read_panels
from layers.pages.numbers import format_number
from layers.pages.panel_form import (FORM_FIELDS, FormRefused, SummaryChoice, category_attributes,
                                     measure_choices, numeric_attributes, read_choice, units_choices)
from layers.pages.summary_table import summary_table
from layers.pages.texts import bilingual, texts_for
from layers.registry.selectors import visible_datasets
from layers.summaries.compute import summarise
from layers.summaries.errors import NotVisible, SummaryRefused
from sdi.ogcapi.views import base_url, read_only


def page_context(request, lang: str, **context) -> dict:
    """What every page's frame needs: the labels, the language and the link to the same page in the other one."""
    other = "en" if lang == "vi" else "vi"
    query = request.GET.copy()
    query["lang"] = other
    return {"lang": lang, "t": texts_for(lang), "lang_query": language_query(lang),
            "other_language_url": f"{request.path}?{query.urlencode()}", **context}


def extent_text(dataset, lang: str) -> str:
    """ "kinh độ 105,2258 – 105,8448; vĩ độ 9,9196 – 10,3253": decimal commas make "x, y" pairs unreadable."""
    if dataset.extent is None:
        return "–"
    minx, miny, maxx, maxy = dataset.extent.extent
    lon, lat = ("longitude", "latitude") if lang == "en" else ("kinh độ", "vĩ độ")
    return (f"{lon} {format_number(minx, lang, 4)} – {format_number(maxx, lang, 4)}; "
            f"{lat} {format_number(miny, lang, 4)} – {format_number(maxy, lang, 4)}")


def dataset_links(request, dataset, choice: SummaryChoice | None, lang: str) -> dict:
    ogcapi = base_url(request)
    collection = f"{ogcapi}/collections/{dataset.slug}"
    links = {"collection": f"{collection}?f=html", "items": f"{collection}/items?f=json", "qgis": ogcapi}
    if choice is not None:
        links["csv"] = f"/api/summaries/{dataset.slug}?{choice.query(language_query(lang), format='csv')}"
    return links


def form_values(choice: SummaryChoice | None, params) -> dict:
    """What the form shows as chosen: the checked choice, or what the reader sent when it was refused."""
    if choice is not None:
        return {"units": choice.units, "measure": choice.measure, "attribute": choice.attribute or "",
                "category": choice.category or ""}
    return {name: params.get(name, "") for name in FORM_FIELDS}


@read_only
def dataset_page(request, slug: str):
    lang = page_language(request)
    dataset = visible_datasets(request.user).select_related("sector", "agency").filter(slug=slug).first()
    if dataset is None:
        raise Http404(f"no dataset {slug!r}")
    choice, table, refused = None, None, ""
    try:
        choice = read_choice(dataset, request.GET)
        table = summary_table(summarise(choice.request(), request.user), lang)
    except (FormRefused, SummaryRefused) as exc:
        refused = exc.message
    except NotVisible:  # the dataset is visible (above), so it is the units layer that is not there
        refused = f"units: no dataset {choice.units!r}"
    # A refused choice the reader made is their error (400); the default summary that cannot be given (a dataset
    # of mixed geometries, units not loaded) leaves the page itself a 200 that says why.
    status = 400 if refused and any(request.GET.get(name) for name in FORM_FIELDS) else 200
    context = page_context(
        request, lang, dataset=dataset, title=bilingual(dataset, "title", lang),
        abstract=bilingual(dataset, "abstract", lang),
        sector=dataset.sector.name_en if lang == "en" and dataset.sector.name_en else dataset.sector.name_vi,
        agency=(bilingual(dataset.agency, "name", lang) if dataset.agency else ""),
        feature_count=format_number(dataset.feature_count, lang), extent=extent_text(dataset, lang),
        links=dataset_links(request, dataset, choice, lang),
        form=form_values(choice, request.GET), units_choices=units_choices(lang),
        measure_choices=measure_choices(lang),
        numeric_attributes=numeric_attributes(dataset), category_attributes=category_attributes(dataset),
        table=table, refused=refused,
    )
    return set_language_headers(render(request, "layers/pages/dataset.html", context, status=status), lang)


@read_only
def leaders_page(request):
    lang = page_language(request)
    panels = panel_figures(read_panels(settings.SDI_LEADERS_PANELS), request.user, lang)
    context = page_context(request, lang, panels=panels)
    return set_language_headers(render(request, "layers/pages/leaders.html", context), lang)
