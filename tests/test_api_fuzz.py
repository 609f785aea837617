"""A bounded, seeded fuzz run of the OGC API against its own OpenAPI document: no input may cause a 5xx.

schemathesis generates requests for every operation in /ogcapi/openapi and sends them to a real gunicorn on
127.0.0.1: valid ones, ones that break the declared schemas, ones where every query parameter may be any
scalar, and, for /items, each parameter alone as any scalar. pygeoapi's document references schemas on
schemas.opengis.net and GitHub, which tests cannot (and should not) reach: those references are made local
here, as the parameters they name or as permissive schemas.
"""
import json
from collections import Counter

import requests
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import GenerationMode

EXAMPLES_PER_RUN = 250  # ~1000 requests in all: a few seconds; raise both locally for a longer hunt
EXAMPLES_PER_PARAMETER = 15
ANY_SCALAR = {"type": ["string", "number", "integer", "boolean"]}
SEED = 20261202

# The remote parameters pygeoapi references, as what they are (OGC API – Features Part 1, Records sortby).
REMOTE_PARAMETERS = {
    "featureId": {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}},
    "sortby": {"name": "sortby", "in": "query", "required": False, "schema": {"type": "string"}},
    # on collections with a time field (cantho-health-facilities since the default data of 2 Dec 2026)
    "datetime": {"name": "datetime", "in": "query", "required": False, "schema": {"type": "string"}},
}


def localised(node):
    """The document with every remote $ref replaced: parameters by their definition, responses by a stub,
    schemas by the permissive schema {}."""
    if isinstance(node, list):
        return [localised(value) for value in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and not ref.startswith("#"):
        if "/parameters/" in ref:
            name = ref.rsplit("/", 1)[-1].removesuffix(".yaml")
            assert name in REMOTE_PARAMETERS, f"new remote parameter in pygeoapi's OpenAPI: {ref}"
            return REMOTE_PARAMETERS[name]
        if "/responses/" in ref:
            return {"description": f"(remote) {ref}"}
        return {}
    return {key: localised(value) for key, value in node.items()}


def loosened(document: dict) -> dict:
    """The same document with every query parameter free to be any scalar: `limit=true`, `bbox=1.5` and the
    like, which the declared schemas would never produce."""
    document = json.loads(json.dumps(document))
    parameters = list(document.get("components", {}).get("parameters", {}).values())
    for operations in document["paths"].values():
        for operation in operations.values():
            parameters += [p for p in operation.get("parameters", []) if "$ref" not in p]
    for parameter in parameters:
        if parameter.get("in") == "query":
            parameter["schema"] = dict(ANY_SCALAR)
    return document


def one_parameter_at_a_time(document: dict, path: str) -> list[dict]:
    """For each query parameter of GET `path`: a document with only that operation and only that parameter,
    free to be any scalar. Alone, a bad value is not hidden behind another parameter's 400."""
    components = document.get("components", {}).get("parameters", {})
    operation = document["paths"][path]["get"]
    documents = []
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = components[parameter["$ref"].rsplit("/", 1)[1]]
        if parameter.get("in") != "query":
            continue
        single = {**operation, "parameters": [{**parameter, "schema": dict(ANY_SCALAR)}]}
        documents.append({**document, "paths": {path: {"get": single}}})
    return documents


def test_no_generated_request_gets_a_server_error(ogcapi):
    assert ogcapi.startswith("http://127.0.0.1:")
    document = requests.get(f"{ogcapi}/openapi", params={"f": "json"}, timeout=30).json()
    local = localised(document)
    assert "http" not in "".join(str(v) for v in _refs(local)), "a remote $ref is left"
    session = requests.Session()
    statuses: Counter = Counter()
    server_errors: list[str] = []

    runs = [(local, GenerationMode.POSITIVE, EXAMPLES_PER_RUN), (local, GenerationMode.NEGATIVE, EXAMPLES_PER_RUN),
            (loosened(local), GenerationMode.POSITIVE, EXAMPLES_PER_RUN)]
    runs += [(single, GenerationMode.POSITIVE, EXAMPLES_PER_PARAMETER)
             for single in one_parameter_at_a_time(local, "/collections/cantho-districts/items")]
    for spec, mode, examples in runs:
        schema = schemathesis.openapi.from_dict(spec)

        @seed(SEED)
        @settings(max_examples=examples, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=schema.as_strategy(mode))
        def send(case):
            response = case.call(base_url=ogcapi, session=session, timeout=30)
            statuses[response.status_code] += 1
            if response.status_code >= 500:  # collected, not raised: no shrinking, a bounded run
                server_errors.append(f"{response.status_code} {case.method} {response.request.url}")

        send()

    assert sum(statuses.values()) >= EXAMPLES_PER_RUN, statuses
    assert statuses[200] and statuses[400], statuses  # it did reach valid and invalid answers
    assert not server_errors, "\n".join(sorted(set(server_errors))[:30])


def _refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)
