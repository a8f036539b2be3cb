"""The duplicate finder for existing data (issue 6): the import's rules, set-based.

Hard duplicates: leads and contacts sharing an E.164 phone (either phone column) or a
normalised e-mail; accounts sharing a credit code or the same name (trimmed, case-folded).
Likely duplicates (listed separately, for review): leads and contacts with the same name,
or the same pinyin name, at the same company. Each key is found with one
``GROUP BY key HAVING COUNT(*) > 1`` over the records the runner may see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import CharField, F, IntegerField, QuerySet, Value
from django.db.models.functions import Lower, Trim
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import permissions
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.pagination import Page, paginate
from guanxi.importing.models import DuplicateGroup, DuplicateMember, DuplicateScan

if TYPE_CHECKING:
    from guanxi.identity.models import User

ENTITIES = ("lead", "contact", "account")
_CODES = {0: "lead", 1: "contact", 2: "account"}
_CODE_OF = {v: k for k, v in _CODES.items()}

# Tuple fields, joined in the stored key of a group.
_SEP = " / "


def _scoped(actor: User, entity_key: str) -> QuerySet[Any] | None:
    if not permissions.can(actor, entity_key, "view"):
        return None
    return permissions.scoped_queryset(actor, entity_key).order_by()


def _rows(qs: QuerySet[Any], entity_key: str, k1: Any, k2: Any, **exclude: Any) -> QuerySet[Any]:
    """``(k1, k2, ent, oid)`` of every record of ``qs`` whose keys are not empty."""
    qs = qs.annotate(
        k1=k1,
        k2=k2,
        ent=Value(_CODE_OF[entity_key], output_field=IntegerField()),
        oid=F("id"),
    )
    qs = qs.exclude(k1="").exclude(k1__isnull=True).exclude(k2__isnull=True)
    for name, value in exclude.items():
        qs = qs.exclude(**{name: value})
    return qs.values("k1", "k2", "ent", "oid")


def _groups(parts: list[QuerySet[Any]]) -> list[tuple[str, str, list[tuple[str, int]]]]:
    """Keys held by more than one record across ``parts``, with their records."""
    if not parts:
        return []
    selects: list[str] = []
    params: list[Any] = []
    for qs in parts:
        sql, p = qs.query.sql_with_params()
        selects.append(f"SELECT s.k1, s.k2, s.ent, s.oid FROM ({sql}) s")
        params.extend(p)
    union = " UNION ".join(selects)
    sql = (
        f"WITH u AS ({union}), "
        "d AS (SELECT k1, k2 FROM u GROUP BY k1, k2 HAVING COUNT(*) > 1) "
        "SELECT u.k1, u.k2, u.ent, u.oid FROM u JOIN d ON u.k1 = d.k1 AND u.k2 = d.k2 "
        "ORDER BY u.k1, u.k2, u.ent, u.oid"
    )
    out: list[tuple[str, str, list[tuple[str, int]]]] = []
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for k1, k2, ent, oid in cur.fetchall():
            if not out or (out[-1][0], out[-1][1]) != (k1, k2):
                out.append((k1, k2, []))
            out[-1][2].append((_CODES[int(ent)], int(oid)))
    return out


def find_groups(actor: User) -> list[tuple[str, str, str, list[tuple[str, int]]]]:
    """``(kind, match, key, members)`` for every duplicate group within ``actor``'s scope."""
    leads = _scoped(actor, "lead")
    contacts = _scoped(actor, "contact")
    accounts = _scoped(actor, "account")
    empty = Value("", output_field=CharField())
    found: list[tuple[str, str, str, list[tuple[str, int]]]] = []

    def add(kind: str, match: str, parts: list[QuerySet[Any]]) -> None:
        for k1, k2, members in _groups(parts):
            key = f"{k1}{_SEP}{k2}" if k2 else str(k1)
            found.append((kind, match, key, members))

    people = [(k, qs) for k, qs in (("lead", leads), ("contact", contacts)) if qs is not None]
    phone_parts = [
        _rows(qs, key, F(column), empty)
        for key, qs in people
        for column in ("mobile_e164", "phone_e164")
    ]
    add(DuplicateGroup.Kind.HARD, DuplicateGroup.Match.PHONE, phone_parts)
    add(
        DuplicateGroup.Kind.HARD,
        DuplicateGroup.Match.EMAIL,
        [_rows(qs, key, F("email_norm"), empty) for key, qs in people],
    )
    if accounts is not None:
        add(
            DuplicateGroup.Kind.HARD,
            DuplicateGroup.Match.CREDIT_CODE,
            [_rows(accounts, "account", F("credit_code"), empty)],
        )
        add(
            DuplicateGroup.Kind.HARD,
            DuplicateGroup.Match.ACCOUNT_NAME,
            [_rows(accounts, "account", Lower(Trim("name")), empty)],
        )

    def company(key: str) -> Any:
        return F("company") if key == "lead" else F("account__name")

    by_name: list[QuerySet[Any]] = []
    by_pinyin: list[QuerySet[Any]] = []
    for key, qs in people:
        extra: dict[str, Any] = {"company": ""} if key == "lead" else {"account__isnull": True}
        by_name.append(_rows(qs, key, F("name"), company(key), **extra))
        by_pinyin.append(_rows(qs, key, F("name_pinyin"), company(key), **extra))
    name_groups = [g for g in _groups(by_name) if g[1]]
    seen = {tuple(members) for _k1, _k2, members in name_groups}
    for k1, k2, members in name_groups:
        found.append(
            (DuplicateGroup.Kind.LIKELY, DuplicateGroup.Match.NAME, f"{k1}{_SEP}{k2}", members)
        )
    for k1, k2, members in _groups(by_pinyin):
        # The same records as a same-name group say nothing new.
        if k2 and tuple(members) not in seen:
            found.append(
                (
                    DuplicateGroup.Kind.LIKELY,
                    DuplicateGroup.Match.PINYIN,
                    f"{k1}{_SEP}{k2}",
                    members,
                )
            )
    return found


def scan_start(*, actor: User) -> DuplicateScan:
    """Queue a scan of the records ``actor`` may see (Huey; immediate in tests)."""
    scan = DuplicateScan.objects.create(user=actor)
    from guanxi.importing.tasks import run_duplicate_scan

    transaction.on_commit(lambda: run_duplicate_scan(scan.pk))
    return scan


def scan_run(scan_id: int) -> DuplicateScan:
    """Run one pending scan and store its groups (replacing nothing: each scan is new)."""
    scan = DuplicateScan.objects.select_related("user").get(pk=scan_id)
    if scan.status != DuplicateScan.Status.PENDING:
        return scan
    DuplicateScan.objects.filter(pk=scan.pk).update(status=DuplicateScan.Status.RUNNING)
    try:
        found = find_groups(scan.user)
        with transaction.atomic():
            groups = DuplicateGroup.objects.bulk_create(
                [
                    DuplicateGroup(scan=scan, kind=k, match=m, key=key[:700])
                    for k, m, key, _ in found
                ]
            )
            DuplicateMember.objects.bulk_create(
                [
                    DuplicateMember(group=group, entity_key=entity_key, object_id=pk)
                    for group, (_k, _m, _key, members) in zip(groups, found, strict=True)
                    for entity_key, pk in members
                ],
                batch_size=1000,
            )
            scan.status = DuplicateScan.Status.DONE
            scan.groups_count = len(groups)
            scan.finished_at = timezone.now()
            scan.save(update_fields=["status", "groups_count", "finished_at"])
    except Exception as exc:
        scan.status = DuplicateScan.Status.FAILED
        scan.error = str(exc)[:2000]
        scan.finished_at = timezone.now()
        scan.save(update_fields=["status", "error", "finished_at"])
        raise
    return scan


def latest_scan(*, actor: User) -> DuplicateScan | None:
    return DuplicateScan.objects.filter(user=actor).order_by("-id").first()


def _masked_key(actor: User, match: str, key: str) -> str:
    kind = {"phone": ("phone", "mobile"), "email": ("email", "email")}.get(match)
    if kind is None:
        return key
    if any(kind[1] in permissions.masked_fields(actor, e) for e in ("lead", "contact")):
        return str(permissions.mask_value(kind[0], key))
    return key


def group_page(
    *, actor: User, entity: str = "", kind: str = "", page: Any = 1, page_size: Any = 50
) -> tuple[DuplicateScan | None, Page]:
    """The groups of ``actor``'s latest scan (optionally of one entity / kind), each with
    the records that still exist and that ``actor`` may still see."""
    scan = latest_scan(actor=actor)
    if scan is None:
        return None, Page([], 0, True, 1, 50)
    qs = DuplicateGroup.objects.filter(scan=scan).order_by("kind", "id")
    if entity:
        if entity not in ENTITIES:
            raise ValidationFailed([FieldError("entity", _("Choose lead, contact or account."))])
        qs = qs.filter(members__entity_key=entity).distinct()
    if kind:
        if kind not in DuplicateGroup.Kind.values:
            raise ValidationFailed([FieldError("kind", _("Choose hard or likely."))])
        qs = qs.filter(kind=kind)
    result = paginate(qs.prefetch_related("members"), page, page_size)
    wanted: dict[str, set[int]] = {}
    for group in result.items:
        for m in group.members.all():
            wanted.setdefault(m.entity_key, set()).add(m.object_id)
    names: dict[tuple[str, int], str] = {}
    for entity_key, ids in wanted.items():
        scoped = _scoped(actor, entity_key)
        if scoped is None:
            continue
        for pk, label in scoped.filter(pk__in=ids).values_list("pk", "name"):
            names[(entity_key, pk)] = label
    items = []
    for group in result.items:
        members = [
            {"entity": m.entity_key, "id": m.object_id, "name": names[(m.entity_key, m.object_id)]}
            for m in group.members.all()
            if (m.entity_key, m.object_id) in names
        ]
        kinds = {m["entity"] for m in members}
        items.append(
            {
                "id": group.pk,
                "kind": group.kind,
                "kind_label": group.get_kind_display(),
                "match": group.match,
                "match_label": group.get_match_display(),
                "key": _masked_key(actor, group.match, group.key),
                "members": members,
                "resolved": len(members) < 2,
                # Merging needs two or more live records of one kind.
                "mergeable": {
                    e: [m["id"] for m in members if m["entity"] == e]
                    for e in sorted(kinds)
                    if sum(1 for m in members if m["entity"] == e) > 1
                },
            }
        )
    result.items = items
    return scan, result


def scan_as_dict(scan: DuplicateScan | None) -> dict[str, Any] | None:
    if scan is None:
        return None
    return {
        "id": scan.pk,
        "status": scan.status,
        "created_at": scan.created_at,
        "finished_at": scan.finished_at,
        "groups_count": scan.groups_count,
    }
