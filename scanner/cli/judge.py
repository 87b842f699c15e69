"""`mpscan rules`, `mpscan evaluate`, `mpscan check`: the rules, re-judging, the CI gate."""

from __future__ import annotations

import json
import sys

import click

from scanner.cli.options import CONTEXT, config_option, db_option, format_option, settings_from
from scanner.cli.render import print_table
from scanner.errors import EXIT_FINDINGS, exit_codes_help
from scanner.rules.base import SEVERITIES

CHECK_EXIT_CODES = exit_codes_help(
    code_0="no unwaived failing finding at or above --fail-on",
    code_1="the database is missing, unreachable or holds no scan",
    code_2="usage or configuration error (bad option, unknown rule id or parameter, bad waiver)",
    code_4=True,
)
EVALUATE_EXIT_CODES = exit_codes_help(
    code_0="the stored inventory was judged and the findings updated",
    code_1="the database is missing, unreachable or holds no scan",
    code_2="usage or configuration error (unknown rule id or parameter, bad waiver)",
)


RULES_EXIT_CODES = exit_codes_help(
    code_0="the rules were listed",
    code_2="configuration error (an unknown rule id or parameter, a broken custom rule)",
)


@click.command(context_settings=CONTEXT, epilog=RULES_EXIT_CODES)
@format_option("table", "json")
@config_option
def rules(fmt, config_path):
    """List the rules in force: id, severity, what they check, and how to fix it.

    Built-in rules and the config's custom SQL rules, with the config's overrides
    (enabled, severity, parameters). docs/rules.md documents every built-in rule.

    \b
    Examples:
      mpscan rules
      mpscan rules --format json | jq '.[] | select(.severity == "critical")'
    """
    from scanner.rules import catalog

    found = catalog.load(settings_from(config_path, None))
    if fmt == "json":
        click.echo(json.dumps([_rule_json(r) for r in found.rules], indent=2))
        return
    print_table(
        ["id", "severity", "on", "enabled", "title", "parameters"],
        [
            [
                r.id,
                r.severity,
                r.rule.resource_type,
                "yes" if r.enabled else "no",
                r.rule.title,
                ", ".join(f"{k}={v}" for k, v in r.params.items()),
            ]
            for r in found.rules
        ],
    )


def _rule_json(r) -> dict:
    return {
        "id": r.id,
        "title": r.rule.title,
        "severity": r.severity,
        "default_severity": r.rule.severity,
        "resource_type": r.rule.resource_type,
        "enabled": r.enabled,
        "rationale": r.rule.rationale,
        "remediation": r.rule.remediation,
        "remediation_cli": r.rule.remediation_cli,
        "reads": list(r.rule.reads),
        "needs": list(r.rule.needs),
        "parameters": r.params,
        "source": r.rule.source,
        **({"references": list(r.rule.references)} if r.rule.references else {}),
        **({"sql": r.rule.sql} if r.rule.sql else {}),
    }


def say_rule_errors(evaluation) -> None:
    for rule_id, reason in evaluation.rule_errors.items():
        click.echo(f"mpscan: rule {rule_id} could not run: {reason}", err=True)


@click.command(context_settings=CONTEXT, epilog=EVALUATE_EXIT_CODES)
@config_option
@db_option
def evaluate(config_path, db_url):
    """Re-judge the stored inventory with the rules, parameters and waivers in force now.

    `mpscan scan` judges what it stores; run this after changing the [rules] or
    [[waivers]] of the config, to update the findings without scanning again.

    \b
    Example:
      mpscan evaluate --config team.toml
    """
    from scanner.app.judging import rejudge
    from scanner.rules import catalog

    settings = settings_from(config_path, db_url)
    e = rejudge(settings, catalog.load(settings))
    say_rule_errors(e)
    c = e.counts
    click.echo(
        f"judged {e.resources} resources of scan {e.scan_id} with {len(e.rules)} rules: "
        f"{c.new} new, {c.regressed} regressed, {c.changed} changed, {c.resolved} resolved"
    )


@click.command(context_settings=CONTEXT, epilog=CHECK_EXIT_CODES)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES, case_sensitive=False),
    default="high",
    show_default=True,
    help="Fail (exit 4) on an unwaived failing finding of this severity or worse.",
)
@format_option("text", "json")
@config_option
@db_option
def check(fail_on, fmt, config_path, db_url):
    """The CI gate: exit 4 when an unwaived failing finding at or above --fail-on exists.

    Re-judges the stored inventory first, so the gate always applies the rules and
    waivers of the config it is given. Prints counts by severity and the worst findings.

    \b
    Examples:
      mpscan check --fail-on high
      mpscan scan -q && mpscan check --fail-on critical --format json
    """
    from scanner.app.judging import gate
    from scanner.rules import catalog

    settings = settings_from(config_path, db_url)
    fail_on = fail_on.lower()
    verdict = gate(settings, catalog.load(settings), fail_on)
    say_rule_errors(verdict.evaluation)
    evaluation, counts, worst, blocking = (
        verdict.evaluation,
        verdict.counts,
        verdict.worst,
        verdict.blocking,
    )
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "scan_id": evaluation.scan_id,
                    "fail_on": fail_on,
                    "failing_by_severity": counts,
                    "blocking": blocking,
                    "worst": worst,
                    "stale_waivers": [w.resource for w in evaluation.stale_waivers],
                },
                indent=2,
                default=str,
            )
        )
    else:
        summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in SEVERITIES)
        word = "FAIL" if blocking else "pass"
        click.echo(
            f"{word}: {blocking} failing at or above {fail_on} "
            f"(scan {evaluation.scan_id}; {summary})"
        )
        for f in worst:
            click.echo(
                f"  {f['severity']:<8} {f['rule_id']:<8} {f['resource_arn']}  {f['message']}"
            )
        for w in evaluation.stale_waivers:
            click.echo(f"mpscan: stale waiver: {w.rule_id} {w.resource} matches nothing", err=True)
    sys.exit(EXIT_FINDINGS if blocking else 0)


COMMANDS = [rules, evaluate, check]
