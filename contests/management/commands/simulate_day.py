import datetime as dt
import random
import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contests import play_counts
from contests.management.arguments import iso_date, positive_int
from contests.models import Contest, Prize
from contests.play.memory import memory
from contests.play.simulation import DayResult, simulate_day

BAR_WIDTH = 40


class _Rollback(Exception):
    """Raised to undo everything a simulation wrote."""


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the language in force, when --help asks
        return _(
            "Play one whole local day of a contest through the real draw and database with a "
            "fake clock, and show how the wins were spread. By default it plays a throwaway "
            "copy of the contest inside a transaction that is rolled back: nothing is kept."
        )

    def add_arguments(self, parser):
        parser.add_argument("--contest", required=True, metavar="CODE")
        parser.add_argument("--date", type=iso_date, help=_("local day to play (default: today)"))
        parser.add_argument(
            "--plays", type=positive_int, help=_("plays, evenly spread (default 100 × perday)")
        )
        parser.add_argument("--seed", type=int, help=_("seed the plan for a repeatable run"))
        parser.add_argument(
            "--in-place",
            action="store_true",
            help=_("play the real contest and keep its plan, plays and wins"),
        )

    def handle(self, *args, contest, date, plays, seed, in_place, **options):
        original = Contest.objects.filter(code=contest).first()
        if original is None:
            raise CommandError(_("Contest %(code)s not found.") % {"code": contest})
        if not original.prizes.exists():
            raise CommandError(_("Contest %(code)s has no prize to win.") % {"code": contest})
        day = date or original.local_date(timezone.now())
        # A seeded plan is for repeatable simulations only; real plans use the system RNG.
        rng = random.Random(seed) if seed is not None else None  # noqa: S311
        if in_place:
            with transaction.atomic():
                result = self._run(original, day, plays, rng)
            self._report(result, _("Played the real contest; its plan and wins were kept."))
            return
        try:
            with transaction.atomic():
                copy = self._throwaway_copy(original)
                result = self._run(copy, day, plays, rng)
                raise _Rollback
        except _Rollback:
            # The copy's rows are gone; its id may be reused, so what was kept of it must go too.
            memory.forget()
            play_counts.forget_counts(copy.pk)
        self._report(
            result,
            _("Played a throwaway copy (%(code)s); nothing was kept.") % {"code": copy.code},
        )

    def _throwaway_copy(self, original: Contest) -> Contest:
        copy = Contest.objects.create(
            code=f"sim-{secrets.token_hex(6)}",
            name=original.name,
            start=original.start,
            end=original.end,
            time_zone=original.time_zone,
            opening_hours=original.opening_hours,
            wmax=original.wmax,
            wmax_total=original.wmax_total,
            play_interval=original.play_interval,
        )
        Prize.objects.bulk_create(
            Prize(
                contest=copy,
                code=p.code,
                name=p.name,
                perday=p.perday,
                stock=p.stock,
                expire_after_minutes=p.expire_after_minutes,
            )
            for p in original.prizes.all()
        )
        return copy

    def _run(self, contest: Contest, day, plays, rng) -> DayResult:
        [result] = simulate_day([contest], day, {contest.pk: plays} if plays else None, rng)
        return result

    def _report(self, result: DayResult, kept: str) -> None:
        hours = len(result.wins_per_hour)
        out = self.stdout
        out.write(
            _("Simulated %(day)s (%(zone)s, a %(hours)s-hour day): %(plays)s plays, evenly spread.")
            % {
                "day": result.day,
                "zone": result.contest.time_zone,
                "hours": hours,
                "plays": result.plays,
            }
        )
        if result.contest.opening_hours:
            hours = result.open_time / dt.timedelta(hours=1)
            out.write(
                _("Open %(hours)s hours (%(rules)s): plays fall only then.")
                % {"hours": f"{hours:g}", "rules": result.contest.opening_hours}
            )
        out.write(kept)
        out.write("")
        prize, wins, perday, every = _("prize"), _("wins"), _("perday"), _("all prizes")
        width = max(len(every), *(len(code) for code in result.planned)) + 2
        wins_width, perday_width = max(6, len(wins) + 1), max(8, len(perday) + 1)
        out.write(f"{prize:<{width}}{wins:>{wins_width}}{perday:>{perday_width}}")
        for code, planned in sorted(result.planned.items()):
            out.write(f"{code:<{width}}{result.wins[code]:>{wins_width}}{planned:>{perday_width}}")
        verdict = (
            _("every prize won") if result.total_wins == result.total_planned else _("PRIZES LEFT")
        )
        out.write(
            f"{every:<{width}}{result.total_wins:>{wins_width}}"
            f"{result.total_planned:>{perday_width}}   {verdict}"
        )
        out.write("")
        out.write(
            _(
                "Largest gap between a prize's cumulative wins and its ideal straight line: "
                "%(gap)s prizes"
            )
            % {"gap": f"{result.largest_gap:.3f}"}
        )
        out.write("")
        out.write(_("Wins per hour (local time):"))
        most = max(result.wins_per_hour) or 1
        for hour, wins in enumerate(result.wins_per_hour):
            bar = "█" * round(wins / most * BAR_WIDTH)
            out.write(f"  {result.hour_label(hour)}  {bar} {wins}")
