"""Where settings come from (options, AWS_* variables, profiles, the config file), and how a
user learns that one is wrong: endpoints for a local stand-in, regions, profiles, bad values."""

from __future__ import annotations

import re
import shlex
import socket
from pathlib import Path

import pytest

from scanner.cli import cli
from tests.conftest import query

ROOT = Path(__file__).resolve().parents[1]
CLOSED_PORT = "http://127.0.0.1:1"  # nothing listens: a connection fails at once, locally
HINT = "set AWS_ENDPOINT_URL_STS (or AWS_ENDPOINT_URL) to your stand-in's endpoint"


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def scanned_regions(db: str = "sqlite:///mpscan.db") -> set[str]:
    return {r[0] for r in query(db, "SELECT region FROM scan_regions")}


def documentation() -> dict[str, str]:
    return {
        "README.md": (ROOT / "README.md").read_text(),
        "config.example.toml": (ROOT / "config.example.toml").read_text(),
        "mpscan --help": cli.help or "",
        "mpscan scan --help": cli.commands["scan"].help or "",
    }


def test_docs_never_point_only_sagemaker_at_a_stand_in():
    for name, text in documentation().items():
        for paragraph in re.split(r"\n\s*\n", text):
            if "AWS_ENDPOINT_URL_SAGEMAKER" in paragraph:
                assert "AWS_ENDPOINT_URL_STS" in paragraph, f"{name}: {paragraph}"


def test_documented_stand_in_examples_work(standin, mpscan, monkeypatch):
    examples = {
        name: [
            line.split("#")[0].strip()
            for line in text.splitlines()
            if "AWS_ENDPOINT_URL" in line and "mpscan scan" in line
        ]
        for name, text in documentation().items()
    }
    assert examples["README.md"], "the README shows no scan of a local stand-in"
    for example in sum(examples.values(), []):
        monkeypatch.delenv("AWS_ENDPOINT_URL")
        words = shlex.split(example.replace("http://localhost:5000", standin.url))
        while "=" in words[0]:
            name, _, value = words.pop(0).partition("=")
            monkeypatch.setenv(name, value)
        assert words[0] == "mpscan", example
        result = mpscan(*words[1:], "-q")
        assert result.exit_code == 0, f"{example}: {result.stderr}"


@pytest.mark.parametrize(("sts_setting", "hinted"), [(None, True), ("AWS_ENDPOINT_URL_STS", False)])
def test_unreachable_sts_with_only_a_sagemaker_endpoint_names_the_setting(
    standin, mpscan, monkeypatch, tmp_path, sts_setting, hinted
):
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER", standin.url)
    # STS has no endpoint of its own in the environment; the profile sends it to a closed port
    # (as good as AWS's own from a machine without network, and never leaves this one).
    (tmp_path / "no-aws-config").write_text(f"[default]\nendpoint_url = {CLOSED_PORT}\n")
    if sts_setting:
        monkeypatch.setenv(sts_setting, CLOSED_PORT)

    result = mpscan("scan", "--regions", "us-east-1", "--max-attempts", "1")

    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert line.startswith("mpscan: aws error: cannot identify the account")
    assert (HINT in line) is hinted


@pytest.fixture
def silent_endpoint():
    """A local endpoint that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("quiet", [False, True])
def test_a_slow_account_lookup_is_announced_unless_quiet(
    standin, mpscan, monkeypatch, silent_endpoint, quiet
):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", silent_endpoint)
    Path("mpscan.toml").write_text("[aws]\nread_timeout = 1.5\n")  # longer than the notice's wait

    result = mpscan("scan", "--regions", "us-east-1", "--max-attempts", "1", *(["-q"] * quiet))

    assert result.exit_code == 1
    *notices, error = result.stderr.splitlines()
    assert error.startswith("mpscan: aws error: cannot identify the account")
    if quiet:
        assert notices == []
    else:
        assert len(notices) == 1 and notices[0].startswith("mpscan: identifying the account…")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"AWS_REGION": "eu-west-1"}, "eu-west-1"),
        ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1"}, "eu-west-1"),
        ({"AWS_DEFAULT_REGION": "eu-west-1"}, "eu-west-1"),
    ],
)
def test_region_from_the_environment(standin, mpscan, monkeypatch, env, expected):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = mpscan("scan", "-q")
    assert result.exit_code == 0, result.stderr
    assert scanned_regions() == {expected}


@pytest.mark.parametrize(
    ("args", "expected"),
    [([], "eu-west-1"), (["--profile", "team"], "us-east-1")],
    ids=["AWS_PROFILE beats the config", "--profile beats AWS_PROFILE"],
)
def test_profile_precedence(standin, mpscan, monkeypatch, tmp_path, args, expected):
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # each profile's own region says which was used
    (tmp_path / "no-aws-config").write_text(
        "[profile team]\nregion = us-east-1\n[profile mine]\nregion = eu-west-1\n"
    )
    (tmp_path / "no-aws-credentials").write_text(
        "[team]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
        "[mine]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    Path("mpscan.toml").write_text("[aws]\nprofile = 'team'\n")
    monkeypatch.setenv("AWS_PROFILE", "mine")
    result = mpscan("scan", "-q", *args)
    assert result.exit_code == 0, result.stderr
    assert scanned_regions() == {expected}


@pytest.mark.parametrize(
    ("env", "args", "account"),
    [({"AWS_PROFILE": "mine"}, [], "123456789012"), ({}, ["--profile", "mine"], "111111111111")],
    ids=["AWS_PROFILE yields to the key variables", "--profile beats them"],
)
def test_credentials_precedence(standin, mpscan, monkeypatch, tmp_path, env, args, account):
    # The stand-in takes a 12-digit access key id as the account it acts for.
    (tmp_path / "no-aws-config").write_text("[profile mine]\nregion = us-east-1\n")
    (tmp_path / "no-aws-credentials").write_text(
        "[mine]\naws_access_key_id = 111111111111\naws_secret_access_key = testing\n"
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = mpscan("scan", "--regions", "us-east-1", *args)
    assert result.exit_code == 0, result.stderr
    assert f"account {account}" in result.stdout


def test_unknown_profile_from_the_environment_is_named(standin, mpscan, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "nobody")
    result = mpscan("scan", "--regions", "us-east-1")
    assert result.exit_code == 2
    assert "'nobody' not found" in one_line(result.stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--concurrency", "0"], "--concurrency must be between 1 and 256, got 0"),
        (["--max-attempts", "101"], "--max-attempts must be between 1 and 100, got 101"),
        (["--max-rate", "-1"], "--max-rate must be 0 or more, got -1.0"),
    ],
)
def test_a_bad_option_value_names_the_option(standin, mpscan, args, message):
    result = mpscan("scan", "--regions", "us-east-1", *args)
    assert result.exit_code == 2
    assert one_line(result.stderr) == f"mpscan: usage error: {message}"
    assert not Path("mpscan.db").exists()


def test_a_bad_config_value_still_names_the_key(standin, mpscan):
    Path("mpscan.toml").write_text("[aws]\nconcurrency = 0\n")
    result = mpscan("scan", "--regions", "us-east-1", "--max-rate", "1")
    assert result.exit_code == 2
    assert one_line(result.stderr).startswith("mpscan: config error: 'aws.concurrency'")
