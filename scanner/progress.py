"""Progress on a terminal: one line per region (listed, described). Elsewhere (a pipe, a log
file), only the status of a long wait, as a line of its own."""

from __future__ import annotations

import threading
from collections import defaultdict

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from scanner.stages import GROUP, PACKAGE
from scanner.stages import Progress as CollectorProgress


class RichProgress(CollectorProgress):
    def __init__(self, console: Console):
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
    """Not a terminal: no bars, but a long wait is still said, one line each."""

    def __init__(self, console: Console):
        self._console = console

    def status(self, text: str) -> None:
        self._console.print(f"mpscan: {text}", markup=False, highlight=False, soft_wrap=True)
