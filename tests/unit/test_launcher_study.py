"""``make run-study``'s pieces: development keys derived stably, the links it prints, the study file's slug."""

from __future__ import annotations

import pytest

from launcher.__main__ import main
from launcher.services import ServiceError
from launcher.study import DEMO_STUDY, study_env, study_links, study_slug


def test_the_development_keys_are_derived_stably_and_never_replace_set_ones():
    one, two = {"DJANGO_SECRET_KEY": "k" * 50}, {"DJANGO_SECRET_KEY": "k" * 50}
    study_env(one)
    study_env(two)
    assert one == two and len(one["STUDIES_ID_KEY"]) == 64 and one["STUDIES_ID_KEY"] != one["RASA_API_TOKEN"]
    kept = {"DJANGO_SECRET_KEY": "k" * 50, "STUDIES_ID_KEY": "mine"}
    study_env(kept)
    assert kept["STUDIES_ID_KEY"] == "mine"
    other = {"DJANGO_SECRET_KEY": "j" * 50}
    study_env(other)
    assert other["STUDIES_ID_KEY"] != one["STUDIES_ID_KEY"]


def test_the_links_name_the_participant_page_and_the_admin():
    text = study_links("http://127.0.0.1:8000/", "demo", "pw123")
    assert "http://127.0.0.1:8000/study/demo/\n" in text and "PROLIFIC_PID=" in text
    assert "http://127.0.0.1:8000/admin/studies/study/" in text and "admin / pw123" in text
    assert "pw123" not in study_links("http://127.0.0.1:8000/", "demo", None)


def test_the_demo_study_has_a_slug_and_a_bad_file_is_named(tmp_path):
    assert study_slug(DEMO_STUDY) == "demo"
    bad = tmp_path / "s.yml"
    bad.write_text("title: no slug\n", encoding="utf-8")
    with pytest.raises(ServiceError, match="no slug"):
        study_slug(bad)
    with pytest.raises(ServiceError, match="cannot read"):
        study_slug(tmp_path / "missing.yml")


def test_run_study_is_a_command_with_its_help(capsys):
    with pytest.raises(SystemExit) as done:
        main(["run-study", "--help"])
    assert done.value.code == 0
    assert "--study" in capsys.readouterr().out
