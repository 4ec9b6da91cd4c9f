"""Argument types shared by the operators' commands: bad input fails with a clear message."""

import argparse
import datetime as dt

from django.utils.translation import gettext as _


def iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(value)s is not a date in the form YYYY-MM-DD") % {"value": repr(value)}
        ) from None


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(value)s is not a whole number") % {"value": repr(value)}
        ) from None
    if number < 1:
        raise argparse.ArgumentTypeError(_("%(value)s must be 1 or more") % {"value": value})
    return number
