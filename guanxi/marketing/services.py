"""Web forms: administrators' writes and the public submission path.

A submission becomes a lead through :func:`guanxi.leads.services.lead_create` (validation,
dedup, assignment, scoring, audit, events). The acting user is the form's ``created_by``
administrator; audit entries written during a submission carry the label
"web form «name»" instead of that administrator's user name.

A submission whose phone or e-mail matches an existing lead or contact creates no lead:
it is recorded (outcome ``duplicate``), a note with the submitted values is added to the
existing record's timeline and its owner gets an in-app notification.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import audit, custom_fields, events, permissions
from guanxi.core.context import actor_label_set
from guanxi.core.errors import DuplicateRecord, FieldError, NotPermitted, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.leads.models import Lead, LeadSource
from guanxi.marketing.models import FormSubmission, WebForm

if TYPE_CHECKING:
    from guanxi.identity.models import User

WEBFORM_CREATED = events.define("webform.created", "A web form was created")
WEBFORM_UPDATED = events.define("webform.updated", "A web form was changed")
WEBFORM_DELETED = events.define("webform.deleted", "A web form was deleted")
WEBFORM_SUBMITTED = events.define("webform.submitted", "A web form was submitted")

TOKEN_SALT = "guanxi.marketing.webform"
TOKEN_MAX_AGE = 24 * 3600
HONEYPOT = "website"
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer")

# Lead fields a form may ask for, with their input type.
LEAD_FIELDS: dict[str, tuple[Any, str]] = {
    "name": (gettext_lazy("Name"), "text"),
    "company": (gettext_lazy("Company"), "text"),
    "title": (gettext_lazy("Job title"), "text"),
    "mobile": (gettext_lazy("Mobile"), "tel"),
    "phone": (gettext_lazy("Phone"), "tel"),
    "email": (gettext_lazy("E-mail"), "email"),
    "wechat": (gettext_lazy("WeChat ID"), "text"),
    "province": (gettext_lazy("Province"), "text"),
    "city": (gettext_lazy("City"), "text"),
    "industry": (gettext_lazy("Industry"), "text"),
    "notes": (gettext_lazy("Message"), "textarea"),
}
AUDIT_FIELDS = [
    "name",
    "slug",
    "title_zh",
    "title_en",
    "fields",
    "consent_enabled",
    "consent_required",
    "consent_text_zh",
    "consent_text_en",
    "thanks_zh",
    "thanks_en",
    "redirect_url",
    "source",
    "campaign",
    "routing",
    "owner",
    "active",
    "rate_limit",
    "rate_window_minutes",
    "min_fill_seconds",
]


def field_choices() -> list[tuple[str, str]]:
    """Every input a form may contain: lead fields, then ``custom.<key>`` custom fields."""
    out = [(k, str(label)) for k, (label, _kind) in LEAD_FIELDS.items()]
    out += [(f"custom.{d.key}", str(d.label())) for d in custom_fields.definitions("lead")]
    return out


def _require_admin(actor: User) -> None:
    if not permissions.is_admin(actor):
        raise NotPermitted()


# --- Administrators' writes ---------------------------------------------------------------


def _clean_fields(raw: Any, errors: list[FieldError]) -> list[dict[str, Any]]:
    allowed = dict(field_choices())
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError("fields", _("Choose at least one field.")))
        return []
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        key = str((item or {}).get("key", "")).strip() if isinstance(item, dict) else ""
        if key not in allowed:
            errors.append(FieldError(f"fields.{i}.key", _("Unknown field “%(k)s”.") % {"k": key}))
            continue
        if key in seen:
            errors.append(FieldError(f"fields.{i}.key", _("“%(k)s” is listed twice.") % {"k": key}))
            continue
        seen.add(key)
        label_zh = str(item.get("label_zh") or "").strip()[:100] or allowed[key]
        label_en = str(item.get("label_en") or "").strip()[:100]
        out.append(
            {
                "key": key,
                "label_zh": label_zh,
                "label_en": label_en,
                "required": bool(item.get("required")),
            }
        )
    if out and not ({"mobile", "phone", "email"} & seen):
        errors.append(
            FieldError("fields", _("Include a mobile, phone or e-mail field to reach the lead."))
        )
    if out and "name" not in seen:
        errors.append(FieldError("fields", _("Include the name field: every lead needs one.")))
    return out


def _clean(data: dict[str, Any], form: WebForm | None) -> dict[str, Any]:
    from guanxi.identity.models import User as UserModel

    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    texts = {
        "name": 100,
        "title_zh": 200,
        "title_en": 200,
        "consent_text_zh": 500,
        "consent_text_en": 500,
        "campaign": 200,
    }
    for key, limit in texts.items():
        if key in data:
            value = str(data[key] or "").strip()
            if len(value) > limit:
                errors.append(FieldError(key, _("At most %(n)s characters.") % {"n": limit}))
            out[key] = value
    for key in ("intro_zh", "intro_en", "thanks_zh", "thanks_en"):
        if key in data:
            out[key] = str(data[key] or "").strip()
    for key in ("name", "title_zh"):
        if (key in data or form is None) and not out.get(key):
            errors.append(FieldError(key, _("This field is required.")))
    if "slug" in data or form is None:
        from django.utils.text import slugify

        slug = slugify(str(data.get("slug") or "").strip())[:60]
        if not slug:
            errors.append(FieldError("slug", _("Give the form an address (letters, digits, -).")))
        elif WebForm.objects.filter(slug=slug).exclude(pk=form.pk if form else 0).exists():
            errors.append(FieldError("slug", _("Another form already uses this address.")))
        out["slug"] = slug
    if "fields" in data or form is None:
        out["fields"] = _clean_fields(data.get("fields"), errors)
    for key in ("consent_enabled", "consent_required", "active"):
        if key in data:
            out[key] = bool(data[key])
    if "redirect_url" in data:
        url = str(data["redirect_url"] or "").strip()
        if url and not url.startswith(("http://", "https://")):
            errors.append(FieldError("redirect_url", _("Enter an http:// or https:// address.")))
        out["redirect_url"] = url[:500]
    if "source" in data:
        code = data["source"]
        if code in (None, ""):
            out["source"] = None
        else:
            src = LeadSource.objects.filter(code=str(code), active=True).first()
            if src is None:
                errors.append(FieldError("source", _("Unknown lead source.")))
            out["source"] = src
    if "routing" in data:
        if data["routing"] not in WebForm.Routing.values:
            errors.append(FieldError("routing", _("Choose rules, user or pool.")))
        out["routing"] = data["routing"]
    if "owner_id" in data:
        owner_id = data["owner_id"]
        owner = None
        if owner_id not in (None, ""):
            owner = UserModel.objects.filter(pk=owner_id, is_active=True).first()
            if owner is None:
                errors.append(FieldError("owner_id", _("Unknown or inactive user.")))
        out["owner"] = owner
    bounds = {
        "rate_limit": (1, 1000),
        "rate_window_minutes": (1, 1440),
        "min_fill_seconds": (0, 600),
    }
    for key, (lo, hi) in bounds.items():
        if key in data:
            try:
                number = int(data[key])
                if not lo <= number <= hi:
                    raise ValueError
            except (TypeError, ValueError):
                errors.append(
                    FieldError(
                        key, _("Enter a whole number from %(lo)s to %(hi)s.") % {"lo": lo, "hi": hi}
                    )
                )
                continue
            out[key] = number
    routing = out.get("routing", form.routing if form else WebForm.Routing.RULES)
    owner = out.get("owner", form.owner if form else None)
    if routing == WebForm.Routing.USER and owner is None:
        errors.append(FieldError("owner_id", _("Choose the user who gets the leads.")))
    if routing != WebForm.Routing.USER:
        out["owner"] = None
    if errors:
        raise ValidationFailed(errors)
    return out


def webform_create(*, actor: User, data: dict[str, Any]) -> WebForm:
    """Create a web form (administrators); ``actor`` becomes its ``created_by``."""
    _require_admin(actor)
    cleaned = _clean(data, None)
    form = WebForm(**cleaned, created_by=actor)
    with transaction.atomic():
        form.save()
        audit.record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            entity="webform",
            obj=form,
            changes=audit.diff({}, audit.snapshot(form, AUDIT_FIELDS)),
        )
        events.emit(WEBFORM_CREATED, {"id": form.pk, "slug": form.slug}, actor_id=actor.pk)
    return form


def webform_update(*, actor: User, form: WebForm, data: dict[str, Any]) -> WebForm:
    """Change a web form (partial)."""
    _require_admin(actor)
    cleaned = _clean(data, form)
    before = audit.snapshot(form, AUDIT_FIELDS)
    for key, value in cleaned.items():
        setattr(form, key, value)
    with transaction.atomic():
        form.save()
        changes = audit.diff(before, audit.snapshot(form, AUDIT_FIELDS))
        if changes:
            audit.record(
                actor=actor,
                action=AuditEvent.Action.UPDATE,
                entity="webform",
                obj=form,
                changes=changes,
            )
            events.emit(
                WEBFORM_UPDATED,
                {"id": form.pk, "slug": form.slug, "changes": sorted(changes)},
                actor_id=actor.pk,
            )
    return form


def webform_delete(*, actor: User, form: WebForm) -> None:
    _require_admin(actor)
    with transaction.atomic():
        audit.record(actor=actor, action=AuditEvent.Action.DELETE, entity="webform", obj=form)
        pk = form.pk
        form.delete()
        events.emit(WEBFORM_DELETED, {"id": pk}, actor_id=actor.pk)


# --- Public submissions -------------------------------------------------------------------


def form_token(form: WebForm, now: float | None = None) -> str:
    """A signed token the page carries instead of a CSRF cookie: form id and render time."""
    return signing.dumps(
        {"f": form.pk, "t": int(now if now is not None else time.time())}, salt=TOKEN_SALT
    )


@dataclass
class SubmitResult:
    outcome: str
    submission: FormSubmission | None = None
    lead: Lead | None = None
    errors: list[FieldError] = field(default_factory=list)
    message: str = ""


class RateLimited(Exception):  # noqa: N818
    """Too many submissions from one address in the form's window."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def _rate_key(form: WebForm, ip: str | None) -> str:
    return f"webform:rate:{form.pk}:{ip or '-'}"


def check_rate(form: WebForm, ip: str | None) -> None:
    """Count this attempt; RateLimited when the IP went over the form's limit."""
    key = _rate_key(form, ip)
    window = form.rate_window_minutes * 60
    if cache.add(key, 1, timeout=window):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            count = 1
    if count > form.rate_limit:
        raise RateLimited(
            _("Too many submissions from your network. Please try again in %(n)s minutes.")
            % {"n": form.rate_window_minutes}
        )


def _check_token(form: WebForm, token: str, now: float) -> str | None:
    """None when the token is good and old enough; else why not (a visitor-facing text)."""
    try:
        payload = signing.loads(token or "", salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        return _("This page has expired. Please reload it and submit again.")
    except signing.BadSignature:
        return _("This page is not valid. Please reload it and submit again.")
    if payload.get("f") != form.pk:
        return _("This page is not valid. Please reload it and submit again.")
    if now - float(payload.get("t", now)) < form.min_fill_seconds:
        return "too-fast"
    return None


def field_label(form_field: dict[str, Any], lang: str) -> str:
    if lang == "en":
        return str(form_field.get("label_en") or form_field.get("label_zh") or form_field["key"])
    return str(form_field.get("label_zh") or form_field.get("label_en") or form_field["key"])


def _record(
    form: WebForm,
    outcome: str,
    values: dict[str, Any],
    utm: dict[str, str],
    ip: str | None,
    user_agent: str,
    **extra: Any,
) -> FormSubmission:
    return FormSubmission.objects.create(
        form=form,
        outcome=outcome,
        data=values,
        utm=utm,
        ip=ip or None,
        user_agent=(user_agent or "")[:400],
        **extra,
    )


def _summary(form: WebForm, values: dict[str, Any], utm: dict[str, str]) -> str:
    lines = [_("Submitted again through web form «%(name)s»:") % {"name": form.name}]
    labels = {f["key"]: field_label(f, "zh") for f in form.fields}
    for key, value in values.items():
        if value not in ("", None, False):
            lines.append(f"{labels.get(key, key)}: {value}")
    for key, value in utm.items():
        if value:
            lines.append(f"{key}: {value}")
    return "\n".join(lines)


def _attach_duplicate(
    form: WebForm, dup_type: str, dup_id: int, values: dict[str, Any], utm: dict[str, str]
) -> None:
    """A note on the existing record's timeline and a notification to its owner."""
    from guanxi.activities import services as activities
    from guanxi.customers.models import Contact

    actor = form.created_by
    activities.activity_create(
        actor=actor,
        target_entity=dup_type,
        target_id=dup_id,
        kind="note",
        content=_summary(form, values, utm),
    )
    model = Lead if dup_type == "lead" else Contact
    record = model.objects.filter(pk=dup_id).select_related("owner").first()
    owner = getattr(record, "owner", None)
    if record is None or owner is None or not owner.is_active:
        return
    url_name = "leads:detail" if dup_type == "lead" else "customers:contact_detail"
    url = reverse(url_name, args=[dup_id])
    activities.notification_create(
        recipient=owner,
        verb="webform",
        title=_("%(record)s submitted web form «%(form)s» again")
        % {"record": record, "form": form.name},
        body=_summary(form, values, utm),
        url=url,
        target_entity=dup_type,
        target_id=dup_id,
    )


def submit(
    *,
    form: WebForm,
    values: dict[str, Any],
    token: str | None,
    honeypot: str = "",
    utm: dict[str, Any] | None = None,
    ip: str | None = None,
    user_agent: str = "",
    lang: str = "zh",
    now: float | None = None,
) -> SubmitResult:
    """Take one public submission of ``form`` (active forms only; check_rate before).

    ``values``: the visitor's input by field key (``consent`` for the checkbox). Errors
    are FieldErrors named by the form's field keys, in the active language. ``token``
    None (the JSON endpoint called without one) skips the signed-token and fill-time
    checks; the honeypot and the rate limit still apply.
    """
    now = now if now is not None else time.time()
    utm_clean = {k: str((utm or {}).get(k) or "")[:500] for k in UTM_KEYS if (utm or {}).get(k)}
    keys = [f["key"] for f in form.fields]
    raw = {k: str(values.get(k) or "").strip() for k in keys}
    consent = bool(values.get("consent")) if form.consent_enabled else False
    kept: dict[str, Any] = dict(raw)
    if form.consent_enabled:
        kept["consent"] = consent
    # Spam: the honeypot is filled by bots only; a too-fast submission is a bot too.
    token_problem = _check_token(form, token, now) if token is not None else None
    if honeypot or token_problem == "too-fast":
        sub = _record(
            form,
            FormSubmission.Outcome.SPAM,
            kept,
            utm_clean,
            ip,
            user_agent,
            error="honeypot" if honeypot else "too fast",
        )
        # Bots get the ordinary thank-you; nothing tells them they were caught.
        return SubmitResult(FormSubmission.Outcome.SPAM, submission=sub)
    if token_problem:
        return SubmitResult(
            FormSubmission.Outcome.INVALID,
            errors=[FieldError("__all__", token_problem)],
            message=token_problem,
        )
    errors: list[FieldError] = []
    for f in form.fields:
        if f.get("required") and not raw.get(f["key"]):
            errors.append(
                FieldError(
                    f["key"], _("Please fill in %(label)s.") % {"label": field_label(f, lang)}
                )
            )
    if form.consent_enabled and form.consent_required and not consent:
        errors.append(FieldError("consent", _("Please tick the box to give your consent.")))
    if errors:
        return SubmitResult(FormSubmission.Outcome.INVALID, errors=errors)
    data: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for key in keys:
        if not raw.get(key):
            continue
        if key.startswith("custom."):
            custom[key.split(".", 1)[1]] = raw[key]
        else:
            data[key] = raw[key]
    if custom:
        data["custom"] = custom
    if form.source_id:
        data["source"] = form.source
    campaign = form.campaign or utm_clean.get("utm_campaign", "")
    if campaign:
        data["campaign"] = campaign[:200]
    if utm_clean:
        tracking = " ".join(f"{k}={v}" for k, v in utm_clean.items())
        note = data.get("notes", "")
        data["notes"] = (
            f"{note}\n\n[{form.name}] {tracking}".strip() if note else f"[{form.name}] {tracking}"
        )
    if consent:
        data["consent_marketing"] = True
        data["consent_source"] = (_("Web form «%(name)s»") % {"name": form.name})[:200]
        data["consent_at"] = timezone.now()
    assign: bool | None = None
    if form.routing == WebForm.Routing.RULES:
        assign = True
    elif form.routing == WebForm.Routing.USER:
        data["owner_id"] = form.owner_id
    else:
        data["owner_id"] = None
    from guanxi.leads import services as lead_services

    label = _("web form «%(name)s»") % {"name": form.name}
    try:
        with actor_label_set(label), transaction.atomic():
            lead = lead_services.lead_create(actor=form.created_by, data=data, assign=assign)
            sub = _record(
                form, FormSubmission.Outcome.CREATED, kept, utm_clean, ip, user_agent, lead=lead
            )
            events.emit(
                WEBFORM_SUBMITTED,
                {
                    "form_id": form.pk,
                    "submission_id": sub.pk,
                    "lead_id": lead.pk,
                    "outcome": sub.outcome,
                    **utm_clean,
                },
                actor_id=form.created_by_id,
            )
    except ValidationFailed as exc:
        known = set(keys)
        mapped = []
        for e in exc.errors:
            name = e.field if e.field in known else ""
            mapped.append(FieldError(name or "__all__", e.message))
        _record(
            form,
            FormSubmission.Outcome.INVALID,
            kept,
            utm_clean,
            ip,
            user_agent,
            error="; ".join(f"{e.field}: {e.message}" for e in exc.errors),
        )
        return SubmitResult(FormSubmission.Outcome.INVALID, errors=mapped)
    except DuplicateRecord as exc:
        dup = exc.duplicate
        with actor_label_set(label), transaction.atomic():
            _attach_duplicate(form, dup.type, dup.id, kept, utm_clean)
            sub = _record(
                form,
                FormSubmission.Outcome.DUPLICATE,
                kept,
                utm_clean,
                ip,
                user_agent,
                duplicate_entity=dup.type,
                duplicate_id=dup.id,
                lead_id=dup.id if dup.type == "lead" else None,
            )
            events.emit(
                WEBFORM_SUBMITTED,
                {
                    "form_id": form.pk,
                    "submission_id": sub.pk,
                    "duplicate_of": {"type": dup.type, "id": dup.id},
                    "outcome": sub.outcome,
                    **utm_clean,
                },
                actor_id=form.created_by_id,
            )
        return SubmitResult(FormSubmission.Outcome.DUPLICATE, submission=sub)
    except NotPermitted as exc:
        # The form's administrator lost the right to create leads: keep the submission.
        sub = _record(
            form, FormSubmission.Outcome.ERROR, kept, utm_clean, ip, user_agent, error=exc.message
        )
        return SubmitResult(FormSubmission.Outcome.ERROR, submission=sub, message=exc.message)
    return SubmitResult(FormSubmission.Outcome.CREATED, submission=sub, lead=lead)


# --- Reads (administrators) ----------------------------------------------------------------


def form_stats(forms: list[WebForm]) -> dict[int, dict[str, int]]:
    """Per form: submissions, leads created, duplicates, spam, invalid, leads converted."""
    ids = [f.pk for f in forms]
    rows = (
        FormSubmission.objects.filter(form_id__in=ids)
        .values("form_id")
        .annotate(
            total=Count("id"),
            created=Count("id", filter=Q(outcome=FormSubmission.Outcome.CREATED)),
            duplicate=Count("id", filter=Q(outcome=FormSubmission.Outcome.DUPLICATE)),
            spam=Count("id", filter=Q(outcome=FormSubmission.Outcome.SPAM)),
            invalid=Count("id", filter=Q(outcome=FormSubmission.Outcome.INVALID)),
            converted=Count(
                "id",
                filter=Q(
                    outcome=FormSubmission.Outcome.CREATED, lead__status=Lead.Status.CONVERTED
                ),
            ),
        )
    )
    empty = {"total": 0, "created": 0, "duplicate": 0, "spam": 0, "invalid": 0, "converted": 0}
    out = {pk: dict(empty) for pk in ids}
    for row in rows:
        out[row.pop("form_id")] = row
    return out
