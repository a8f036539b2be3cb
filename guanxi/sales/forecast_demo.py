"""Demo data: monthly sales targets of the demo sales team and its departments for the
current year (won amount, receipts, new customers).

Runs as step 450 of ``guanxi demo`` (after the deals), through the targets service so
every target is audited; idempotent (skipped when the year already has targets).
"""

from __future__ import annotations

from decimal import Decimal

from guanxi.core.demo import DemoContext, register_demo_step
from guanxi.sales import targets
from guanxi.sales.models import SalesTarget

# username → (monthly won amount in CNY, new customers a month)
TEAM_TARGETS: dict[str, tuple[int, int]] = {
    "zhaolei": (300_000, 2),
    "huangmin": (300_000, 2),
    "zhangwei": (250_000, 3),
    "liuyang": (200_000, 2),
    "emma": (180_000, 2),
    "lina": (220_000, 3),
    "chenjing": (160_000, 2),
}
# Busier months before the Spring Festival and at the year's end; quiet in February.
SEASON = [1.0, 0.6, 1.0, 1.0, 1.0, 1.1, 1.0, 0.9, 1.1, 1.0, 1.2, 1.4]
DEPARTMENTS = {
    "华东区": ["zhaolei", "zhangwei", "liuyang", "emma"],
    "华南区": ["huangmin", "lina", "chenjing"],
}


def _months(monthly: int, ratio: float = 1.0) -> dict[int, Decimal]:
    return {m: Decimal(round(monthly * SEASON[m - 1] * ratio / 1000) * 1000) for m in range(1, 13)}


def load_targets(ctx: DemoContext) -> None:
    admin = ctx.users.get("admin")
    if admin is None or not any(u in ctx.users for u in TEAM_TARGETS):
        ctx.log("业绩目标 / sales targets: skipped (no demo users)")
        return
    year = targets.today_year()
    if SalesTarget.objects.filter(year=year).exists():
        ctx.log(f"业绩目标 / sales targets: {year} already set")
        return
    created = 0
    for measure, ratio in (
        (SalesTarget.Measure.WON_AMOUNT, 1.0),
        (SalesTarget.Measure.RECEIPTS, 0.8),
    ):
        user_rows = [
            targets.GridRow("user", ctx.users[name].pk, "CNY", dict(_months(won, ratio)))
            for name, (won, _n) in TEAM_TARGETS.items()
            if name in ctx.users
        ]
        dept_rows = []
        for dept_name, members in DEPARTMENTS.items():
            dept = ctx.departments.get(dept_name)
            if dept is None:
                continue
            monthly = sum(TEAM_TARGETS[m][0] for m in members if m in ctx.users)
            dept_rows.append(
                targets.GridRow("department", dept.pk, "CNY", dict(_months(monthly, ratio)))
            )
        sales = ctx.departments.get("销售部")
        if sales is not None:
            monthly = sum(TEAM_TARGETS[m][0] for m in TEAM_TARGETS if m in ctx.users)
            dept_rows.append(
                targets.GridRow("department", sales.pk, "CNY", dict(_months(monthly, ratio)))
            )
        result = targets.target_grid_save(
            actor=admin, measure=measure, year=year, rows=user_rows + dept_rows
        )
        created += result.created
    new_rows = [
        targets.GridRow("user", ctx.users[name].pk, "", dict.fromkeys(range(1, 13), n))
        for name, (_won, n) in TEAM_TARGETS.items()
        if name in ctx.users
    ]
    created += targets.target_grid_save(
        actor=admin, measure=SalesTarget.Measure.NEW_CUSTOMERS, year=year, rows=new_rows
    ).created
    ctx.log(f"业绩目标 / sales targets: {created} monthly targets for {year}")


register_demo_step(450, load_targets)
