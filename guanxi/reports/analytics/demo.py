"""Demo step: score the demo customers (RFM, churn) and save a shared example report.

Registered from ``ReportsConfig.ready`` (the reports app's own ``demo`` module belongs to
the fixed reports)."""

from __future__ import annotations

from guanxi.core.demo import DemoContext, register_demo_step


def load_analytics(ctx: DemoContext) -> None:
    from guanxi.identity.models import User
    from guanxi.reports.analytics.services import scores_refresh
    from guanxi.reports.builder.services import saved_report_create
    from guanxi.reports.models import SavedReport

    result = scores_refresh(actor=None)
    admin = ctx.users.get("admin") or User.objects.filter(is_superuser=True).first()
    if (
        admin is not None
        and not SavedReport.objects.filter(name="月度赢单 · Won per month").exists()
    ):
        saved_report_create(
            actor=admin,
            data={
                "name": "月度赢单 · Won per month",
                "definition": {
                    "entity": "deal",
                    "filters": [{"field": "status", "op": "eq", "value": "won"}],
                    "dimensions": [{"field": "won_at", "bucket": "month"}, {"field": "owner"}],
                    "measures": [{"op": "count"}, {"op": "sum", "field": "amount"}],
                },
                "shared_roles": ["manager", "sales"],
            },
        )
    ctx.log(f"customer scores: {result['customers']} customers, {result['at_risk']} at risk")


register_demo_step(900, load_analytics)
