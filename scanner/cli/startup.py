"""The cycle collector in the mpscan program: paused while a command starts, resumed with
what start-up made frozen (never walked again), and not run over everything at exit.

Start-up makes a few hundred thousand objects that live to the end (the modules, the
settings, the rules): at CPython's default thresholds the collector walks them again and
again while they are made, and once more at exit, together a fifth of a small scan's CPU
time. Only the program pauses it (`main`): commands run in-process, as the tests' click
runner runs them, keep the collector as it is.
"""

from __future__ import annotations

import gc

# Allocations between two collections of the youngest objects (CPython's default: 700).
YOUNG_THRESHOLD = 10_000

_paused = False


def pause() -> None:
    """The program starts: no collection until `resume`."""
    global _paused
    gc.disable()
    _paused = True


def resume() -> None:
    """The command has loaded its modules and settings: what exists now is frozen, and
    the collector runs again for what comes next (a no-op unless paused)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        gc.enable()


def end() -> None:
    """The program ends: nothing left is walked (the process frees its memory whole)."""
    gc.freeze()
