"""The side-by-side results, kept in bench/out/peers-results.json so that a run of one server keeps the others'."""
import json

from bench import OUT

RESULTS_JSON = OUT / "peers-results.json"
RESULTS_MD = OUT / "peers-results.md"


def load_results() -> dict:
    if RESULTS_JSON.exists():
        return json.loads(RESULTS_JSON.read_text())
    return {}


def save_results(results: dict) -> None:
    RESULTS_JSON.write_text(json.dumps(results, indent=1, ensure_ascii=False))
