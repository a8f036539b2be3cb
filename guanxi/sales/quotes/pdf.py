"""The quote as a PDF (fpdf2, Noto Sans SC from a pip package: no system fonts).

:func:`document` builds every string the PDF prints (the same totals as the screen,
from :func:`guanxi.sales.quotes.totals.compute`); :func:`render` only lays them out.
Labels are printed in Chinese and English side by side, as Chinese business documents
sent to mixed audiences usually are, whatever the sender's UI language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from fpdf import FPDF
from fpdf.fonts import FontFace

from guanxi.core.company import company_profile_get
from guanxi.core.money import format_money
from guanxi.sales.quotes.models import Quote
from guanxi.sales.quotes.selectors import quote_lines, quote_totals

FONT = "NotoSansSC"


def font_path() -> Path:
    from pylopdf_fonts_zh_cn import sans_path

    return Path(sans_path())


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


@dataclass
class QuoteDocument:
    company_name: str
    company_name_en: str
    company_lines: list[str]
    logo: str | None
    title: str
    meta: list[tuple[str, str]]
    header: list[str]
    rows: list[list[str]]
    tax_rows: list[list[str]]
    totals: list[tuple[str, str]]
    terms: str
    footer: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """Every printed string, in order (tests compare it with the screen)."""
        parts = [self.company_name, self.company_name_en, *self.company_lines, self.title]
        parts += [f"{k} {v}" for k, v in self.meta]
        parts += [" ".join(self.header)]
        parts += [" ".join(r) for r in self.rows]
        parts += [" ".join(r) for r in self.tax_rows]
        parts += [f"{k} {v}" for k, v in self.totals]
        parts += [self.terms, self.footer]
        return "\n".join(p for p in parts if p)


def document(quote: Quote) -> QuoteDocument:
    company = company_profile_get()
    lines = quote_lines(quote)
    totals = quote_totals(quote, lines)
    cur = quote.currency
    rows = []
    for i, (line, amounts) in enumerate(zip(lines, totals.lines, strict=True), start=1):
        rows.append(
            [
                str(i),
                line.description
                + (f"\n{line.product.sku}" if line.product_id and line.product else ""),
                _qty(line.quantity),
                line.unit,
                format_money(line.unit_price, cur, symbol=False),
                _pct(line.discount),
                _pct(line.tax_rate),
                format_money(amounts.net, cur, symbol=False),
            ]
        )
    tax_rows = [
        [
            _pct(g.rate),
            format_money(g.net, cur, symbol=False),
            format_money(g.tax, cur, symbol=False),
        ]
        for g in totals.by_rate
    ]
    contact = quote.contact
    meta = [
        ("报价单号 Quote No.", str(quote)),
        ("日期 Date", (quote.sent_at or quote.created_at).date().isoformat()),
        ("有效期至 Valid until", quote.valid_until.isoformat() if quote.valid_until else "—"),
        ("客户 Customer", quote.account.name),
    ]
    if contact is not None:
        meta.append(("联系人 Attn.", contact.name))
    if quote.title:
        meta.append(("主题 Subject", quote.title))
    if quote.owner is not None:
        meta.append(("销售 Sales", quote.owner.label))
    meta.append(("币种 Currency", cur))
    company_lines = [
        s
        for s in (
            company.address,
            company.address_en,
            " · ".join(x for x in (company.phone, company.email, company.website) if x),
            f"统一社会信用代码 {company.tax_id}" if company.tax_id else "",
            company.bank,
        )
        if s
    ]
    logo = None
    if company.logo:
        try:
            logo = default_storage.path(company.logo.name)
        except NotImplementedError:  # remote storage: embed the bytes instead
            logo = None
    return QuoteDocument(
        company_name=company.name,
        company_name_en=company.name_en,
        company_lines=company_lines,
        logo=logo,
        title="报价单 Quotation",
        meta=meta,
        header=[
            "#",
            "品名 Item",
            "数量 Qty",
            "单位 Unit",
            "单价 Unit price",
            "折扣 Disc.",
            "税率 Tax",
            "金额 Amount",
        ],
        rows=rows,
        tax_rows=tax_rows,
        totals=[
            ("小计 Subtotal", format_money(totals.subtotal, cur)),
            ("折扣 Discount", format_money(-totals.discount, cur)),
            ("不含税金额 Net", format_money(totals.net, cur)),
            ("税额 Tax", format_money(totals.tax, cur)),
            ("合计 Total", format_money(totals.total, cur)),
        ],
        terms=quote.terms,
        footer="价格不含税，税额按行计算 · Prices exclude tax; tax is computed per line.",
    )


def render(quote: Quote, *, compress: bool = True) -> bytes:
    """The PDF bytes of ``quote`` (A4, embedded subset of Noto Sans SC)."""
    doc = document(quote)
    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    pdf.set_title(f"{doc.title} {dict(doc.meta).get('报价单号 Quote No.', '')}")
    pdf.set_creator("Guanxi CRM")
    pdf.add_font(FONT, "", str(font_path()))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font(FONT, size=16)
    x_text = pdf.l_margin
    if doc.logo:
        try:
            pdf.image(doc.logo, x=pdf.l_margin, y=10, h=16)
            x_text = pdf.l_margin + 40
        except (OSError, ValueError, RuntimeError):
            x_text = pdf.l_margin  # an unreadable logo must not stop the quote
    pdf.set_xy(x_text, 10)
    pdf.cell(text=doc.company_name or " ", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    for text in [doc.company_name_en, *doc.company_lines]:
        if text:
            pdf.set_x(x_text)
            pdf.multi_cell(w=0, h=5, text=text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FONT, size=18)
    pdf.cell(w=0, h=10, text=doc.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT, size=9)
    with pdf.table(
        col_widths=(40, 150), first_row_as_headings=False, borders_layout="NONE"
    ) as table:
        for key, value in doc.meta:
            row = table.row()
            row.cell(key)
            row.cell(value)
    pdf.ln(4)
    grey = FontFace(fill_color=(235, 238, 242))
    with pdf.table(
        col_widths=(7, 63, 16, 14, 24, 16, 14, 26),
        text_align=("CENTER", "LEFT", "RIGHT", "CENTER", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=grey,
        line_height=5,
    ) as table:
        head = table.row()
        for text in doc.header:
            head.cell(text)
        for values in doc.rows:
            row = table.row()
            for text in values:
                row.cell(text)
    pdf.ln(4)
    if doc.tax_rows:
        with pdf.table(
            col_widths=(30, 40, 40),
            width=110,
            align="RIGHT",
            text_align=("RIGHT", "RIGHT", "RIGHT"),
            headings_style=grey,
            line_height=5,
        ) as table:
            head = table.row()
            for text in ("税率 Tax rate", "不含税金额 Net", "税额 Tax"):
                head.cell(text)
            for values in doc.tax_rows:
                row = table.row()
                for text in values:
                    row.cell(text)
        pdf.ln(3)
    with pdf.table(
        col_widths=(50, 40),
        width=90,
        align="RIGHT",
        text_align=("LEFT", "RIGHT"),
        first_row_as_headings=False,
        line_height=6,
    ) as table:
        for key, value in doc.totals:
            row = table.row()
            row.cell(key)
            row.cell(value)
    if doc.terms:
        pdf.ln(6)
        pdf.set_font(FONT, size=10)
        pdf.cell(text="条款 Terms", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, size=9)
        pdf.multi_cell(w=0, h=5, text=doc.terms, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, size=8)
    pdf.multi_cell(w=0, h=4, text=doc.footer, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def filename(quote: Quote) -> str:
    return f"{quote.number}{'' if quote.version == 1 else f'-v{quote.version}'}.pdf"
