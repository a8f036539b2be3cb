"""What the report builder may touch: per entity, a whitelist of fields (no ORM path ever
comes from user input; a name is looked up here and mapped to its path)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Field:
    name: str
    path: str  # ORM path on the entity's model
    label: str | Promise
    kind: str  # text | choice | number | money | date | datetime | user | department | ref
    label_path: str = ""  # for references: the path of the readable name
    choices: Callable[[], list[tuple[str, Any]]] | None = None
    mask: str = ""  # the permission entity's maskable field this value comes from


@dataclass(frozen=True)
class BuilderEntity:
    key: str  # the name in definitions
    label: str | Promise
    model: Callable[[], type[models.Model]]
    fields: dict[str, Field] = field(default_factory=dict)
    detail_url: str = ""  # url name of a record's page (pk)
    title_path: str = "name"
    custom: bool = True
    perm: str = ""  # permission entity key when it differs from ``key``

    @property
    def permission_key(self) -> str:
        return self.perm or self.key


def _fields(*items: Field) -> dict[str, Field]:
    return {f.name: f for f in items}


def _choices(model_path: str, field_name: str) -> Callable[[], list[tuple[str, Any]]]:
    def load() -> list[tuple[str, Any]]:
        from django.apps import apps

        model = apps.get_model(model_path)
        return [(str(k), v) for k, v in model._meta.get_field(field_name).choices or []]

    return load


OWNER = Field("owner", "owner_id", _("Owner"), "user", label_path="owner__display_name")
DEPARTMENT = Field(
    "department",
    "owner__department_id",
    _("Department"),
    "department",
    label_path="owner__department__name",
)
CREATED = Field("created_at", "created_at", _("Created"), "datetime")


def _lead() -> type[models.Model]:
    from guanxi.leads.models import Lead

    return Lead


def _account() -> type[models.Model]:
    from guanxi.customers.models import Account

    return Account


def _contact() -> type[models.Model]:
    from guanxi.customers.models import Contact

    return Contact


def _deal() -> type[models.Model]:
    from guanxi.sales.models import Deal

    return Deal


def _activity() -> type[models.Model]:
    from guanxi.activities.models import Activity

    return Activity


ENTITIES: dict[str, BuilderEntity] = {
    "lead": BuilderEntity(
        "lead",
        _("Leads"),
        _lead,
        _fields(
            Field(
                "status", "status", _("Status"), "choice", choices=_choices("leads.Lead", "status")
            ),
            Field("source", "source_id", _("Source"), "ref", label_path="source__name_zh"),
            Field("province", "province", _("Province"), "text"),
            Field("city", "city", _("City"), "text"),
            Field("industry", "industry", _("Industry"), "text"),
            Field("company", "company", _("Company"), "text"),
            Field("email", "email", _("E-mail"), "text", mask="email"),
            Field("score", "score", _("Score"), "number"),
            OWNER,
            DEPARTMENT,
            CREATED,
        ),
        detail_url="leads:detail",
    ),
    "account": BuilderEntity(
        "account",
        _("Accounts"),
        _account,
        _fields(
            Field(
                "tier", "tier", _("Tier"), "choice", choices=_choices("customers.Account", "tier")
            ),
            Field(
                "lifecycle_stage",
                "lifecycle_stage",
                _("Lifecycle stage"),
                "choice",
                choices=_choices("customers.Account", "lifecycle_stage"),
            ),
            Field("industry", "industry", _("Industry"), "text"),
            Field("size", "size", _("Size"), "text"),
            Field("province", "province", _("Province"), "text"),
            Field("city", "city", _("City"), "text"),
            Field(
                "rfm_segment",
                "score__segment",
                _("RFM segment"),
                "choice",
                choices=_choices("reports.CustomerScore", "segment"),
            ),
            Field("churn_score", "score__churn_score", _("Churn risk"), "number"),
            OWNER,
            DEPARTMENT,
            CREATED,
        ),
        detail_url="customers:account_detail",
    ),
    "contact": BuilderEntity(
        "contact",
        _("Contacts"),
        _contact,
        _fields(
            Field("account", "account_id", _("Account"), "ref", label_path="account__name"),
            Field("title", "title", _("Title"), "text"),
            Field("email", "email", _("E-mail"), "text", mask="email"),
            OWNER,
            DEPARTMENT,
            CREATED,
        ),
        detail_url="customers:contact_detail",
    ),
    "deal": BuilderEntity(
        "deal",
        _("Deals"),
        _deal,
        _fields(
            Field(
                "status", "status", _("Status"), "choice", choices=_choices("sales.Deal", "status")
            ),
            Field("pipeline", "pipeline_id", _("Pipeline"), "ref", label_path="pipeline__name"),
            Field("stage", "stage_id", _("Stage"), "ref", label_path="stage__name"),
            Field("source", "source_id", _("Source"), "ref", label_path="source__name_zh"),
            Field("account", "account_id", _("Account"), "ref", label_path="account__name"),
            Field(
                "loss_reason",
                "loss_reason_id",
                _("Loss reason"),
                "ref",
                label_path="loss_reason__name_zh",
            ),
            Field("amount", "amount", _("Amount"), "money", mask="amount"),
            Field("probability", "probability", _("Probability"), "number"),
            Field("expected_close_date", "expected_close_date", _("Expected close date"), "date"),
            Field("won_at", "won_at", _("Won at"), "datetime"),
            Field("lost_at", "lost_at", _("Lost at"), "datetime"),
            OWNER,
            DEPARTMENT,
            CREATED,
        ),
        detail_url="sales:deal_detail",
    ),
    "activity": BuilderEntity(
        "activity",
        _("Follow-ups"),
        _activity,
        _fields(
            Field(
                "kind", "kind", _("Kind"), "choice", choices=_choices("activities.Activity", "kind")
            ),
            Field("target_entity", "target_entity", _("Record type"), "text"),
            Field("occurred_at", "occurred_at", _("Time"), "datetime"),
            OWNER,
            DEPARTMENT,
            CREATED,
        ),
        title_path="content",
        custom=False,
    ),
}

CONTRACT_OWNER = Field("owner", "contract__owner_id", _("Owner"), "user")
CONTRACT_DEPARTMENT = Field(
    "department", "contract__owner__department_id", _("Department"), "department"
)


def _contract() -> type[models.Model]:
    from guanxi.finance.models import Contract

    return Contract


def _receipt() -> type[models.Model]:
    from guanxi.finance.models import Receipt

    return Receipt


ENTITIES["contract"] = BuilderEntity(
    "contract",
    _("Contracts"),
    _contract,
    _fields(
        Field(
            "status",
            "status",
            _("Status"),
            "choice",
            choices=_choices("finance.Contract", "status"),
        ),
        Field("account", "account_id", _("Account"), "ref", label_path="account__name"),
        Field("amount", "amount", _("Amount"), "money", mask="amount"),
        Field("signed_on", "signed_on", _("Signed on"), "date"),
        Field("starts_on", "starts_on", _("Start date"), "date"),
        Field("ends_on", "ends_on", _("End date"), "date"),
        OWNER,
        DEPARTMENT,
        CREATED,
    ),
    detail_url="finance:contract_detail",
    title_path="title",
)
ENTITIES["receipt"] = BuilderEntity(
    "receipt",
    _("Payments received"),
    _receipt,
    _fields(
        Field("contract", "contract_id", _("Contract"), "ref", label_path="contract__number"),
        Field(
            "account",
            "contract__account_id",
            _("Account"),
            "ref",
            label_path="contract__account__name",
        ),
        Field(
            "method", "method", _("Method"), "choice", choices=_choices("finance.Receipt", "method")
        ),
        Field("amount", "amount", _("Amount"), "money"),
        Field("received_on", "received_on", _("Date received"), "date"),
        CONTRACT_OWNER,
        CONTRACT_DEPARTMENT,
        CREATED,
    ),
    title_path="reference",
    custom=False,
    perm="payment",
)

BUCKETS = ("day", "week", "month", "quarter", "year")
MEASURES = ("count", "sum", "avg", "distinct")
OPERATORS = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "contains", "isnull")
NUMERIC = ("number", "money")
DATES = ("date", "datetime")
