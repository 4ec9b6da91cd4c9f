"""The portal's URLs: the play API, the staff portal and the admin."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("contests.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
]
