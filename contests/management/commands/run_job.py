from django.core.management.base import BaseCommand, CommandError

from contests import jobs


class Command(BaseCommand):
    help = (
        "Run one background job once, here and now, as the worker runs it on the schedule "
        "(with its lock, its log line and its metrics). Exits non-zero if the job fails. "
        "The jobs and their schedule: docs/jobs.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", metavar="NAME", help="the job (see --list)")
        parser.add_argument("--list", action="store_true", help="list the jobs and exit")

    def handle(self, *args, name=None, list=False, **options):
        if list or name is None:
            for job in jobs.JOBS.values():
                self.stdout.write(f"{job.name:20} {(job.function.__doc__ or '').strip()}")
            if name is None and not list:
                raise CommandError("Name a job to run (the list is above).")
            return
        if name not in jobs.JOBS:
            raise CommandError(f"No job {name!r}; the jobs are: {', '.join(jobs.JOBS)}.")
        try:
            outcome = jobs.run(name)
        except Exception as exc:
            raise CommandError(f"Job {name} failed: {exc}") from exc
        if outcome == "skipped":
            self.stdout.write(f"Job {name} skipped: another run of it holds its lock.")
        else:
            self.stdout.write(f"Job {name} succeeded.")
