"""What a column can be imported into, per entity, and the header dictionary that guesses it.

The dictionary knows Chinese and English synonyms and the headers of other CRMs'
exports (Salesforce, HubSpot, Zoho, 悟空CRM) and of hand-made sheets. Headers are
compared after :func:`header_key` (case, spaces, punctuation and brackets removed).
Custom fields are matched by their key and their Chinese / English labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.core import custom_fields

ENTITIES = ("leads", "contacts", "accounts")
ENTITY_KEY = {"leads": "lead", "contacts": "contact", "accounts": "account"}


@dataclass(frozen=True)
class Target:
    key: str
    label: str | Promise
    kind: str = "text"  # text | long_text | phone | email | date | datetime | tags | …
    max_length: int = 0


_T = Target
TARGETS: dict[str, Target] = {
    t.key: t
    for t in [
        _T("name", _("Name"), "text", 100),
        _T("first_name", _("First name"), "part"),
        _T("last_name", _("Last name"), "part"),
        _T("company", _("Company"), "text", 200),
        _T("title", _("Job title"), "text", 100),
        _T("mobile", _("Mobile"), "phone", 40),
        _T("phone", _("Phone"), "phone", 40),
        _T("email", _("E-mail"), "email", 254),
        _T("wechat", _("WeChat ID"), "text", 100),
        _T("source", _("Source"), "source"),
        _T("campaign", _("Campaign"), "text", 200),
        _T("province", _("Province"), "text", 50),
        _T("city", _("City"), "text", 50),
        _T("address", _("Address"), "text", 300),
        _T("industry", _("Industry"), "text", 100),
        _T("size", _("Company size"), "text", 50),
        _T("website", _("Website"), "text", 300),
        _T("tier", _("Tier"), "tier"),
        _T("credit_code", _("Unified social credit code"), "credit_code"),
        _T("status", _("Status"), "status"),
        _T("score", _("Score"), "integer"),
        _T("birthday", _("Birthday"), "date"),
        _T("next_followup_at", _("Next follow-up"), "datetime"),
        _T("last_contacted_at", _("Last contacted"), "datetime"),
        _T("notes", _("Notes"), "long_text"),
        _T("tags", _("Tags"), "tags"),
        _T("owner", _("Owner"), "owner"),
    ]
}

ENTITY_TARGETS: dict[str, list[str]] = {
    "leads": [
        "name",
        "first_name",
        "last_name",
        "company",
        "title",
        "mobile",
        "phone",
        "email",
        "wechat",
        "source",
        "campaign",
        "province",
        "city",
        "industry",
        "status",
        "score",
        "next_followup_at",
        "last_contacted_at",
        "notes",
        "tags",
        "owner",
    ],
    "contacts": [
        "name",
        "first_name",
        "last_name",
        "company",
        "title",
        "mobile",
        "phone",
        "email",
        "wechat",
        "birthday",
        "last_contacted_at",
        "notes",
        "tags",
        "owner",
    ],
    "accounts": [
        "name",
        "industry",
        "size",
        "province",
        "city",
        "address",
        "website",
        "tier",
        "credit_code",
        "notes",
        "tags",
        "owner",
    ],
}

# Header synonyms → target. Order inside a list does not matter; keys are header_key()s.
_SYNONYMS: dict[str, list[str]] = {
    "name": [
        "姓名",
        "名字",
        "客户姓名",
        "联系人",
        "联系人姓名",
        "线索名称",
        "称呼",
        "name",
        "fullname",
        "contactname",
        "leadname",
        "联系人名称",
    ],
    "first_name": ["firstname", "givenname", "名"],
    "last_name": ["lastname", "surname", "familyname", "姓"],
    "company": [
        "公司",
        "公司名称",
        "单位",
        "单位名称",
        "企业名称",
        "客户名称",
        "工作单位",
        "所属公司",
        "所属客户",
        "company",
        "companyname",
        "accountname",
        "account",
        "organization",
        "organisation",
        "组织",
    ],
    "title": ["职位", "职务", "头衔", "title", "jobtitle", "position"],
    "mobile": [
        "手机",
        "手机号",
        "手机号码",
        "移动电话",
        "联系电话",
        "联系方式",
        "mobile",
        "mobilephone",
        "cell",
        "cellphone",
        "phonenumber",
        "mobilephonenumber",
    ],
    "phone": [
        "电话",
        "座机",
        "固定电话",
        "办公电话",
        "公司电话",
        "phone",
        "businessphone",
        "workphone",
        "officephone",
        "telephone",
        "tel",
    ],
    "email": ["邮箱", "电子邮箱", "电子邮件", "邮件", "email", "emailaddress", "mail"],
    "wechat": ["微信", "微信号", "wechat", "wechatid"],
    "source": [
        "来源",
        "客户来源",
        "线索来源",
        "source",
        "leadsource",
        "originalsource",
        "来源渠道",
        "渠道",
    ],
    "campaign": ["市场活动", "活动名称", "campaign", "campaignname"],
    "province": ["省份", "省", "所在省份", "province", "state", "stateprovince", "mailingstate"],
    "city": ["城市", "市", "地区", "所在城市", "city", "mailingcity"],
    "address": ["地址", "详细地址", "公司地址", "address", "street", "mailingstreet"],
    "industry": ["行业", "客户行业", "所属行业", "industry"],
    "size": ["规模", "人员规模", "公司规模", "employees", "numberofemployees", "size"],
    "website": ["网站", "网址", "官网", "website", "url"],
    "tier": ["客户级别", "级别", "客户等级", "等级", "tier", "rating"],
    "credit_code": ["统一社会信用代码", "信用代码", "creditcode"],
    "status": ["状态", "线索状态", "leadstatus", "status"],
    "score": ["评分", "分数", "score", "leadscore", "hubspotscore"],
    "birthday": ["生日", "出生日期", "birthday", "birthdate", "dateofbirth"],
    "next_followup_at": [
        "下次联系时间",
        "下次跟进时间",
        "下次联系",
        "nextfollowup",
        "nextfollowupat",
    ],
    "last_contacted_at": [
        "最后跟进时间",
        "最近联系时间",
        "最后联系时间",
        "lastcontacted",
        "lastactivitydate",
        "lastcontactedat",
    ],
    "notes": ["备注", "说明", "意向", "notes", "note", "description", "remark", "remarks"],
    "tags": ["标签", "tags", "tag"],
    "owner": [
        "负责人",
        "所有人",
        "归属人",
        "跟进人",
        "owner",
        "leadowner",
        "contactowner",
        "recordowner",
        "contactownername",
        "accountowner",
    ],
}
# Headers we recognise but do not import (they still help find the header row).
KNOWN_IGNORED = {
    "recordid",
    "contactid",
    "leadid",
    "accountid",
    "salutation",
    "创建时间",
    "创建日期",
    "createddate",
    "createdate",
    "登记日期",
    "登记时间",
    "mailingcountry",
    "country",
    "国家",
    "lifecyclestage",
    "序号",
    "编号",
    "id",
    "modifieddate",
    "lastmodifieddate",
    "更新时间",
}
# For accounts the company column is the account's name.
_ACCOUNT_ALIASES = {"company": "name"}

_HEADER_JUNK = re.compile(r"[\s_\-.·:：*（）()\[\]【】/、]+")


def header_key(text: str) -> str:
    return _HEADER_JUNK.sub("", str(text or "")).lower()


_DICTIONARY: dict[str, str] = {}
for _target, _words in _SYNONYMS.items():
    for _word in _words:
        _DICTIONARY[header_key(_word)] = _target
for _target in TARGETS:
    _DICTIONARY.setdefault(header_key(_target), _target)


def _label_keys() -> dict[str, str]:
    """Labels of our own fields in both languages (what our exports write as headers)."""
    from django.utils import translation

    out: dict[str, str] = {}
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            for key, target in TARGETS.items():
                out.setdefault(header_key(str(target.label)), key)
    return out


def custom_targets(entity: str) -> dict[str, str]:
    """``custom.<key>`` → label of the active custom fields of ``entity``."""
    return {
        f"custom.{f.key}": (f.label_zh or f.label_en or f.key)
        for f in custom_fields.definitions(ENTITY_KEY[entity])
    }


def allowed_targets(entity: str) -> list[str]:
    return [*ENTITY_TARGETS[entity], *custom_targets(entity)]


def guess_target(entity: str, header: str) -> str:
    """The field a header most likely means for ``entity`` ('' when unknown)."""
    key = header_key(header)
    if not key:
        return ""
    for f in custom_fields.definitions(ENTITY_KEY[entity]):
        if key in {header_key(f.key), header_key(f.label_zh), header_key(f.label_en)}:
            return f"custom.{f.key}"
    target = _DICTIONARY.get(key) or _label_keys().get(key, "")
    if entity == "accounts":
        target = _ACCOUNT_ALIASES.get(target, target)
        # "联系人" is a person: an account import has nowhere to put it.
    return target if target in ENTITY_TARGETS[entity] else ""


def suggest_mapping(entity: str, headers: list[str]) -> dict[int, str]:
    """Column index → target; each target used once (the leftmost column wins)."""
    mapping: dict[int, str] = {}
    used: set[str] = set()
    for idx, header in enumerate(headers):
        target = guess_target(entity, header)
        if target and target not in used:
            mapping[idx] = target
            used.add(target)
    # An account import where the sheet has both 客户名称 and 公司: first wins, fine.
    return mapping


def header_score(cells: list[str]) -> int:
    """How many cells look like headers we know (to find the header row)."""
    labels = _label_keys()
    return sum(
        1
        for c in cells
        if (k := header_key(c)) and (k in _DICTIONARY or k in KNOWN_IGNORED or k in labels)
    )


def target_label(entity: str, key: str) -> str:
    if key.startswith("custom."):
        return custom_targets(entity).get(key, key)
    target = TARGETS.get(key)
    if target is None:
        return key
    return str(target.label)
