"""The portal's URLs: the play API, the health checks, the staff portal, its sign-in, its
language switcher and the admin. (/metrics is answered by portal.metrics.MetricsMiddleware.)"""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal.health import healthz, readyz
from portal.two_factor import two_factor

urlpatterns = [
    path("", include("contests.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # After the password, for the accounts that need a second factor (portal/two_factor.py).
    path("accounts/two-factor/", two_factor, name="two_factor"),
    # The header's language switcher posts to set_language here (i18n/setlang/).
    path("i18n/", include("django.conf.urls.i18n")),
    # Outside ADMIN_URL and without a trailing slash: probes must not follow redirects.
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path(settings.ADMIN_URL, admin.site.urls),
]
