"""Wall-clock times in Rome, the default zone, for tests that travel in time."""

import datetime as dt
import zoneinfo

ROME = zoneinfo.ZoneInfo("Europe/Rome")


def rome(*args) -> dt.datetime:
    """An aware datetime on the wall clock of Rome."""
    return dt.datetime(*args, tzinfo=ROME)
