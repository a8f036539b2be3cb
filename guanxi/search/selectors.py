"""The global search box: leads, accounts and contacts in one go, scoped and masked.

Every branch is an index range or equality, so it stays fast on a million rows on SQLite
and PostgreSQL alike (docs/decisions/0002-search.md):

* text prefixes use ``col >= q AND col < q || U+FFFF`` (a plain B-tree range on both
  databases; Django's ``startswith`` becomes ``LIKE`` on SQLite, which cannot use one);
* pinyin (``zhangwei``) and initials (``zw``) are prefixes of ``name_pinyin`` /
  ``name_initials``;
* a phone in any format is normalised to E.164 and matched exactly;
* a phone tail (4+ digits) goes through the expression index on the last four digits
  created by ``guanxi/search/migrations/0001_search_indexes.py``;
* an e-mail is lower-cased and matched as a prefix of ``email_norm``.

Each branch is ordered by the indexed column and limited, so the database walks the index
in order and stops as soon as it has ``limit + 1`` rows in the actor's scope. Branches run
best-first and stop once a type has enough results.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import CharField, Func, Q, QuerySet
from django.db.models.lookups import Exact

from guanxi.core import normalize, permissions
from guanxi.customers.models import Account, Contact
from guanxi.customers.selectors import account_as_dict, contact_as_dict
from guanxi.leads.models import Lead
from guanxi.leads.selectors import lead_as_dict

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

    from guanxi.identity.models import User

MAX_QUERY_LENGTH = 100
MAX_LIMIT = 50
TAIL_MIN_DIGITS = 4
_END = "\uffff"
_PHONEISH = re.compile(r"^[\d\s\-+()（）.]+$")
_LATIN = re.compile(r"^[A-Za-z][A-Za-z\s'·.\-]*$")


class Tail4(Func):
    """The last four characters of a column, spelled exactly as the expression indexes in
    ``0001_search_indexes`` so both planners use them."""

    output_field = CharField()
    arity = 1

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, Any]:
        return self.as_sql(compiler, connection, template="substr(%(expressions)s, -4)")

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, Any]:
        return self.as_sql(compiler, connection, template="right(%(expressions)s, 4)")

    def as_sql(  # type: ignore[override]
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        template: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, Any]:
        return super().as_sql(
            compiler, connection, template=template or "RIGHT(%(expressions)s, 4)", **extra_context
        )


def prefix(column: str, value: str) -> Q:
    """``column`` starts with ``value``, as a range a plain B-tree index serves."""
    return Q(**{f"{column}__gte": value, f"{column}__lt": value + _END})


def phone_tail(column: str, digits: str) -> Q:
    """``column`` (E.164) ends with ``digits`` (4 or more)."""
    cond = Q(Exact(Tail4(column), digits[-TAIL_MIN_DIGITS:]))
    if len(digits) > TAIL_MIN_DIGITS:
        cond &= Q(**{f"{column}__endswith": digits})
    return cond


@dataclass(frozen=True)
class Branch:
    """One index-friendly way of matching: a condition and the index order to walk."""

    cond: Q
    order: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """What the query means: branches per entity type, best first."""

    kind: str  # "email", "phone", "tail", "text", "empty"
    branches: dict[str, list[Branch]] = field(default_factory=dict)


def plan(q: str) -> Plan:
    """Classify the query and build the branches for lead, account and contact."""
    q = (q or "").strip()[:MAX_QUERY_LENGTH]
    if not q:
        return Plan("empty")
    if "@" in q:
        key = q.lower().replace("＠", "@")
        email = [Branch(prefix("email_norm", key), ("email_norm", "id"))]
        return Plan("email", {"lead": email, "account": [], "contact": email})
    digits = re.sub(r"\D", "", q)
    if _PHONEISH.match(q) and len(digits) >= TAIL_MIN_DIGITS:
        parsed: normalize.Phone | None
        try:
            parsed = normalize.phone(q)
        except normalize.InvalidValue:
            parsed = None
        if parsed is not None and len(digits) >= 7:
            exact = [
                Branch(Q(mobile_e164=parsed.e164) | Q(phone_e164=parsed.e164), ("-id",)),
            ]
            return Plan("phone", {"lead": exact, "account": [], "contact": exact})
        tail = [
            Branch(phone_tail("mobile_e164", digits), ("-id",)),
            Branch(phone_tail("phone_e164", digits), ("-id",)),
        ]
        return Plan("tail", {"lead": tail, "account": [], "contact": tail})
    # Latin text: pinyin and initials (pinyin_keys lower-cases Latin names, so "Tom Li"
    # is found as "tomli" / "tl"); Chinese text: the name as typed.
    names: list[Branch] = [Branch(prefix("name", q), ("name", "id"))]
    if _LATIN.match(q):
        key = re.sub(r"[^a-z0-9]", "", q.lower())
        names = [
            Branch(prefix("name_pinyin", key), ("name_pinyin", "id")),
            Branch(prefix("name_initials", key), ("name_initials", "id")),
        ]
    company = Branch(prefix("company", q), ("company", "name", "id"))
    return Plan("text", {"lead": [*names, company], "account": names, "contact": names})


@dataclass(frozen=True)
class _Type:
    key: str
    base: Callable[[], QuerySet[Any]]
    as_dict: Callable[[Any, Any, set[str]], dict[str, Any]]


def _lead_dict(actor: Any, obj: Any, mask: set[str]) -> dict[str, Any]:
    return lead_as_dict(actor=actor, lead=obj, mask=mask)


def _account_dict(actor: Any, obj: Any, mask: set[str]) -> dict[str, Any]:
    return account_as_dict(actor=actor, account=obj, mask=mask)


def _contact_dict(actor: Any, obj: Any, mask: set[str]) -> dict[str, Any]:
    return contact_as_dict(actor=actor, contact=obj, mask=mask)


TYPES: tuple[_Type, ...] = (
    _Type("lead", lambda: Lead.objects.select_related("owner", "source"), _lead_dict),
    _Type(
        "account",
        lambda: Account.objects.select_related("owner", "parent", "score"),
        _account_dict,
    ),
    _Type("contact", lambda: Contact.objects.select_related("owner", "account"), _contact_dict),
)


def _run(
    actor: User, spec: _Type, branches: list[Branch], limit: int
) -> tuple[list[dict[str, Any]], bool]:
    found: dict[int, Any] = {}
    if branches:
        scoped = permissions.scoped_queryset(actor, spec.key, base=spec.base())
        for branch in branches:
            for obj in scoped.filter(branch.cond).order_by(*branch.order)[: limit + 1]:
                found.setdefault(obj.pk, obj)
            if len(found) > limit:
                break
    mask = permissions.masked_fields(actor, spec.key)
    items = [{"type": spec.key, **spec.as_dict(actor, obj, mask)} for obj in found.values()]
    return items[:limit], len(items) > limit


def search_global(actor: User, q: str, limit_per_type: int = 10) -> dict[str, Any]:
    """``{"q", "kind", "groups": [{"type", "items", "more"}]}`` for every entity type the
    actor may view (lead, account, contact), each scoped and masked for ``actor``."""
    q = (q or "").strip()[:MAX_QUERY_LENGTH]
    limit = max(1, min(int(limit_per_type), MAX_LIMIT))
    query_plan = plan(q)
    groups: list[dict[str, Any]] = []
    for spec in TYPES:
        if not permissions.can(actor, spec.key, "view"):
            continue
        items, more = _run(actor, spec, query_plan.branches.get(spec.key, []), limit)
        groups.append({"type": spec.key, "items": items, "more": more})
    return {"q": q, "kind": query_plan.kind, "groups": groups}
