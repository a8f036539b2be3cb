"""Lead scoring (线索评分): administrator-defined rules add or take away points.

A lead's score is the sum of the points of every active rule whose condition holds, and
``score_reasons`` lists them (``[{"rule_id", "rule", "points"}]``). While at least one
rule is active the score is computed, never typed in: it is refreshed when the lead is
created or changed, when a follow-up is added or removed, after rules change (all leads,
in the background) and when a "contacted within N days" condition runs out
(``score_due_at``, refreshed hourly by the worker). With no active rule the score is a
plain field that users may set.

The compiled rules are kept per process (``rule_cache``; reloaded after a change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit, custom_fields, events, permissions
from guanxi.core.errors import FieldError, NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.leads.models import Lead, LeadSource, ScoringRule
from guanxi.leads.rule_cache import RuleCache

if TYPE_CHECKING:
    from guanxi.identity.models import User

RULE_CHANGED = events.define("scoring_rule.changed", "A scoring rule was saved or deleted")

# Lead fields a field condition may look at (besides custom.<key>).
FIELDS = (
    "name",
    "company",
    "title",
    "mobile",
    "phone",
    "email",
    "wechat",
    "campaign",
    "province",
    "city",
    "industry",
    "status",
    "notes",
    "tags",
)
_CACHE_KEY = "leads:scoring-rules:v1"
_CACHE_SECONDS = 30
BATCH = 1000
A = AuditEvent.Action
K = ScoringRule.Kind
Op = ScoringRule.Operator


def _norm(value: Any) -> str:
    return str(value).strip().casefold()


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    kind: str
    field: str
    operator: str
    values: tuple[str, ...]
    number: int
    points: int


@dataclass(frozen=True)
class Rules:
    rules: tuple[CompiledRule, ...]

    @property
    def active(self) -> bool:
        return bool(self.rules)

    @property
    def needs_followups(self) -> bool:
        return any(r.kind == K.FOLLOWUPS for r in self.rules)


def _compile(rule: ScoringRule) -> CompiledRule:
    value = rule.value
    values = value if isinstance(value, list) else ([value] if value not in (None, "") else [])
    return CompiledRule(
        id=rule.pk,
        name=rule.name,
        kind=rule.kind,
        field=rule.field,
        operator=rule.operator,
        values=tuple(_norm(v) for v in values),
        number=rule.number or 0,
        points=rule.points,
    )


def _load_rules() -> Rules:
    return Rules(tuple(_compile(r) for r in ScoringRule.objects.filter(active=True)))


_cache: RuleCache[Rules] = RuleCache(_CACHE_KEY, _load_rules, _CACHE_SECONDS)


def rules() -> Rules:
    """The active scoring rules in order (kept per process; see rule_cache)."""
    return _cache.get()


def forget_rules() -> None:
    _cache.forget()


def _field_value(lead: Lead, name: str) -> Any:
    if name.startswith("custom."):
        return (lead.custom or {}).get(name[7:])
    return getattr(lead, name, None)


def _filled(value: Any) -> bool:
    if isinstance(value, list | tuple | dict):
        return bool(value)
    return value not in (None, "") and str(value).strip() != ""


def _field_holds(rule: CompiledRule, value: Any) -> bool:
    if rule.operator == Op.FILLED:
        return _filled(value)
    items = [_norm(v) for v in value] if isinstance(value, list | tuple) else None
    text = _norm(value) if value is not None and items is None else ""
    if rule.operator == Op.EQUALS:
        target = rule.values[0] if rule.values else ""
        return target in items if items is not None else text == target
    if rule.operator == Op.CONTAINS:
        target = rule.values[0] if rule.values else ""
        if not target:
            return False
        if items is not None:
            return any(target in item for item in items)
        return target in text
    if rule.operator == Op.IN:
        if items is not None:
            return any(item in rule.values for item in items)
        return bool(text) and text in rule.values
    return False


@dataclass(frozen=True)
class Score:
    score: int
    reasons: list[dict[str, Any]]
    due_at: dt.datetime | None


def compute(
    lead: Lead, *, followups: int = 0, now: dt.datetime | None = None, ruleset: Rules | None = None
) -> Score:
    """The score of ``lead`` (saved or not) with ``followups`` follow-ups, at ``now``."""
    rs = ruleset or rules()
    now = now or timezone.now()
    total = 0
    reasons: list[dict[str, Any]] = []
    due: dt.datetime | None = None
    source_code: str | None = None
    for rule in rs.rules:
        if rule.kind == K.FIELD:
            holds = _field_holds(rule, _field_value(lead, rule.field))
        elif rule.kind == K.SOURCE:
            if source_code is None:
                source = lead.source if lead.source_id else None
                source_code = _norm(source.code) if source else ""
            holds = bool(source_code) and source_code in rule.values
        elif rule.kind == K.FOLLOWUPS:
            holds = followups >= rule.number
        elif rule.kind == K.RECENCY:
            last = lead.last_contacted_at
            until = last + dt.timedelta(days=rule.number) if last else None
            holds = until is not None and until > now
            if holds and until is not None and (due is None or until < due):
                due = until
        else:
            holds = False
        if holds:
            total += rule.points
            reasons.append({"rule_id": rule.id, "rule": rule.name, "points": rule.points})
    total = max(-1_000_000, min(1_000_000, total))
    return Score(total, reasons, due)


def followup_count(lead_id: int) -> int:
    from guanxi.activities.selectors import followup_counts

    return followup_counts("lead", [lead_id]).get(lead_id, 0)


def apply(lead: Lead, *, followups: int | None = None, ruleset: Rules | None = None) -> bool:
    """Set ``score``, ``score_reasons`` and ``score_due_at`` on ``lead`` (not saved).

    Does nothing with no active rule. ``followups`` None: counted when a rule needs it
    (a new lead has none). Returns True when something changed.
    """
    rs = ruleset or rules()
    if not rs.active:
        if lead.score_reasons or lead.score_due_at:
            lead.score_reasons, lead.score_due_at = [], None
            return True
        return False
    if followups is None:
        followups = followup_count(lead.pk) if rs.needs_followups and lead.pk else 0
    result = compute(lead, followups=followups, ruleset=rs)
    changed = (lead.score, lead.score_reasons, lead.score_due_at) != (
        result.score,
        result.reasons,
        result.due_at,
    )
    lead.score, lead.score_reasons, lead.score_due_at = result.score, result.reasons, result.due_at
    return changed


def check_manual_score(data: dict[str, Any], errors: list[FieldError]) -> None:
    """A score typed in while scoring rules are active is refused (it would be lost)."""
    if "score" in data and data["score"] not in (None, "") and rules().active:
        errors.append(
            FieldError("score", _("The score is computed by the scoring rules; leave it out."))
        )


def lead_rescore(lead: Lead | int) -> Lead:
    """Recompute one lead's score now and store it (no audit: a derived value)."""
    pk = lead.pk if isinstance(lead, Lead) else int(lead)
    current = Lead.objects.select_related("source").get(pk=pk)
    if apply(current):
        Lead.objects.filter(pk=pk).update(
            score=current.score,
            score_reasons=current.score_reasons,
            score_due_at=current.score_due_at,
        )
    return current


def leads_rescore(
    ids: Iterable[int] | None = None, *, due_before: dt.datetime | None = None
) -> int:
    """Recompute the scores of ``ids`` (None: every lead; ``due_before``: only leads whose
    recency condition ran out by then), in batches. Returns how many scores changed."""
    from guanxi.activities.selectors import followup_counts

    rs = rules()
    base = Lead.objects.select_related("source").order_by("pk")
    if ids is not None:
        base = base.filter(pk__in=list(ids))
    if due_before is not None:
        base = base.filter(score_due_at__lte=due_before)
    if not rs.active:
        # Scores become plain values again; only the stale explanations go.
        return base.exclude(score_reasons=[], score_due_at=None).update(
            score_reasons=[], score_due_at=None
        )
    changed = 0
    last = 0
    while True:
        batch = list(base.filter(pk__gt=last)[:BATCH])
        if not batch:
            return changed
        last = batch[-1].pk
        counts = followup_counts("lead", [x.pk for x in batch]) if rs.needs_followups else {}
        dirty = [x for x in batch if apply(x, followups=counts.get(x.pk, 0), ruleset=rs)]
        if dirty:
            Lead.objects.bulk_update(dirty, ["score", "score_reasons", "score_due_at"])
            changed += len(dirty)


def on_followup_deleted(event: events.Event) -> None:
    """A lead lost a follow-up: its follow-up count (and so its score) may drop."""
    if event.payload.get("target_entity") != "lead" or not rules().needs_followups:
        return
    lead_id = event.payload.get("target_id")
    if lead_id is not None and Lead.objects.filter(pk=lead_id).exists():
        lead_rescore(int(lead_id))


def rescore_later() -> None:
    """Queue a full rescore for after the current transaction (the worker runs it)."""
    from guanxi.leads.tasks import leads_rescore_all

    transaction.on_commit(lambda: leads_rescore_all())


# --- administration ---------------------------------------------------------------------


def _clean_rule(data: dict[str, Any], rule: ScoringRule | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    creating = rule is None

    def current(name: str) -> Any:
        return data[name] if name in data else (getattr(rule, name) if rule else None)

    cleaned: dict[str, Any] = {}
    name = str(current("name") or "").strip()
    if not name:
        errors.append(FieldError("name", _("This field is required.")))
    elif len(name) > 100:
        errors.append(FieldError("name", _("At most %(n)d characters.") % {"n": 100}))
    cleaned["name"] = name
    position = current("position")
    try:
        cleaned["position"] = int(position or 0)
    except (TypeError, ValueError):
        errors.append(FieldError("position", _("Enter a whole number.")))
    if cleaned.get("position", 0) < 0:
        errors.append(FieldError("position", _("Enter a number from 0 to 1000000.")))
    active = current("active")
    cleaned["active"] = True if active is None and creating else bool(active)
    points = current("points")
    if points is None or isinstance(points, bool) or str(points).strip() in ("", "0"):
        errors.append(FieldError("points", _("Give the points to add (or subtract), not 0.")))
    else:
        try:
            cleaned["points"] = int(str(points).strip())
        except ValueError:
            errors.append(FieldError("points", _("Enter a whole number.")))
        else:
            if not -10_000 <= cleaned["points"] <= 10_000:
                errors.append(FieldError("points", _("Enter a number from -10000 to 10000.")))
    kind = current("kind")
    cleaned.update(kind=kind, field="", operator="", value="", number=None)
    if kind not in K.values:
        errors.append(FieldError("kind", _("Choose one of: %(c)s.") % {"c": ", ".join(K.values)}))
    elif kind == K.FIELD:
        field = str(current("field") or "").strip()
        custom_keys = {f.key for f in custom_fields.definitions("lead")}
        if (field.startswith("custom.") and field[7:] in custom_keys) or field in FIELDS:
            cleaned["field"] = field
        else:
            errors.append(
                FieldError(
                    "field",
                    _("Choose a lead field (%(f)s) or custom.<key> of a custom field.")
                    % {"f": ", ".join(FIELDS)},
                )
            )
        operator = current("operator")
        if operator not in Op.values:
            errors.append(
                FieldError("operator", _("Choose one of: %(c)s.") % {"c": ", ".join(Op.values)})
            )
        cleaned["operator"] = operator
        value = current("value")
        if operator == Op.IN:
            items = value if isinstance(value, list) else str(value or "").split(",")
            values = [str(v).strip() for v in items if str(v).strip()]
            if not values:
                errors.append(FieldError("value", _("Give at least one value.")))
            cleaned["value"] = values
        elif operator in (Op.EQUALS, Op.CONTAINS):
            text = "" if value is None or isinstance(value, list | dict) else str(value).strip()
            if not text:
                errors.append(FieldError("value", _("Give the value to compare with.")))
            elif len(text) > 200:
                errors.append(FieldError("value", _("At most %(n)d characters.") % {"n": 200}))
            cleaned["value"] = text
    elif kind == K.SOURCE:
        value = current("value")
        items = value if isinstance(value, list) else str(value or "").split(",")
        codes = [str(v).strip() for v in items if str(v).strip()]
        known = set(LeadSource.objects.filter(code__in=codes).values_list("code", flat=True))
        if not codes or set(codes) - known:
            errors.append(FieldError("value", _("Choose a lead source.")))
        cleaned["value"] = codes
    else:
        number = current("number")
        try:
            n = int(number)
        except (TypeError, ValueError):
            n = -1
        if not 1 <= n <= 100_000:
            errors.append(FieldError("number", _("Enter a number from 1 to 100000.")))
        cleaned["number"] = n
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _snapshot(rule: ScoringRule) -> dict[str, Any]:
    return audit.snapshot(
        rule,
        ["name", "position", "active", "kind", "field", "operator", "value", "number", "points"],
    )


def _require_admin(actor: User) -> None:
    if not permissions.is_admin(actor):
        raise NotPermitted()


def rule_create(*, actor: User, data: dict[str, Any]) -> ScoringRule:
    """Create a scoring rule (administrators; audited); every lead is rescored afterwards
    in the background. Bad input → ValidationFailed naming the field."""
    _require_admin(actor)
    cleaned = _clean_rule(data, None)
    with transaction.atomic():
        rule = ScoringRule.objects.create(**cleaned)
        audit.record(
            actor=actor,
            action=A.CREATE,
            entity="scoring_rule",
            obj=rule,
            changes=audit.diff({}, _snapshot(rule)),
        )
        events.emit(RULE_CHANGED, {"id": rule.pk, "change": "created"}, actor_id=actor.pk)
        forget_rules()
        rescore_later()
    return rule


def rule_update(*, actor: User, rule: ScoringRule, data: dict[str, Any]) -> ScoringRule:
    """Change a scoring rule (partial; administrators; audited); rescoring follows."""
    _require_admin(actor)
    cleaned = _clean_rule(data, rule)
    with transaction.atomic():
        before = _snapshot(rule)
        for key, value in cleaned.items():
            setattr(rule, key, value)
        rule.save()
        changes = audit.diff(before, _snapshot(rule))
        if changes:
            audit.record(
                actor=actor, action=A.UPDATE, entity="scoring_rule", obj=rule, changes=changes
            )
            events.emit(RULE_CHANGED, {"id": rule.pk, "change": "updated"}, actor_id=actor.pk)
            forget_rules()
            rescore_later()
    return rule


def rule_delete(*, actor: User, rule: ScoringRule) -> None:
    """Delete a scoring rule (administrators; audited); rescoring follows."""
    _require_admin(actor)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=A.DELETE,
            entity="scoring_rule",
            obj=rule,
            changes={"name": [rule.name, None]},
        )
        pk = rule.pk
        rule.delete()
        events.emit(RULE_CHANGED, {"id": pk, "change": "deleted"}, actor_id=actor.pk)
        forget_rules()
        rescore_later()


def rule_list() -> list[ScoringRule]:
    """Every scoring rule (active or not) in order."""
    return list(ScoringRule.objects.order_by("position", "id"))
