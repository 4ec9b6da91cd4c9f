"""The perizia data sheet (issue 18, item 3) and the sealed closing record (item 4)."""

import datetime as dt
import hashlib
import io
import json
import re
import subprocess

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from contests.evidence import perizia, source_files, timestamps
from contests.models import Timestamp, TimestampRequest
from contests.moments.claiming import ensure_plans
from tests.servers import ROOT
from tests.tsa import local_tsa

pytestmark = pytest.mark.django_db


@pytest.fixture
def tsa(tmp_path):
    with (
        local_tsa(tmp_path / "tsa", at="2020-02-09 12:00:00") as authority,
        override_settings(TSA_URL=authority.url, TSA_CA_CERTIFICATE=str(authority.ca_certificate)),
    ):
        yield authority


@pytest.fixture
def stamped(tsa, make_contest):
    contest = make_contest(start=dt.date(2020, 2, 10), end=dt.date(2020, 2, 11))
    with time_machine.travel(dt.datetime(2020, 2, 9, 11, tzinfo=dt.UTC), tick=False):
        ensure_plans(contest, dt.date(2020, 2, 10), timezone.now())
        timestamps.request_plan_timestamps(timezone.now())
    assert timestamps.stamp_pending() == (1, 0)
    return contest


def sheet() -> dict:
    out = io.StringIO()
    call_command("perizia", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_source_digest_is_what_sha256sum_gives():
    """The expert recomputes it in the container with the shell alone (source_files.py)."""
    files = source_files.source_files()
    listed = subprocess.run(
        ["sha256sum", *files], cwd=ROOT, capture_output=True, timeout=60, check=True
    ).stdout
    assert hashlib.sha256(listed).hexdigest() == source_files.source_digest()
    assert "contests/moments/planning.py" in files and not any(f.endswith(".pyc") for f in files)


def test_the_sheet_states_version_randomness_server_data_roles_and_commitments(
    stamped, auditor_user, tmp_path
):
    built = tmp_path / "SOURCE_SHA256"
    built.write_text(source_files.source_digest() + "\n")
    with override_settings(
        PORTAL_SOURCE_DIGEST_FILE=str(built),
        PERIZIA_SERVER_LOCATION="Aruba IT1, Arezzo (Italy)",
        PERIZIA_TIME_SYNC="chrony, ntp1.inrim.it",
    ):
        data = sheet()
    version = data["version"]
    assert version["source_digest_at_build"] == version["source_digest_now"]
    assert version["source_digest_at_start"] == version["source_digest_now"]
    assert version["source_unchanged"] is True
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", version["commit"])
    assert {use["where"] for use in data["randomness"]["uses"]} >= {
        "contests/moments/planning.py",
        "contests/moments/sealing.py",
    }
    assert data["server"]["location"] == "Aruba IT1, Arezzo (Italy)"
    assert data["server"]["time_sync"] == "chrony, ntp1.inrim.it"
    measured = data["server"]["clock_offset"]
    assert measured["measured"] is (connection.vendor == "postgresql")
    if measured["measured"]:
        assert measured["uncertainty_seconds"] >= 0
    assert any("90" in item["kept"] for item in data["data_kept"])
    auditors = next(r for r in data["roles"]["staff_roles"] if r["role"] == "Auditor")
    assert auditors["members"] == ["audrey"]
    assert "contests.Timestamp" in data["roles"]["database"]["append_only"]
    [contest] = data["contests"]
    [plan] = contest["plans"]
    assert plan["timestamp_token"] and plan["commitment"]
    assert data["timestamping"]["ca_certificates"][0]["subject"] == "CN=Test TSA CA"


def test_changed_source_files_are_shown(tmp_path):
    built = tmp_path / "SOURCE_SHA256"
    built.write_text("0" * 64 + "\n")
    with override_settings(PORTAL_SOURCE_DIGEST_FILE=str(built)):
        assert perizia.version()["source_unchanged"] is False


def test_a_checkout_names_its_git_commit():
    with override_settings(PORTAL_COMMIT="unknown"):
        commit, origin = perizia.git_commit()
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
    )
    if head.returncode == 0:
        assert (commit, origin) == (head.stdout.strip(), "git checkout")
    with override_settings(PORTAL_COMMIT="3f1c2d5e"):
        assert perizia.git_commit() == ("3f1c2d5e", "image")


def test_the_text_sheet_is_for_people(stamped):
    out = io.StringIO()
    call_command("perizia", stdout=out)
    assert "SHA-256 of the source files now:" in out.getvalue()
    assert "Randomness:" in out.getvalue()


def test_auditors_see_the_page_and_nobody_else(stamped, auditor_client, staff_client, client):
    page = auditor_client.get("/perizia/")
    assert page.status_code == 200
    token = sheet()["contests"][0]["plans"][0]["timestamp_token"]
    assert token in page.content.decode()
    assert auditor_client.get("/perizia.json").json()["contests"][0]["code"] == "C0001"
    assert staff_client.get("/perizia/").status_code == 403
    assert staff_client.get("/perizia.json").status_code == 403
    assert client.get("/perizia/").status_code == 302  # to sign in


def test_the_page_speaks_italian(stamped, auditor_client):
    page = auditor_client.get("/perizia/", HTTP_ACCEPT_LANGUAGE="it")
    assert "Versione in esecuzione" in page.content.decode()


# The sealed closing record ------------------------------------------------------------------


def shown_digest(page) -> str:
    return re.search(r'id="closing-digest">([0-9a-f]{64})<', page.content.decode()).group(1)


def test_the_printed_report_shows_the_sha256_of_its_csv(stamped, staff_client):
    period = "?start=2020-02-10&end=2020-02-11"
    with time_machine.travel(dt.datetime(2020, 2, 10, 12, tzinfo=dt.UTC), tick=False):
        page = staff_client.get(f"/contests/C0001/report/{period}")
        download = staff_client.get(f"/contests/C0001/report.csv{period}")
    csv = b"".join(download.streaming_content)
    assert shown_digest(page) == hashlib.sha256(csv).hexdigest()
    # Not over yet: nothing is sealed.
    assert not TimestampRequest.objects.filter(kind=timestamps.CLOSING_RECORD).exists()


def test_the_closing_record_is_timestamped_once_the_contest_is_over(stamped, staff_client):
    period = "?start=2020-02-10&end=2020-02-11"
    page = staff_client.get(f"/contests/C0001/report/{period}")
    request = TimestampRequest.objects.get(kind=timestamps.CLOSING_RECORD, reference="C0001")
    assert request.digest == shown_digest(page)
    assert "has been requested" in page.content.decode()
    assert timestamps.stamp_pending() == (1, 0)
    page = staff_client.get(f"/contests/C0001/report/{period}")
    assert "timestamped by the time-stamping authority" in page.content.decode()
    assert TimestampRequest.objects.filter(kind=timestamps.CLOSING_RECORD).count() == 1


def test_auditors_read_the_timestamps_in_the_admin(stamped, auditor_client):
    stamp = Timestamp.objects.get()
    assert auditor_client.get("/admin/contests/timestamprequest/").status_code == 200
    assert auditor_client.get("/admin/contests/timestamp/").status_code == 200
    page = auditor_client.get(f"/admin/contests/timestamp/{stamp.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert timestamps.encoded(stamp.token).encode() in page.content
