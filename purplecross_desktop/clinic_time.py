"""The clinic's wall clock: times shown and entered in ``settings.clinic_timezone`` (Qt-free).

The database stores aware UTC; a receptionist reads and types the clinic's local time,
whatever the workstation's own zone is. Local times that do not exist (the hour skipped
when clocks go forward) move forward to the first valid instant; ambiguous ones (the hour
repeated when clocks go back) take the first occurrence, as a diary would.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

from purplecross_desktop.database.base import utcnow

#: Opening hours a free-slot search and the calendar use (clinic time); Sunday closed.
OPENS = dt.time(8, 0)
CLOSES = dt.time(18, 0)
CLOSED_WEEKDAYS = frozenset({6})


class ClinicTime:
    """Conversions between aware UTC instants and the clinic's local dates and times.

    Args:
        timezone: an IANA zone name, e.g. ``"Europe/London"``.
        clock: the current instant (aware UTC); tests pass a fixed one.
    """

    def __init__(self, timezone: str = "UTC", clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.zone = zoneinfo.ZoneInfo(timezone)
        self.name = timezone
        self._clock = clock

    def now(self) -> dt.datetime:
        """The current instant in the clinic's zone."""
        return self._clock().astimezone(self.zone)

    def today(self) -> dt.date:
        """The clinic's calendar date now (not the workstation's)."""
        return self.now().date()

    def local(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` (aware) in the clinic's zone."""
        return moment.astimezone(self.zone)

    def at(self, day: dt.date, time: dt.time) -> dt.datetime:
        """The aware instant of ``time`` on ``day`` in the clinic's zone (gaps move forward)."""
        naive = dt.datetime.combine(day, time.replace(tzinfo=None))
        candidate = naive.replace(tzinfo=self.zone, fold=0)
        # A time in a spring-forward gap does not survive a round trip through UTC.
        back = candidate.astimezone(dt.UTC).astimezone(self.zone).replace(tzinfo=None)
        if back != naive:
            candidate = naive.replace(tzinfo=self.zone, fold=1)
            candidate = candidate.astimezone(dt.UTC).astimezone(self.zone)
        return candidate

    def day_bounds(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """``[start, end)`` of the clinic's ``day`` as aware UTC instants (23-25 hours long)."""
        start = self.at(day, dt.time.min).astimezone(dt.UTC)
        end = self.at(day + dt.timedelta(days=1), dt.time.min).astimezone(dt.UTC)
        return start, end

    def format_time(self, moment: dt.datetime | None) -> str:
        """``HH:MM`` in the clinic's zone (empty for None)."""
        return "" if moment is None else self.local(moment).strftime("%H:%M")

    def format_datetime(self, moment: dt.datetime | None) -> str:
        """``YYYY-MM-DD HH:MM`` in the clinic's zone (empty for None)."""
        return "" if moment is None else self.local(moment).strftime("%Y-%m-%d %H:%M")

    def format_seconds(self, moment: dt.datetime | None) -> str:
        """``YYYY-MM-DD HH:MM:SS`` in the clinic's zone (empty for None): timelines, logs."""
        return "" if moment is None else self.local(moment).strftime("%Y-%m-%d %H:%M:%S")

    def format_moment(self, moment: dt.datetime) -> str:
        """``YYYY-MM-DD HH:MM BST``: one instant on the clinic's clock with the zone's
        abbreviation, as :meth:`format_span` writes it (a time stated on its own)."""
        local = self.local(moment)
        return f"{local:%Y-%m-%d %H:%M %Z}"

    def format_span(self, starts: dt.datetime, ends: dt.datetime) -> str:
        """``YYYY-MM-DD HH:MM-HH:MM BST``: a span on the clinic's clock, with the zone's
        abbreviation (which tells the two 01:30s apart the night clocks go back)."""
        start, end = self.local(starts), self.local(ends)
        return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M} {start:%Z}"

    def format_day(self, day: dt.date) -> str:
        """A date as a receptionist reads it: ``Tuesday 4 March 2031``."""
        return f"{day:%A} {day.day} {day:%B %Y}"

    def opening_windows(
        self,
        after: dt.datetime,
        days: int = 14,
        opens: dt.time = OPENS,
        closes: dt.time = CLOSES,
        closed_weekdays: frozenset[int] = CLOSED_WEEKDAYS,
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        """The clinic's opening hours from ``after`` on, one window per open day (aware UTC);
        the first window starts at ``after`` when that falls inside it."""
        first = self.local(after).date()
        windows: list[tuple[dt.datetime, dt.datetime]] = []
        for offset in range(days):
            day = first + dt.timedelta(days=offset)
            if day.weekday() in closed_weekdays:
                continue
            start = self.at(day, opens).astimezone(dt.UTC)
            end = self.at(day, closes).astimezone(dt.UTC)
            start = max(start, after.astimezone(dt.UTC))
            if start < end:
                windows.append((start, end))
        return windows
