"""The store's one read side: every query the gate (`mpscan check`), `mpscan status`, the
metrics and the reports run, and what a search-mode scan reads back while it collects.
Queries only: nothing here writes, and no other module of mpscan reads the findings or a
scan's coverage for them.

- `findings`: `open_of`, the one definition of an open finding; the gate's counts and
  worst findings; open findings by severity (status, metrics); `severity_rank`.
- `status`: each account and region's last scan (`RegionStatus`).
- `scans`: the latest scan that stored an inventory; whether a scan exists.
- `report`: a report's rows as of one scan: the scan, its coverage, the findings counted
  by GROUP BY, and the findings as a stream (never a list of all of them).
- `known`: for the resources Search answered, the stored rows' last-modified time and the
  members Search lacks (scanner.aws.matching).

The rows come back as the database gives them; `scanner/reports` shapes and writes them.
"""
