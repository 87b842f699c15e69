"""`mpscan report`: the findings as HTML, CSV, JSON, SARIF, OCSF or ASFF, written as a
stream; the inventory as a CycloneDX ML-BOM.

The store's read model (`scanner/store/read/report.py`) reads (summary by GROUP BY,
findings one row at a time); data.py shapes what it reads; one module per format writes.
None of them holds all findings in memory.
"""

FORMATS = ("html", "csv", "json", "sarif", "ocsf", "asff", "cyclonedx")


def write(
    fmt: str, out, data, findings, templates: str | None = None, resources=None, packages=None
) -> int:
    """Write the report in `fmt` to `out`; the number of findings (cyclonedx: packages)
    written. `resources`: the HTML resource view's rows (scanner.reports.resources);
    `packages`: the inventory's packages with their containers, for cyclonedx."""
    if fmt == "html":
        from scanner.reports import html

        return html.write(out, data, findings, templates=templates, resources=resources)
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
    if fmt == "cyclonedx":
        from scanner.reports import cyclonedx

        return cyclonedx.write(out, data, packages or ())
    from scanner.reports import sarif

    return sarif.write(out, data, findings)
