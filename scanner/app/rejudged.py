"""What an event's change has judged again beside the resource it refreshed: rules of one
kind read another kind's rows. The DEP rules on an endpoint read the packages it serves
(their approval, findings and group's latest approved version); MP-002 and MC-001 on a
package read the model cards that document it (and DEP-003 those findings, where a config
makes them critical or high). Read before the change is stored and after,
so that what the resource read before (a card's old group, a package's old group) is
judged again too."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from scanner.app.judging import judge_resource
from scanner.aws.events import kind_of
from scanner.errors import one_line
from scanner.kinds import KINDS, MODEL_CARD, MODEL_PACKAGE
from scanner.rules.catalog import Catalog
from scanner.store import events
from scanner.store.read import deployed
from scanner.store.scope import Scope

log = logging.getLogger(__name__)

Place = tuple[str, str, str]  # (account, region, ARN) of a stored resource
ORDER = {k.name: i for i, k in enumerate(KINDS)}


def reading(conn: Connection, kind: str, arn: str | None, group: str | None) -> set[Place]:
    """The stored resources whose verdicts read the resource `arn` of `kind` (`group`: a
    package's group)."""
    if arn is None:
        return set()
    if kind == MODEL_PACKAGE.name:
        return set(deployed.serving(conn, [arn], group))
    if kind == MODEL_CARD.name:  # the packages it documents, and what serves them
        packages = deployed.documented(conn, arn)
        return packages | set(deployed.serving(conn, [p[2] for p in packages]))
    return set()


def in_judge_order(places: Iterable[Place]) -> list[Place]:
    """Kind by kind in the kinds' declared order (packages before the endpoints that read
    their findings), then by place."""
    return sorted(places, key=lambda p: (ORDER.get(kind_of(p[2]) or "", len(ORDER)), p))


def judge_each(
    engine: Engine,
    rules: Catalog,
    judged: Iterable[Place],
    *,
    where: tuple[str, str, int],
    event: tuple[str, int],
    newest: Callable[[], int],
    stale_after: float,
) -> int:
    """Judge each resource by the event (`event`: its id and `registry_events` row), in its
    own region's inventory (`where`: the event's account, region and that inventory's
    scan); how many findings it opened (new or regressed). A resource whose judgement the
    database refuses is left to the next scan, and the others are still judged; a scan
    beginning stops the rest (its own judgement covers them)."""
    account, region, scan_id = where
    event_id, row_id = event
    opened = 0
    for place in judged:
        if place[:2] != (account, region):
            with engine.connect() as conn:
                region_scan = events.region_scan(conn, place[0], place[1])
            if region_scan is None:
                continue  # no inventory there yet: its first scan judges it
        else:
            region_scan = scan_id
        try:
            evaluation = _judge_one(engine, rules, place, region_scan, row_id, newest, stale_after)
        except (events.ScanRunning, events.ScanMoved):
            log.info("event %s: judged by the scan now running", event_id)
            break
        except SQLAlchemyError as exc:
            log.warning("event %s: %s not judged: %s", event_id, place[2], one_line(exc))
            continue
        opened += evaluation.counts.new + evaluation.counts.regressed
    return opened


def _judge_one(engine, rules, place: Place, scan_id, row_id, newest, stale_after):
    for attempt in (1, 2):  # another listener may judge the same endpoint meanwhile
        try:
            return judge_resource(
                engine,
                rules,
                scan_id=scan_id,
                scope=Scope.of_resource(*place),
                event_row=row_id,
                read_after=newest(),
                stale_after=stale_after,
            )
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
