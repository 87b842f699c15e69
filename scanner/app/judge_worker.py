"""A large judgement read and judged in a worker process while this one merges.

Judging 100,000 packages is CPU work in Python (reading the rows, parsing their JSON, the
checks), and so is the merge's writing on SQLite (its inserts run in this process): one
interpreter does them one after the other, whatever the cores. A worker process started
for the evaluation reads the inventory on a connection of its own, judges it and sends
each page's batch through a pipe; this process merges the batches as they come, in its own
transaction, so both cores work (benchmarks/README.md: a first evaluation of 100,000
packages on SQLite, 6.2 s in one process, 4.4 s with the worker).

The worker sees the inventory as of its first read, as a single connection's ordered read
would (each judgement's read is a snapshot of its own); it never reads the findings this
process writes. It is a new interpreter (never a fork: the scheduler and the metrics
server run threads), killed whenever this process stops waiting for it; whatever it
raised is raised here, and the transaction this process holds then rolls back.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from scanner.errors import JudgeError, one_line
from scanner.rules.catalog import Catalog
from scanner.rules.evaluate import Batch, Evaluation, judge
from scanner.rules.reading import TABLES
from scanner.store.db import make_engine
from scanner.store.scope import Scope

log = logging.getLogger(__name__)

# Resources of the largest kind in scope from which a worker pays for its start (about
# 0.4 s to import mpscan in a new interpreter).
FROM = 20_000


def wanted(conn: Connection, engine: Engine, scope: Scope) -> bool:
    """Whether this judgement is large enough for a worker, and can have one: a database
    another process can open (not SQLite in memory), the whole scope (not one resource)."""
    if scope.resource is not None or engine.url.database in (None, "", ":memory:"):
        return False
    if engine.dialect.name not in ("sqlite", "postgresql"):
        return False
    if engine.dialect.name == "sqlite":
        # Its reads must not block this process's writes: only a write-ahead log allows both
        # (a filesystem without shared memory keeps SQLite in rollback-journal mode).
        if conn.exec_driver_sql("PRAGMA journal_mode").scalar() != "wal":
            return False
    largest = max(
        conn.execute(select(func.count()).select_from(t).where(scope.covers(t))).scalar_one()
        for t in TABLES.values()
    )
    return largest >= FROM


def judged_elsewhere(
    engine: Engine, catalog: Catalog, scan_id: int, scope: Scope, now: datetime
) -> tuple[Evaluation, Iterator[Batch]]:
    """The evaluation and its batches, judged by a worker process: the evaluation is whole
    once the last batch has been taken, as `judge`'s is."""
    log.debug("judging in a worker process")
    evaluation = Evaluation(scan_id, scope, [r.id for r in catalog.enabled()], at=now)
    url = engine.url.render_as_string(hide_password=False)
    return evaluation, _batches(url, catalog, scan_id, scope, now, evaluation)


def _batches(url, catalog, scan_id, scope, now, evaluation: Evaluation) -> Iterator[Batch]:
    # A new interpreter running this module (not multiprocessing's spawn, which would run
    # the caller's main module again in it); the parent's import path, so it finds mpscan
    # as the parent did. Requests and answers are pickles on its stdin and stdout.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    try:
        worker = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
    except OSError as exc:
        raise JudgeError(f"could not start the judging worker: {one_line(exc)}") from None
    assert worker.stdin is not None and worker.stdout is not None
    done = False
    try:
        try:
            pickle.dump((url, catalog, scan_id, scope, now), worker.stdin)
            worker.stdin.close()
        except BrokenPipeError:
            pass  # it ended already: said below
        while True:
            try:
                kind, value = pickle.load(worker.stdout)
            except EOFError:
                raise JudgeError(
                    f"the judging worker ended without its verdicts (exit code {worker.wait()})"
                ) from None
            if kind == "batch":
                yield value
            elif kind == "done":
                for f in fields(Evaluation):
                    setattr(evaluation, f.name, getattr(value, f.name))
                done = True
                return
            elif isinstance(value, SQLAlchemyError):
                raise value  # the database's error, as the caller reports one
            else:
                raise JudgeError(f"the judging worker failed: {one_line(value)}")
    finally:
        try:
            worker.wait(timeout=10 if done else 0)  # done: it is closing its connections
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        worker.stdout.close()


def _work() -> None:
    """The worker: judge through its own engine, send each batch, then the evaluation.
    Ctrl-C reaches the whole process group: the parent stops this worker, which ignores it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="mpscan judge worker: %(message)s")
    answers = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write to the pipe
    engines: list[Engine] = []
    try:
        url, catalog, scan_id, scope, now = pickle.load(sys.stdin.buffer)
        engine = make_engine(url)
        engines.append(engine)
        read_only = None
        if any(r.rule.sql for r in catalog.enabled()):
            read_only = make_engine(url, read_only=True)
            engines.append(read_only)
        with engine.connect() as conn:
            evaluation, batches = judge(
                conn, catalog, scan_id=scan_id, scope=scope, now=now, read_only_engine=read_only
            )
            for batch in batches or ():
                pickle.dump(("batch", batch), answers)
        for e in engines:  # before the answer: the parent waits for this process to end
            e.dispose()
        pickle.dump(("done", evaluation), answers)
        answers.flush()
        # Nothing is left to release, and an interpreter's own exit (freeing every object of
        # a large judgement) would keep the caller waiting for up to a second.
        os._exit(0)
    except Exception as exc:  # any failure is the evaluation's: raised in the parent
        try:
            pickle.dump(("error", exc), answers)
        except Exception:  # it does not pickle: its text does
            pickle.dump(("error", RuntimeError(f"{type(exc).__name__}: {exc}")), answers)
    finally:
        answers.flush()


if __name__ == "__main__":
    _work()
