"""Settings as commands load them: the config read and validated (scanner.config), then
what only other parts of mpscan can judge: crontabs (APScheduler) and [rules] and
[[waivers]] (the rule registry). All of it before any work, each problem one line, exit 2."""

from __future__ import annotations

import os

from scanner.config import Settings, load_settings
from scanner.rules.catalog import check_settings
from scanner.schedule_cron import check_crontabs


def load_checked_settings(path: str | os.PathLike | None = None) -> Settings:
    settings = load_settings(path)
    check_crontabs(settings.schedule.jobs)
    check_settings(settings)
    return settings
