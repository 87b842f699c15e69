"""config.example.toml documents every setting, and loads to the defaults; options override."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from pydantic import StrictStr

from scanner.config import SECTIONS, TEXT_ONLY, Settings, override
from scanner.settings_check import load_checked_settings

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def test_example_config_documents_every_setting():
    text = EXAMPLE.read_text()
    for section, cls in SECTIONS.items():
        assert f"[{section}]" in text
        for f in fields(cls):
            assert f"{f.name} =" in text, f"config.example.toml lacks {section}.{f.name}"


def test_example_config_loads_to_the_defaults(monkeypatch):
    monkeypatch.delenv("MPSCAN_DATABASE_URL", raising=False)
    loaded = load_checked_settings(EXAMPLE)
    assert loaded.database == Settings().database
    assert loaded.scan == Settings().scan
    assert loaded.aws.retry_mode == Settings().aws.retry_mode
    assert loaded.aws.concurrency == Settings().aws.concurrency


def test_schema_docs_are_current():
    from scanner.store.docs import render

    docs = EXAMPLE.parent / "docs" / "schema.md"
    assert docs.read_text() == render(), "run: python -m scanner.store.docs > docs/schema.md"


def test_the_sections_taken_as_text_check_nothing_but_text():
    """override() does not validate the settings again for text given to these sections:
    a check added to one of their settings must end that (scanner/config.py, TEXT_ONLY)."""
    for section in TEXT_ONLY:
        cls = SECTIONS[section]
        names = {f.name for f in fields(cls)}
        assert all(f.type is StrictStr for f in fields(cls)), section  # no Annotated checks
        assert {n for n in vars(cls) if not n.startswith("__")} <= names, section  # validators
    settings = override(Settings(), "database", url="postgresql://db/mpscan")
    assert settings.database.url == "postgresql://db/mpscan" and settings.aws == Settings().aws
