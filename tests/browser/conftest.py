"""Real-browser tests: Playwright drives Debian's Chromium against a live server.

Run with `make browser` (pytest -m browser). Each test gets a fresh page at a desktop or
a phone-sized viewport.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("GUANXI_CHROMIUM", "/usr/bin/chromium")
# Actions wait up to ACTION_TIMEOUT; page loads up to NAVIGATION_TIMEOUT: on a loaded CI
# machine the live server's first response (templates compiled, caches cold) can take a while.
ACTION_TIMEOUT = 10_000
NAVIGATION_TIMEOUT = 30_000
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


# Data migrations whose rows every page expects (lead sources, the two pipelines with their
# stages, loss reasons). Browser tests are transactional: the flush after each test empties
# these tables, so they are seeded again (idempotently) before every test.
SEED_MIGRATIONS = (
    "guanxi.leads.migrations.0002_seed_sources",
    "guanxi.sales.migrations.0002_seed_pipelines_and_loss_reasons",
)


@pytest.fixture(autouse=True)
def seeded_data(request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    for name in SEED_MIGRATIONS:
        importlib.import_module(name).seed(apps, None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    # Playwright's sync API refuses to run inside a running event loop; Django's async
    # safety check must be relaxed for the live server thread instead.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium package (.ci/run does)"
        )
    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture(params=list(VIEWPORTS))
def page(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport=VIEWPORTS[request.param], locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(ACTION_TIMEOUT)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT)
    pg = context.new_page()
    pg.viewport_name = request.param
    yield pg
    context.close()


def login(page: Any, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")
