"""The merges' REST API, part of the registry's /api/ (layers/registry/api/urls.py includes these routes)."""
