"""The portal's URLs: the play API, the health check, the staff portal and the admin."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from portal.health import healthz

urlpatterns = [
    path("", include("contests.urls")),
    # Outside ADMIN_URL and without a trailing slash: probes must not follow redirects.
    path("healthz", healthz, name="healthz"),
    path(settings.ADMIN_URL, admin.site.urls),
]
