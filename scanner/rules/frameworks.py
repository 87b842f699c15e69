"""The frameworks auditors ask about, and the controls mpscan's rules support: data.

Each framework names its source (the official document) and the controls rules map to,
with their titles as that document words them. AWS's own guidance is the Well-Architected
Machine Learning Lens (best practices with stable ids and pages); the AWS AI Security
Framework (2026) publishes no control catalogue with ids to cite, so it is not here. A rule
lists the controls it supports in its metadata (`controls`), checked against this table
when it is registered. A mapping says the rule gives evidence for the control, never that
passing the rule meets it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Framework:
    id: str
    name: str
    source: str  # the document, as cited
    url: str
    controls: dict[str, str]  # control id -> its title in the source


FRAMEWORKS: dict[str, Framework] = {
    f.id: f
    for f in (
        Framework(
            "nist-ai-rmf",
            "NIST AI Risk Management Framework 1.0",
            "NIST AI 100-1, Artificial Intelligence Risk Management Framework (AI RMF 1.0), "
            "January 2023, Tables 1 to 4",
            "https://doi.org/10.6028/NIST.AI.100-1",
            {
                "GOVERN 1.6": "Mechanisms are in place to inventory AI systems and are "
                "resourced according to organizational risk priorities.",
                "MEASURE 2.1": "Test sets, metrics, and details about the tools used during "
                "TEVV are documented.",
                "MEASURE 2.7": "AI system security and resilience – as identified in the MAP "
                "function – are evaluated and documented.",
                "MANAGE 4.1": "Post-deployment AI system monitoring plans are implemented, "
                "including mechanisms for capturing and evaluating input from users and "
                "other relevant AI actors, appeal and override, decommissioning, incident "
                "response, recovery, and change management.",
            },
        ),
        Framework(
            "iso-42001",
            "ISO/IEC 42001:2023 Annex A",
            "ISO/IEC 42001:2023, Information technology — Artificial intelligence — "
            "Management system, Annex A (normative), Reference control objectives and controls",
            "https://www.iso.org/standard/81230.html",
            {
                "A.6.2.4": "AI system verification and validation",
                "A.6.2.5": "AI system deployment",
                "A.6.2.6": "AI system operation and monitoring",
                "A.6.2.7": "AI system technical documentation",
                "A.7.5": "Data provenance",
            },
        ),
        Framework(
            "eu-ai-act",
            "EU AI Act",
            "Regulation (EU) 2024/1689 of the European Parliament and of the Council of "
            "13 June 2024 laying down harmonised rules on artificial intelligence",
            "https://eur-lex.europa.eu/eli/reg/2024/1689/oj",
            {
                "Art. 11": "Technical documentation",
                "Art. 15": "Accuracy, robustness and cybersecurity",
                "Art. 17": "Quality management system",
                "Art. 72": "Post-market monitoring by providers and post-market monitoring "
                "plan for high-risk AI systems",
            },
        ),
        Framework(
            "soc2",
            "SOC 2 (Trust Services Criteria)",
            "AICPA, 2017 Trust Services Criteria for Security, Availability, Processing "
            "Integrity, Confidentiality, and Privacy (with revised points of focus, 2022)",
            "https://www.aicpa-cima.com/resources/download/2017-trust-services-criteria-with-revised-points-of-focus-2022",
            {
                "CC6.1": "The entity implements logical access security software, "
                "infrastructure, and architectures over protected information assets to "
                "protect them from security events to meet the entity's objectives.",
                "CC8.1": "The entity authorizes, designs, develops or acquires, configures, "
                "documents, tests, approves, and implements changes to infrastructure, data, "
                "software, and procedures to meet its objectives.",
            },
        ),
        Framework(
            "aws-ml-lens",
            "AWS Well-Architected Machine Learning Lens",
            "AWS Well-Architected Framework, Machine Learning Lens: best practices of its "
            "Security (MLSEC) and Operational Excellence (MLOPS) pillars, each on a page named "
            "by its id in lower case (machine-learning-lens/mlsec03-bp01.html)",
            "https://docs.aws.amazon.com/wellarchitected/latest/machine-learning-lens/"
            "machine-learning-lens.html",
            {
                "MLSEC02-BP01": "Design data encryption and obfuscation",
                "MLSEC03-BP01": "Provide least privilege access",
                "MLSEC03-BP04": "Enforce data lineage",
                "MLOPS04-BP01": "Automate operations through MLOps and CI/CD",
            },
        ),
    )
}


def unknown(controls: tuple[tuple[str, str], ...]) -> list[str]:
    """The (framework, control) pairs this table does not hold, as text."""
    return [
        f"{framework} {control}"
        for framework, control in controls
        if control not in getattr(FRAMEWORKS.get(framework), "controls", {})
    ]
