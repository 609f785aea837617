"""The REST registry (djangorestframework): list and describe datasets, upload, replace, edit, delete, follow jobs.

Views are thin: they parse with serializers and call `layers.registry.registration`, `layers.registry.services`, `layers.jobs.queue`
and `layers.registry.selectors`. Every error body is `{"detail": "<one sentence>"}`.
"""
