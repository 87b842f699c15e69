"""Notifications: findings a scan or an event opened, sent where teams already look (a
webhook taking Slack's JSON, an SNS topic). `message` shapes them (pure), `send` sends."""
