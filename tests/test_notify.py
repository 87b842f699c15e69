"""[[notify]]: the findings a scan or an event opens reach a webhook (a local HTTP receiver,
as Slack's incoming webhooks take JSON) and an SNS topic (moto's, read back through an SQS
subscription), at or above each target's severity; hostile text stays text; the webhook's
URL never reaches a log."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import boto3
import pytest

from tests.support import make_group, public_policy
from tests.support_events import api_call, send

REGION = "us-east-1"
SECRET = "T0000/B0000/XXXXSECRETXXXX"


class Receiver:
    """A webhook on loopback: records each POST's JSON, answers `status`."""

    def __init__(self, status: int = 200):
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers["Content-Length"])
                outer.bodies.append(json.loads(self.rfile.read(length)))
                outer.paths.append(self.path)
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *_):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/{SECRET}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _config(tmp_path, text: str) -> str:
    path = tmp_path / "notify.toml"
    path.write_text(f'[aws]\nregions = ["{REGION}"]\n' + text)
    return str(path)


def test_a_scan_s_new_findings_reach_the_webhook_escaped_and_once(
    standin, sm, mpscan, db_url, tmp_path, receiver, monkeypatch
):
    monkeypatch.setenv("MPSCAN_TEST_HOOK", receiver.url)
    config = _config(
        tmp_path,
        '[[notify]]\nname = "security"\ntype = "webhook"\nurl_env = "MPSCAN_TEST_HOOK"\n'
        'min_severity = "high"\n',
    )
    make_group(
        sm[REGION], "g", 2, ModelPackageDescription="<!channel> see <http://evil.example|here>"
    )

    result = mpscan("-vvv", "scan", "--db", db_url, "--config", config)

    assert result.exit_code == 0, result.stderr
    assert len(receiver.bodies) == 1
    body = receiver.bodies[0]
    assert body["text"].startswith("mpscan: 2 findings opened by scan 1 (2 high)")
    listed = "\n".join(b["text"]["text"] for b in body["blocks"])
    assert listed.count("[high] MP-001 new") == 2  # no KMS key; medium ones are below
    assert "MP-002" not in listed and "<!channel>" not in json.dumps(body)
    assert SECRET not in result.stderr and SECRET not in result.stdout  # at -vvv too
    assert "notified security: 2 findings opened by scan 1" in result.stderr

    again = mpscan("scan", "--db", db_url, "--config", config)  # nothing new: no message
    assert again.exit_code == 0
    assert len(receiver.bodies) == 1


def test_sns_gets_the_digest_and_a_failing_webhook_changes_nothing(
    standin, sm, mpscan, db_url, tmp_path
):
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="mpscan")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    broken = Receiver(status=500)
    config = _config(
        tmp_path,
        f'[[notify]]\nname = "ops"\ntype = "sns"\ntopic_arn = "{topic}"\nmin_severity = "info"\n'
        "digest_after = 3\n"
        f'[[notify]]\nname = "down"\ntype = "webhook"\nurl = "{broken.url}"\n',
    )
    make_group(sm[REGION], "g", 2)
    try:
        result = mpscan("scan", "--db", db_url, "--config", config)
    finally:
        broken.close()

    assert result.exit_code == 0, result.stderr
    assert "notification not sent: webhook 'down' (127.0.0.1) answered HTTP 500" in result.stderr
    assert SECRET not in result.stderr
    (message,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    envelope = json.loads(message["Body"])
    assert envelope["Subject"].startswith("mpscan: ")
    text = envelope["Message"]
    assert len([line for line in text.splitlines() if line.startswith("[")]) == 3
    assert "more not listed; by rule: MP-001 2" in text


def test_an_event_s_new_finding_is_sent_as_it_is_applied(
    standin, sm, mpscan, db_url, tmp_path, receiver
):
    client = sm[REGION]
    client.create_model_package_group(ModelPackageGroupName="open")
    config = _config(
        tmp_path,
        "[listen]\nwait_seconds = 0\n"
        f'[[notify]]\nname = "sec"\ntype = "webhook"\nurl = "{receiver.url}"\n'
        'min_severity = "critical"\n',
    )
    assert mpscan("scan", "--db", db_url, "--config", config).exit_code == 0
    assert receiver.bodies == []  # nothing critical yet
    client.put_model_package_group_policy(
        ModelPackageGroupName="open", ResourcePolicy=json.dumps(public_policy(REGION, "open"))
    )
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="events")["QueueUrl"]
    send(
        sqs, url, api_call("PutModelPackageGroupPolicy", REGION, {"modelPackageGroupName": "open"})
    )

    result = mpscan("listen", "--drain", "--queue-url", url, "--db", db_url, "--config", config)

    assert result.exit_code == 0, result.stderr
    (body,) = receiver.bodies
    assert "opened by event" in body["text"] and "PutModelPackageGroupPolicy" in body["text"]
    assert "MPG-001 new" in json.dumps(body)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('name = "a"\ntype = "webhook"\n', "a webhook needs exactly one of 'url' or 'url_env'"),
        ('name = "a"\ntype = "sns"\n', "'notify[0].topic_arn' (an SNS topic ARN) is required"),
        (
            'name = "a"\ntype = "sns"\ntopic_arn = "arn:aws:sns:us-east-1:1:x"\n',
            "'notify[0].topic_arn' must be an SNS topic ARN",
        ),
        (
            'name = "a"\ntype = "webhook"\nurl = "https://x"\nmin_severity = "urgent"\n',
            "'notify[0].min_severity' must be one of critical, high, medium, low, info",
        ),
        ('name = "a"\ntype = "email"\n', "'notify[0].type' must be webhook or sns"),
    ],
)
def test_bad_targets_are_config_errors(mpscan, tmp_path, table, message):
    config = tmp_path / "bad.toml"
    config.write_text("[[notify]]\n" + table)
    result = mpscan("scan", "--config", str(config), "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.exit_code == 2
    assert message in result.stderr, result.stderr
