"""Declaring, changing, deleting and building merges: the one service behind the admin, REST and command line.

Like layers.sources.services: everything that can be refused without building is refused here first, in one
sentence naming the part of the spec at fault (RequestRefused.field); only then is anything recorded.
Rights follow the datasets' rule: staff declare merges; the merged dataset's owners (or, before the first build,
whoever declared it) and superusers change, build or delete them.
"""
from django.db import transaction
from django.db.models import Q

from layers.loading.known_crs import CRSNotInDatabase, ensure_known
from layers.merging.models import MergeBuild, MergedDataset
from layers.merging.overlaps import companion_slug
from layers.merging.spec import MergeSpec, parse_spec
from layers.models import Dataset
from layers.registry.selectors import visible_datasets
from layers.registry.services import (REQUIRED_METADATA, DatasetMetadata, PermissionRefused, RequestRefused,
                                      can_modify, check_metadata_values, delete_dataset)

MAX_SLUG = 63 - len("-overlaps")


def complete_metadata(spec: MergeSpec) -> dict:
    """The merged dataset's metadata: what the spec gives, with licence and attribution taken from the members
    when it gives none (the members' own, listed once each)."""
    values = dict(spec.metadata)
    members = list(Dataset.objects.filter(slug__in=[m.dataset for m in spec.members]).order_by("slug"))
    if not values.get("attribution"):
        values["attribution"] = "; ".join(dict.fromkeys(m.attribution for m in members if m.attribution)) or \
            "Sở Nông nghiệp và Môi trường TP. Cần Thơ"
    if not values.get("licence_name"):
        licences = list(dict.fromkeys(m.licence_name for m in members if m.licence_name))
        values["licence_name"] = licences[0] if len(licences) == 1 else "; ".join(licences) or "CC BY 4.0"
        if len(licences) == 1 and not values.get("licence_url"):
            values["licence_url"] = members[0].licence_url
    return values


def check_spec(raw: dict, user=None, merge: MergedDataset | None = None) -> MergeSpec:
    """Everything about a spec that needs no build; raises RequestRefused naming the part at fault."""
    spec = parse_spec(raw)
    where = f"merge {spec.slug}"
    if len(spec.slug) > MAX_SLUG:
        raise RequestRefused(f"{where}: slug: at most {MAX_SLUG} characters (its overlaps collection adds "
                             f"'-overlaps')", field="slug")
    if merge is not None and spec.slug != merge.slug:
        raise RequestRefused(f"{where}: a merge's slug cannot change (it is {merge.slug!r})", field="slug")
    try:
        ensure_known(spec.srid)
    except CRSNotInDatabase as exc:
        raise RequestRefused(f"{where}: crs: {exc}", field="crs") from None
    values = complete_metadata(spec)
    missing = [name for name in REQUIRED_METADATA if not values.get(name)]
    if missing:
        raise RequestRefused(f"{where}: {missing[0]} is required", field=missing[0])
    check_metadata_values(values)
    for slug in (spec.slug, companion_slug(spec.slug)):
        taken = Dataset.objects.filter(slug=slug).first()
        ours = merge is not None and merge.dataset_id is not None and \
            (taken is not None and (taken.pk == merge.dataset_id or slug == companion_slug(merge.slug)))
        if taken is not None and not ours:
            raise RequestRefused(f"{where}: slug {slug!r} is already taken by a dataset that is not this merge's",
                                 field="slug")
    seen = visible_datasets(user) if user is not None else Dataset.objects.all()
    for index, member in enumerate(spec.members):
        dataset = seen.filter(slug=member.dataset).first()
        at = f"members[{index}]"
        if dataset is None:
            raise RequestRefused(f"{where}, member {member.dataset}: there is no dataset {member.dataset!r}",
                                 field=f"{at}.dataset")
        known = [f["name"] for f in dataset.attribute_schema]
        if member.key and member.key not in known and member.key != dataset.id_field:
            raise RequestRefused(f"{where}, member {member.dataset}: key field {member.key!r} does not exist (its "
                                 f"fields: {', '.join(known)})", field=f"{at}.key")
        for mapping in member.mappings:
            if not mapping.constant and mapping.field not in known:
                raise RequestRefused(f"{where}, member {member.dataset}, field {mapping.target}: member field "
                                     f"{mapping.field!r} does not exist (its fields: {', '.join(known)})",
                                     field=f"{at}.fields.{mapping.target}")
        if member.clip and not seen.filter(slug=member.clip.dataset).exists():
            raise RequestRefused(f"{where}, member {member.dataset}: clip: there is no dataset "
                                 f"{member.clip.dataset!r}", field=f"{at}.clip")
    _refuse_cycle(spec)
    return spec


def _refuse_cycle(spec: MergeSpec) -> None:
    """A merge whose members include (through other merges) itself would rebuild itself for ever."""
    pending, seen = [m.dataset for m in spec.members], set()
    while pending:
        slug = pending.pop()
        if slug == spec.slug:
            raise RequestRefused(f"merge {spec.slug}: its members include itself through another merge",
                                 field="members")
        if slug in seen:
            continue
        seen.add(slug)
        for other in MergedDataset.objects.filter(slug=slug).exclude(slug=spec.slug):
            pending += other.member_slugs


def can_manage(user, merge: MergedDataset) -> bool:
    """The merged dataset's owners and superusers; before the first build, whoever declared it (None: the CLI)."""
    if user is None or user.is_superuser:
        return True
    if merge.dataset is not None:
        return can_modify(user, merge.dataset)
    return merge.created_by_id == user.pk


def visible_merges(user):
    """Merges whose published dataset the user may see, and the unbuilt ones the user may manage."""
    merges = MergedDataset.objects.select_related("dataset")
    if user is not None and user.is_superuser:
        return merges
    unbuilt = Q(dataset__isnull=True) & (Q(created_by=user) if user is not None and user.is_authenticated
                                         else Q(pk__in=[]))
    return merges.filter(Q(dataset__in=visible_datasets(user)) | unbuilt)


def save_merge(raw: dict, user=None) -> tuple[MergedDataset, bool]:
    """Create the merge the spec declares, or update it; returns (merge, created). Nothing is built here."""
    if user is not None and not user.is_staff:
        raise PermissionRefused("only staff users may declare merged datasets")
    slug = raw.get("slug") if isinstance(raw, dict) else None
    merge = MergedDataset.objects.filter(slug=slug).first() if isinstance(slug, str) else None
    if merge is not None and user is not None and not visible_merges(user).filter(pk=merge.pk).exists():
        raise RequestRefused(f"slug {slug!r} is already taken: choose another slug", field="slug")
    if merge is not None and not can_manage(user, merge):
        raise PermissionRefused(f"merge {slug}: only the owners of its dataset or a superuser may change it")
    spec = check_spec(raw, user, merge)
    with transaction.atomic():
        if merge is None:
            return MergedDataset.objects.create(slug=spec.slug, spec=raw, overlap=spec.overlap, created_by=user), True
        merge.spec, merge.overlap = raw, spec.overlap
        merge.save(update_fields=["spec", "overlap", "updated"])
    return merge, False


def update_merge(merge: MergedDataset, raw: dict, user=None) -> MergedDataset:
    if not can_manage(user, merge):
        raise PermissionRefused(f"merge {merge.slug}: only the owners of its dataset or a superuser may change it")
    spec = check_spec(raw, user, merge)
    merge.spec, merge.overlap = raw, spec.overlap
    merge.save(update_fields=["spec", "overlap", "updated"])
    return merge


def delete_merge(merge: MergedDataset, user=None) -> None:
    """The merge, its builds, and the datasets it published (the merged one and its overlaps companion)."""
    if not can_manage(user, merge):
        raise PermissionRefused(f"merge {merge.slug}: only the owners of its dataset or a superuser may delete it")
    with transaction.atomic():
        if merge.dataset_id is not None:
            delete_dataset(merge.dataset.slug)  # CASCADE: the merge and its builds; its receiver: the companion
        else:
            merge.delete()


def request_build(merge: MergedDataset, user=None) -> bool:
    """Queue a build (the worker runs it); False when one is queued already."""
    if not can_manage(user, merge):
        raise PermissionRefused(f"merge {merge.slug}: only the owners of its dataset or a superuser may build it")
    from layers.jobs.deferral import defer_merge

    return defer_merge(merge.pk)


def merges_with_member(slug: str):
    return MergedDataset.objects.filter(spec__members__contains=[{"dataset": slug}])


def history(merge: MergedDataset, limit: int = 100) -> list[dict]:
    """The merge's builds, newest first, as the command line and REST show them."""
    return [build_summary(b) for b in merge.builds.all()[:limit]]


def build_summary(build: MergeBuild) -> dict:
    report = build.report or {}
    return {"id": build.pk, "started": build.started.isoformat(),
            "finished": build.finished.isoformat() if build.finished else None, "status": build.status,
            "trigger": build.trigger, "features": report.get("features"), "counts": report.get("members", {}),
            "overlaps": report.get("overlaps", []), "gaps": report.get("gaps", []),
            "overlap_area_m2": report.get("overlap_area_m2"), "gap_area_m2": report.get("gap_area_m2"),
            "error": build.error}


def metadata_of(spec: MergeSpec) -> DatasetMetadata:
    return DatasetMetadata(**complete_metadata(spec))
