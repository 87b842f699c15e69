"""The deploy files (docs/deploy) are valid for their consumers: the Kubernetes manifests
against Kubernetes' own schemas (kubernetes-validate, offline) and Pod Security
"restricted", the systemd unit with systemd-analyze; probes use /healthz."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "docs" / "deploy"
K8S_VERSION = "1.33.0"


def manifests() -> list[dict]:
    return [d for d in yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text()) if d]


def pod_specs() -> list[tuple[str, dict]]:
    found = []
    for doc in manifests():
        if doc["kind"] == "Deployment":
            found.append((doc["metadata"]["name"], doc["spec"]["template"]["spec"]))
        elif doc["kind"] == "CronJob":
            spec = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            found.append((doc["metadata"]["name"], spec))
    return found


@pytest.mark.parametrize("doc", manifests(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_each_manifest_is_valid_for_kubernetes(doc):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)  # raises on an error


def test_pods_meet_pod_security_restricted_and_probe_healthz():
    specs = pod_specs()
    assert {name for name, _ in specs} == {"mpscan", "mpscan-scan"}
    for name, spec in specs:
        pod = spec.get("securityContext", {})
        assert pod.get("runAsNonRoot") is True, name
        assert pod.get("seccompProfile", {}).get("type") in ("RuntimeDefault", "Localhost")
        for container in spec["containers"]:
            sc = container.get("securityContext", {})
            assert sc.get("allowPrivilegeEscalation") is False, name
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], name
            assert container["resources"]["requests"] and container["resources"]["limits"]
            for probe in ("readinessProbe", "livenessProbe"):
                if probe in container:
                    assert container[probe]["httpGet"]["path"] == "/healthz", (name, probe)


def test_the_systemd_unit_verifies_and_its_report_folder_is_writable(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: systemd)")
    unit = (DEPLOY / "mpscan.service").read_text()
    mpscan = shutil.which("mpscan")
    assert mpscan, "the mpscan command is installed by pip install -e ."
    # the binary the unit names may not exist here: verify the unit with this one instead
    copy = tmp_path / "mpscan.service"
    copy.write_text(unit.replace("/usr/local/bin/mpscan", mpscan))
    verified = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    writable = [
        line.split("=", 1)[1].strip()
        for line in unit.splitlines()
        if line.startswith(("ReadWritePaths=", "StateDirectory="))
    ]
    writable = ["/var/lib/" + w if not w.startswith("/") else w for w in writable]
    documented = Path(__file__).resolve().parents[1] / "docs" / "operations.md"
    assert 'output_dir = "/var/lib/mpscan/reports"' in documented.read_text()
    assert any("/var/lib/mpscan/reports".startswith(w) for w in writable)
