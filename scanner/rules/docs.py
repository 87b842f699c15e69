"""Render docs/rules.md from the rule registry: `python -m scanner.rules.docs > docs/rules.md`.

A test keeps the file current, so every built-in rule is documented as it is coded.
"""

from __future__ import annotations

import json

from scanner import kinds
from scanner.rules import catalog  # noqa: F401 - registers the built-in rules
from scanner.rules.base import REGISTRY, SEVERITIES, Rule
from scanner.rules.frameworks import FRAMEWORKS

HEADER = """# Rules

Generated from the rule registry (`scanner/rules/*.py`) by `python -m scanner.rules.docs`;
a test keeps it current. `mpscan rules` lists the rules in force with the config's
overrides (`--format json` for everything below).

Each rule judges each resource in scope: `fail`, `pass`, `error` when the data it needs is
unknown (it never passes what it did not see), or `waived`. In the config, `[rules.ID]`
takes `enabled`, `severity` and the rule's parameters; an unknown rule id or parameter is
a config error (exit 2). Custom rules in SQL are described in `config.example.toml`.
"""


def _value(value) -> str:
    return f"`{json.dumps(value)}`"


def _read(r: Rule, column: str) -> str:
    """A column read, and for one the judge derives, what it is made of."""
    for name, of, columns in kinds.BY_NAME[r.resource_type].derived:
        if name == column:
            made = ", ".join(f"`{c}`" for c in columns)
            return f"`{column}` (derived from `{kinds.BY_NAME[of].table}`: {made})"
    return f"`{column}` (whether it holds anything)" if column in r.present else f"`{column}`"


def _bounds(r: Rule, name: str) -> str:
    return f" ({r.bounds[name][0]} to {r.bounds[name][1]})" if name in r.bounds else ""


def _rule(r: Rule) -> str:
    lines = [
        f"\n## {r.id}: {r.title}\n",
        "\n| | |\n|---|---|\n",
        f"| severity | {r.severity} |\n",
        f"| resource | `{r.resource_type}` |\n",
        f"| reads | {', '.join(_read(r, c) for c in r.reads)} |\n",
        f"| needs | {', '.join(f'`{a}`' for a in r.needs)} |\n",
    ]
    if r.controls:
        named = "<br>".join(
            f"{FRAMEWORKS[f].name}: {c} ({FRAMEWORKS[f].controls[c]})" for f, c in r.controls
        )
        lines.append(f"| supports | {named} |\n")
    if r.references:
        lines.append(f"| references | {'<br>'.join(f'<{url}>' for url in r.references)} |\n")
    if r.params:
        params = "<br>".join(f"`{k}` = {_value(v)}{_bounds(r, k)}" for k, v in r.params.items())
        lines.append(f"| parameters (defaults) | {params} |\n")
    if r.requires:
        needed = ", ".join(f"`{k}`" for k in r.requires)
        lines.append(f"| not applicable | while {needed} is empty (nothing read or judged) |\n")
    lines += [
        f"\n**Why.** {r.rationale}\n",
        f"\n**Fix.** {r.remediation}\n",
        f"\n```sh\n{r.remediation_cli}\n```\n",
    ]
    return "".join(lines)


def render() -> str:
    rules = sorted(REGISTRY.values(), key=lambda r: r.id)
    index = ["\n| id | severity | resource | title |\n|---|---|---|---|\n"]
    for r in sorted(rules, key=lambda r: (SEVERITIES.index(r.severity), r.id)):
        anchor = f"{r.id}-{r.title}".lower()
        anchor = "".join(c if c.isalnum() or c == "-" else "-" if c == " " else "" for c in anchor)
        index.append(f"| [{r.id}](#{anchor}) | {r.severity} | {r.resource_type} | {r.title} |\n")
    return HEADER + "".join(index) + _frameworks(rules) + "".join(_rule(r) for r in rules)


def _frameworks(rules: list[Rule]) -> str:
    """Each framework, its source, and per control the rules that give evidence for it."""
    lines = [
        "\n## Frameworks\n\n",
        "Rules map to the controls they give evidence for (`mpscan report --framework ID`"
        " reports per control). A mapping is evidence, not compliance: passing a rule does"
        " not meet a control. Control titles are quoted from each source.\n",
    ]
    for fw in FRAMEWORKS.values():
        lines.append(f"\n### {fw.name} (`{fw.id}`)\n\nSource: {fw.source}, <{fw.url}>.\n\n")
        lines.append("| control | title | rules |\n|---|---|---|\n")
        for control, title in fw.controls.items():
            ids = [r.id for r in rules if (fw.id, control) in r.controls]
            lines.append(f"| {control} | {title} | {', '.join(ids) or '-'} |\n")
    return "".join(lines)


if __name__ == "__main__":
    print(render(), end="")
