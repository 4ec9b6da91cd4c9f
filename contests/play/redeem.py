"""POST /vouchers/redeem/: an API client redeems a voucher code its player shows.

Answers, in this order: 405 (not POST), 401 (no valid bearer token), 400 (a body that is
not {"voucher": CODE}), 404 (no win took that code), 403 (a code of a contest the client is
not enabled for), 409 (redeemed already), 200. docs/api.md, "Redeeming a voucher".
"""

import json

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from ..vouchers.importing import code_problem
from ..vouchers.redemption import Redemption, redeem_for_client
from ..webhooks.events import iso
from .credentials import Credentials, bearer_digest, note_token_use
from .envelope import api_view, error, unauthorized
from .memory import memory


@api_view(method="POST")
def redeem_voucher(request: HttpRequest) -> HttpResponse:
    """Redeem a voucher once; every answer in the API's envelope, never cached."""
    return _redeem(request)


def _redeem(request: HttpRequest) -> HttpResponse:
    digest = bearer_digest(request.headers.get("Authorization"))
    if digest == Credentials.NONE:
        return unauthorized("Redeeming a voucher needs an API client token.")
    if digest == Credentials.MALFORMED:
        return unauthorized("The Authorization header must be 'Bearer <token>'.")
    caller = memory.caller(digest)
    if caller is None or not caller.usable:
        return unauthorized("The token is not valid, or has been revoked.")
    code = _voucher_in(request)
    if code is None:
        return error(400, "Invalid body", 'Send a JSON object {"voucher": "CODE"}.')
    now = timezone.now()
    note_token_use(caller.token_id, now)
    outcome, voucher = redeem_for_client(code, caller.client_id, now)
    if outcome is Redemption.UNKNOWN:
        return error(404, "Voucher not found", "No win was given this voucher code.")
    if outcome is Redemption.FORBIDDEN:
        return error(
            403, "Forbidden", "This API client is not enabled for the contest of this voucher."
        )
    if outcome is Redemption.ALREADY:
        return error(
            409,
            "Voucher already redeemed",
            f"This voucher was redeemed at {iso(voucher.redeemed_at)}.",
        )
    return JsonResponse({"data": {"voucher": voucher.code, "redeemed_at": iso(now)}})


def _voucher_in(request: HttpRequest) -> str | None:
    """The code of a body {"voucher": CODE}, or None if the body is anything else."""
    try:
        body = json.loads(request.body)
    except (RequestDataTooBig, ValueError):
        return None
    if not isinstance(body, dict) or set(body) != {"voucher"}:
        return None
    code = body["voucher"]
    if not isinstance(code, str) or code_problem(code) is not None:
        return None
    return code
