"""The portal in Italian and English: complete catalogs, every page in both languages, no
English left on the Italian pages, dates and numbers in each language's way, the API in
its contract's English whatever the request asks.
"""

import datetime as dt
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path

import polib
import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import formats, translation

from contests.models import ApiClient, PlayCount, ReviewStatus, Win
from contests.staff.reviews import review_win
from portal.formats import PORTAL_FORMATS
from tests.clock import rome
from tests.tools import tool

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "locale" / "it" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOG.with_suffix(".mo")
LANGUAGES = ["it", "en"]
NOW = rome(2020, 2, 10, 12)  # a Monday, the tenth day of the running contest

# Words of the English pages that an Italian page must not show. Words that Italian has
# too ("per", "date", "menu", "account", "password", "token") are left out.
ENGLISH_WORDS = set(
    """
    the and of with for from not yet today day days win wins winner winners contest contests
    prize prizes play plays moment moments plan plans planned report closing export download
    downloads print edit open show save cancel create new sign out review reviewed validated
    disqualified validate disqualify awarded unassigned total period generated verification
    zone time player client request filter all search running upcoming ended next previous
    first last page pages even spread hour none back history reason verdict record copy staff
    only access nothing found superusers midnight now left made starts remove add name start
    end commitment seal sealed salt active revoke issue selected status dates this that here
    """.split()  # noqa: SIM905 (a list of words, read as one)
)


# Catalogs -------------------------------------------------------------------------------


def test_the_italian_catalog_has_no_empty_or_fuzzy_entry():
    catalog = polib.pofile(str(CATALOG))
    assert not catalog.metadata_is_fuzzy, "the catalog's header is marked fuzzy"
    assert catalog.metadata["Language"] == "it"
    problems = []
    for entry in catalog:
        if entry.obsolete:
            problems.append(f"obsolete (run makemessages, see docs/i18n.md): {entry.msgid!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {entry.msgid!r}")
        elif entry.msgid_plural:
            if not entry.msgstr_plural or not all(entry.msgstr_plural.values()):
                problems.append(f"untranslated plural: {entry.msgid!r}")
        elif not entry.msgstr:
            problems.append(f"untranslated: {entry.msgid!r}")
    assert len(catalog) > 300
    assert not problems, "\n".join(problems)


def test_the_check_catches_an_empty_and_a_fuzzy_entry(tmp_path):
    # The test above can fail: an entry left empty or fuzzy is what polib reports.
    broken = tmp_path / "django.po"
    broken.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Contests"\nmsgstr ""\n\n#, fuzzy\nmsgid "Winners"\nmsgstr "Vincitori"\n'
    )
    entries = polib.pofile(str(broken))
    assert [e.msgid for e in entries.untranslated_entries()] == ["Contests"]
    assert [e.msgid for e in entries.fuzzy_entries()] == ["Winners"]


def test_the_catalog_has_every_string_the_source_marks(tmp_path):
    """makemessages on a copy of the source finds nothing new, nothing changed, nothing gone."""
    tool("xgettext", "apt-get install gettext")
    for name in ("contests", "portal", "templates", "locale"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("*.mo"))
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "it", "--add-location", "file"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "portal.settings"},
    )
    assert result.returncode == 0, result.stderr
    fresh = polib.pofile(str(tmp_path / "locale" / "it" / "LC_MESSAGES" / "django.po"))
    new = [e.msgid for e in fresh if not e.obsolete and not e.translated()]
    gone = [e.msgid for e in fresh if e.obsolete]
    assert not new, f"marked in the source but not translated in {CATALOG}: {new}"
    assert not gone, f"in {CATALOG} but no longer in the source: {gone}"


def test_the_compiled_catalog_is_current():
    assert COMPILED.exists(), "the translations are not compiled: run bin/install"
    assert COMPILED.stat().st_mtime >= CATALOG.stat().st_mtime, "stale: run bin/install"
    with translation.override("it"):
        assert translation.gettext("Closing report") == "Verbale di chiusura"
        assert translation.pgettext("report", "Total") == "Totale"


def test_every_portal_format_is_defined_in_every_language():
    for language in LANGUAGES:
        with translation.override(language):
            for name in PORTAL_FORMATS:
                assert formats.get_format(name) != name, (language, name)


# Settings and the language of a request -------------------------------------------------


def settings_in(**environment: str) -> subprocess.CompletedProcess:
    code = "from django.conf import settings as s; print(s.LANGUAGE_CODE)"
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "portal.settings", **environment},
        capture_output=True,
        text=True,
        check=False,
    )


def test_english_is_the_embedded_default_and_italian_the_productions():
    assert settings_in().stdout.strip() == "en"
    assert settings_in(DJANGO_LANGUAGE_CODE="it").stdout.strip() == "it"
    production = (ROOT / ".env.prod.example").read_text()
    assert "\nDJANGO_LANGUAGE_CODE=it\n" in production
    assert "DJANGO_LANGUAGE_CODE=it" in (ROOT / "Dockerfile.prod").read_text()
    refused = settings_in(DJANGO_LANGUAGE_CODE="fr")
    assert refused.returncode != 0
    assert "DJANGO_LANGUAGE_CODE must be one of it, en" in refused.stderr


@pytest.mark.django_db
def test_the_switcher_remembers_the_choice_in_a_cookie(client):
    response = client.post("/i18n/setlang/", {"language": "it", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "it"
    assert cookie["max-age"] == 365 * 24 * 60 * 60
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    page = client.get("/accounts/login/").content.decode()
    assert '<html lang="it">' in page
    assert "Accesso del personale" in page
    # Back to English, from any page's header.
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Staff sign in" in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_without_a_choice_the_browsers_language_counts(client):
    page = client.get("/accounts/login/", headers={"accept-language": "it-IT,it;q=0.9"})
    assert '<html lang="it">' in page.content.decode()
    assert page["Content-Language"] == "it"
    assert "Accept-Language" in page["Vary"]
    page = client.get("/accounts/login/", headers={"accept-language": "de-DE,de;q=0.9"})
    assert '<html lang="en">' in page.content.decode()  # neither: the default


@pytest.mark.django_db
def test_the_switcher_is_in_the_header_and_on_the_sign_in_page(staff_client):
    for page in (staff_client.get("/"), Client().get("/accounts/login/")):
        html = page.content.decode()
        assert 'action="/i18n/setlang/"' in html
        assert 'name="language" value="it" lang="it"' in html
        assert 'name="language" value="en" lang="en"' in html


@pytest.mark.django_db
def test_the_api_answers_in_the_contracts_english_whatever_is_asked(client, make_contest):
    make_contest(start=dt.date(2020, 2, 1), end=dt.date(2020, 2, 29))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    italian = {"accept-language": "it-IT,it;q=0.9"}
    with time_machine.travel(rome(2020, 3, 10, 12), tick=False):  # after the contest
        asked_in_italian = client.get("/play/?contest=C0001", headers=italian)
        plain = Client().get("/play/?contest=C0001")
    assert asked_in_italian.content == plain.content
    assert b"Contest in not active" in plain.content
    assert "Content-Language" not in asked_in_italian
    assert "Accept-Language" not in asked_in_italian.get("Vary", "")
    for path in ("/openapi.json", "/healthz", "/contests/C0001/plans/2020-02-03/"):
        answer = client.get(path, headers=italian)
        assert answer.content == Client().get(path).content, path
        assert "Content-Language" not in answer, path


@pytest.mark.django_db
def test_commands_speak_the_language_in_force(make_contest):
    out = StringIO()
    with translation.override("it"):
        call_command("plan_days", "--days", "1", stdout=out)
    assert "Creati 0 piani; ogni altro giorno richiesto era già pianificato." in out.getvalue()
    out = StringIO()
    call_command("plan_days", "--days", "1", stdout=out)
    assert "Made 0 plans; every other day asked for was already planned." in out.getvalue()


# Every page in both languages -----------------------------------------------------------


class _Text(HTMLParser):
    """The words a page shows: text and the attributes people read, outside code and
    outside elements in another language (the switcher's "English")."""

    READ_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
    SKIPPED = {"script", "style", "code"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}

    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.stack: list[bool] = []  # per open element: is its text skipped?
        self.words: list[str] = []

    @property
    def skipping(self) -> bool:
        return any(self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skip = tag in self.SKIPPED or attrs.get("lang", self.language) != self.language
        if not (skip or self.skipping):
            for name in self.READ_ATTRIBUTES:
                if attrs.get(name):
                    self.words.append(attrs[name])
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.words.append(attrs["value"])
        if tag not in self.VOID:
            self.stack.append(skip)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.words.append(data)


# Django's admin writes this in English whatever the language (admin/search_form.html).
DJANGO_UNTRANSLATABLE = re.compile(r'<img src="[^"]*/admin/img/search[^"]*" alt="Search">')


def english_words_in(html: str) -> set[str]:
    html = DJANGO_UNTRANSLATABLE.sub("", html)
    reader = _Text("it")
    reader.feed(html)
    text = " ".join(reader.words)
    # Zones (America/New_York), paths, parameters (?contest=…) and addresses are not words.
    text = re.sub(r"\S*[/_@?=]\S*", " ", text)
    text = re.sub(r"\w+['’]", " ", text)  # Italian's elisions: all'estrazione, dell'ora
    return {
        word for word in re.findall(r"[A-Za-z][A-Za-z-]*", text) if word.lower() in ENGLISH_WORDS
    }


@pytest.fixture
def portal(make_contest, make_win, superuser_client, outsider_client):
    """Contests running, upcoming and ended, with wins, a review, plays and a client."""
    running = make_contest("C0001", prize_code="sconto-5", prize_name="Sconto del 5%", perday=1234)
    make_contest(
        "FUTURO1",
        name="Concorso futuro",
        start=dt.date(2020, 3, 1),
        end=dt.date(2020, 3, 31),
        prize_code="gadget",
        prize_name="Gadget",
    )
    make_contest(
        "C0000",
        name="Concorso concluso",
        start=dt.date(2020, 1, 1),
        end=dt.date(2020, 1, 31),
        prize_code="tazza",
        prize_name="Tazza",
    )
    earlier = make_win(running, rome(2020, 2, 3, 10, 15, 30), player="anna", request_id="r-1")
    make_win(running, rome(2020, 2, 10, 9, 5), player="marco", request_id="r-2")
    earlier.client = ApiClient.objects.create(name="Acme")
    earlier.save(update_fields=["client"])
    review_win(
        earlier,
        ReviewStatus.DISQUALIFIED,
        "Scontrino non valido",
        get_user_model().objects.get(username="root"),
        rome(2020, 2, 4, 9),
    )
    PlayCount.objects.create(contest=running, day=dt.date(2020, 2, 10), hour=9, plays=1500)
    PlayCount.objects.create(contest=running, day=dt.date(2020, 2, 3), hour=10, plays=2500)
    return {"superuser": superuser_client, "outsider": outsider_client, "win": earlier}


def portal_pages(portal) -> list[tuple[str, str, int]]:
    """(who, path, status) for every page of the portal and the admin's main ones."""
    win = portal["win"]
    su = "superuser"
    return [
        (su, "/", 200),
        (su, "/?status=running", 200),
        (su, "/?q=nessuno", 200),  # nothing matches
        (su, "/contests/C0001/", 200),  # today, with the moments to come
        (su, "/contests/C0001/?day=2020-02-03", 200),
        (su, "/contests/FUTURO1/", 200),  # not begun
        (su, "/contests/C0000/", 200),
        (su, "/contests/C0001/edit/", 200),
        (su, "/new-contest/", 200),
        (su, "/winners/", 200),
        (su, "/winners/?day_from=2020-02-06&day_to=2020-02-04", 400),
        (su, "/winners/?contest=FUTURO1", 200),  # no winners
        (su, f"/winners/{win.pk}/", 200),
        (su, "/contests/C0001/report/", 200),
        (su, "/contests/C0001/report/?start=2020-02-09&end=2020-02-01", 400),
        (su, "/contests/FUTURO1/report/", 200),  # not begun
        (su, "/contests/C0000/report/", 200),
        (su, "/nowhere/", 404),
        ("outsider", "/", 403),
        ("anonymous", "/accounts/login/", 200),
        (su, "/admin/", 200),
        (su, "/admin/contests/contest/", 200),
        (su, "/admin/contests/win/", 200),
        (su, "/admin/contests/dayplan/", 200),
        (su, "/admin/contests/apiclient/", 200),
    ]


def fetch(portal, who: str, path: str, language: str):
    client = Client() if who == "anonymous" else portal[who]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with time_machine.travel(NOW, tick=False):
        return client.get(path)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_renders_in_both_languages(portal, language):
    for who, path, status in portal_pages(portal):
        response = fetch(portal, who, path, language)
        assert response.status_code == status, (language, path)
        html = response.content.decode()
        assert f'<html lang="{language}"' in html, (language, path)
        if language == "en" and not path.startswith("/admin/"):
            assert not re.search(r"\b(Concorsi|Vincitori|Esci|Accedi)\b", html), path


def test_the_italian_pages_leave_no_english_words(portal):
    leftovers = {}
    for who, path, _status in portal_pages(portal):
        found = english_words_in(fetch(portal, who, path, "it").content.decode())
        if found:
            leftovers[path] = sorted(found)
    assert not leftovers, leftovers


def test_the_check_finds_english_words():
    # The test above can fail: English text, titles and placeholders are read; code,
    # zones and what is marked as another language are not.
    html = (
        '<p>Vincite di oggi</p><p title="Closing report">Verbale</p>'
        '<input placeholder="Search"><code>the code</code><span lang="en">English</span>'
        "<p>Europe/Rome America/New_York</p>"
    )
    assert english_words_in(html) == {"Closing", "report", "Search"}


@pytest.mark.parametrize(
    "path",
    ["/admin/contests/contest/{contest}/change/", "/admin/contests/dayplan/{plan}/change/"],
)
def test_the_admin_follows_the_language(portal, path):
    win = Win.objects.get(pk=portal["win"].pk)
    path = path.format(contest=win.contest_id, plan=win.moment.plan_id)
    html = fetch(portal, "superuser", path, "it").content.decode()
    assert '<html lang="it"' in html
    assert "Amministrazione del Portale concorsi" in html
    assert not english_words_in(html), english_words_in(html)
    english = fetch(portal, "superuser", path, "en").content.decode()
    assert "Contest Portal administration" in english


# Dates and numbers ----------------------------------------------------------------------


def page(portal, path: str, language: str) -> str:
    response = fetch(portal, "superuser", path, language)
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["1,234", "1,500", "1 Feb 2020 – 29 Feb 2020", "1 Mar 2020 – 31 Mar 2020"]),
        ("it", ["1.234", "1.500", "1 feb 2020 – 29 feb 2020", "1 mar 2020 – 31 mar 2020"]),
    ],
)
def test_the_dashboard_writes_dates_and_numbers_in_the_language(portal, language, expected):
    html = page(portal, "/", language)
    for text in expected:
        assert text in html, text
    # Machine attributes stay plain numbers.
    assert 'aria-valuemax="1234"' in html


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "Monday 10 February 2020",
                "1,234",  # the day's target
                "1,500",  # its plays
                'name="day" value="2020-02-10"',
                "← Sun 9 Feb",
                "Cumulative wins on 10 February 2020: 1 of 1,234",
                "09:00–10:00: 1,500 plays",
            ],
        ),
        (
            "it",
            [
                "lunedì 10 febbraio 2020",
                "1.234",
                "1.500",
                'name="day" value="10/02/2020"',
                'placeholder="gg/mm/aaaa"',
                "← dom 9 feb",
                "Vincite cumulate del 10 febbraio 2020: 1 su 1.234",
                "09:00–10:00: 1.500 giocate",
            ],
        ),
    ],
)
def test_the_contest_page_writes_dates_and_numbers_in_the_language(portal, language, expected):
    html = page(portal, "/contests/C0001/", language)
    for text in expected:
        assert text in html, text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "Saturday 1 February 2020 to Monday 10 February 2020, both included (10 days)",
                "Mon 3 Feb 2020",
                "2,500",  # the plays of the 3rd
                "4,000",  # all plays
                "2,468",  # prizes at stake: two days planned
                "2020-02-03 10:15:30",
                "2,468 prizes at stake: 2 awarded, 2,467 not assigned",
            ],
        ),
        (
            "it",
            [
                "Da sabato 1 febbraio 2020 a lunedì 10 febbraio 2020, entrambi compresi"
                " (10 giorni)",
                "lun 3 feb 2020",
                "2.500",
                "4.000",
                "2.468",
                "03/02/2020 10:15:30",
                "Montepremi",
                "2.468 premi in palio; assegnati: 2, non assegnati: 2.467",
                "Verbale di chiusura · C0001",
                "estrazione di recupero",
                "ONLUS",
            ],
        ),
    ],
)
def test_the_report_writes_dates_and_numbers_in_the_language(portal, language, expected):
    html = page(portal, "/contests/C0001/report/", language)
    for text in expected:
        assert text in html, text


@pytest.mark.django_db
def test_date_fields_take_the_languages_order_and_iso(staff_client, make_contest, make_win):
    contest = make_contest()
    make_win(contest, rome(2020, 2, 3, 10), request_id="third")
    make_win(contest, rome(2020, 2, 5, 10), request_id="fifth")

    def winners(language: str, query: str):
        staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        return staff_client.get(f"/winners/?{query}")

    italian = winners("it", "day_from=03/02/2020&day_to=04/02/2020")
    assert italian.status_code == 200
    assert [w.request_id for w in italian.context["page"]] == ["third"]
    assert 'value="03/02/2020"' in italian.content.decode()  # shown as typed, day first
    assert winners("it", "day_from=2020-02-03&day_to=2020-02-04").status_code == 200  # ISO
    assert winners("en", "day_from=2020-02-03&day_to=2020-02-04").status_code == 200
    # In English 03/02/2020 could be either day: refused, not guessed.
    assert winners("en", "day_from=03/02/2020").status_code == 400
    assert winners("en", "day_from=3 Feb 2020").status_code == 200


@pytest.mark.django_db
def test_a_contest_made_in_italian_has_the_days_typed(staff_client):
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    response = staff_client.post(
        "/new-contest/",
        {
            "code": "IT1",
            "name": "Concorso di marzo",
            "start": "01/03/2020",
            "end": "31/03/2020",
            "time_zone": "Europe/Rome",
            "prizes-TOTAL_FORMS": "1",
            "prizes-INITIAL_FORMS": "0",
            "prizes-MIN_NUM_FORMS": "1",
            "prizes-MAX_NUM_FORMS": "1000",
            "prizes-0-code": "tazza",
            "prizes-0-name": "Tazza",
            "prizes-0-perday": "10",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "Concorso IT1 creato." in response.content.decode()
    contest = response.context["contest"]
    assert (contest.start, contest.end) == (dt.date(2020, 3, 1), dt.date(2020, 3, 31))


def test_the_new_tokens_page_is_in_italian(portal):
    client = ApiClient.objects.get(name="Acme")
    admin = portal["superuser"]
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    data = {"action": "issue_tokens", "_selected_action": [client.pk], "index": 0}
    html = admin.post("/admin/contests/apiclient/", data).content.decode()
    assert "Copia subito ogni token" in html
    assert not english_words_in(html), english_words_in(html)
