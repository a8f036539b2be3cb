"""The sample files users throw at us (../shared/data/samples, EXPECTED.json)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from guanxi.customers.models import Contact
from guanxi.leads.models import Lead
from guanxi.tests_support import factories

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "data" / "samples"
if not SAMPLES.is_dir():  # a checkout outside /work: the shared folder sits elsewhere
    SAMPLES = Path("/work/shared/data/samples")


def _import(name: str, entity: str) -> dict:
    out = StringIO()
    call_command("import", str(SAMPLES / name), "--entity", entity, "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="sample files not present")
def test_four_samples_in_sequence_match_expected() -> None:
    factories.admin(username="boss")
    gbk = _import("excel_gbk_contacts.csv", "contacts")
    assert (gbk["rows_total"], gbk["rows_imported"], gbk["rows_duplicate"]) == (80, 80, 0)
    assert gbk["rows_invalid"] == 0 and gbk["errors"] == []

    sf = _import("salesforce_contacts.csv", "contacts")
    assert (sf["rows_total"], sf["rows_imported"], sf["rows_duplicate"]) == (70, 50, 20)
    # Persons 61..80 repeat the GBK file (same phone); each says which record it matched.
    assert {d["match"] for d in sf["duplicates"]} == {"phone"}
    assert {d["row"] for d in sf["duplicates"]} == set(range(2, 22))
    assert all(d["existing_type"] == "contact" and d["existing_id"] for d in sf["duplicates"])

    wk = _import("wukong_customers.xlsx", "contacts")
    assert (wk["rows_total"], wk["rows_imported"], wk["rows_duplicate"]) == (50, 40, 10)
    assert {d["row"] for d in wk["duplicates"]} == set(range(2, 12))
    assert {d["match"] for d in wk["duplicates"]} == {"email"}
    # Mobiles stored as numbers arrive as digits, landlines with their area code.
    lucas = Contact.objects.get(email="lucas.king.166@example.cn")
    assert (lucas.mobile, lucas.mobile_e164) == ("16278368581", "+8616278368581")
    assert lucas.phone_e164 == "+8657454198069"
    assert lucas.account is not None and lucas.account.name == "Contoso Ltd"

    expo = _import("expo_leads.xlsx", "leads")
    assert expo["rows_invalid"] == 3
    assert expo["rows_imported"] == 31 and expo["rows_duplicate"] == 0
    errors = {(e["row"], e["field"]) for e in expo["errors"]}
    assert errors == {(34, "mobile"), (35, "email"), (36, "mobile")}
    by_row = {e["row"]: e["message"] for e in expo["errors"]}
    assert "科学计数" in by_row[36] or "scientific" in by_row[36]

    assert Lead.objects.count() + Contact.objects.count() == 201
    assert gbk["rows_duplicate"] + sf["rows_duplicate"] + wk["rows_duplicate"] == 30
    # Row 37: company and 意向 look like formulas: stored as text, never evaluated.
    formula = Lead.objects.get(name="公式备注")
    assert formula.company == "=1+1"
    assert formula.notes == "@SUM(A1)"
    assert formula.mobile_e164 == "+8613912345678"
    # Valid rows keep the spreadsheet's row numbers 4..33 (two title rows, the header).
    assert Lead.objects.filter(email="lucas.king.171@example.cn").exists()
