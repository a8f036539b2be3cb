"""Catalogue pages: products (list, new, edit) and price lists with their prices."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import permissions
from guanxi.core.errors import DomainError, NotPermitted, OutOfScope, ValidationFailed
from guanxi.identity.models import User
from guanxi.sales.catalog import selectors, services
from guanxi.sales.catalog.forms import PriceForm, PriceListForm, ProductFilterForm, ProductForm
from guanxi.sales.catalog.models import PriceList, Product
from guanxi.web.forms import apply_domain_errors, flash_domain_error


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not permissions.can(actor, "product", "view"):
        raise PermissionDenied
    filters = ProductFilterForm(
        request.GET or None, categories=selectors.product_categories(actor=actor)
    )
    data: dict[str, Any] = filters.cleaned_data if filters.is_valid() else {}
    active = {"1": True, "0": False}.get(data.get("active") or "")
    try:
        page = selectors.product_list(
            actor=actor,
            q=data.get("q", ""),
            category=data.get("category", ""),
            active=active,
            page=request.GET.get("page", 1),
        )
    except ValidationFailed as exc:
        flash_domain_error(request, exc)
        page = selectors.product_list(actor=actor)
    return render(
        request,
        "catalog/product_list.html",
        {
            "page": page,
            "filters": filters,
            "can_create": permissions.can(actor, "product", "create"),
            "can_edit": permissions.can(actor, "product", "edit"),
        },
    )


def _product_page(request: HttpRequest, product: Product | None) -> HttpResponse:
    actor = _actor(request)
    initial = ProductForm.initial_for(product) if product else None
    form = ProductForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if product is None:
                saved = services.product_create(actor=actor, data=form.cleaned_data)
            else:
                saved = services.product_update(
                    actor=actor, product=product, data=form.cleaned_data
                )
        except ValidationFailed as exc:
            apply_domain_errors(form, exc)
        except NotPermitted as exc:
            raise PermissionDenied from exc
        else:
            messages.success(request, _("Product %(sku)s has been saved.") % {"sku": saved.sku})
            return redirect("catalog:product_list")
    return render(
        request,
        "catalog/product_form.html",
        {"form": form, "product": product},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def product_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can(_actor(request), "product", "create"):
        raise PermissionDenied
    return _product_page(request, None)


@login_required
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        product = selectors.product_get_for_user(actor=_actor(request), pk=pk, action="edit")
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc
    return _product_page(request, product)


@login_required
def price_lists(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    try:
        rows = list(selectors.price_list_list(actor=actor))
    except NotPermitted as exc:
        raise PermissionDenied from exc
    can_create = permissions.can(actor, "product", "create")
    form = PriceListForm(request.POST or None)
    if request.method == "POST":
        if not can_create:
            raise PermissionDenied
        if form.is_valid():
            try:
                saved = services.price_list_save(
                    actor=actor, price_list=None, data=form.cleaned_data
                )
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            else:
                messages.success(
                    request, _("Price list %(name)s has been created.") % {"name": saved.name}
                )
                return redirect("catalog:price_list_detail", pk=saved.pk)
    return render(
        request,
        "catalog/price_lists.html",
        {"rows": rows, "form": form, "can_create": can_create},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def price_list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    try:
        price_list = selectors.price_list_get(actor=actor, pk=pk)
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc
    can_edit = permissions.can(actor, "product", "edit")
    settings_form = PriceListForm(
        request.POST if request.POST.get("form") == "settings" else None,
        initial={f: getattr(price_list, f) for f in ("name", "tier", "currency", "active")},
    )
    price_form = PriceForm(
        request.POST if request.POST.get("form") == "price" else None,
        products=selectors.product_choices(actor=actor),
    )
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = settings_form if request.POST.get("form") == "settings" else price_form
        if form.is_valid():
            try:
                if form is settings_form:
                    services.price_list_save(
                        actor=actor, price_list=price_list, data=form.cleaned_data
                    )
                else:
                    product = selectors.product_get_for_user(
                        actor=actor, pk=form.cleaned_data["product"]
                    )
                    services.price_list_set_price(
                        actor=actor,
                        price_list=price_list,
                        product=product,
                        price=form.cleaned_data["price"],
                    )
            except ValidationFailed as exc:
                apply_domain_errors(form, exc)
            except DomainError as exc:
                flash_domain_error(request, exc)
            else:
                messages.success(request, _("The price list has been saved."))
                return redirect("catalog:price_list_detail", pk=price_list.pk)
        status = 400
    return render(
        request,
        "catalog/price_list_detail.html",
        {
            "price_list": price_list,
            "items": selectors.price_list_items(actor=actor, price_list=price_list),
            "settings_form": settings_form,
            "price_form": price_form,
            "can_edit": can_edit,
        },
        status=status,
    )


@login_required
@require_POST
def price_list_remove(request: HttpRequest, pk: int, product_id: int) -> HttpResponse:
    actor = _actor(request)
    try:
        price_list: PriceList = selectors.price_list_get(actor=actor, pk=pk)
        product = selectors.product_get_for_user(actor=actor, pk=product_id)
        services.price_list_remove_price(actor=actor, price_list=price_list, product=product)
    except OutOfScope as exc:
        raise Http404 from exc
    except NotPermitted as exc:
        raise PermissionDenied from exc
    messages.success(request, _("The price has been removed."))
    return redirect("catalog:price_list_detail", pk=pk)
