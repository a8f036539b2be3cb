"""Bulk actions on the lead list (see guanxi.core.bulk): edit status, source, region,
industry, campaign, score or a custom field; tags; transfer; delete. Converted leads keep
their fields (only tags change)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import bulk
from guanxi.customers import common
from guanxi.leads import selectors, services
from guanxi.leads.models import Lead, LeadSource

if TYPE_CHECKING:
    from guanxi.identity.models import User


def _spec_cleaner(name: str) -> Any:
    spec = services.LEAD_SPEC[name]
    return lambda value: common.clean_field(name, spec, value)


def _source(value: Any) -> int | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    source_id = (
        LeadSource.objects.filter(Q(code=text) | Q(name_zh=text), active=True)
        .values_list("id", flat=True)
        .first()
    )
    if source_id is None:
        raise ValueError(_("Unknown lead source."))
    return int(source_id)


def _status_choices() -> list[tuple[str, str]]:
    return [(str(v), str(label)) for v, label in Lead.Status.choices if v != Lead.Status.CONVERTED]


def _source_choices() -> list[tuple[str, str]]:
    return [("", "—"), *((s.code, s.name_zh) for s in selectors.source_list())]


def _filtered(actor: User, params: dict[str, Any]) -> QuerySet[Lead]:
    q, filters = selectors.lead_params(actor=actor, params=params)
    return selectors.lead_queryset(actor=actor, q=q, filters=filters)


LEAD_BULK = bulk.register(
    bulk.BulkSpec(
        entity="lead",
        fields=[
            bulk.BulkField(
                "status", gettext_lazy("Status"), _spec_cleaner("status"), choices=_status_choices
            ),
            bulk.BulkField(
                "source", gettext_lazy("Source"), _source, "source_id", choices=_source_choices
            ),
            bulk.BulkField("province", gettext_lazy("Province"), _spec_cleaner("province")),
            bulk.BulkField("city", gettext_lazy("City"), _spec_cleaner("city")),
            bulk.BulkField("industry", gettext_lazy("Industry"), _spec_cleaner("industry")),
            bulk.BulkField("campaign", gettext_lazy("Campaign"), _spec_cleaner("campaign")),
            bulk.BulkField("score", gettext_lazy("Score"), _spec_cleaner("score")),
        ],
        filtered=_filtered,
        transfer=services.lead_transfer,
        updated_event=services.LEAD_UPDATED,
        deleted_event=services.LEAD_DELETED,
        repr_fields=("name", "company"),
        locked=Q(status=Lead.Status.CONVERTED),
    )
)
