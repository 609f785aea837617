"""Which language a page is written in: Vietnamese unless the reader asks for English.

The same rule as the OGC API's pages (pygeoapi): `?lang=en` or `?lang=vi` first, then the browser's
Accept-Language, then Vietnamese (settings.LANGUAGE_CODE). An unknown `lang` is not an error; it falls back.
"""
from django.conf import settings
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

SUPPORTED = tuple(code for code, _name in settings.LANGUAGES)  # ("vi", "en")


def page_language(request) -> str:
    asked = request.GET.get("lang", "").strip().lower()[:8]
    if asked[:2] in SUPPORTED:
        return asked[:2]
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code[:2].lower() in SUPPORTED:
            return code[:2].lower()
    return settings.LANGUAGE_CODE


def language_query(lang: str) -> str:
    """What to append to a link so the next page keeps the reader's choice ("" for the default language)."""
    return "" if lang == settings.LANGUAGE_CODE else f"lang={lang}"


def set_language_headers(response, lang: str):
    response["Content-Language"] = lang
    patch_vary_headers(response, ("Accept-Language",))
    return response
