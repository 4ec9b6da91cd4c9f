from django.urls import path

from . import api

app_name = "contests"

urlpatterns = [
    path("play/", api.play, name="play"),
    path("openapi.json", api.openapi_document, name="openapi"),
]
