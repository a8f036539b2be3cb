"""The deal board in a real browser, at desktop size with a mouse and at phone size with a
finger (real touch input through the DevTools protocol): drag a deal to the next stage,
see a stage rule refuse a move, and lose a deal giving the reason in the dialog."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from guanxi.sales.models import Deal, LossReason, Stage
from guanxi.tests_support import crm_factories, factories
from tests.browser.conftest import ACTION_TIMEOUT, NAVIGATION_TIMEOUT, VIEWPORTS, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=list(VIEWPORTS))
def board_page(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    phone = request.param == "phone"
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    context = browser.new_context(
        viewport=VIEWPORTS[request.param],
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        has_touch=phone,
        is_mobile=phone,
    )
    context.set_default_timeout(ACTION_TIMEOUT)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT)
    pg = context.new_page()
    pg.viewport_name = request.param
    yield pg
    context.close()


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _center(page: Any, selector: str) -> tuple[float, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["x"] + box["width"] / 2, box["y"] + min(box["height"] / 2, 40)


def _column_visible(page: Any, stage_id: int) -> bool:
    return bool(
        page.evaluate(
            """(id) => {
                const col = document.querySelector(`[data-stage="${id}"]`);
                const board = document.querySelector('[data-board]').getBoundingClientRect();
                const r = col.getBoundingClientRect();
                const mid = r.left + r.width / 2;
                return mid > board.left + 50 && mid < board.right - 50;
            }""",
            stage_id,
        )
    )


class Pointer:
    """A mouse, or a finger through CDP touch events (real touch → pointerType touch)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.touch = page.viewport_name == "phone"
        self.cdp = page.context.new_cdp_session(page) if self.touch else None
        self.at = (0.0, 0.0)

    def _touch(self, kind: str, x: float, y: float) -> None:
        assert self.cdp is not None
        points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
        self.cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    def down(self, x: float, y: float) -> None:
        self.at = (x, y)
        if self.touch:
            self._touch("touchStart", x, y)
        else:
            self.page.mouse.move(x, y)
            self.page.mouse.down()

    def move(self, x: float, y: float, steps: int = 8) -> None:
        x0, y0 = self.at
        for i in range(1, steps + 1):
            xi, yi = x0 + (x - x0) * i / steps, y0 + (y - y0) * i / steps
            if self.touch:
                self._touch("touchMove", xi, yi)
            else:
                self.page.mouse.move(xi, yi)
        self.at = (x, y)

    def up(self) -> None:
        if self.touch:
            self._touch("touchEnd", *self.at)
        else:
            self.page.mouse.up()


def drag_to_stage(page: Any, deal: Deal, stage: Stage) -> None:
    """Drag the card (on a phone by its handle) until the target column is in view, drop."""
    pointer = Pointer(page)
    card = f'.kanban-card[data-deal="{deal.pk}"]'
    grip = f"{card} .kanban-handle" if pointer.touch else f"{card} .kanban-card-account"
    page.locator(card).scroll_into_view_if_needed()
    x, y = _center(page, grip)
    pointer.down(x, y)
    pointer.move(x + 20, y + 10, steps=4)
    board = page.locator("[data-board]").bounding_box()
    assert board is not None
    pointer.move(board["x"] + board["width"] - 15, y, steps=4)
    for _ in range(100):  # hold near the right edge: the board scrolls sideways
        if _column_visible(page, stage.pk):
            break
        page.wait_for_timeout(50)
    tx, ty = _center(page, f'[data-stage="{stage.pk}"] .kanban-head')
    pointer.move(tx, ty + 60, steps=6)
    pointer.up()


def settled(page: Any) -> None:
    """The board has saved the move and re-rendered itself."""
    page.wait_for_function("!document.querySelector('#board-container[data-busy]')")


def test_drag_deals_across_the_board(board_page: Any, live_server: Any) -> None:
    page = board_page
    sales = factories.user(
        "sales", username="zhangwei", display_name="张伟", password="Sales-pass-123"
    )
    account = crm_factories.account(sales, name="星辰科技有限公司")
    ready = crm_factories.deal(
        sales,
        account_id=account.pk,
        name="ERP 一期",
        amount="80000",
        expected_close_date="2026-06-30",
    )
    bare = crm_factories.deal(sales, account_id=account.pk, name="培训服务")
    stages = {s.name: s for s in Stage.objects.filter(pipeline=ready.pipeline)}
    base = live_server.url
    login(page, base, "zhangwei", "Sales-pass-123")
    page.goto(f"{base}/board/")
    page.locator(f'.kanban-card[data-deal="{ready.pk}"]').wait_for()

    # Drag to the next stage: saved, the card now sits in that column.
    drag_to_stage(page, ready, stages["需求确认"])
    settled(page)
    wait_for(lambda: Deal.objects.get(pk=ready.pk).stage_id == stages["需求确认"].pk)
    page.locator(f'[data-stage="{stages["需求确认"].pk}"] [data-deal="{ready.pk}"]').wait_for()

    # A stage that needs an amount refuses the bare deal, saying what is missing.
    drag_to_stage(page, bare, stages["方案/报价"])
    settled(page)
    error = page.locator("[data-board-error]")
    error.wait_for()
    assert "方案/报价" in error.inner_text()
    assert Deal.objects.get(pk=bare.pk).stage.name == "初步接触"

    # Lose a deal: the dialog asks for the reason and a note.
    drag_to_stage(page, bare, stages["输单"])
    dialog = page.locator("#lose-dialog")
    dialog.wait_for()
    reason = LossReason.objects.get(name_zh="预算")
    page.select_option("#lose-reason", str(reason.pk))
    page.fill("#lose-note", "今年没有预算")
    page.click("#lose-form button[value=lose]")
    settled(page)
    wait_for(lambda: Deal.objects.get(pk=bare.pk).status == Deal.Status.LOST)
    lost = Deal.objects.get(pk=bare.pk)
    assert lost.loss_reason == reason and lost.loss_note == "今年没有预算"
    page.locator(f'[data-stage="{stages["输单"].pk}"] [data-deal="{bare.pk}"]').wait_for()
