"""The REST API of sources (/api/sources…) and of a dataset's change log (/api/datasets/<slug>/changes)."""
