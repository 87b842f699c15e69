"""Progress on a terminal: one line per region (listed, described). Elsewhere (a pipe, a log
file), only the status of a long wait, as a line of its own."""

from __future__ import annotations

import os
import sys
import threading
from collections import defaultdict
from typing import TYPE_CHECKING

from scanner.stages import GROUP, PACKAGE
from scanner.stages import Progress as CollectorProgress

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID


def surely_not_a_terminal() -> bool:
    """What rich's Console(stderr=True).is_terminal answers False to without rich: stderr is
    no tty and neither TTY_COMPATIBLE nor FORCE_COLOR says otherwise."""
    env = os.environ
    if env.get("TTY_COMPATIBLE") is not None or env.get("FORCE_COLOR") is not None:
        return False
    try:
        return not sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stream, or a closed one
        return True


class RichProgress(CollectorProgress):
    def __init__(self, console: Console):
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("{task.description:<16}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._counts: dict[tuple[str, str, str], int] = defaultdict(int)
        self._lock = threading.Lock()

    def __enter__(self) -> RichProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self._bar.stop()

    def _task(self, region: str) -> TaskID:
        if region not in self._tasks:
            self._tasks[region] = self._bar.add_task(region, total=None, detail="listing…")
        return self._tasks[region]

    def _refresh(self, region: str) -> None:
        c = self._counts
        listed, done = c[(region, PACKAGE, "listed")], c[(region, PACKAGE, "done")]
        groups = c[(region, GROUP, "done")]
        self._bar.update(
            self._task(region),
            total=listed or None,
            completed=done,
            detail=f"{done}/{listed} packages described, {groups} groups",
        )

    def listed(self, region: str, kind: str, count: int) -> None:
        with self._lock:
            self._counts[(region, kind, "listed")] += count
            self._refresh(region)

    def collected(self, region: str, kind: str) -> None:
        with self._lock:
            self._counts[(region, kind, "done")] += 1
            self._refresh(region)

    def status(self, text: str) -> None:
        self._bar.console.print(text, markup=False, highlight=False)


class StatusLines(CollectorProgress):
    """Not a terminal: no bars, but a long wait is still said, one line each (on stderr's
    Console, made at the first line when none is given)."""

    def __init__(self, console: Console | None = None):
        self._console = console

    def status(self, text: str) -> None:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True)
        self._console.print(f"mpscan: {text}", markup=False, highlight=False, soft_wrap=True)
