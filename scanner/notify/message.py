"""What a notification says: the findings one evaluation opened (new or regressed), worst
first, as Slack-compatible JSON (a webhook) or plain text with a subject (SNS, e-mail).

Text from AWS (a description quoted in a finding's message, an ARN) is data: Slack's three
control characters are escaped as its formatting reference asks (&, <, >), so no text can
mention a channel or make a link; every line and the whole message are cut to what Slack
and SNS take. Past `digest_after` findings, a digest: counts by severity and rule, then the
worst `digest_after`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from scanner.stages import SEVERITIES

SLACK_SECTION = 3000  # characters in one section block's text (Slack's limit)
SNS_SUBJECT = 100  # characters in an SNS subject (ASCII, no line breaks)
LINE = 300  # characters of one finding's line


@dataclass(frozen=True)
class Opened:
    """A finding an evaluation opened."""

    rule_id: str
    severity: str
    change: str  # new or regressed
    resource_arn: str
    account_id: str
    region: str
    message: str


@dataclass(frozen=True)
class Message:
    subject: str
    text: str  # plain text, for SNS and e-mail
    slack: dict  # a webhook's JSON body


def _rank(o: Opened) -> tuple:
    return (SEVERITIES.index(o.severity), o.rule_id, o.resource_arn)


def _cut(text: str, size: int) -> str:
    text = " ".join(text.split())  # one line: no line breaks or control spacing from AWS
    return text if len(text) <= size else text[: size - 1] + "…"


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def compose(opened: list[Opened], *, where: str, digest_after: int) -> Message:
    """The message for `opened` (not empty), found by `where` ("scan 12", "event ...")."""
    ordered = sorted(opened, key=_rank)
    by_severity = Counter(o.severity for o in ordered)
    counts = ", ".join(f"{by_severity[s]} {s}" for s in SEVERITIES if by_severity[s])
    plural = "s" if len(ordered) != 1 else ""
    headline = f"mpscan: {len(ordered)} finding{plural} opened by {where} ({counts})"
    shown = ordered[:digest_after]
    lines = [
        _cut(
            f"[{o.severity}] {o.rule_id} {o.change}: {o.resource_arn} "
            f"({o.account_id} {o.region}): {o.message}",
            LINE,
        )
        for o in shown
    ]
    extra = []
    if len(ordered) > len(shown):
        rules = Counter(o.rule_id for o in ordered)
        extra = [
            f"digest: {len(ordered) - len(shown)} more not listed; by rule: "
            + ", ".join(f"{rule} {n}" for rule, n in sorted(rules.items()))
        ]
    text = "\n".join([headline, *lines, *extra])
    blocks, block = [], ""
    for line in [slack_escape(line) for line in [*lines, *extra]]:
        if len(block) + len(line) + 1 > SLACK_SECTION:
            blocks.append(block)
            block = ""
        block += line + "\n"
    if block:
        blocks.append(block)
    slack = {
        "text": slack_escape(headline),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(headline)}},
            *({"type": "section", "text": {"type": "plain_text", "text": b}} for b in blocks),
        ],
    }
    subject = _cut(headline.encode("ascii", "replace").decode(), SNS_SUBJECT)
    return Message(subject, text, slack)
