"""GET /contests/CODE/recovery/: a contest's recovery draw, for anyone to check.

Before the draw: the two digests published at the freeze. After it: the seed, and per
prize the winners and reserves as pseudonymous ids (SHA-256 of `CLIENT:PLAYER`), with
the replacements made since. docs/auditing.md shows how to recompute it all.
"""

from django.http import HttpRequest, JsonResponse

from ..models import Contest, RecoveryDraw, is_contest_code
from ..recovery import procedure
from ..recovery.service import record_json, standing_winners
from .envelope import api_view, error


@api_view
def recovery_draw(request: HttpRequest, code: str) -> JsonResponse:
    contest = Contest.objects.filter(code=code).first() if is_contest_code(code) else None
    if contest is None:
        return error(404, "Contest not found", f"Contest code {code} not found.")
    record = RecoveryDraw.objects.filter(contest=contest).select_related("contest").first()
    if record is None:
        return error(
            404, "Recovery draw not found", f"Contest code {code} has no frozen recovery draw."
        )
    described = record_json(record)
    described["participants"] = record.participants_count
    holders = {chosen.entrant for held in standing_winners(record).values() for chosen in held}
    for line in described["prizes"]:
        line["current_winners"] = [
            procedure.pseudonym(who) for who in line["winners"] + line["reserves"] if who in holders
        ]
        line["winners"] = [procedure.pseudonym(who) for who in line["winners"]]
        line["reserves"] = [procedure.pseudonym(who) for who in line["reserves"]]
    return JsonResponse({"data": described})
