from django.urls import path

from .play import recovery as recovery_page
from .play import redeem
from .play import views as play_views
from .staff import perizia_views, recovery_views, report_views, voucher_views
from .staff import views as staff_views

app_name = "contests"

urlpatterns = [
    path("play/", play_views.play, name="play"),
    path("contests/<str:code>/plans/<str:day>/", play_views.day_plans, name="day_plans"),
    path("contests/<str:code>/recovery/", recovery_page.recovery_draw, name="recovery_draw"),
    path("vouchers/redeem/", redeem.redeem_voucher, name="redeem_voucher"),
    # The staff portal. New contests are made at /new-contest/, not /contests/new/, so
    # that no contest code can shadow the form's address.
    path("", staff_views.dashboard, name="dashboard"),
    path("new-contest/", staff_views.contest_create, name="contest_create"),
    path("contests/<str:code>/", staff_views.contest_detail, name="contest_detail"),
    path("contests/<str:code>/edit/", staff_views.contest_edit, name="contest_edit"),
    path("contests/<str:code>/report/", report_views.closing_report_page, name="closing_report"),
    path(
        "contests/<str:code>/recovery/freeze/",
        recovery_views.recovery_freeze,
        name="recovery_freeze",
    ),
    path("contests/<str:code>/recovery/draw/", recovery_views.recovery_draw, name="recovery_run"),
    path(
        "contests/<str:code>/recovery/disqualify/",
        recovery_views.recovery_disqualify,
        name="recovery_disqualify",
    ),
    path(
        "contests/<str:code>/recovery/participants.csv",
        recovery_views.recovery_participants_csv,
        name="recovery_participants_csv",
    ),
    path("contests/<str:code>/history/", staff_views.contest_history, name="contest_history"),
    path(
        "contests/<str:code>/report.csv", report_views.closing_report_csv, name="closing_report_csv"
    ),
    path(
        "contests/<str:code>/report.xlsx",
        report_views.closing_report_xlsx,
        name="closing_report_xlsx",
    ),
    path("winners/", staff_views.winners, name="winners"),
    path("winners/export/", staff_views.winners_export, name="winners_export"),
    path("winners/export.xlsx", staff_views.winners_export_xlsx, name="winners_export_xlsx"),
    path("winners/<int:pk>/", staff_views.win_detail, name="win_detail"),
    path(
        "winners/<int:pk>/voucher/redeem/",
        voucher_views.redeem_win_voucher,
        name="redeem_win_voucher",
    ),
    path("contests/<str:code>/vouchers/", voucher_views.contest_vouchers, name="contest_vouchers"),
    path("openapi.json", play_views.openapi_document, name="openapi"),
    # The perizia data sheet, for auditors (issue 18).
    path("perizia/", perizia_views.perizia_page, name="perizia"),
    path("perizia.json", perizia_views.perizia_json, name="perizia_json"),
]
