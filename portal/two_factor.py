"""Two-factor sign-in: a TOTP code after the password, for the accounts that need one.

Who needs one is OTP_REQUIRED_FOR (DJANGO_OTP_REQUIRED_FOR): "staff" — superusers and
members of Contest staff, the default with DJANGO_DEBUG off —, "everyone", or "off" (the
embedded default). Such an account signs in with its password as usual, and until the
session has given a code from its TOTP device (django-otp), every page of the portal
and of the admin sends it to /accounts/two-factor/. Devices are enrolled by an
administrator: `manage.py enrol_totp USERNAME`, or the admin's "TOTP devices"
(docs/security.md).
"""

import logging
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from contests.roles import CONTEST_STAFF
from portal.client_address import client_address

log = logging.getLogger("portal.security")


def requires_two_factor(user) -> bool:
    """Must this signed-in account give a TOTP code before it opens any page?"""
    if not getattr(user, "is_authenticated", False):
        return False
    match settings.OTP_REQUIRED_FOR:
        case "everyone":
            return True
        case "staff":
            return user.is_superuser or user.groups.filter(name=CONTEST_STAFF).exists()
    return False


def _exempt_paths() -> set[str]:
    return {reverse("two_factor"), reverse("logout"), reverse("admin:logout")}


class TwoFactorRequiredMiddleware:
    """Send an account that needs a second factor, and has not given it, to give it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # No session cookie, no signed-in user: the play API and every anonymous visit
        # pass without touching the session.
        if (
            settings.OTP_REQUIRED_FOR != "off"
            and settings.SESSION_COOKIE_NAME in request.COOKIES
            and request.path not in _exempt_paths()
            and requires_two_factor(request.user)
            and not request.user.is_verified()
        ):
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('two_factor')}?{query}")
        return self.get_response(request)


class TwoFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def __init__(self, user, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.device = None

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        for device in TOTPDevice.objects.devices_for_user(self.user, confirmed=True):
            if verified := verify_token(self.user, device.persistent_id, code):
                self.device = verified
                return code
        raise forms.ValidationError(
            _("That code is not right, or has expired. Try the one your app shows now."),
            code="invalid",
        )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else reverse(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("code")
@never_cache
@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Ask a signed-in account for its TOTP code; on success, on to where it was going."""
    user = request.user
    if request.user.is_verified() or not requires_two_factor(user):
        return redirect(_next(request))
    has_device = TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()
    form = TwoFactorForm(user, request.POST or None) if has_device else None
    if request.method == "POST" and form is not None:
        if form.is_valid():
            otp_login(request, form.device)
            log.info("two-factor verified user=%s address=%s", user, client_address(request))
            return redirect(_next(request))
        _record_failure(request, user)
    return render(
        request,
        "registration/two_factor.html",
        {"form": form, "has_device": has_device, "next": _next(request)},
        status=400 if form is not None and form.is_bound else 200,
    )


def _record_failure(request: HttpRequest, user) -> None:
    from contests.models import AuditEvent, AuditEventKind

    address = client_address(request)
    log.warning("two-factor code refused user=%s address=%s", user, address)
    AuditEvent.objects.create(
        at=timezone.now(),
        kind=AuditEventKind.TWO_FACTOR_FAILED,
        user=user,
        username=user.get_username(),
        address=address,
        request_id=getattr(request, "id", ""),
    )
