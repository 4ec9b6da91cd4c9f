"""API clients' bearer tokens: made here, shown once, stored only as a SHA-256 digest.

Tokens are 256 random bits, so a plain SHA-256 is enough to keep them: nobody can guess
one from its digest, and lookups stay one indexed equality.
"""

import datetime as dt
import hashlib
import secrets
import threading

from django.db.models import Q

from .. import buffered
from ..models import ApiClient, ApiToken

TOKEN_PREFIX = "cpt_"  # noqa: S105 (marks our tokens, e.g. for secret scanners)


class Credentials:
    """What the Authorization header of a request says."""

    NONE = "none"  # no header: an anonymous player
    MALFORMED = "malformed"  # a header we cannot read as "Bearer <token>"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(client: ApiClient) -> tuple[ApiToken, str]:
    """Make a new token for the client; return it with the plain token, shown only now."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        client=client, digest=token_digest(plain), prefix=plain[: len(TOKEN_PREFIX) + 4]
    )
    return token, plain


def bearer_digest(authorization: str | None) -> str:
    """Return the digest of the bearer token in the header, or a Credentials marker."""
    if not authorization:
        return Credentials.NONE
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200 or not token.isascii():
        return Credentials.MALFORMED
    return token_digest(token)


# A token's last use is written at most this often, in the batches of contests/buffered.py.
TOKEN_USE_INTERVAL = dt.timedelta(seconds=60)

_last_written: dict[int, dt.datetime] = {}  # token id -> the last use this process wrote
_unwritten: dict[int, dt.datetime] = {}  # token id -> its latest use not written yet
_uses_lock = threading.Lock()


def note_token_use(token_id: int, now: dt.datetime) -> None:
    """Remember a token's use; the next batch writes it if the last write is a minute old."""
    written = _last_written.get(token_id)
    if written is None or not dt.timedelta(0) <= now - written < TOKEN_USE_INTERVAL:
        with _uses_lock:
            _unwritten[token_id] = now
        buffered.ensure_started()


def write_token_uses() -> None:
    with _uses_lock:
        batch = dict(_unwritten)
        _unwritten.clear()
        _last_written.update(batch)
    for token_id, used_at in batch.items():
        # Never move a last use back: another process may have written a later one.
        ApiToken.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=used_at), pk=token_id
        ).update(last_used_at=used_at)


buffered.register(write_token_uses)
