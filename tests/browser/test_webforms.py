"""A public web form in a real browser (desktop and phone): an anonymous visitor submits
it with UTM parameters, first with a mistake the page points out; the assignment rules
route the lead to a rep, who logs in and finds it."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.leads import assignment
from guanxi.leads.models import Lead, LeadSource
from guanxi.marketing import services
from guanxi.marketing.models import FormSubmission
from guanxi.tests_support import factories
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_public_web_form_becomes_an_assigned_lead(page: Any, live_server: Any) -> None:
    admin = factories.admin(username="admin1")
    rep = factories.user(
        "sales", username="liuyang", display_name="刘洋", password="Sales-pass-123"
    )
    source = LeadSource.objects.get_or_create(
        code="website-form", defaults={"name_zh": "官网表单"}
    )[0]
    assignment.rule_create(
        actor=admin,
        data={
            "name": "官网表单 → 刘洋",
            "method": "user",
            "user_ids": [rep.pk],
            "conditions": {"source": [source.code]},
        },
    )
    services.webform_create(
        actor=admin,
        data={
            "name": "官网咨询",
            "slug": "contact-us",
            "title_zh": "联系我们",
            "title_en": "Contact us",
            "fields": [
                {"key": "name", "label_zh": "姓名", "label_en": "Name", "required": True},
                {"key": "mobile", "label_zh": "手机", "label_en": "Mobile", "required": True},
                {"key": "company", "label_zh": "公司", "label_en": "Company"},
            ],
            "consent_enabled": True,
            "consent_text_zh": "我同意接收产品资讯",
            "thanks_zh": "提交成功，我们会尽快联系您。",
            "source": source.code,
            "min_fill_seconds": 1,
        },
    )
    base = live_server.url

    page.goto(f"{base}/f/contact-us/?utm_source=baidu&utm_campaign=spring")
    assert page.inner_text("h1") == "联系我们"
    page.fill("input[name=name]", "")
    page.fill("input[name=mobile]", "13912345678")
    page.fill("input[name=company]", "苏州精工")
    page.wait_for_timeout(1200)  # the minimum fill time
    page.click("button[type=submit]")
    assert page.inner_text("#gx-name-error") == "请填写姓名。"
    assert page.input_value("input[name=company]") == "苏州精工"
    page.fill("input[name=name]", "周敏")
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.locator(".thanks").wait_for()
    assert "提交成功" in page.inner_text(".thanks")

    lead = Lead.objects.get(mobile_e164="+8613912345678")
    assert lead.owner == rep and lead.source == source and lead.consent_marketing
    sub = FormSubmission.objects.get(outcome="created")
    assert sub.utm["utm_source"] == "baidu" and sub.utm["utm_campaign"] == "spring"

    login(page, base, "liuyang", "Sales-pass-123")
    page.goto(f"{base}/leads/")
    page.click("text=周敏")
    page.wait_for_url(f"{base}/leads/{lead.pk}/")
    assert "苏州精工" in page.inner_text("main")
