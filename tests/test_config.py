"""Configuration comes from the environment; the secret key is never a literal in the repo."""

import pytest

import config


def test_secret_key_is_generated_once_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config.load_secret_key(tmp_path)
    second = config.load_secret_key(tmp_path)
    assert first == second
    assert len(first.encode()) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_secret_key_from_environment_must_be_long_enough(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(RuntimeError):
        config.load_secret_key(tmp_path)
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    assert config.load_secret_key(tmp_path) == "x" * 40


def test_database_url_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert config.database_url() == "postgresql+psycopg://u@h/db"
    monkeypatch.delenv("DATABASE_URL")
    assert config.database_url().startswith("sqlite:///")


def test_zh_is_the_default_locale():
    assert config.Config.BABEL_DEFAULT_LOCALE == "zh"
    assert set(config.Config.LANGUAGES) == {"zh", "en"}
