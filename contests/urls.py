from django.urls import path

from . import api, views

app_name = "contests"

urlpatterns = [
    path("play/", api.play, name="play"),
    path("contests/<str:code>/plans/<str:day>/", api.day_plans, name="day_plans"),
    # The staff portal. New contests are made at /new-contest/, not /contests/new/, so
    # that no contest code can shadow the form's address.
    path("", views.dashboard, name="dashboard"),
    path("new-contest/", views.contest_create, name="contest_create"),
    path("contests/<str:code>/", views.contest_detail, name="contest_detail"),
    path("contests/<str:code>/edit/", views.contest_edit, name="contest_edit"),
    path("contests/<str:code>/report/", views.closing_report_page, name="closing_report"),
    path("contests/<str:code>/report.csv", views.closing_report_csv, name="closing_report_csv"),
    path("winners/", views.winners, name="winners"),
    path("winners/export/", views.winners_export, name="winners_export"),
    path("winners/<int:pk>/", views.win_detail, name="win_detail"),
    path("openapi.json", api.openapi_document, name="openapi"),
]
