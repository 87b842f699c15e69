"""`mpscan export securityhub`: re-judge, then send every finding of a scan to AWS Security
Hub as ASFF (scanner/reports/asff.py), in batches of at most 100 per account and region.

Findings are read as a stream and held only until their account and region's batch is
full, so memory is at most 100 findings per account and region, whatever their number.
Each finding keeps its Id from one export to the next, so Security Hub updates it in
place; resolved findings go as ARCHIVED and PASSED. A finding larger than Security Hub
takes (240 KB) is not sent and is counted as not imported. A batch that fails (after
botocore's retries), or findings that Security Hub refuses in its answer
(FailedFindings), are reported and the export goes on with the next batch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from scanner.app.reporting import judged
from scanner.aws.securityhub import MAX_BATCH, Imported, Importer
from scanner.aws.session import ClientFactory
from scanner.config import Settings
from scanner.reports import asff
from scanner.rules.catalog import Catalog
from scanner.rules.evaluate import Evaluation
from scanner.store.db import make_engine

log = logging.getLogger(__name__)


@dataclass
class Export:
    scan_id: int  # the scan whose findings were sent
    evaluation: Evaluation  # the re-judgement it rests on
    findings: int = 0  # read from the store
    imported: int = 0  # what Security Hub counted as succeeded
    calls: int = 0  # BatchImportFindings calls made
    places: set[tuple[str, str]] = field(default_factory=set)  # (account, region) sent to
    failed_batches: list[Imported] = field(default_factory=list)  # with any finding refused
    too_large: list[str] = field(default_factory=list)  # Ids not sent

    @property
    def not_imported(self) -> int:
        refused = sum(b.sent if b.error else len(b.failed) for b in self.failed_batches)
        return refused + len(self.too_large)


def export_securityhub(
    settings: Settings,
    catalog: Catalog,
    factory: ClientFactory,
    scan_id: int | None = None,
    on_failure: Callable[[int, Imported], None] | None = None,
) -> Export:
    """Re-judge the stored inventory, then import the findings of `scan_id` (default: the
    latest) into Security Hub. on_failure hears of each batch with a finding not imported
    (its number, from 1, and what Security Hub answered) as it happens."""
    engine = make_engine(settings.database.url)
    try:
        evaluation, as_of, data, findings = judged(engine, catalog, scan_id)
        export = Export(as_of, evaluation)
        importer = Importer(settings, factory)
        pending: dict[tuple[str, str], list[dict]] = {}

        def send(place: tuple[str, str]) -> None:
            batch = pending.pop(place)
            result = importer.send(*place, batch)
            export.calls += 1
            export.places.add(place)
            export.imported += result.succeeded
            if result.error or result.failed:
                export.failed_batches.append(result)
                if on_failure is not None:
                    on_failure(export.calls, result)

        for item in asff.security_findings(data, findings):
            export.findings += 1
            if len(json.dumps(item).encode()) > asff.MAX_FINDING_BYTES:
                export.too_large.append(item["Id"])
                log.warning("finding %s: larger than Security Hub takes, not sent", item["Id"])
                continue
            place = (item["AwsAccountId"], item["Resources"][0]["Region"])
            pending.setdefault(place, []).append(item)
            if len(pending[place]) == MAX_BATCH:
                send(place)
        for place in sorted(pending):
            send(place)
    finally:
        engine.dispose()
    return export
