"""Demo data: e-mail templates the rules can send (zh + en). Step 400, idempotent."""

from __future__ import annotations

from guanxi.automation.models import EmailTemplate
from guanxi.core.demo import DemoContext, register_demo_step

TEMPLATES = [
    {
        "key": "lead_first_contact",
        "name": "新线索首次联系 / First contact",
        "subject_zh": "【关系CRM】新线索：{{ lead.name }}（{{ lead.company }}）",
        "body_zh": (
            "{{ owner.display_name }}，您好：\n\n"
            "新线索 {{ lead.name }}（{{ lead.company }}）已分配给您，请在 24 小时内首次联系。\n"
            "{% if lead.mobile %}电话：{{ lead.mobile }}\n{% endif %}"
            "\n{{ url }}\n"
        ),
        "subject_en": "[Guanxi] New lead: {{ lead.name }} ({{ lead.company }})",
        "body_en": (
            "Hello {{ owner.display_name }},\n\n"
            "The new lead {{ lead.name }} ({{ lead.company }}) is yours; please contact them "
            "within 24 hours.\n{% if lead.mobile %}Phone: {{ lead.mobile }}\n{% endif %}"
            "\n{{ url }}\n"
        ),
    },
    {
        "key": "contract_renewal",
        "name": "合同续约提醒 / Renewal reminder",
        "subject_zh": "合同 {{ contract.number }} 将于 {{ contract.end_date }} 到期",
        "body_zh": (
            "{{ owner.display_name }}，您好：\n\n客户 {{ account.name }} 的合同 "
            "{{ contract.number }} 将于 {{ contract.end_date }} 到期，请安排续约。\n\n{{ url }}\n"
        ),
        "subject_en": "Contract {{ contract.number }} ends on {{ contract.end_date }}",
        "body_en": (
            "Hello {{ owner.display_name }},\n\nThe contract {{ contract.number }} of "
            "{{ account.name }} ends on {{ contract.end_date }}; please plan the renewal."
            "\n\n{{ url }}\n"
        ),
    },
]


def load_email_templates(ctx: DemoContext) -> None:
    made = 0
    for data in TEMPLATES:
        _obj, created = EmailTemplate.objects.get_or_create(key=data["key"], defaults=data)
        made += int(created)
    ctx.log(f"邮件模板 / e-mail templates: {made} created")


register_demo_step(450, load_email_templates)
