"""Who may use the staff portal, and who may see winning moments before they pass."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Send anonymous visitors to sign in, and refuse signed-in users who are not staff.

    The refusal is a 403 (Django renders templates/403.html), not a redirect to the login
    page: signing in again would not help, an administrator has to grant staff status.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied(_("This account has no staff access."))
        return view(request, *args, **kwargs)

    return wrapper


def staff_permission_required(permission: str) -> Callable[[View], View]:
    """staff_required, and a 403 for staff without `permission` (auditors change nothing)."""

    def decorator(view: View) -> View:
        return staff_required(permission_required(permission, raise_exception=True)(view))

    return decorator


def sees_future_moments(user: object) -> bool:
    """Nobody sees moments that have not passed yet (docs/design.md, secrecy), unless
    SHOW_FUTURE_MOMENTS allows it to superusers, which only DEBUG may (portal/settings.py):
    the embedded default shows them to its local superuser, production to no one."""
    return bool(
        settings.SHOW_FUTURE_MOMENTS
        and getattr(user, "is_active", False)
        and getattr(user, "is_superuser", False)
    )
