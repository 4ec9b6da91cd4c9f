"""Argument types shared by the operators' commands: bad input fails with a clear message."""

import argparse
import datetime as dt
import decimal

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


def euros(value: str) -> decimal.Decimal:
    """An amount in euros, e.g. 12.50 (a comma for the decimal mark is read too)."""
    try:
        amount = decimal.Decimal(value.replace(",", "."))
    except decimal.InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount != round(amount, 2):
        raise argparse.ArgumentTypeError(
            _("%(value)s is not an amount in euros such as 12.50") % {"value": repr(value)}
        )
    return amount
