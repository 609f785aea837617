"""Read-side queries of the registry, in one place so every endpoint applies the same visibility rule."""
from django.db.models import Q, QuerySet

from layers.models import Dataset, ImportJob


def visible_datasets(user=None) -> QuerySet[Dataset]:
    """Published datasets this user may see.

    public: everyone; internal: any signed-in user (session or API token); restricted: superusers, the
    dataset's owners, and the users and groups it names.
    """
    published = Dataset.objects.filter(published=True)
    if user is None or not user.is_authenticated:
        return published.filter(access_level=Dataset.Access.PUBLIC)
    if user.is_superuser:
        return published
    allowed = (
        Q(access_level__in=[Dataset.Access.PUBLIC, Dataset.Access.INTERNAL])
        | Q(owners=user) | Q(allowed_users=user) | Q(allowed_groups__in=user.groups.all())
    )
    return published.filter(allowed).distinct()


def visible_slugs(user=None) -> frozenset[str]:
    return frozenset(visible_datasets(user).values_list("slug", flat=True))


def manageable_datasets(user) -> QuerySet[Dataset]:
    """What the admin and the REST API show a user: the datasets they may see, plus those they own even while
    unpublished (superusers: all), so an owner can find and re-publish them."""
    if user is None or not user.is_authenticated:
        return visible_datasets(user)
    if user.is_superuser:
        return Dataset.objects.all()
    return Dataset.objects.filter(Q(pk__in=visible_datasets(user).values("pk")) | Q(owners=user)).distinct()


def visible_jobs(user) -> QuerySet[ImportJob]:
    """Import jobs a user may follow: their own; every job for superusers."""
    if user is None or not user.is_authenticated:
        return ImportJob.objects.none()
    jobs = ImportJob.objects.select_related("created_by")
    return jobs if user.is_superuser else jobs.filter(created_by=user)
