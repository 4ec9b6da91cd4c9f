import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contests.management.arguments import positive_int
from contests.models import Contest, Participant, Win
from contests.recovery.service import closing_is_pending
from contests.webhooks.events import forget_players


def contests_awaiting_closing() -> list[Contest]:
    """Contests whose recovery draw is on and not drawn yet (running ones too): their
    players' ids and register decide the draw, so purging never touches them."""
    return [c for c in Contest.objects.filter(recovery_draw=True) if closing_is_pending(c)]


def contests_closed_for(days: int, now: dt.datetime) -> list[Contest]:
    """Contests whose last day ended more than `days` days ago, each in its own zone, and
    whose closing is not pending (docs/auditing.md, "The closing").
    """
    # A day's margin covers every zone; the exact test is in the contest's own.
    candidates = Contest.objects.filter(end__lt=now.date() - dt.timedelta(days=days - 1))
    return [
        contest
        for contest in candidates
        if contest.end < contest.local_date(now) - dt.timedelta(days=days)
        and not closing_is_pending(contest)
    ]


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the language in force, when --help asks
        return _(
            "Blank the player ids of old wins, for personal-data retention: of wins older than "
            "DAYS days (--older-than), or of contests closed more than DAYS days ago "
            "(--closed-for; what the scheduled job runs). The wins themselves, their counts, "
            "clients, reviews and the sealed plans stay."
        )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument(
            "--older-than", type=positive_int, metavar="DAYS",
            help=_("purge wins whose local day is more than DAYS days ago"),
        )  # fmt: skip
        which.add_argument(
            "--closed-for", type=positive_int, metavar="DAYS",
            help=_("purge the wins of contests whose last day is more than DAYS days ago"),
        )  # fmt: skip
        parser.add_argument(
            "--dry-run", action="store_true", help=_("count what would be purged, change nothing")
        )

    def handle(self, *args, older_than=None, closed_for=None, dry_run, **options):
        pending = contests_awaiting_closing()
        for contest in pending:
            self.stdout.write(
                _("Left %(code)s alone: its closing is pending (the recovery draw is not drawn).")
                % {"code": contest.code}
            )
        if closed_for is not None:
            closed = contests_closed_for(closed_for, timezone.now())
            old = Win.objects.filter(contest__in=closed).exclude(player="")
            register = Participant.objects.filter(contest__in=closed)
            what = ngettext(
                "in %(count)s contest closed more than %(days)s day(s) ago",
                "in %(count)s contests closed more than %(days)s day(s) ago",
                len(closed),
            ) % {"count": len(closed), "days": closed_for}
        else:
            cutoff = timezone.localdate() - dt.timedelta(days=older_than)
            old = Win.objects.filter(day__lt=cutoff).exclude(player="").exclude(contest__in=pending)
            register = Participant.objects.filter(day__lt=cutoff).exclude(contest__in=pending)
            what = _("before %(day)s") % {"day": cutoff}
        if dry_run:
            count = old.count()
            self.stdout.write(
                ngettext(
                    "Would blank the player id of %(count)s win %(what)s.",
                    "Would blank the player id of %(count)s wins %(what)s.",
                    count,
                )
                % {"count": count, "what": what}
            )
            return
        forget_players(old)  # and in the webhook events about them
        purged = old.update(player="")
        register.delete()  # the register is personal data too, and is no longer needed
        self.stdout.write(
            ngettext(
                "Blanked the player id of %(count)s win %(what)s.",
                "Blanked the player id of %(count)s wins %(what)s.",
                purged,
            )
            % {"count": purged, "what": what}
        )
