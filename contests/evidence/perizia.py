"""The perizia data sheet (issue 18, item 3): what the expert who certifies the software
attaches to the sworn statement. `manage.py perizia [--json]` prints it; Auditors see it
at /perizia/ (contests/staff/perizia_views.py). Keys are English in every language; the
words meant for people follow the staff's language.
"""

import datetime as dt
import logging
import platform
import subprocess
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..database_roles import RULES
from ..models import Contest, DayPlan, Timestamp
from ..roles import ROLES
from . import source_files, timestamps

log = logging.getLogger("contests.evidence")

# Computed when the process starts (ContestsConfig.ready), to compare with the build's.
_at_start: dict[str, str] = {}


def remember_start_digest() -> None:
    """Hash the source files now, and say so loudly if they are not the build's."""
    _at_start["digest"] = source_files.source_digest()
    built = build_digest()
    if built and built != _at_start["digest"]:
        log.warning(
            "the source files (%s) are not those the image was built with (%s)",
            _at_start["digest"],
            built,
        )


def build_digest() -> str | None:
    """The source digest Dockerfile.prod wrote at build time; None outside an image."""
    path = Path(settings.PORTAL_SOURCE_DIGEST_FILE)
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def git_commit() -> tuple[str, str]:
    """(commit, where it comes from): the image's PORTAL_COMMIT, else `git rev-parse`."""
    if settings.PORTAL_COMMIT and settings.PORTAL_COMMIT != "unknown":
        return settings.PORTAL_COMMIT, "image"
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 (a checkout's own git)
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown", "unknown"
    return done.stdout.strip(), "git checkout"


def version() -> dict:
    commit, origin = git_commit()
    now = source_files.source_digest()
    built = build_digest()
    at_start = _at_start.get("digest")
    return {
        "commit": commit,
        "commit_from": origin,
        "release": settings.PORTAL_VERSION,
        "source_digest_at_build": built,
        "source_digest_at_start": at_start,
        "source_digest_now": now,
        "source_files": len(source_files.source_files()),
        "source_unchanged": now == at_start and (built is None or built == now),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def randomness() -> dict:
    return {
        "generator": _(
            "Python's secrets module: the operating system's CSPRNG (os.urandom, the "
            "kernel's getrandom()); no seeded generator decides anything."
        ),
        "uses": [
            {
                "what": _("the winning moments of each day plan"),
                "how": "secrets.SystemRandom",
                "where": "contests/moments/planning.py",
            },
            {
                "what": _("each plan's salt (256 bits)"),
                "how": "secrets.token_hex(32)",
                "where": "contests/moments/sealing.py",
            },
            {
                "what": _("API clients' bearer tokens"),
                "how": "secrets.token_urlsafe(32)",
                "where": "contests/play/credentials.py",
            },
            {
                "what": _("the nonce of each timestamp request"),
                "how": "secrets.randbits(63)",
                "where": "contests/evidence/timestamps.py",
            },
        ],
        "os_random_source": _os_random_source(),
    }


def _os_random_source() -> str:
    if sys.platform.startswith("linux"):
        return "getrandom() / /dev/urandom (Linux)"
    return f"os.urandom ({sys.platform})"


def clock_offset(samples: int = 5) -> dict:
    """This server's clock against the database's: the offset of the sample with the
    shortest round trip, and half that round trip as its uncertainty."""
    if connection.vendor != "postgresql":
        return {"measured": False, "why": _("the database is a file on this server: one clock")}
    best = None
    with connection.cursor() as cursor:
        for _sample in range(samples):
            before = time.time()
            cursor.execute("SELECT extract(epoch FROM clock_timestamp())")
            database = float(cursor.fetchone()[0])
            after = time.time()
            trip = after - before
            if best is None or trip < best[1]:
                best = (database - (before + after) / 2, trip)
    offset, trip = best
    return {
        "measured": True,
        "database_minus_server_seconds": round(offset, 6),
        "uncertainty_seconds": round(trip / 2, 6),
        "measured_at": timezone.now().isoformat(),
    }


def server() -> dict:
    return {
        "location": settings.PERIZIA_SERVER_LOCATION or None,
        "time_sync": settings.PERIZIA_TIME_SYNC or None,
        "hostname": platform.node(),
        "time_zone_of_records": "UTC",
        "clock_offset": clock_offset(),
    }


def data_kept() -> list[dict]:
    kept = _("for good: the record of the contest")
    return [
        {"what": _("contests and prizes, with every version of them"), "kept": kept},
        {"what": _("day plans, their moments, salts and commitments"), "kept": kept},
        {"what": _("trusted timestamps of the commitments and closing records"), "kept": kept},
        {"what": _("wins: time, prize, client, request id"), "kept": kept},
        {
            "what": _("the player id on each win (personal data)"),
            "kept": _("blanked %(days)s days after the contest's last day")
            % {"days": settings.PLAYER_DATA_RETENTION_DAYS},
        },
        {"what": _("win reviews, with who and when"), "kept": kept},
        {"what": _("play counts per contest, day and hour"), "kept": kept},
        {
            "what": _("a play's first answer, for its retries"),
            "kept": _("24 hours"),
        },
        {"what": _("sign-ins, lockouts and other audit events"), "kept": kept},
    ]


def roles() -> dict:
    users = get_user_model().objects.filter(is_active=True)
    return {
        "staff_roles": [
            {
                "role": role,
                "permissions": sorted(codenames),
                "members": sorted(
                    users.filter(groups__name=role, is_staff=True).values_list(
                        "username", flat=True
                    )
                ),
            }
            for role, codenames in ROLES.items()
        ],
        "superusers": sorted(users.filter(is_superuser=True).values_list("username", flat=True)),
        "database": {
            "portal_role": _(
                "The running portal connects as a role that cannot change or delete plans, "
                "moments (except marking them claimed), wins, reviews, timestamps or audit "
                "events; only migrations run as the owner."
            ),
            "append_only": sorted(
                label for label, grant in RULES.items() if "UPDATE" not in grant.privileges
            ),
        },
    }


def tsa() -> dict:
    info = {"url": settings.TSA_URL or None, "ca_certificates": []}
    try:
        roots = timestamps.trusted_roots(required=False)
    except timestamps.TimestampInvalid as exc:
        return {**info, "problem": str(exc)}
    for certificate in roots:
        info["ca_certificates"].append(
            {
                "subject": certificate.subject.rfc4514_string(),
                "sha256_fingerprint": certificate.fingerprint(hashes.SHA256()).hex(),
                "valid_until": certificate.not_valid_after_utc.isoformat(),
            }
        )
    return info


def commitments() -> list[dict]:
    """Every contest's plans: commitments with their timestamp tokens, and sealed closings."""
    contests = []
    plans = DayPlan.objects.select_related("prize__contest").order_by(
        "prize__contest__code", "day", "prize__code"
    )
    stamps = timestamps.plan_stamps(plans)
    by_contest: dict[str, list[dict]] = {}
    for plan in plans:
        stamp = next(iter(stamps.get(plan.pk, [])), None)
        by_contest.setdefault(plan.prize.contest.code, []).append(
            {
                "day": plan.day.isoformat(),
                "prize": plan.prize.code,
                "moment_count": plan.moment_count,
                "commitment": plan.commitment,
                "timestamp_token": timestamps.encoded(stamp.token) if stamp else None,
                "timestamped_at": stamp.stamped_at.isoformat() if stamp else None,
            }
        )
    closings = Timestamp.objects.filter(request__kind=timestamps.CLOSING_RECORD).select_related(
        "request"
    )
    sealed: dict[str, list[dict]] = {}
    for stamp in closings.order_by("stamped_at"):
        sealed.setdefault(stamp.request.reference, []).append(
            {
                "digest": stamp.request.digest,
                "timestamp_token": timestamps.encoded(stamp.token),
                "timestamped_at": stamp.stamped_at.isoformat(),
            }
        )
    for contest in Contest.objects.order_by("code"):
        contests.append(
            {
                "code": contest.code,
                "name": contest.name,
                "start": contest.start.isoformat(),
                "end": contest.end.isoformat(),
                "time_zone": contest.time_zone,
                "plans": by_contest.get(contest.code, []),
                "closing_records": sealed.get(contest.code, []),
            }
        )
    return contests


def data_sheet() -> dict:
    return {
        "generated_at": timezone.now().astimezone(dt.UTC).isoformat(),
        "version": version(),
        "randomness": randomness(),
        "server": server(),
        "timestamping": tsa(),
        "data_kept": data_kept(),
        "roles": roles(),
        "contests": commitments(),
    }


# The words for people: the command's text output and the page name each key with them.
LABELS = {
    "generated_at": gettext_lazy("Generated"),
    "version": gettext_lazy("Running version"),
    "commit": gettext_lazy("Git commit"),
    "commit_from": gettext_lazy("Commit read from"),
    "source_digest_at_build": gettext_lazy("SHA-256 of the source files at build"),
    "source_digest_at_start": gettext_lazy("SHA-256 of the source files at start"),
    "source_digest_now": gettext_lazy("SHA-256 of the source files now"),
    "source_files": gettext_lazy("Source files"),
    "source_unchanged": gettext_lazy("Source files unchanged since build and start"),
    "python": gettext_lazy("Python"),
    "platform": gettext_lazy("Platform"),
    "randomness": gettext_lazy("Randomness"),
    "generator": gettext_lazy("Generator"),
    "uses": gettext_lazy("Where it is used"),
    "os_random_source": gettext_lazy("Operating system source"),
    "server": gettext_lazy("Server"),
    "location": gettext_lazy("Location"),
    "time_sync": gettext_lazy("Time synchronisation"),
    "hostname": gettext_lazy("Host name"),
    "time_zone_of_records": gettext_lazy("Time zone of the records"),
    "clock_offset": gettext_lazy("Clock against the database"),
    "timestamping": gettext_lazy("Trusted timestamps (RFC 3161)"),
    "data_kept": gettext_lazy("Data kept and for how long"),
    "roles": gettext_lazy("Roles with access"),
    "contests": gettext_lazy("Contests: commitments and their timestamp tokens"),
    "release": gettext_lazy("Release"),
    "what": gettext_lazy("what"),
    "how": gettext_lazy("how"),
    "where": gettext_lazy("where"),
    "kept": gettext_lazy("kept"),
    "measured": gettext_lazy("measured"),
    "why": gettext_lazy("why"),
    "database_minus_server_seconds": gettext_lazy("the database's clock minus this server's (s)"),
    "uncertainty_seconds": gettext_lazy("uncertainty (s)"),
    "measured_at": gettext_lazy("measured at"),
    "url": gettext_lazy("Time-stamping authority"),
    "ca_certificates": gettext_lazy("CA certificate"),
    "subject": gettext_lazy("subject"),
    "sha256_fingerprint": gettext_lazy("SHA-256 fingerprint"),
    "valid_until": gettext_lazy("valid until"),
    "problem": gettext_lazy("Problem"),
    "staff_roles": gettext_lazy("staff roles"),
    "role": gettext_lazy("role"),
    "permissions": gettext_lazy("permissions"),
    "members": gettext_lazy("members"),
    "superusers": gettext_lazy("Superusers"),
    "database": gettext_lazy("Database"),
    "portal_role": gettext_lazy("the portal's role"),
    "append_only": gettext_lazy("append-only records"),
    "code": gettext_lazy("code"),
    "name": gettext_lazy("name"),
    "start": gettext_lazy("start"),
    "end": gettext_lazy("end"),
    "time_zone": gettext_lazy("time zone"),
    "plans": gettext_lazy("plans"),
    "closing_records": gettext_lazy("closing records"),
    "day": gettext_lazy("day"),
    "prize": gettext_lazy("prize"),
    "moment_count": gettext_lazy("moment count"),
    "commitment": gettext_lazy("commitment"),
    "timestamp_token": gettext_lazy("Timestamp token (base64 DER)"),
    "timestamped_at": gettext_lazy("timestamped at"),
    "digest": gettext_lazy("digest"),
}
