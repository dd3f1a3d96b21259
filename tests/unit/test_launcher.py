"""The launcher: .env generation and the training fingerprint."""

from __future__ import annotations

import stat

import pytest

from launcher.build import copy_bot_sources, fingerprint
from launcher.envfile import ensure_env_file, read_env_file


def test_env_file_is_generated_once_with_secrets(tmp_path):
    path = tmp_path / ".env"
    assert ensure_env_file(path) is True
    first = read_env_file(path)
    assert len(first["DJANGO_SECRET_KEY"]) >= 50 and len(first["RASA_JWT_SECRET"]) >= 50
    assert first["DJANGO_SECRET_KEY"] != first["RASA_JWT_SECRET"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_env_file(path) is False
    assert read_env_file(path) == first  # kept, not regenerated


def test_env_file_rejects_malformed_lines(tmp_path):
    path = tmp_path / ".env"
    path.write_text("GOOD=1\nthis is not a setting\n")
    with pytest.raises(ValueError, match=r"\.env:2"):
        read_env_file(path)


def test_fingerprint_follows_training_inputs_only(tmp_path):
    bot = copy_bot_sources(tmp_path / "bot")
    before = fingerprint(bot)
    (bot / "actions" / "extra.py").write_text("# not a training input\n")
    assert fingerprint(bot) == before
    (bot / "data" / "custom" / "more.yml").write_text('version: "3.1"\n')
    assert fingerprint(bot) != before


@pytest.mark.parametrize("api_token", ["-starts-with-a-dash", "plain_token"])
def test_rasa_gets_its_api_token_as_one_argument(tmp_path, api_token):
    """Tokens are URL-safe base64 and one in 64 starts with "-": argparse must not take it for an option."""
    from rasa.__main__ import create_argument_parser

    from launcher.services import StackConfig, make_services

    cfg = StackConfig(
        bot_dir=tmp_path,
        model=tmp_path / "model.tar.gz",
        log_dir=tmp_path / "logs",
        env={"RASA_API_TOKEN": api_token},
        rasa_port=5005,
        actions_port=5055,
        django_port=8000,
    )
    rasa = next(s for s in make_services(cfg) if s.name == "Rasa server")
    args = create_argument_parser().parse_args(rasa.cmd[1:])
    assert args.enable_api and args.auth_token == api_token


def _services(tmp_path, **env):
    from launcher.services import StackConfig, make_services

    cfg = StackConfig(
        bot_dir=tmp_path,
        model=tmp_path / "model.tar.gz",
        log_dir=tmp_path / "logs",
        env=env,
        rasa_port=5005,
        actions_port=5055,
        django_port=8000,
    )
    return {s.name: s for s in make_services(cfg)}


def test_rasa_workers_reach_rasa_only(tmp_path):
    services = _services(tmp_path, RASA_WORKERS="2")
    assert services["Rasa server"].env["SANIC_WORKERS"] == "2"
    assert "SANIC_WORKERS" not in services["action server"].env
    # the lock store that lets Rasa run several workers has its file beside the other state
    assert services["Rasa server"].env["RASA_LOCK_DB"] == str(tmp_path / "locks.sqlite3")
    assert _services(tmp_path)["Rasa server"].env["SANIC_WORKERS"] == "1"


@pytest.mark.parametrize("bad", ["two", "0", "-1", "1.5", "1000"])
def test_bad_worker_count_is_a_clear_error(tmp_path, bad):
    from launcher.services import ServiceError

    with pytest.raises(ServiceError, match="RASA_WORKERS must be a whole number"):
        _services(tmp_path, RASA_WORKERS=bad)


def test_bad_worker_count_stops_make_run_before_any_work(tmp_path, monkeypatch, capsys):
    import launcher.__main__ as cli

    monkeypatch.setenv("RASA_WORKERS", "many")
    monkeypatch.setattr(cli, "cmd_build", lambda args: pytest.fail("converted and trained despite a bad setting"))
    code = cli.main(["run", "--env-file", str(tmp_path / ".env"), "--state-dir", str(tmp_path / "state")])
    assert code == 1
    assert "RASA_WORKERS must be a whole number from 1 to 64, not 'many'" in capsys.readouterr().err
