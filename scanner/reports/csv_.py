"""CSV: one row per finding, columns in data.COLUMNS order (docs/reports.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TextIO

from scanner.query import csv_writer, neutralise
from scanner.reports.data import COLUMNS, ReportData


def write(out: TextIO, data: ReportData, findings: Iterable[dict[str, Any]]) -> int:
    writer = csv_writer(out)
    writer.writerow(COLUMNS)
    n = 0
    for finding in findings:
        writer.writerow([_cell(finding[c]) for c in COLUMNS])
        n += 1
    return n


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)  # text from AWS never runs as a spreadsheet formula
    return value
