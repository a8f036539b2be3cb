"""Web forms: editor, public page, submissions → leads, spam defences, API."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from guanxi.activities.models import Activity, Notification
from guanxi.core.models import AuditEvent
from guanxi.identity.models import User
from guanxi.leads import assignment
from guanxi.leads.models import Lead, LeadSource
from guanxi.marketing import services
from guanxi.marketing.models import FormSubmission, WebForm
from guanxi.tests_support import crm_factories, factories
from guanxi.tests_support.api import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _source() -> LeadSource:
    return LeadSource.objects.get_or_create(code="web-test", defaults={"name_zh": "官网测试"})[0]


def _form(admin: User, **data: Any) -> WebForm:
    payload: dict[str, Any] = {
        "name": "Expo sign-up",
        "slug": "expo",
        "title_zh": "展会报名",
        "title_en": "Expo sign-up",
        "fields": [
            {"key": "name", "label_zh": "姓名", "label_en": "Your name", "required": True},
            {"key": "mobile", "label_zh": "手机", "label_en": "Mobile", "required": True},
            {"key": "company", "label_zh": "公司", "label_en": "Company"},
        ],
        "consent_enabled": True,
        "consent_required": True,
        "consent_text_zh": "我同意接收营销信息",
        "consent_text_en": "I agree to receive marketing messages",
        "thanks_zh": "谢谢！",
        "thanks_en": "Thanks, see you at the expo!",
        "source": _source().code,
        "campaign": "Expo 2026",
        "min_fill_seconds": 3,
    }
    payload.update(data)
    return services.webform_create(actor=admin, data=payload)


def _token(form: WebForm) -> str:
    return services.form_token(form, now=time.time() - 60)


def _post(client: Client, form: WebForm, lang: str = "en", **values: Any) -> Any:
    data = {"gx_token": _token(form), "lang": lang, **values}
    return client.post(
        f"/f/{form.slug}/?lang={lang}", data, REMOTE_ADDR=values.pop("ip", "10.0.0.1")
    )


def test_public_form_renders_in_both_languages_without_login_or_external_assets() -> None:
    form = _form(factories.admin())
    client = Client(enforce_csrf_checks=True)
    zh = client.get("/f/expo/")
    assert zh.status_code == 200
    html = zh.content.decode()
    assert "展会报名" in html and "姓名" in html and "我同意接收营销信息" in html
    assert 'name="gx_token"' in html and 'name="website"' in html
    assert "http://" not in html.replace("http://testserver", "") and "<link" not in html
    assert "X-Frame-Options" not in zh.headers
    en = client.get("/f/expo/?lang=en").content.decode()
    assert "Your name" in en and "I agree to receive marketing messages" in en
    assert form.pk


def test_submission_creates_lead_with_source_campaign_utm_consent_and_audit_label() -> None:
    admin = factories.admin()
    form = _form(admin)
    client = Client(enforce_csrf_checks=True)
    response = _post(
        client,
        form,
        name="王芳",
        mobile="13800138000",
        company="杭州科技",
        consent="1",
        utm_source="baidu",
        utm_medium="cpc",
        utm_campaign="spring",
        referrer="https://example.com/landing",
    )
    assert response.status_code == 200, response.content.decode()
    assert "Thanks, see you at the expo!" in response.content.decode()
    lead = Lead.objects.get(mobile_e164="+8613800138000")
    assert lead.name == "王芳" and lead.company == "杭州科技"
    assert lead.source == _source() and lead.campaign == "Expo 2026"
    assert lead.consent_marketing and lead.consent_at is not None
    assert "Expo sign-up" in lead.consent_source
    assert "utm_source=baidu" in lead.notes
    sub = FormSubmission.objects.get(form=form)
    assert sub.outcome == "created" and sub.lead == lead and sub.ip == "10.0.0.1"
    assert sub.utm == {
        "utm_source": "baidu",
        "utm_medium": "cpc",
        "utm_campaign": "spring",
        "referrer": "https://example.com/landing",
    }
    entry = AuditEvent.objects.get(entity="lead", object_id=str(lead.pk), action="create")
    assert entry.actor == admin and entry.actor_label == "web form «Expo sign-up»"


def test_utm_campaign_is_the_campaign_when_the_form_has_none() -> None:
    form = _form(factories.admin(), campaign="")
    _post(Client(), form, name="A", mobile="13800138001", consent="1", utm_campaign="spring")
    assert Lead.objects.get(mobile_e164="+8613800138001").campaign == "spring"


def test_routing_by_assignment_rules_fixed_user_and_pool() -> None:
    admin = factories.admin()
    rep = factories.user("sales")
    other = factories.user("sales")
    _source()
    assignment.rule_create(
        actor=admin,
        data={
            "name": "web",
            "method": "user",
            "user_ids": [rep.pk],
            "conditions": {"source": ["web-test"]},
        },
    )
    by_rules = _form(admin, slug="a")
    fixed = _form(admin, slug="b", routing="user", owner_id=other.pk)
    pool = _form(admin, slug="c", routing="pool")
    for i, form in enumerate([by_rules, fixed, pool]):
        _post(Client(), form, name=f"L{i}", mobile=f"1390000000{i}", consent="1")
    owners = {
        form.slug: Lead.objects.get(mobile_e164=f"+861390000000{i}").owner
        for i, form in enumerate([by_rules, fixed, pool])
    }
    assert owners == {"a": rep, "b": other, "c": None}


def test_validation_errors_per_field_in_the_visitors_language() -> None:
    form = _form(factories.admin())
    client = Client()
    en = _post(client, form, name="", mobile="12", company="X")
    html = en.content.decode()
    assert en.status_code == 400
    assert "Please fill in Your name." in html
    assert "Please tick the box to give your consent." in html
    assert 'value="X"' in html  # what was typed stays
    # The fill-time clock keeps running from the first page, not from the correction.
    posted = re.search(r'name="gx_token" value="([^"]+)"', html)
    assert (
        posted is not None
        and services.signing.loads(posted.group(1), salt=services.TOKEN_SALT)["t"]
        < time.time() - 30
    )
    bad_phone = _post(client, form, name="Li", mobile="12", consent="1")
    assert bad_phone.status_code == 400
    assert 'id="gx-mobile-error"' in bad_phone.content.decode()
    zh = _post(client, form, lang="zh", name="", mobile="13800138000", consent="1")
    assert "请填写姓名。" in zh.content.decode()
    assert not Lead.objects.exists()
    assert FormSubmission.objects.filter(outcome="invalid").count() == 1  # the bad phone


def test_honeypot_and_too_fast_submissions_are_spam_without_a_lead() -> None:
    form = _form(factories.admin())
    client = Client()
    trap = _post(client, form, name="Bot", mobile="13800138002", consent="1", website="http://spam")
    assert trap.status_code == 200  # the bot sees the ordinary thank-you
    fast = client.post(
        "/f/expo/",
        {
            "gx_token": services.form_token(form),
            "name": "Bot",
            "mobile": "13800138003",
            "consent": "1",
        },
    )
    assert fast.status_code == 200
    assert not Lead.objects.exists()
    assert list(FormSubmission.objects.values_list("outcome", "error").order_by("id")) == [
        ("spam", "honeypot"),
        ("spam", "too fast"),
    ]


def test_bad_token_asks_to_reload() -> None:
    form = _form(factories.admin())
    response = Client().post(
        "/f/expo/?lang=en",
        {"gx_token": "forged", "name": "A", "mobile": "13800138004", "consent": "1"},
    )
    assert response.status_code == 400
    assert "Please reload it" in response.content.decode()
    assert not Lead.objects.exists() and form.pk


def test_rate_limit_per_ip_is_configurable() -> None:
    form = _form(factories.admin(), rate_limit=2, rate_window_minutes=10)
    client = Client()
    codes = [
        _post(client, form, name=f"R{i}", mobile=f"1370000000{i}", consent="1").status_code
        for i in range(3)
    ]
    assert codes == [200, 200, 429]
    last = _post(client, form, name="R9", mobile="13700000009", consent="1")
    assert "Too many submissions" in last.content.decode() and "10 minutes" in last.content.decode()
    other_ip = _post(client, form, name="R8", mobile="13700000008", consent="1", ip="10.0.0.2")
    assert other_ip.status_code == 200
    assert Lead.objects.count() == 3


def test_duplicate_submission_adds_a_note_and_notifies_the_owner() -> None:
    admin = factories.admin()
    owner = factories.user("sales")
    existing = crm_factories.lead(owner, name="老客户", mobile="13800138005")
    form = _form(admin)
    response = _post(
        Client(), form, name="老客户", mobile="138 0013 8005", consent="1", utm_source="wechat"
    )
    assert response.status_code == 200
    assert Lead.objects.count() == 1
    sub = FormSubmission.objects.get()
    assert sub.outcome == "duplicate" and sub.duplicate_entity == "lead"
    assert sub.duplicate_id == existing.pk and sub.lead_id == existing.pk
    note = Activity.objects.get(target_entity="lead", target_id=existing.pk)
    assert note.kind == "note" and "Expo sign-up" in note.content and "wechat" in note.content
    notice = Notification.objects.get(recipient=owner)
    assert f"/leads/{existing.pk}/" in notice.url and "Expo sign-up" in notice.title


def test_inactive_or_missing_form_is_404() -> None:
    form = _form(factories.admin(), active=False)
    client = Client()
    assert client.get("/f/expo/").status_code == 404
    assert client.post("/f/expo/", {"name": "A"}).status_code == 404
    assert (
        client.post("/f/expo/submit.json", "{}", content_type="application/json").status_code == 404
    )
    assert client.get("/f/nothing/").status_code == 404
    assert form.pk


def test_json_endpoint_creates_lead_and_reports_field_errors() -> None:
    form = _form(factories.admin())
    client = Client(enforce_csrf_checks=True)
    ok = client.post(
        "/f/expo/submit.json",
        json.dumps(
            {"name": "张伟", "mobile": "13800138006", "consent": True, "utm_source": "site"}
        ),
        content_type="application/json",
        HTTP_ORIGIN="https://example.com",
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["status"] == "received" and ok["Access-Control-Allow-Origin"] == "*"
    assert Lead.objects.get(mobile_e164="+8613800138006").name == "张伟"
    bad = client.post(
        "/f/expo/submit.json",
        json.dumps({"name": "", "mobile": "13800138007", "lang": "en"}),
        content_type="application/json",
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert fields == {"name", "consent"}
    not_object = client.post("/f/expo/submit.json", "[1]", content_type="application/json")
    assert not_object.status_code == 422
    preflight = client.options("/f/expo/submit.json")
    assert (
        preflight.status_code == 204 and "Content-Type" in preflight["Access-Control-Allow-Headers"]
    )
    assert form.pk


def test_custom_field_on_the_form() -> None:
    from guanxi.core.services import customfield_save

    admin = factories.admin()
    customfield_save(
        actor=admin,
        field=None,
        data={
            "entity": "lead",
            "key": "budget",
            "label_zh": "预算",
            "label_en": "Budget",
            "kind": "text",
        },
    )
    form = _form(
        admin,
        fields=[
            {"key": "name", "required": True},
            {"key": "email", "required": True},
            {"key": "custom.budget", "label_en": "Your budget"},
        ],
        consent_enabled=False,
    )
    assert "Your budget" in Client().get("/f/expo/?lang=en").content.decode()
    _post(Client(), form, name="E", email="E@Example.com", **{"custom.budget": "100万"})
    lead = Lead.objects.get(email_norm="e@example.com")
    assert lead.custom == {"budget": "100万"}


def test_editor_validation() -> None:
    admin = factories.admin()
    with pytest.raises(services.ValidationFailed) as info:
        services.webform_create(
            actor=admin,
            data={
                "name": "x",
                "slug": "",
                "title_zh": "",
                "fields": [{"key": "company"}, {"key": "nope"}],
                "routing": "user",
            },
        )
    fields = {e.field for e in info.value.errors}
    assert {"slug", "title_zh", "fields.1.key", "fields", "owner_id"} <= fields
    with pytest.raises(services.NotPermitted):
        _form(factories.user("sales"))


def test_admin_pages_create_edit_and_list_submissions() -> None:
    admin = factories.admin()
    admin.language = "en"
    admin.save(update_fields=["language"])
    web = Client()
    web.force_login(admin)
    assert web.get("/marketing/web-forms/").status_code == 200
    page = web.get("/marketing/web-forms/new/")
    assert page.status_code == 200 and 'name="f_mobile_on"' in page.content.decode()
    response = web.post(
        "/marketing/web-forms/new/",
        {
            "name": "Site",
            "slug": "site",
            "active": "on",
            "title_zh": "联系我们",
            "routing": "rules",
            "rate_limit": "5",
            "rate_window_minutes": "10",
            "min_fill_seconds": "0",
            "f_name_on": "on",
            "f_name_req": "on",
            "f_name_pos": "1",
            "f_email_on": "on",
            "f_email_pos": "2",
            "f_email_en": "Work e-mail",
        },
    )
    assert response.status_code == 302, response.content.decode()
    form = WebForm.objects.get(slug="site")
    assert [f["key"] for f in form.fields] == ["name", "email"]
    assert form.fields[1]["label_en"] == "Work e-mail" and form.fields[0]["required"]
    assert form.created_by == admin
    sent = Client().post(
        "/f/site/", {"gx_token": _token(form), "name": "Q", "email": "q@example.com"}
    )
    assert sent.status_code == 200, sent.content.decode()
    detail = web.get(f"/marketing/web-forms/{form.pk}/").content.decode()
    assert "q@example.com" in detail and "&lt;iframe" in detail and "/f/site/" in detail
    assert re.search(r"Leads created</dt><dd>1 \(100%\)", detail)
    sales = factories.user("sales")
    web.force_login(sales)
    assert web.get("/marketing/web-forms/").status_code == 403
    assert web.get(f"/marketing/web-forms/{form.pk}/").status_code == 403


def test_api_crud_and_submissions_admin_only() -> None:
    admin = factories.admin()
    api = ApiClient().login(admin)
    body = {
        "name": "API form",
        "slug": "api-form",
        "title_zh": "表单",
        "fields": [{"key": "name", "required": True}, {"key": "mobile"}],
        "min_fill_seconds": 0,
    }
    created = api.post("web-forms", body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["url"].endswith("/f/api-form/") and "<iframe" in data["embed"]
    assert data["stats"]["total"] == 0
    bad = api.post("web-forms", {**body, "slug": "api-form"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "slug"
    patched = api.patch(f"web-forms/{data['id']}", {"active": False})
    assert patched.status_code == 200 and patched.json()["active"] is False
    api.patch(f"web-forms/{data['id']}", {"active": True})
    Client().post("/f/api-form/", {"gx_token": "x", "name": "N", "mobile": "13800138010"})
    form = WebForm.objects.get(pk=data["id"])
    Client().post("/f/api-form/", {"gx_token": _token(form), "name": "N", "mobile": "13800138010"})
    subs = api.get(f"web-forms/{data['id']}/submissions")
    assert subs.status_code == 200 and subs.json()["count"] == 1
    assert subs.json()["items"][0]["outcome"] == "created"
    assert api.get("web-forms").json()[0]["stats"]["created"] == 1
    sales_api = ApiClient().login(factories.user("sales"))
    assert sales_api.get("web-forms").status_code == 403
    assert sales_api.get(f"web-forms/{data['id']}").status_code == 403
    assert api.get("web-forms/999999").status_code == 404
    assert api.delete(f"web-forms/{data['id']}").status_code == 204
    assert not WebForm.objects.exists()


def test_web_form_leads_follow_the_lead_scope() -> None:
    """A lead from a web form owned by one rep is out of a colleague's scope."""
    admin = factories.admin()
    rep = factories.user("sales")
    colleague = factories.user("sales")
    form = _form(admin, routing="user", owner_id=rep.pk)
    _post(Client(), form, name="Scoped", mobile="13800138011", consent="1")
    lead = Lead.objects.get(mobile_e164="+8613800138011")
    web = Client()
    web.force_login(colleague)
    assert web.get(f"/leads/{lead.pk}/").status_code == 404
    assert "Scoped" not in web.get("/leads/").content.decode()
    assert ApiClient().login(colleague).get(f"leads/{lead.pk}").status_code == 404
    web.force_login(rep)
    assert web.get(f"/leads/{lead.pk}/").status_code == 200
