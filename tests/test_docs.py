"""The documentation keeps up with the code: every setting, error and public name is named."""

from __future__ import annotations

from pathlib import Path

import pytest

import ticketland_vibe as tv
from ticketland_vibe import errors

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name", list(tv.PublisherSettings.model_fields))
def test_every_setting_and_its_environment_variable_is_documented(name: str) -> None:
    assert f"`{name}`" in README
    assert f"TICKETLAND_VIBE_{name.upper()}" in README


@pytest.mark.parametrize("name", [n for n in errors.__all__ if n not in ("Problem", "VibeError")])
def test_every_error_is_documented(name: str) -> None:
    assert f"`{name}`" in README


def test_changelog_names_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{tv.__version__}]" in changelog


def test_the_public_api_is_listed_in_all() -> None:
    for name in tv.__all__:
        assert hasattr(tv, name), name
    for name in ("publish_event", "publish_order", "publish_refund", "VibePublisher", "decode"):
        assert name in tv.__all__


def test_the_quick_start_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's first Python block, pointed at an embedded mock cluster."""
    from confluent_kafka.admin import AdminClient

    holder = AdminClient({"test.mock.num.brokers": 1})
    brokers = holder.list_topics(timeout=10).brokers.values()
    mock = tv.PublisherSettings(
        bootstrap_servers=",".join(f"{broker.host}:{broker.port}" for broker in brokers)
    )
    real_configure = tv.configure
    monkeypatch.setattr(tv, "configure", lambda _settings: real_configure(mock))
    block = README.split("```python\n", 1)[1].split("```", 1)[0]
    try:
        exec(compile(block, "README.md", "exec"), {})
        publisher = tv.default_publisher()
        assert publisher.settings is mock
        assert len(publisher.ledger.fingerprints(["ev-1001"])) == 1
    finally:
        real_configure(mock)
