"""Lead assignment rules (分配规则): which user gets a new lead, and why.

Rules are tried in order (``position``, then id); the first active rule whose conditions
all hold decides: one user, round robin over its users, or the user with the fewest open
leads. Inactive users are skipped; a rule whose users are all inactive is passed over.
When nothing matches, :class:`AssignmentSettings` decides (keep the creator, the public
pool, or a default user).

The compiled rules are kept per process (``rule_cache``; reloaded when a rule or the
settings change), so routing a lead costs no query per rule: one for the chosen rule's active
users, and for round robin / least loaded the row lock on the rule's cursor (plus one
count for least loaded). The cursor is bumped inside the lead's transaction, so
concurrent creates are serialized on it and a rolled-back create gives its turn back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit, custom_fields, events, permissions
from guanxi.core.errors import FieldError, NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.leads.models import (
    AssignmentCursor,
    AssignmentRule,
    AssignmentSettings,
    Lead,
    LeadSource,
)
from guanxi.leads.rule_cache import RuleCache

if TYPE_CHECKING:
    from guanxi.identity.models import User

LEAD_ASSIGNED = events.define("lead.assigned", "A new lead was assigned by the assignment rules")
RULE_CHANGED = events.define("assignment_rule.changed", "An assignment rule was saved or deleted")

CONDITION_KEYS = ("source", "province", "city", "industry", "tags")
OPEN_STATUSES = (Lead.Status.NEW, Lead.Status.CONTACTED, Lead.Status.QUALIFIED)
_CACHE_KEY = "leads:assignment-rules:v1"
# Other processes without a shared cache (no REDIS_URL) see a change within this time.
_CACHE_SECONDS = 30
A = AuditEvent.Action


def _norm(value: Any) -> str:
    return str(value).strip().casefold()


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    method: str
    user_ids: tuple[int, ...]
    # Each condition: the lead's value (or one of its values) must be in the set.
    match: tuple[tuple[str, frozenset[str]], ...]

    def matches(self, values: dict[str, Any]) -> bool:
        for key, allowed in self.match:
            value = values.get(key)
            items = value if isinstance(value, list | tuple | set) else [value]
            if not any(v not in (None, "") and _norm(v) in allowed for v in items):
                return False
        return True


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[CompiledRule, ...]
    fallback: str
    fallback_user_id: int | None


def _compile(rule: AssignmentRule, user_ids: list[int]) -> CompiledRule:
    cond = rule.conditions or {}
    match: list[tuple[str, frozenset[str]]] = []
    for key in CONDITION_KEYS:
        values = cond.get(key) or []
        if values:
            match.append((key, frozenset(_norm(v) for v in values)))
    for key, values in sorted((cond.get("custom") or {}).items()):
        if values:
            match.append((f"custom.{key}", frozenset(_norm(v) for v in values)))
    return CompiledRule(
        id=rule.pk,
        name=rule.name,
        method=rule.method,
        user_ids=tuple(sorted(user_ids)),
        match=tuple(match),
    )


def _load_ruleset() -> RuleSet:
    rules = list(AssignmentRule.objects.filter(active=True).prefetch_related("users"))
    conf = AssignmentSettings.current()
    return RuleSet(
        rules=tuple(_compile(r, [u.pk for u in r.users.all()]) for r in rules),
        fallback=conf.fallback,
        fallback_user_id=conf.fallback_user_id,
    )


_cache: RuleCache[RuleSet] = RuleCache(_CACHE_KEY, _load_ruleset, _CACHE_SECONDS)


def ruleset() -> RuleSet:
    """The active rules in order plus the fallback (kept per process; see rule_cache)."""
    return _cache.get()


def forget_rules() -> None:
    """Reload the rules on the next read (also after the current transaction commits)."""
    _cache.forget()


def routing_enabled() -> bool:
    """True when at least one active rule exists (leads without an owner are routed)."""
    return bool(ruleset().rules)


def lead_values(lead: Lead) -> dict[str, Any]:
    """The values of ``lead`` the conditions look at (before it is saved)."""
    source = lead.source if lead.source_id else None
    values: dict[str, Any] = {
        "source": source.code if source else "",
        "province": lead.province,
        "city": lead.city,
        "industry": lead.industry,
        "tags": list(lead.tags or []),
    }
    for key, value in (lead.custom or {}).items():
        values[f"custom.{key}"] = value
    return values


@dataclass
class Assignment:
    owner_id: int | None
    reason: str
    rule_id: int | None = None
    method: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def _method_label(method: str) -> str:
    return str(AssignmentRule.Method(method).label)


def _active_users(ids: tuple[int, ...]) -> list[tuple[int, str]]:
    from guanxi.identity.models import User as UserModel

    rows = UserModel.objects.filter(pk__in=ids, is_active=True).order_by("pk")
    return [(u.pk, u.label) for u in rows.only("pk", "username", "display_name")]


def _next_position(rule_id: int) -> int:
    """Take this rule's turn: bump its cursor and return the value before the bump.

    One ``UPDATE … RETURNING`` takes the row lock (PostgreSQL) or runs inside the
    writer's IMMEDIATE transaction (SQLite); either way concurrent creates queue on it
    until the lead's transaction ends, so no two get the same turn. Databases without
    RETURNING fall back to SELECT … FOR UPDATE.
    """
    table = connection.ops.quote_name(AssignmentCursor._meta.db_table)
    if connection.features.can_return_rows_from_bulk_insert:
        with connection.cursor() as cur:
            cur.execute(
                f"UPDATE {table} SET position = position + 1 WHERE rule_id = %s RETURNING position",
                [rule_id],
            )
            row = cur.fetchone()
        if row is not None:
            return int(row[0]) - 1
    cursor = AssignmentCursor.objects.select_for_update().filter(rule_id=rule_id).first()
    if cursor is None:
        AssignmentCursor.objects.get_or_create(rule_id=rule_id)
        cursor = AssignmentCursor.objects.select_for_update().get(rule_id=rule_id)
    AssignmentCursor.objects.filter(rule_id=rule_id).update(position=F("position") + 1)
    return int(cursor.position)


def _pick(rule: CompiledRule, users: list[tuple[int, str]]) -> tuple[int, str]:
    if rule.method == AssignmentRule.Method.USER or len(users) == 1:
        if rule.method != AssignmentRule.Method.USER:
            _next_position(rule.id)  # keep the turn order consistent when users return
        return users[0]
    position = _next_position(rule.id)
    if rule.method == AssignmentRule.Method.ROUND_ROBIN:
        return users[position % len(users)]
    # Least loaded: fewest open owned leads; ties go round in turn from the cursor.
    counts = dict(
        Lead.objects.filter(owner_id__in=[u for u, _label in users], status__in=OPEN_STATUSES)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    fewest = min(counts.get(u, 0) for u, _label in users)
    tied = [u for u in users if counts.get(u[0], 0) == fewest]
    return tied[position % len(tied)]


def decide(*, lead: Lead, creator: User) -> Assignment:
    """Who gets ``lead`` (not saved yet) by the rules, or by the fallback.

    Call inside the transaction that saves the lead: round robin and least loaded hold
    their cursor's row lock until it commits.
    """
    rs = ruleset()
    values = lead_values(lead)
    for rule in rs.rules:
        if not rule.matches(values):
            continue
        users = _active_users(rule.user_ids)
        if not users:
            continue
        user_id, label = _pick(rule, users)
        reason = _("Rule “%(rule)s”: %(method)s → %(user)s") % {
            "rule": rule.name,
            "method": _method_label(rule.method),
            "user": label,
        }
        return Assignment(user_id, reason, rule.id, rule.method)
    if rs.fallback == AssignmentSettings.Fallback.USER and rs.fallback_user_id:
        users = _active_users((rs.fallback_user_id,))
        if users:
            return Assignment(
                users[0][0],
                _("No rule matched: default user → %(user)s") % {"user": users[0][1]},
                method="fallback_user",
            )
    if rs.fallback in (AssignmentSettings.Fallback.USER, AssignmentSettings.Fallback.POOL):
        return Assignment(None, _("No rule matched: left in the public pool"), method="pool")
    return Assignment(
        creator.pk,
        _("No rule matched: kept by the creator → %(user)s") % {"user": creator.label},
        method="creator",
    )


def record_assignment(*, actor: User, lead: Lead, assignment: Assignment) -> None:
    """Audit (``assign``) and announce (``lead.assigned``) a routed lead; same transaction."""
    audit.record(
        actor=actor,
        action=A.ASSIGN,
        entity="lead",
        obj=lead,
        changes={
            "owner": [None, assignment.owner_id],
            "rule_id": assignment.rule_id,
            "method": assignment.method,
            "reason": assignment.reason,
        },
    )
    events.emit(
        LEAD_ASSIGNED,
        {
            "id": lead.pk,
            "owner_id": assignment.owner_id,
            "rule_id": assignment.rule_id,
            "method": assignment.method,
        },
        actor_id=actor.pk,
    )


def lead_reassign(*, actor: User, lead: Lead) -> Assignment:
    """Route an existing lead again by the assignment rules (the rules engine's "assign"
    action). When no rule matches and the fallback would keep it with the creator, the
    current owner keeps it. Audited and announced like a new lead's assignment."""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        decision = decide(lead=lead, creator=actor)
        if decision.method == "creator":
            return Assignment(lead.owner_id, decision.reason, None, "kept")
        if decision.owner_id != lead.owner_id:
            Lead.objects.filter(pk=lead.pk).update(
                owner_id=decision.owner_id,
                assigned_reason=decision.reason,
                updated_at=timezone.now(),
            )
            lead.owner_id = decision.owner_id
            record_assignment(actor=actor, lead=lead, assignment=decision)
        return decision


# --- administration ---------------------------------------------------------------------


def _require_admin(actor: User) -> None:
    if not permissions.is_admin(actor):
        raise NotPermitted()


def _clean_list(errors: list[FieldError], name: str, value: Any) -> list[str]:
    if value in (None, ""):
        return []
    items = value if isinstance(value, list | tuple) else str(value).replace("，", ",").split(",")
    out: list[str] = []
    for item in items:
        if isinstance(item, dict | list):
            errors.append(FieldError(name, _("Give plain values.")))
            return []
        text = str(item).strip()
        if len(text) > 100:
            errors.append(FieldError(name, _("A value has at most 100 characters.")))
            return []
        if text and text not in out:
            out.append(text)
    return out


def clean_conditions(errors: list[FieldError], raw: Any) -> dict[str, Any]:
    """Check the conditions object; unknown keys, sources and custom fields are errors."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        errors.append(FieldError("conditions", _("Give an object of conditions.")))
        return {}
    unknown = set(raw) - {*CONDITION_KEYS, "custom"}
    if unknown:
        errors.append(
            FieldError(
                "conditions",
                _("Unknown condition %(names)s; use %(known)s.")
                % {"names": ", ".join(sorted(unknown)), "known": ", ".join(CONDITION_KEYS)},
            )
        )
    cond: dict[str, Any] = {}
    for key in CONDITION_KEYS:
        values = _clean_list(errors, f"conditions.{key}", raw.get(key))
        if values:
            cond[key] = values
    if cond.get("source"):
        known = set(
            LeadSource.objects.filter(code__in=cond["source"]).values_list("code", flat=True)
        )
        missing = [c for c in cond["source"] if c not in known]
        if missing:
            errors.append(
                FieldError(
                    "conditions.source",
                    _("Unknown lead source: %(codes)s.") % {"codes": ", ".join(missing)},
                )
            )
    custom_raw = raw.get("custom") or {}
    if not isinstance(custom_raw, dict):
        errors.append(FieldError("conditions.custom", _("Give an object of custom values.")))
        custom_raw = {}
    defined = {f.key for f in custom_fields.definitions("lead")}
    custom: dict[str, list[str]] = {}
    for key, values in custom_raw.items():
        if key not in defined:
            errors.append(
                FieldError(
                    f"conditions.custom.{key}",
                    _("No active custom field “%(key)s” on leads.") % {"key": key},
                )
            )
            continue
        cleaned = _clean_list(errors, f"conditions.custom.{key}", values)
        if cleaned:
            custom[key] = cleaned
    if custom:
        cond["custom"] = custom
    return cond


def _clean_rule(data: dict[str, Any], rule: AssignmentRule | None) -> tuple[dict[str, Any], Any]:
    from guanxi.identity.models import User as UserModel

    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    creating = rule is None
    if "name" in data or creating:
        name = str(data.get("name") or "").strip()
        if not name:
            errors.append(FieldError("name", _("This field is required.")))
        elif len(name) > 100:
            errors.append(FieldError("name", _("At most %(n)d characters.") % {"n": 100}))
        cleaned["name"] = name
    if "position" in data and data["position"] is not None:
        try:
            position = int(data["position"])
        except (TypeError, ValueError):
            position = -1
        if not 0 <= position <= 1_000_000:
            errors.append(FieldError("position", _("Enter a number from 0 to 1000000.")))
        cleaned["position"] = position
    if "active" in data and data["active"] is not None:
        cleaned["active"] = bool(data["active"])
    if "conditions" in data:
        cleaned["conditions"] = clean_conditions(errors, data["conditions"])
    method = data.get("method", rule.method if rule else None)
    if method not in AssignmentRule.Method.values:
        errors.append(
            FieldError(
                "method",
                _("Choose one of: %(c)s.") % {"c": ", ".join(AssignmentRule.Method.values)},
            )
        )
    elif "method" in data:
        cleaned["method"] = method
    users: Any = None
    if "user_ids" in data or creating:
        ids_raw = data.get("user_ids") or []
        try:
            ids = sorted({int(i) for i in ids_raw})
        except (TypeError, ValueError):
            ids = []
            errors.append(FieldError("user_ids", _("Give user ids.")))
        users = list(UserModel.objects.filter(pk__in=ids, is_active=True))
        if len(users) != len(ids):
            errors.append(FieldError("user_ids", _("No such active user.")))
    count = len(users) if users is not None else (rule.users.count() if rule else 0)
    if method == AssignmentRule.Method.USER and count != 1:
        errors.append(FieldError("user_ids", _("Choose exactly one user.")))
    elif method in AssignmentRule.Method.values and count < 1:
        errors.append(FieldError("user_ids", _("Choose at least one user.")))
    if errors:
        raise ValidationFailed(errors)
    return cleaned, users


def _audit_rule(rule: AssignmentRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "position": rule.position,
        "active": rule.active,
        "conditions": rule.conditions,
        "method": rule.method,
        "user_ids": sorted(u.pk for u in rule.users.all()),
    }


def rule_create(*, actor: User, data: dict[str, Any]) -> AssignmentRule:
    """Create an assignment rule (administrators). ``data``: name, position, active,
    conditions, method, user_ids. Bad input → ValidationFailed naming the field."""
    _require_admin(actor)
    cleaned, users = _clean_rule(data, None)
    with transaction.atomic():
        rule = AssignmentRule.objects.create(**cleaned)
        rule.users.set(users)
        AssignmentCursor.objects.create(rule=rule)
        audit.record(
            actor=actor,
            action=A.CREATE,
            entity="assignment_rule",
            obj=rule,
            changes=audit.diff({}, _audit_rule(rule)),
        )
        events.emit(RULE_CHANGED, {"id": rule.pk, "change": "created"}, actor_id=actor.pk)
        forget_rules()
    return rule


def rule_update(*, actor: User, rule: AssignmentRule, data: dict[str, Any]) -> AssignmentRule:
    """Change an assignment rule (partial; administrators; audited field by field)."""
    _require_admin(actor)
    cleaned, users = _clean_rule(data, rule)
    with transaction.atomic():
        before = _audit_rule(rule)
        for key, value in cleaned.items():
            setattr(rule, key, value)
        rule.save()
        if users is not None:
            rule.users.set(users)
        changes = audit.diff(before, _audit_rule(rule))
        if changes:
            audit.record(
                actor=actor,
                action=A.UPDATE,
                entity="assignment_rule",
                obj=rule,
                changes=changes,
            )
            events.emit(RULE_CHANGED, {"id": rule.pk, "change": "updated"}, actor_id=actor.pk)
        forget_rules()
    return rule


def rule_delete(*, actor: User, rule: AssignmentRule) -> None:
    """Delete an assignment rule (administrators; audited). Leads keep their reason text."""
    _require_admin(actor)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=A.DELETE,
            entity="assignment_rule",
            obj=rule,
            changes={"name": [rule.name, None]},
        )
        pk = rule.pk
        rule.delete()
        events.emit(RULE_CHANGED, {"id": pk, "change": "deleted"}, actor_id=actor.pk)
        forget_rules()


def settings_save(
    *, actor: User, fallback: str, fallback_user_id: int | None
) -> AssignmentSettings:
    """Set what happens when no rule matches (administrators; audited)."""
    from guanxi.identity.models import User as UserModel

    _require_admin(actor)
    errors: list[FieldError] = []
    if fallback not in AssignmentSettings.Fallback.values:
        errors.append(
            FieldError(
                "fallback",
                _("Choose one of: %(c)s.") % {"c": ", ".join(AssignmentSettings.Fallback.values)},
            )
        )
    user = None
    if fallback_user_id is not None:
        user = UserModel.objects.filter(pk=fallback_user_id, is_active=True).first()
        if user is None:
            errors.append(FieldError("fallback_user_id", _("No such active user.")))
    if fallback == AssignmentSettings.Fallback.USER and fallback_user_id is None:
        errors.append(FieldError("fallback_user_id", _("Choose the default user.")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        conf = AssignmentSettings.objects.select_for_update().order_by("pk").first()
        conf = conf or AssignmentSettings()
        before = {"fallback": conf.fallback, "fallback_user_id": conf.fallback_user_id}
        conf.fallback = fallback
        conf.fallback_user = user
        conf.save()
        changes = audit.diff(
            before, {"fallback": conf.fallback, "fallback_user_id": conf.fallback_user_id}
        )
        if changes:
            audit.record(
                actor=actor,
                action=A.UPDATE,
                entity="assignment_settings",
                obj=conf,
                changes=changes,
            )
        forget_rules()
    return conf


def rule_list() -> list[AssignmentRule]:
    """Every rule (active or not) in order, with its users (administration pages, API)."""
    return list(AssignmentRule.objects.prefetch_related("users").order_by("position", "id"))
