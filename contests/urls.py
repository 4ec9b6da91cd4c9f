from django.urls import path

from . import api

app_name = "contests"

urlpatterns = [
    path("play/", api.play, name="play"),
    path("contests/<str:code>/plans/<str:day>/", api.day_plans, name="day_plans"),
]
