"""Our own company's profile (letterhead of quotes and contracts): read and change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.core import audit, permissions
from guanxi.core.errors import FieldError, NotPermitted, ValidationFailed
from guanxi.core.models import CompanyProfile

if TYPE_CHECKING:
    from guanxi.identity.models import User

FIELDS = ("name", "name_en", "address", "address_en", "phone", "email", "website", "tax_id", "bank")
LIMITS = {
    "name": 200,
    "name_en": 200,
    "address": 300,
    "address_en": 300,
    "phone": 50,
    "email": 200,
    "website": 200,
    "tax_id": 40,
    "bank": 300,
}
MAX_LOGO_BYTES = 2 * 1024 * 1024


def company_profile_get() -> CompanyProfile:
    """The profile row (created empty on first use)."""
    obj = CompanyProfile.objects.order_by("pk").first()
    return obj if obj is not None else CompanyProfile.objects.create(name="")


def _check_logo(logo: Any) -> str | None:
    """An error message, or None when ``logo`` is a PNG or JPEG image within the size."""
    from PIL import Image, UnidentifiedImageError

    if getattr(logo, "size", 0) > MAX_LOGO_BYTES:
        return _("The logo may be at most 2 MB.")
    try:
        logo.seek(0)
        with Image.open(logo) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return _("The logo must be a PNG or JPEG image.")
    finally:
        logo.seek(0)
    if kind not in ("PNG", "JPEG"):
        return _("The logo must be a PNG or JPEG image.")
    return None


def company_profile_save(
    *, actor: User, data: dict[str, Any], logo: Any = None, remove_logo: bool = False
) -> CompanyProfile:
    """Change the letterhead (administrators only; audited)."""
    if not permissions.is_admin(actor):
        raise NotPermitted()
    errors: list[FieldError] = []
    values: dict[str, str] = {}
    for name in FIELDS:
        if name not in data:
            continue
        value = str(data[name] or "").strip()
        if len(value) > LIMITS[name]:
            errors.append(FieldError(name, _("At most %(n)d characters.") % {"n": LIMITS[name]}))
        values[name] = value
    if "name" in values and not values["name"]:
        errors.append(FieldError("name", _("Enter the company name.")))
    if logo is not None:
        message = _check_logo(logo)
        if message:
            errors.append(FieldError("logo", message))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        obj = company_profile_get()
        before = {**audit.snapshot(obj, FIELDS), "logo": obj.logo.name if obj.logo else ""}
        for key, value in values.items():
            setattr(obj, key, value)
        if remove_logo and obj.logo:
            obj.logo.delete(save=False)
            obj.logo = None
        if logo is not None:
            obj.logo.save(getattr(logo, "name", "logo.png"), logo, save=False)
        obj.save()
        after = {**audit.snapshot(obj, FIELDS), "logo": obj.logo.name if obj.logo else ""}
        changes = audit.diff(before, after)
        if changes:
            audit.record(actor=actor, action="update", entity="company", obj=obj, changes=changes)
    return obj
