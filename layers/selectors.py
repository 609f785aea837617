"""Read-side queries of the registry, in one place so every endpoint applies the same visibility rule."""
from django.db.models import QuerySet

from layers.models import Dataset


def visible_datasets(user=None) -> QuerySet[Dataset]:
    """Datasets a user may see. Until access levels exist (issue 3) every published dataset is public."""
    return Dataset.objects.filter(published=True)
