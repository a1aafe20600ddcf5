"""Times typed on the command line: ``--since``/``--until`` for every command (no Qt).

One reading everywhere: an age (``90m``, ``2h``, ``7d``, ``1w``, ``1.5h``) counts back from
now; an ISO date or time without a zone is the clinic's local time (``clinic_timezone``),
as the app shows it, and one with a zone (``…+01:00``, ``…Z``) is taken as written. A
local time that a daylight-saving change skips or repeats is read as its first reading
(``fold=0``): give the zone (``…-05:00``) to pick the other one.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import click

from purplecross_desktop.settings import SettingsError, load_settings

_AGE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def clinic_zone() -> dt.tzinfo:
    """The configured clinic time zone (UTC when the settings cannot be read)."""
    try:
        return zoneinfo.ZoneInfo(load_settings().clinic_timezone)
    except (SettingsError, zoneinfo.ZoneInfoNotFoundError):
        return dt.UTC


def parse_when(
    value: str,
    option: str = "--since",
    tz: dt.tzinfo | None = None,
    now: dt.datetime | None = None,
) -> dt.datetime:
    """``value`` as an aware time: an age back from ``now``, or an ISO date/time read in
    ``tz`` (the clinic's zone when None) unless it names its own zone.

    Raises:
        click.BadParameter: neither form, naming ``option`` and the accepted forms.
    """
    text = value.strip()
    match = _AGE.match(text)
    if match:
        try:
            amount = dt.timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
            return (now or dt.datetime.now(dt.UTC)) - amount
        except OverflowError:
            raise click.BadParameter(
                f"{value!r} reaches back before the year 1", param_hint=f"'{option}'"
            ) from None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither an age (30m, 2h, 7d, 1w) nor an ISO date or time "
            "(2031-03-03 or 2031-03-03T09:00, in the clinic's time zone unless it names one)",
            param_hint=f"'{option}'",
        ) from None
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=tz if tz is not None else clinic_zone())
