from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.middleware import request_ip
from guanxi.identity import services
from guanxi.identity.forms import LoginForm


def _locked_message(until: timezone.datetime) -> str:
    local = timezone.localtime(until)
    return _(
        "Too many failed attempts: this account is locked until %(time)s. Try again later or ask an administrator."
    ) % {"time": formats.time_format(local, "H:i")}


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:home")
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        ip = request_ip(request)
        locked = services.login_locked_until(username)
        if locked:
            error = _locked_message(locked)
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                locked = services.login_failed(username=username, ip=ip)
                error = (
                    _locked_message(locked)
                    if locked
                    else _("The username or password is not correct.")
                )
            else:
                login(request, user)
                services.login_succeeded(user=user, ip=ip)
                if not form.cleaned_data["remember"]:
                    request.session.set_expiry(0)
                target = request.POST.get("next") or request.GET.get("next") or ""
                if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                    target = ""
                return redirect(target or "web:home")
    return render(
        request,
        "identity/login.html",
        {"form": form, "error": error, "next": request.GET.get("next", "")},
        status=200 if not error else 400,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.logout_recorded(user=request.user, ip=request_ip(request))  # type: ignore[arg-type]
    logout(request)
    return redirect("identity:login")
