"""/quotes: CRUD, lines, approval (submit / approve / reject), send, accept, revise, PDF;
/deals/{id}/lines: products on a deal."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.responses import Status

from guanxi.api.auth import actor
from guanxi.core import permissions
from guanxi.sales.quotes import pdf, selectors, services
from guanxi.sales.quotes.schemas import (
    DecisionIn,
    LineIn,
    LineOut,
    QuoteIn,
    QuoteOut,
    QuotePage,
    QuotePatch,
    SubmitIn,
)

router = Router(tags=["quotes"])


def _out(caller: Any, quote: Any) -> dict[str, Any]:
    return selectors.quote_as_dict(
        actor=caller, quote=selectors.quote_get_for_user(actor=caller, pk=quote.pk)
    )


@router.get(
    "/quotes", response=QuotePage, summary="Quotes in the caller's scope (current versions)"
)
def quote_list(
    request: HttpRequest,
    q: str = "",
    status: str = "",
    account_id: int | None = None,
    deal_id: int | None = None,
    owner: str = "",
    all_versions: bool = False,
    sort: str = "-created_at",
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    caller = actor(request)
    result = selectors.quote_list(
        actor=caller,
        q=q,
        status=status,
        account_id=account_id,
        deal_id=deal_id,
        owner=owner,
        all_versions=all_versions,
        sort=sort,
        page=page,
        page_size=page_size,
    )
    return result.as_api(
        [selectors.quote_as_dict(actor=caller, quote=qt, with_lines=False) for qt in result.items]
    )


@router.post("/quotes", response={201: QuoteOut}, summary="Create a numbered draft quote")
def quote_create(request: HttpRequest, payload: QuoteIn) -> Status[dict[str, Any]]:
    caller = actor(request)
    data = payload.dict()
    data["lines"] = [{k: v for k, v in line.items() if v is not None} for line in data["lines"]]
    if data.get("owner_id") is None:
        data.pop("owner_id", None)
    quote = services.quote_create(actor=caller, data=data)
    return Status(201, _out(caller, quote))


@router.get("/quotes/{int:quote_id}", response=QuoteOut)
def quote_detail(request: HttpRequest, quote_id: int) -> dict[str, Any]:
    caller = actor(request)
    return selectors.quote_as_dict(
        actor=caller, quote=selectors.quote_get_for_user(actor=caller, pk=quote_id)
    )


@router.patch("/quotes/{int:quote_id}", response=QuoteOut)
def quote_update(request: HttpRequest, quote_id: int, payload: QuotePatch) -> dict[str, Any]:
    caller = actor(request)
    quote = selectors.quote_get_for_user(actor=caller, pk=quote_id, action="edit")
    services.quote_update(actor=caller, quote=quote, data=payload.dict(exclude_unset=True))
    return _out(caller, quote)


@router.delete("/quotes/{int:quote_id}", response={204: None})
def quote_delete(request: HttpRequest, quote_id: int) -> Status[None]:
    caller = actor(request)
    quote = selectors.quote_get_for_user(actor=caller, pk=quote_id, action="delete")
    services.quote_delete(actor=caller, quote=quote)
    return Status(204, None)


@router.post("/quotes/{int:quote_id}/lines", response={201: QuoteOut})
def quote_line_add(request: HttpRequest, quote_id: int, payload: LineIn) -> Status[dict[str, Any]]:
    caller = actor(request)
    quote = selectors.quote_get_for_user(actor=caller, pk=quote_id, action="edit")
    services.quote_line_add(actor=caller, quote=quote, data=payload.dict(exclude_none=True))
    return Status(201, _out(caller, quote))


@router.patch("/quotes/{int:quote_id}/lines/{int:line_id}", response=QuoteOut)
def quote_line_update(
    request: HttpRequest, quote_id: int, line_id: int, payload: LineIn
) -> dict[str, Any]:
    caller = actor(request)
    quote = selectors.quote_get_for_user(actor=caller, pk=quote_id, action="edit")
    services.quote_line_update(
        actor=caller, quote=quote, line_id=line_id, data=payload.dict(exclude_unset=True)
    )
    return _out(caller, quote)


@router.delete("/quotes/{int:quote_id}/lines/{int:line_id}", response=QuoteOut)
def quote_line_delete(request: HttpRequest, quote_id: int, line_id: int) -> dict[str, Any]:
    caller = actor(request)
    quote = selectors.quote_get_for_user(actor=caller, pk=quote_id, action="edit")
    services.quote_line_delete(actor=caller, quote=quote, line_id=line_id)
    return _out(caller, quote)


@router.post("/quotes/{int:quote_id}/submit", response=QuoteOut, summary="Submit for approval")
def quote_submit(request: HttpRequest, quote_id: int, payload: SubmitIn) -> dict[str, Any]:
    caller = actor(request)
    quote = selectors.quote_get_for_user(actor=caller, pk=quote_id, action="edit")
    services.quote_submit(actor=caller, quote=quote, reason=payload.reason)
    return _out(caller, quote)


@router.post("/quotes/{int:quote_id}/withdraw", response=QuoteOut)
def quote_withdraw(request: HttpRequest, quote_id: int) -> dict[str, Any]:
    caller = actor(request)
    quote = selectors.quote_get_for_user(actor=caller, pk=quote_id, action="edit")
    services.quote_withdraw(actor=caller, quote=quote)
    return _out(caller, quote)


def _decide(request: HttpRequest, quote_id: int, decision: str, comment: str) -> dict[str, Any]:
    """The approver may be outside the quote's scope: the approval is their access."""
    from guanxi.automation import selectors as approval_selectors
    from guanxi.core.errors import OutOfScope
    from guanxi.sales.quotes.models import Quote

    caller = actor(request)
    pending = approval_selectors.pending_for_object(entity="quote", object_id=quote_id)
    in_scope = (
        permissions.can(caller, "quote", "view")
        and permissions.scoped_queryset(caller, "quote").filter(pk=quote_id).exists()
    )
    is_approver = pending is not None and any(
        s.approver_id == caller.pk for s in pending.steps.all()
    )
    if not (in_scope or is_approver or permissions.is_admin(caller)):
        raise OutOfScope()
    quote = Quote.objects.select_related("account", "owner").get(pk=quote_id)
    quote = services.quote_decide(actor=caller, quote=quote, decision=decision, comment=comment)
    return selectors.quote_as_dict(actor=caller, quote=quote)


@router.post("/quotes/{int:quote_id}/approve", response=QuoteOut, summary="Approve (the approver)")
def quote_approve(request: HttpRequest, quote_id: int, payload: DecisionIn) -> dict[str, Any]:
    return _decide(request, quote_id, "approve", payload.comment)


@router.post("/quotes/{int:quote_id}/reject", response=QuoteOut, summary="Reject with a comment")
def quote_reject(request: HttpRequest, quote_id: int, payload: DecisionIn) -> dict[str, Any]:
    return _decide(request, quote_id, "reject", payload.comment)


@router.post("/quotes/{int:quote_id}/send", response=QuoteOut, summary="Mark as sent")
def quote_send(request: HttpRequest, quote_id: int) -> dict[str, Any]:
    caller = actor(request)
    quote = selectors.quote_get_for_user(actor=caller, pk=quote_id, action="edit")
    services.quote_mark_sent(actor=caller, quote=quote)
    return _out(caller, quote)


@router.post("/quotes/{int:quote_id}/accept", response=QuoteOut, summary="Mark as accepted")
def quote_accept(request: HttpRequest, quote_id: int) -> dict[str, Any]:
    caller = actor(request)
    quote = selectors.quote_get_for_user(actor=caller, pk=quote_id, action="edit")
    services.quote_mark_accepted(actor=caller, quote=quote)
    return _out(caller, quote)


@router.post("/quotes/{int:quote_id}/revise", response={201: QuoteOut}, summary="New version")
def quote_revise(request: HttpRequest, quote_id: int) -> Status[dict[str, Any]]:
    caller = actor(request)
    quote = selectors.quote_get_for_user(actor=caller, pk=quote_id, action="edit")
    new = services.quote_revise(actor=caller, quote=quote)
    return Status(201, _out(caller, new))


@router.get("/quotes/{int:quote_id}/pdf", summary="The quote as PDF", response={200: None})
def quote_pdf(request: HttpRequest, quote_id: int) -> HttpResponse:
    caller = actor(request)
    quote = selectors.quote_get_for_user(actor=caller, pk=quote_id)
    response = HttpResponse(pdf.render(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.filename(quote)}"'
    return response


@router.get("/deals/{int:deal_id}/lines", response=list[LineOut], summary="Products on a deal")
def deal_lines(request: HttpRequest, deal_id: int) -> list[dict[str, Any]]:
    caller = actor(request)
    deal = permissions.get_for_user(caller, "deal", deal_id)
    return [selectors.line_as_dict(line) for line in selectors.deal_lines(deal)]


@router.post("/deals/{int:deal_id}/lines", response={201: list[LineOut]})
def deal_line_add(
    request: HttpRequest, deal_id: int, payload: LineIn
) -> Status[list[dict[str, Any]]]:
    caller = actor(request)
    deal = permissions.get_for_user(caller, "deal", deal_id, "edit")
    services.deal_line_add(actor=caller, deal=deal, data=payload.dict(exclude_none=True))
    return Status(201, [selectors.line_as_dict(line) for line in selectors.deal_lines(deal)])


@router.delete("/deals/{int:deal_id}/lines/{int:line_id}", response={204: None})
def deal_line_delete(request: HttpRequest, deal_id: int, line_id: int) -> Status[None]:
    caller = actor(request)
    deal = permissions.get_for_user(caller, "deal", deal_id, "edit")
    services.deal_line_delete(actor=caller, deal=deal, line_id=line_id)
    return Status(204, None)
