"""Five-field cron expressions (minute hour day month weekday) read in the clinic's time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 6))


class CronError(ValueError):
    """A cron expression that cannot be read; the message names the part and the rule."""


@dataclass(frozen=True, slots=True)
class Cron:
    """A parsed cron expression. Weekday 0 is Sunday (7 is accepted as Sunday too)."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        parts = text.split()
        if len(parts) != 5:
            raise CronError("must have five fields: minute hour day month weekday")
        sets = [_field(p, name, lo, hi) for p, (name, lo, hi) in zip(parts, _FIELDS, strict=True)]
        weekdays = frozenset(0 if d == 7 else d for d in sets[4])
        return cls(sets[0], sets[1], sets[2], sets[3], weekdays, parts[2] == "*", parts[4] == "*")

    def matches(self, local: dt.datetime) -> bool:
        """Whether the local minute ``local`` is one the expression names."""
        if local.minute not in self.minutes or local.hour not in self.hours:
            return False
        if local.month not in self.months:
            return False
        day_ok = local.day in self.days
        weekday_ok = (local.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:  # as in cron: both restricted means either
            return day_ok and weekday_ok
        return day_ok or weekday_ok

    def fire_times(
        self, after: dt.datetime, until: dt.datetime, zone: zoneinfo.ZoneInfo
    ) -> list[dt.datetime]:
        """Every matching minute in ``(after, until]`` as aware UTC (at most one day's worth)."""
        start = after.astimezone(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        end = min(until, after + dt.timedelta(days=1))
        out: list[dt.datetime] = []
        moment = start
        while moment <= end:
            if self.matches(moment.astimezone(zone)):
                out.append(moment)
            moment += dt.timedelta(minutes=1)
        return out


def _field(text: str, name: str, lo: int, hi: int) -> frozenset[int]:
    values: set[int] = set()
    top = 7 if name == "weekday" else hi
    for item in text.split(","):
        body, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise CronError(f"{name}: step {step_text!r} must be a positive number")
            step = int(step_text)
        if body == "*":
            first, last = lo, hi
        elif "-" in body:
            a, _, b = body.partition("-")
            first, last = _number(a, name, lo, top), _number(b, name, lo, top)
            if first > last:
                raise CronError(f"{name}: range {body} runs backwards")
        else:
            first = _number(body, name, lo, top)
            last = hi if step_text else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _number(text: str, name: str, lo: int, hi: int) -> int:
    if not text.isdigit() or not lo <= int(text) <= hi:
        raise CronError(f"{name}: {text!r} must be a number from {lo} to {hi}")
    return int(text)
