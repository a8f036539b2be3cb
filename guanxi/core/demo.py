"""The demo company (``guanxi demo``) and the registry other apps extend it through.

Each app that has demo data puts it in a module named ``demo`` (``guanxi/<app>/demo.py``)
and registers one or more steps there::

    from guanxi.core.demo import DemoContext, register_demo_step

    def load_leads(ctx: DemoContext) -> None:
        owner = ctx.users["zhangwei"]
        ...  # create records through the app's services; skip what already exists
        ctx.log("线索 / leads: 40")

    register_demo_step(200, load_leads)

``run_demo`` imports the ``demo`` module of every installed app (the way Huey finds
``tasks`` modules), then runs the steps by ``order``. The organisation below is step 10,
so every later step finds the departments and users in ``ctx``. Steps must be
idempotent: running ``guanxi demo`` twice must not duplicate data.

Suggested orders: 10 organisation, 100 customers, 200 leads, 300 activities, 400 sales,
500 finance, 600 service, 700 marketing, 800 automation, 900 reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.module_loading import autodiscover_modules

from guanxi.identity import services as identity
from guanxi.identity.models import Department, Role, User

DEMO_PASSWORD = "guanxi-demo"
DEMO_COMPANY = "上海关系科技有限公司"


@dataclass
class DemoContext:
    """What steps share: the demo organisation and a way to report progress."""

    log: Callable[[str], None] = print
    users: dict[str, User] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    # (username, password, display name, role code, department name) printed at the end
    logins: list[tuple[str, str, str, str, str]] = field(default_factory=list)


DemoStep = Callable[[DemoContext], None]

_steps: dict[str, tuple[int, DemoStep]] = {}


def register_demo_step(order: int, fn: DemoStep) -> DemoStep:
    """Register ``fn`` to run at position ``order`` (lower first). Usable as a decorator
    factory's target too: re-registering the same function replaces it."""
    _steps[f"{fn.__module__}.{fn.__qualname__}"] = (order, fn)
    return fn


def demo_steps() -> list[tuple[int, str, DemoStep]]:
    """The registered steps in the order they run (after discovering apps' demo modules)."""
    autodiscover_modules("demo")
    return sorted(((order, name, fn) for name, (order, fn) in _steps.items()), key=lambda s: s[:2])


def run_demo(log: Callable[[str], None] = print) -> DemoContext:
    """Run every demo step in order; each in its own transaction."""
    ctx = DemoContext(log=log)
    for _order, _name, fn in demo_steps():
        with transaction.atomic():
            fn(ctx)
    return ctx


# --- Step 10: the organisation ---------------------------------------------------------


class _Person(TypedDict):
    username: str
    display_name: str
    role: str
    department: str
    email: str
    mobile: str


# Department tree: name -> parent name (None: under the root, which is the company).
DEPARTMENTS: list[tuple[str, str | None]] = [
    ("销售部", None),
    ("华东区", "销售部"),
    ("华南区", "销售部"),
    ("客服部", None),
]

PEOPLE: list[_Person] = [
    {
        "username": "admin",
        "display_name": "系统管理员",
        "role": "admin",
        "department": DEMO_COMPANY,
        "email": "admin@guanxi.example",
        "mobile": "13800138000",
    },
    {
        "username": "manager",
        "display_name": "王经理",
        "role": "manager",
        "department": "销售部",
        "email": "wang.manager@guanxi.example",
        "mobile": "13800138001",
    },
    {
        "username": "zhaolei",
        "display_name": "赵磊",
        "role": "manager",
        "department": "华东区",
        "email": "zhaolei@guanxi.example",
        "mobile": "13800138002",
    },
    {
        "username": "huangmin",
        "display_name": "黄敏",
        "role": "manager",
        "department": "华南区",
        "email": "huangmin@guanxi.example",
        "mobile": "13800138003",
    },
    {
        "username": "zhangwei",
        "display_name": "张伟",
        "role": "sales",
        "department": "华东区",
        "email": "zhangwei@guanxi.example",
        "mobile": "13800138004",
    },
    {
        "username": "liuyang",
        "display_name": "刘洋",
        "role": "sales",
        "department": "华东区",
        "email": "liuyang@guanxi.example",
        "mobile": "13800138005",
    },
    {
        "username": "emma",
        "display_name": "Emma Li",
        "role": "sales",
        "department": "华东区",
        "email": "emma.li@guanxi.example",
        "mobile": "13800138006",
    },
    {
        "username": "lina",
        "display_name": "李娜",
        "role": "sales",
        "department": "华南区",
        "email": "lina@guanxi.example",
        "mobile": "13800138007",
    },
    {
        "username": "chenjing",
        "display_name": "陈静",
        "role": "sales",
        "department": "华南区",
        "email": "chenjing@guanxi.example",
        "mobile": "13800138008",
    },
    {
        "username": "zhoujie",
        "display_name": "周杰",
        "role": "service",
        "department": "客服部",
        "email": "zhoujie@guanxi.example",
        "mobile": "13800138009",
    },
    {
        "username": "wufang",
        "display_name": "吴芳",
        "role": "service",
        "department": "客服部",
        "email": "wufang@guanxi.example",
        "mobile": "13800138010",
    },
    {
        "username": "zhengkai",
        "display_name": "郑凯",
        "role": "readonly",
        "department": DEMO_COMPANY,
        "email": "zhengkai@guanxi.example",
        "mobile": "13800138011",
    },
]

# Department name -> username of its head.
HEADS = {
    DEMO_COMPANY: "admin",
    "销售部": "manager",
    "华东区": "zhaolei",
    "华南区": "huangmin",
    "客服部": "zhoujie",
}


def load_organisation(ctx: DemoContext) -> None:
    """The company (root department), its departments, a dozen users and the heads."""
    identity.roles_ensure_builtin()
    roles = {r.code: r for r in Role.objects.all()}
    root = identity.department_root()
    ctx.departments[DEMO_COMPANY] = root
    for name, parent_name in DEPARTMENTS:
        parent = ctx.departments[parent_name] if parent_name else root
        dept = Department.objects.filter(parent=parent, name=name).first()
        if dept is None:
            dept = identity.department_create(actor=None, name=name, parent=parent)
        ctx.departments[name] = dept

    created = 0
    # One hash for all demo users: Argon2 takes ~0.5 s per hash here, by design.
    password_hash = make_password(DEMO_PASSWORD)
    for person in PEOPLE:
        user = User.objects.filter(username__iexact=person["username"]).first()
        if user is None:
            user = identity.user_create(
                actor=None,
                username=person["username"],
                password=None,
                display_name=person["display_name"],
                email=person["email"],
                mobile=person["mobile"],
                department=ctx.departments[person["department"]],
                roles=[roles[person["role"]]],
                language="en" if person["username"] == "emma" else None,
            )
            User.objects.filter(pk=user.pk).update(password=password_hash)
            user.password = password_hash
            created += 1
        ctx.users[person["username"]] = user
        ctx.logins.append(
            (
                person["username"],
                DEMO_PASSWORD,
                person["display_name"],
                person["role"],
                person["department"],
            )
        )

    admin = ctx.users["admin"]
    # The company name replaces the placeholder the root gets on a fresh install.
    if root.name != DEMO_COMPANY and not Department.objects.filter(name=DEMO_COMPANY).exists():
        root = identity.department_update(actor=admin, dept=root, name=DEMO_COMPANY)
        ctx.departments[DEMO_COMPANY] = root
    for dept_name, username in HEADS.items():
        dept = ctx.departments[dept_name]
        dept.refresh_from_db()
        if dept.head_id is None:
            identity.department_update(actor=admin, dept=dept, head=ctx.users[username])
    ctx.log(f"组织 / organisation: {len(ctx.departments)} departments, {created} new users")


register_demo_step(10, load_organisation)
