"""Trusted timestamps (RFC 3161) of every digest the portal commits to.

`request_timestamp(kind, reference, digest)` records that a SHA-256 digest must be stamped
(a plan's commitment, a closing record, a recovery draw); the job `stamp_timestamps`, on
the worker every minute, asks the TSA at TSA_URL for a token for each request still
pending, and keeps trying until it gets one. The token's message imprint is the digest
itself (SHA-256), so anyone holding the public commitment can check the token with
`openssl ts -verify -digest COMMITMENT -token_in -in token.der -CAfile tsa-ca.pem`.

Requests are built with asn1crypto; answers and tokens are verified by rfc3161-client: the
signature, its chain to the CA in TSA_CA_CERTIFICATE, the TSA certificate's critical
timeStamping usage, and the imprint.
"""

import base64
import datetime as dt
import functools
import logging
import re
import secrets
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from asn1crypto import cms, tsp
from cryptography import x509
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone
from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

from ..models import DayPlan, Timestamp, TimestampRequest, WinningMoment

log = logging.getLogger("contests.evidence")

# What a request stamps (its `kind`); `reference` says which one.
PLAN = "plan"  # reference: the plan's id; digest: its commitment
CLOSING_RECORD = "closing_record"  # reference: the contest's code; digest: its CSV's SHA-256
RECOVERY_DRAW = "recovery_draw"  # reference: the contest's code; digest: the draw's digest

# Requests tried per run of the job; the rest wait for the next run.
STAMP_BATCH = 200
# Longest answer read from a TSA (a token is a few kilobytes).
MAX_ANSWER_BYTES = 1024 * 1024
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class TimestampInvalid(Exception):
    """A token or a TSA's answer that does not prove what it should."""


class ImprintMismatch(TimestampInvalid):
    """A token that stamps another digest."""


def enabled() -> bool:
    return bool(settings.TSA_URL)


def request_timestamp(
    kind: str, reference: str, digest: str, now: dt.datetime | None = None
) -> TimestampRequest | None:
    """Record that `digest` (SHA-256, lowercase hex) must be timestamped; None if no TSA.

    Idempotent: the same kind, reference and digest make one request. Cheap (one
    INSERT), so it may run inside the transaction that makes what it stamps.
    """
    if not enabled():
        return None
    if not _SHA256_HEX.fullmatch(digest):
        raise ValueError(f"not a SHA-256 digest in lowercase hex: {digest!r}")
    request, _ = TimestampRequest.objects.get_or_create(
        kind=kind,
        reference=reference,
        digest=digest,
        defaults={"requested_at": now or timezone.now()},
    )
    return request


def pending() -> Iterable[TimestampRequest]:
    return TimestampRequest.objects.filter(timestamp__isnull=True).order_by("requested_at", "id")


def stamp_pending(limit: int = STAMP_BATCH) -> tuple[int, int]:
    """Ask the TSA for a token for each pending request; return (stamped, failed)."""
    stamped = failed = 0
    for request in pending()[:limit]:
        try:
            token = ask_tsa(request.digest)
            stamped_at = verify_token(token, request.digest, trusted_roots(required=False))
        except (OSError, ValueError, TimestampInvalid) as exc:
            failed += 1
            log.warning("timestamp of %s not obtained (will retry): %s", request, exc)
            continue
        try:
            with transaction.atomic():
                Timestamp.objects.create(
                    request=request,
                    token=token,
                    stamped_at=stamped_at,
                    tsa_url=settings.TSA_URL,
                    received_at=timezone.now(),
                )
        except IntegrityError:
            continue  # another run (its lock was unreachable) stored one first
        stamped += 1
    return stamped, failed


def timestamp_query(digest: str, nonce: int) -> bytes:
    """The DER TimeStampReq for a SHA-256 digest: the imprint is the digest itself."""
    return tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": bytes.fromhex(digest),
            },
            "nonce": nonce,
            "cert_req": True,
        }
    ).dump()


def ask_tsa(digest: str) -> bytes:
    """Send the TSA a request for `digest` and return its token (DER), checked.

    Raises OSError when the TSA cannot be reached or answers an HTTP error, and
    TimestampInvalid when its answer is not a granted token for this digest and nonce.
    """
    nonce = secrets.randbits(63)
    request = urllib.request.Request(  # noqa: S310 (the operator's TSA_URL, http or https)
        settings.TSA_URL,
        data=timestamp_query(digest, nonce),
        headers={"Content-Type": "application/timestamp-query"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=settings.TSA_TIMEOUT_SECONDS) as answer:  # noqa: S310
        body = answer.read(MAX_ANSWER_BYTES)
    try:
        response = decode_timestamp_response(body)
    except ValueError as exc:
        raise TimestampInvalid(f"the TSA's answer is not a timestamp response: {exc}") from None
    if response.status not in (0, 1):  # granted, granted with modifications
        raise TimestampInvalid(f"the TSA refused: status {response.status}")
    if response.tst_info.nonce != nonce:
        raise TimestampInvalid("the TSA's answer is for another request (nonce)")
    return response.time_stamp_token()


PEM_BEGIN = "-----BEGIN"


@functools.cache
def _roots_from(path: str, modified: float) -> tuple[x509.Certificate, ...]:
    return _roots_in(Path(path).read_bytes())


@functools.cache
def _roots_in(pem: bytes) -> tuple[x509.Certificate, ...]:
    return tuple(x509.load_pem_x509_certificates(pem))


def trusted_roots(path: str | None = None, *, required: bool = True) -> tuple:
    """The CA certificates a token must chain to: `path` or TSA_CA_CERTIFICATE, the path
    of a PEM file or PEM text itself (a container's environment has no files of its own).
    Empty when none is configured and `required` is False."""
    path = path or settings.TSA_CA_CERTIFICATE
    if not path:
        if required:
            raise TimestampInvalid("no CA certificate for the TSA (TSA_CA_CERTIFICATE)")
        return ()
    try:
        if path.lstrip().startswith(PEM_BEGIN):
            return _roots_in(path.replace("\\n", "\n").encode())
        return _roots_from(path, Path(path).stat().st_mtime)
    except (OSError, ValueError) as exc:
        where = "text" if path.lstrip().startswith(PEM_BEGIN) else path
        raise TimestampInvalid(
            f"the TSA's CA certificate ({where}) cannot be read: {exc}"
        ) from None


def verify_token(token: bytes, digest: str, roots: Iterable[x509.Certificate]) -> dt.datetime:
    """Check that `token` stamps `digest` and return its time (genTime, UTC).

    With `roots`, the signature must also verify and chain to one of them through a TSA
    certificate whose critical extended key usage is timeStamping. Without, only the
    imprint is checked (stamping while no CA is configured; checks always pass roots).
    """
    try:
        response = decode_timestamp_response(_granted_response(token))
    except ValueError as exc:
        raise TimestampInvalid(f"not an RFC 3161 token: {exc}") from None
    imprint = response.tst_info.message_imprint
    if imprint.message != bytes.fromhex(digest):
        raise ImprintMismatch(f"the token stamps {imprint.message.hex()}, not {digest}")
    roots = list(roots)
    if roots:
        builder = VerifierBuilder()
        for root in roots:
            builder = builder.add_root_certificate(root)
        try:
            builder.build().verify(response, bytes.fromhex(digest))
        except VerificationError as exc:
            raise TimestampInvalid(f"the token's signature does not verify: {exc}") from None
    return response.tst_info.gen_time.astimezone(dt.UTC)


def _granted_response(token: bytes) -> bytes:
    """The token inside a granted TimeStampResp: the form rfc3161-client verifies."""
    try:
        content = cms.ContentInfo.load(token)
        return tsp.TimeStampResp(
            {"status": {"status": "granted"}, "time_stamp_token": content}
        ).dump()
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None


def encoded(token: bytes) -> str:
    """A token as published: base64 of its DER."""
    return base64.b64encode(bytes(token)).decode()


# Plans --------------------------------------------------------------------------------------


def request_plan_timestamps(now: dt.datetime) -> int:
    """Request a timestamp for every sealed plan not over yet that has none; return how
    many. Plans are made by plan_days, the first play of a day and commands alike: this
    catches them all, within a minute."""
    plans = dict(
        DayPlan.objects.filter(window_end__gt=now)
        .exclude(commitment="")
        .values_list("pk", "commitment")
    )
    requested = set(
        TimestampRequest.objects.filter(
            kind=PLAN, reference__in=[str(pk) for pk in plans]
        ).values_list("reference", "digest")
    )
    made = 0
    for pk, commitment in plans.items():
        if (str(pk), commitment) not in requested:
            request_timestamp(PLAN, str(pk), commitment, now)
            made += 1
    return made


def plan_stamps(plans: Iterable[DayPlan]) -> dict[int, list[Timestamp]]:
    """The timestamps of each plan (usually one), by plan id, oldest first."""
    ids = {str(plan.pk): plan.pk for plan in plans}
    stamps: dict[int, list[Timestamp]] = {}
    for stamp in (
        Timestamp.objects.filter(request__kind=PLAN, request__reference__in=list(ids))
        .select_related("request")
        .order_by("stamped_at", "id")
    ):
        stamps.setdefault(ids[stamp.request.reference], []).append(stamp)
    return stamps


def awaiting_stamp(plans: Iterable[DayPlan]) -> bool:
    """Whether any of the plans has a timestamp requested and not yet received (while the
    portal uses a TSA: requests left by one no longer configured wait for nothing)."""
    return (
        enabled()
        and TimestampRequest.objects.filter(
            kind=PLAN, reference__in=[str(plan.pk) for plan in plans], timestamp__isnull=True
        ).exists()
    )


def unstamped_plans(now: dt.datetime) -> int:
    """Sealed plans of days under way (begun, not over) that have no timestamp yet."""
    current = [
        str(pk)
        for pk in DayPlan.objects.filter(window_start__lte=now, window_end__gt=now)
        .exclude(commitment="")
        .values_list("pk", flat=True)
    ]
    stamped = set(
        Timestamp.objects.filter(request__kind=PLAN, request__reference__in=current).values_list(
            "request__reference", flat=True
        )
    )
    return len(set(current) - stamped)


def first_request_time() -> dt.datetime | None:
    """When the portal first asked for a timestamp: plans made since must all have one."""
    return TimestampRequest.objects.aggregate(first=Min("requested_at"))["first"]


def plan_timestamp_problem(plan: DayPlan, roots=None) -> str | None:
    """What is wrong with a plan's timestamp, or None: the token must stamp the plan's
    commitment, chain to the TSA's CA, and be older than the plan's first moment.

    A plan without a token is wrong only once its first moment has passed, and only if
    it was made while the portal used a TSA (plans made before have none to show)."""
    stamps = plan_stamps([plan]).get(plan.pk, [])
    first_moment = (
        WinningMoment.objects.filter(plan=plan).order_by("at").values_list("at", flat=True).first()
    )
    if not stamps:
        first = first_request_time()
        used_tsa = enabled() and first is not None and plan.made_at >= first
        if used_tsa and first_moment is not None and first_moment <= timezone.now():
            return "no timestamp token, and its first moment has passed"
        return None
    return token_problem([stamp.token for stamp in stamps], plan.commitment, first_moment, roots)


def token_problem(
    tokens: list[bytes], commitment: str, first_moment: dt.datetime | None, roots=None
) -> str | None:
    """None when one of `tokens` proves `commitment` existed before `first_moment`, and
    none of them stamps anything else: a token of another commitment for the same record
    means the record was rewritten after it was stamped."""
    problems, rewritten, proven = [], [], False
    try:
        roots = trusted_roots() if roots is None else roots
    except TimestampInvalid as exc:
        return str(exc)
    for token in tokens:
        try:
            stamped_at = verify_token(bytes(token), commitment, roots)
        except ImprintMismatch as exc:
            rewritten.append(str(exc))
            continue
        except TimestampInvalid as exc:
            problems.append(str(exc))
            continue
        if first_moment is not None and stamped_at >= first_moment:
            problems.append(
                f"timestamped at {stamped_at.isoformat()}, not before its first moment "
                f"{first_moment.astimezone(dt.UTC).isoformat()}"
            )
            continue
        proven = True
    if rewritten:
        return "; ".join(rewritten)
    if proven:
        return None
    return "; ".join(problems) or "no timestamp token"
