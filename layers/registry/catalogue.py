"""The catalogue of default datasets (config/datasets.yml) and how to load it idempotently."""
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import yaml

from layers.loading import ImportRefused
from layers.models import Agency, Dataset
from layers.registry.services import GIVEN_METADATA, DatasetMetadata, import_vector_dataset

log = logging.getLogger(__name__)
ENTRY_KEYS = ("slug", "file", *GIVEN_METADATA)  # `source` is recorded by the loader (the file's fingerprint)


@dataclass(frozen=True)
class CatalogueEntry:
    slug: str
    path: Path
    metadata: DatasetMetadata

    def fingerprint(self) -> str:
        """Identifies the file content, so an unchanged default is not loaded twice."""
        return "sha256:" + hashlib.sha256(self.path.read_bytes()).hexdigest()


def read_catalogue(catalogue_path: Path) -> tuple[list[dict], list[CatalogueEntry]]:
    with open(catalogue_path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    entries = []
    for item in document.get("datasets", []):
        unknown = sorted(set(item) - set(ENTRY_KEYS))
        if unknown:  # a misspelt key would otherwise be dropped without a word
            raise ImportRefused(f"{catalogue_path.name}: dataset {item.get('slug')!r}: unknown key {unknown[0]!r} "
                                f"(keys: {', '.join(ENTRY_KEYS)})")
        path = (catalogue_path.parent / item["file"]).resolve()
        metadata = DatasetMetadata(**{k: item[k] for k in GIVEN_METADATA if k in item})
        entries.append(CatalogueEntry(item["slug"], path, metadata))
    return document.get("agencies", []), entries


def load_catalogue(catalogue_path: Path, on_dataset=None) -> list[str]:
    """Load every default dataset whose file changed; return the slugs loaded. Stops at the first bad file."""
    agencies, entries = read_catalogue(catalogue_path)
    for agency in agencies:
        Agency.objects.update_or_create(code=agency["code"], defaults={k: v for k, v in agency.items() if k != "code"})
    loaded = []
    for entry in entries:
        if not entry.path.is_file():
            raise ImportRefused(f"default dataset {entry.slug!r}: file {entry.path} is missing")
        fingerprint = entry.fingerprint()
        current = Dataset.objects.filter(slug=entry.slug).values_list("source", flat=True).first()
        if current and fingerprint in current:
            log.info("%s is up to date", entry.slug)
            continue
        entry.metadata.source = f"{entry.path.name} ({fingerprint})"
        if on_dataset:
            on_dataset(entry)
        import_vector_dataset(entry.path, slug=entry.slug, metadata=entry.metadata, replace=current is not None)
        loaded.append(entry.slug)
    return loaded
