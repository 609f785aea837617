"""A WFS 2.0 feature type, read as GeoJSON (paged when the server implements result paging) into one file.

The URL is the WFS endpoint with the feature type in its query (…/wfs?typeName=ns:parcels; typeNames too).
GetCapabilities tells whether the type exists, which output formats GetFeature offers, whether it pages, and
the type's CRSs. GeoJSON is preferred; GML is read by our own `gml` module, never by GDAL's GML driver, which
can fetch the schemas and xlinks a document names (docs/sources-remote.md). Coordinates are asked with
`srsName=EPSG:n`, the short form that WFS servers answer in east/north (x = longitude) order, as GeoJSON wants.
An OWS ExceptionReport, with any status, fails the run with its own words.
"""
import hashlib
import logging
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import defusedxml.ElementTree as SafeXML
from defusedxml import DefusedXmlException
from xml.etree.ElementTree import ParseError

from layers.crs.identifiers import UnknownCRS, parse
from layers.sources.remote.collection import FeatureCollectionWriter, page_features
from layers.sources.remote.contract import Downloaded
from layers.sources.remote.gml import gml_page, is_gml_format
from layers.sources.remote.http import Fetcher, with_params

log = logging.getLogger("layers.sources.remote")

WFS_PARAMS = {"service", "request", "version", "acceptversions", "typename", "typenames", "outputformat",
              "srsname", "count", "startindex", "maxfeatures", "resulttype"}
ACCEPT_XML = "application/xml, text/xml;q=0.9"
JSON_FORMATS = ("application/geo+json", "application/json", "application/vnd.geo+json")  # preferred, in order


def download_feature_type(fetcher: Fetcher, workdir: Path, srid: int | None) -> Downloaded:
    endpoint, type_name = _endpoint_and_type(fetcher)
    caps = _capabilities(fetcher, endpoint)
    feature_type = _feature_type(fetcher, caps, type_name)
    name = _text(feature_type, "Name")
    output_format = _output_format(fetcher, caps, feature_type)
    gml = is_gml_format(output_format)
    out_srid = _choose_srid(fetcher, feature_type, srid)
    paging = _constraint(caps, "ImplementsResultPaging")
    count = fetcher.limits.page_size
    server_max = _constraint_value(caps, "CountDefault")
    if server_max and server_max.isdigit() and 0 < int(server_max) < count:
        count = int(server_max)

    params = {"service": "WFS", "version": "2.0.0", "request": "GetFeature", "typeNames": name,
              "outputFormat": output_format, "srsName": f"EPSG:{out_srid}"}
    path = workdir / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name).strip('._')[:80] or 'features'}.geojson"
    matched, number, start, previous = None, 0, 0, None
    with FeatureCollectionWriter(path) as writer:
        while True:
            number += 1
            where = f"GetFeature page {number}" if paging else "GetFeature"
            if number > fetcher.limits.max_pages:
                raise fetcher.failure(f"has more than {fetcher.limits.max_pages} pages (the page limit)", where)
            page_params = {**params, "count": count, "startIndex": start} if paging else params
            body, media, _ = fetcher.read(with_params(endpoint, page_params),
                                          f"{output_format}, application/json;q=0.9, application/xml;q=0.5", where)
            if body.lstrip()[:1] == b"<":
                root = _parse_xml(fetcher, body, where)
                _raise_exception_report(fetcher, root, where)
                if not gml:
                    raise fetcher.failure(f"answered {_local(root.tag)} XML, not GeoJSON", where)
                features, said = gml_page(root, fetcher.failure, where)
            elif gml:
                raise fetcher.failure(f"answered {media or 'something'} that is not XML, not GML", where)
            else:
                page = fetcher.parse_json(body, media, "GeoJSON", where)
                features = page_features(page, fetcher.failure, where)
                said = page.get("numberMatched", page.get("totalFeatures"))
            digest = hashlib.sha256(body).digest()
            if features and digest == previous:
                raise fetcher.failure("sent the same page again: it ignores startIndex", where)
            previous = digest
            for feature in features:
                writer.write(feature)
            if number == 1:
                matched = said if isinstance(said, int) else None
            fetcher.progress(writer.count, matched, "features")
            if not paging or len(features) < count or (matched is not None and writer.count >= matched):
                break
            start += len(features)
    if matched is not None and matched != writer.count:
        cut = "" if paging else " (it does not implement result paging, so it sent one page only)"
        raise fetcher.failure(f"said numberMatched {matched} but sent {writer.count} features{cut}")
    log.info("%s: %d features of %s in %d requests", fetcher.source.label, writer.count, name, number)
    return Downloaded(path, out_srid, fetcher.source.label, writer.count)


def _endpoint_and_type(fetcher: Fetcher) -> tuple[str, str]:
    """The endpoint without WFS request parameters, and the feature type named in the URL's query."""
    parts = urlsplit(fetcher.source.url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    names = [v for k, v in query if k.lower() in ("typename", "typenames") and v.strip()]
    if not names:
        raise fetcher.failure("names no feature type: add it to the URL, e.g. ?typeName=ns:parcels")
    if len(names) > 1 or "," in names[0]:
        raise fetcher.failure("names more than one feature type; a source reads one")
    kept = [(k, v) for k, v in query if k.lower() not in WFS_PARAMS]
    return urlunsplit(parts._replace(query=urlencode(kept))), names[0].strip()


def _capabilities(fetcher: Fetcher, endpoint: str):
    where = "GetCapabilities"
    url = with_params(endpoint, {"service": "WFS", "request": "GetCapabilities", "acceptVersions": "2.0.0"})
    body, media, _ = fetcher.read(url, ACCEPT_XML, where)
    if body.lstrip()[:1] != b"<":
        raise fetcher.failure(f"answered {media or 'something'} that is not XML, not WFS capabilities", where)
    root = _parse_xml(fetcher, body, where)
    _raise_exception_report(fetcher, root, where)
    if _local(root.tag) != "WFS_Capabilities":
        raise fetcher.failure(f"answered {_local(root.tag)} XML, not WFS capabilities", where)
    version = root.get("version", "")
    if not version.startswith("2."):
        raise fetcher.failure(f"speaks WFS {version or '(no version)'}, not 2.0", where)
    return root


def _feature_type(fetcher: Fetcher, caps, wanted: str):
    types = {_text(t, "Name"): t for t in _all(caps, "FeatureType") if _text(t, "Name")}
    if wanted in types:
        return types[wanted]
    if ":" not in wanted:  # ?typeName=parcels for ns:parcels, when only one namespace has it
        same = [t for name, t in types.items() if name.rpartition(":")[2] == wanted]
        if len(same) == 1:
            return same[0]
    offered = ", ".join(sorted(types)[:20]) or "none"
    raise fetcher.failure(f"has no feature type {wanted!r} (it offers: {offered})", "GetCapabilities")


def _output_format(fetcher: Fetcher, caps, feature_type) -> str:
    """GeoJSON when the server offers it, else GML (3.2 first), read by layers.sources.remote.gml."""
    formats = [_clean(v.text) for v in _all(feature_type, "Format")]
    for operation in _all(caps, "Operation"):
        if operation.get("name") == "GetFeature":
            for parameter in _all(operation, "Parameter"):
                if parameter.get("name", "").lower() == "outputformat":
                    formats += [_clean(v.text) for v in _all(parameter, "Value")]
    formats = [f for f in formats if f]
    for wanted in JSON_FORMATS:
        for offered in formats:
            if offered.lower() == wanted:
                return offered
    for offered in formats:
        if "json" in offered.lower():
            return offered
    gml = sorted((f for f in formats if is_gml_format(f)), key=lambda f: ("3.2" not in f, f))
    if gml:
        return gml[0]
    raise fetcher.failure(f"offers neither GeoJSON nor GML output for GetFeature (it offers: "
                          f"{', '.join(formats[:8]) or 'none'})", "GetCapabilities")


def _choose_srid(fetcher: Fetcher, feature_type, srid: int | None) -> int:
    names = [_clean(e.text) for e in _all(feature_type, "DefaultCRS") + _all(feature_type, "DefaultSRS")]
    names += [_clean(e.text) for e in _all(feature_type, "OtherCRS") + _all(feature_type, "OtherSRS")]
    offered = []
    for name in names:
        try:
            offered.append(parse(name).srid)
        except UnknownCRS:
            continue
    if srid is not None and srid in offered:
        return srid
    if not offered:
        said = names[0] if names else "none"
        raise fetcher.failure(f"the feature type's CRS ({said[:80]}) is not an EPSG code", "GetCapabilities")
    if srid is not None:
        log.info("%s: EPSG:%d is not offered; reading its default CRS EPSG:%d", fetcher.source.label, srid, offered[0])
    return offered[0]


def _constraint(caps, name: str) -> bool:
    return (_constraint_value(caps, name) or "").upper() == "TRUE"


def _constraint_value(caps, name: str) -> str | None:
    for metadata in _all(caps, "OperationsMetadata"):
        for constraint in _all(metadata, "Constraint"):
            if constraint.get("name") == name:
                return _text(constraint, "DefaultValue")
    return None


def _parse_xml(fetcher: Fetcher, body: bytes, where: str):
    """XML parsed without entities or external references (defusedxml), or a failure saying it is broken."""
    try:
        return SafeXML.fromstring(body, forbid_dtd=True)
    except DefusedXmlException:
        raise fetcher.failure("answered XML with a DTD or entities, which are refused", where) from None
    except ParseError as exc:
        raise fetcher.failure(f"answered XML that cannot be read ({exc})", where) from None


def _raise_exception_report(fetcher: Fetcher, root, where: str) -> None:
    if _local(root.tag) != "ExceptionReport":
        return
    texts = [" ".join(e.text.split()) for e in _all(root, "ExceptionText") if e.text and e.text.strip()]
    codes = [e.get("exceptionCode") for e in _all(root, "Exception") if e.get("exceptionCode")]
    said = "; ".join(texts) or ", ".join(codes) or "no reason given"
    raise fetcher.failure(f"answered an exception: {said[:300]}", where)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _all(element, name: str) -> list:
    return [e for e in element.iter() if _local(e.tag) == name]


def _text(element, name: str) -> str:
    for child in element:
        if _local(child.tag) == name:
            return _clean(child.text)
    return ""


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())
