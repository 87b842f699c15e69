"""`mpscan report`: the findings as HTML, CSV, JSON or SARIF, written as a stream.

data.py reads (summary by GROUP BY, findings one row at a time); one module per format
writes. None of them holds all findings in memory.
"""

FORMATS = ("html", "csv", "json", "sarif")
