"""The application layer: each thing mpscan does (scan, judge and persist, report, the CI
gate, the status verdict, diff, prune) as a plain function that returns a result.

The CLI (click) and the scheduler (APScheduler) call these and only parse arguments, print
and map results to exit codes; nothing here prints or imports them. Settings and the rule
catalog are loaded once per command by the caller and passed down.
"""
