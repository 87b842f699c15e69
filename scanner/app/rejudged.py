"""What an event's change has judged again beside the resource it refreshed: rules of one
kind read another kind's rows. The DEP rules on an endpoint read the packages it serves
(their approval, findings and group's latest approved version); MP-002 and MC-001 on a
package read the model cards that document it. Read before the change is stored and after,
so that what the resource read before (a card's old group, a package's old group) is
judged again too."""

from __future__ import annotations

from sqlalchemy import Connection

from scanner.kinds import MODEL_CARD, MODEL_PACKAGE
from scanner.store.read import deployed

Place = tuple[str, str, str]  # (account, region, ARN) of a stored resource


def reading(conn: Connection, kind: str, arn: str | None, group: str | None) -> set[Place]:
    """The stored resources whose verdicts read the resource `arn` of `kind` (`group`: a
    package's group)."""
    if arn is None:
        return set()
    if kind == MODEL_PACKAGE.name:
        return set(deployed.serving(conn, arn, group))
    if kind == MODEL_CARD.name:
        return deployed.documented(conn, arn)
    return set()
