import re
from pathlib import Path

import pytest

import settings
from alerts.registry import rule_models
from collectors import registry
from collectors.registry import settings_models
from collectors.replay import ReplaySettings

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_settings_load_and_describe_the_demo():
    s = registry.load(ROOT / "settings.toml")
    assert s.agency and s.zone
    demo = s.sources["demo"]
    assert isinstance(demo, ReplaySettings) and demo.enabled and demo.drives_clock
    assert s.db_path == ROOT / "data" / "civicradar.duckdb"


def test_sources_stay_as_written_until_the_registry_types_them():
    s = settings.load(ROOT / "settings.toml")
    demo = s.sources["demo"]
    assert isinstance(demo, settings.SourceTable) and demo.kind == "replay" and demo.enabled
    assert demo.table()["speed"] == registry.typed(s).sources["demo"].speed  # type: ignore[attr-defined]
    assert registry.typed(registry.typed(s)) == registry.typed(s)


def test_a_source_needs_a_table_and_a_kind(write_settings):
    with pytest.raises(settings.SettingsError, match=r"sources.a: expected a table"):
        settings.load(write_settings('sources.a = 3\n'))
    with pytest.raises(settings.SettingsError, match=r"sources.b.kind: Field required"):
        settings.load(write_settings('[sources.b]\nenabled = true\n'))


def test_defaults_apply_to_an_empty_file(write_settings):
    s = settings.load(write_settings(""))
    assert s.server.host == "127.0.0.1" and s.server.port == 8765
    assert s.sources == {} and s.watches == ()


def test_unknown_key_names_file_and_key(write_settings):
    path = write_settings("[server]\nprot = 1\n")
    with pytest.raises(settings.SettingsError, match=rf"{re.escape(str(path))}: server.prot: unknown key"):
        settings.load(path)


def test_wrong_type_names_the_expected_type(write_settings):
    path = write_settings('[server]\nport = "eighty"\n')
    with pytest.raises(settings.SettingsError, match=r"server.port: .*integer.*'eighty'"):
        settings.load(path)


def test_source_errors_are_prefixed_with_the_source(write_settings):
    path = write_settings('[sources.a]\nkind = "replay"\npath = "x.jsonl"\nspeed = "fast"\nextra = 1\n')
    with pytest.raises(settings.SettingsError) as info:
        registry.load(path)
    message = str(info.value)
    assert "sources.a.speed" in message and "sources.a.extra: unknown key" in message


def test_unknown_source_kind_lists_the_known_ones(write_settings):
    with pytest.raises(settings.SettingsError, match=r"sources.a.kind: expected one of .*replay.*'carrier-pigeon'"):
        registry.load(write_settings('[sources.a]\nkind = "carrier-pigeon"\n'))


def test_bad_toml_and_missing_file(write_settings, tmp_path):
    with pytest.raises(settings.SettingsError, match="not valid TOML"):
        settings.load(write_settings("[server\n"))
    with pytest.raises(settings.SettingsError, match="not found"):
        settings.load(tmp_path / "nope.toml")


def test_bad_time_zone(write_settings):
    with pytest.raises(settings.SettingsError, match="unknown time zone"):
        settings.load(write_settings('timezone = "Mars/Olympus"\n'))


def test_missing_secret_names_the_variable(write_settings, monkeypatch):
    monkeypatch.delenv("CR_TEST_TOKEN", raising=False)
    s = settings.load(write_settings('[server]\ntoken = { env = "CR_TEST_TOKEN" }\n'))
    with pytest.raises(settings.SettingsError, match=r"CR_TEST_TOKEN is not set .*server.token"):
        s.check_secrets()
    monkeypatch.setenv("CR_TEST_TOKEN", "s3cret")
    s.check_secrets()
    assert s.server.token is not None and s.server.token.get("x") == "s3cret"


def _fields(model: type) -> set[str]:
    return {name for name in model.model_fields if name not in ("file", "sources", "kind", "rules")}


def test_every_setting_is_documented_in_the_shipped_file():
    text = (ROOT / "settings.toml").read_text()
    sections = re.findall(r"^(?:# [^\[\n]*)?\[+([a-z_.]+)", text, re.M)  # also "# A webhook: [[alerts.webhooks]]"
    documented = set(re.findall(r"^#?\s*([a-z_]+)\s*=", text, re.M)) | {p for s in sections for p in s.split(".")}
    models = [settings.Settings, settings.ServerSettings, settings.StorageSettings, settings.DashboardSettings,
              settings.ClassifySettings, settings.LabelSettings, settings.AlertSettings, settings.DigestSettings,
              settings.RetentionSettings,
              *rule_models().values(), settings.WebhookSettings, settings.EmailRuleSettings, settings.SmtpSettings,
              settings.WatchSettings, settings.TopicSettings, settings.IncidentSettings, settings.IncidentTargets,
              settings.TargetSettings, *settings_models().values()]
    missing = {f"{m.__name__}.{f}" for m in models for f in _fields(m) if f not in documented}
    assert not missing, f"settings.toml does not document: {sorted(missing)}"
