"""The REST registry (djangorestframework): list and describe datasets, upload, replace, edit, delete, follow jobs.

Views are thin: they parse with serializers and call `layers.registration`, `layers.services`, `layers.jobs`
and `layers.selectors`. Every error body is `{"detail": "<one sentence>"}`.
"""
