"""`mpscan report`: the findings as HTML, CSV, JSON, SARIF, OCSF or ASFF, written as a stream.

The store's read model (`scanner/store/read/report.py`) reads (summary by GROUP BY,
findings one row at a time); data.py shapes what it reads; one module per format writes.
None of them holds all findings in memory.
"""

FORMATS = ("html", "csv", "json", "sarif", "ocsf", "asff")


def write(fmt: str, out, data, findings, templates: str | None = None) -> int:
    """Write the report in `fmt` to `out`; the number of findings written."""
    if fmt == "html":
        from scanner.reports import html

        return html.write(out, data, findings, templates=templates)
    if fmt == "csv":
        from scanner.reports import csv_

        return csv_.write(out, data, findings)
    if fmt == "json":
        from scanner.reports import json_

        return json_.write(out, data, findings)
    if fmt == "ocsf":
        from scanner.reports import ocsf

        return ocsf.write(out, data, findings)
    if fmt == "asff":
        from scanner.reports import asff

        return asff.write(out, data, findings)
    from scanner.reports import sarif

    return sarif.write(out, data, findings)
