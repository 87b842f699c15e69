"""Crontab expressions for `mpscan schedule`: cron's reading of them, in APScheduler's terms.

Kept out of scanner.config so that reading a config needs no scheduler; the config's
crontabs are checked here when commands load it (scanner.settings_check)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scanner.errors import ConfigError

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_weekdays(field: str) -> str:
    """Crontab's day of week (0 or 7 = Sunday) as names: APScheduler 3 numbers Monday 0."""
    if field in ("*", "?"):
        return "*"
    days: list[str] = []
    for token in field.split(","):
        span, _, step = token.partition("/")
        if any(c.isalpha() for c in span):  # names mean the same to both
            days.append(token)
            continue
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            low, high = (int(v) for v in span.split("-", 1))
        else:
            low = int(span)
            high = 6 if step else low
        if not 0 <= low <= high <= 7:
            raise ValueError(f"day of week {span!r} out of range 0-7")
        days.extend(_WEEKDAYS[d % 7] for d in range(low, high + 1, int(step or 1)))
    return ",".join(dict.fromkeys(days))


def crontab_trigger(expr: str, timezone: Any = None, jitter: float | None = None) -> CronTrigger:
    """A 5-field crontab (minute hour day month day-of-week, as cron reads it) -> an
    APScheduler CronTrigger. ValueError when it is not one."""
    from apscheduler.triggers.cron import CronTrigger  # here: a config without crontabs needs none

    values = expr.split()
    if len(values) != 5:
        raise ValueError(
            f"expected 5 fields (minute hour day month day-of-week), got {len(values)}"
        )
    return CronTrigger(
        minute=values[0],
        hour=values[1],
        day=values[2],
        month=values[3],
        day_of_week=_crontab_weekdays(values[4]),
        timezone=timezone,
        jitter=jitter or None,
    )


def check_crontabs(jobs) -> None:
    """ConfigError naming the first [[schedule.jobs]] whose `cron` is not a crontab."""
    for i, job in enumerate(jobs):
        if job.cron is None:
            continue
        try:
            crontab_trigger(job.cron)
        except ValueError as exc:
            raise ConfigError(
                f"config error: 'schedule.jobs[{i}].cron' of job {job.name!r} is not a valid "
                f"crontab ({job.cron!r}: {exc})"
            ) from None
