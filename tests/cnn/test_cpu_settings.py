"""The per-machine CPU settings: the decision, the cache, the user's variable, with injected timings."""

from __future__ import annotations

import pytest

from mnistlab.cnn import cpu_settings
from mnistlab.cnn.cpu_settings import CACHE_FILE, SETTINGS, choose, describe_backend, settings_in_force

ONEDNN = SETTINGS["tensorflow"][0]


class FakeMeasure:
    """Injected timings: {value: seconds}; counts the calls."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds, self.calls = seconds, []

    def __call__(self, backend: str, variable: str, value: str) -> float:
        self.calls.append((backend, variable, value))
        return self.seconds[value]


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    monkeypatch.setattr(cpu_settings, "_applied", set())


def test_choose_keeps_the_default_unless_clearly_faster():
    assert choose(ONEDNN, {"0": 12.1, "1": 9.0}) == "1"
    assert choose(ONEDNN, {"0": 9.0, "1": 12.1}) == "0"
    assert choose(ONEDNN, {"0": 10.0, "1": 9.7}) == "0"  # 3% is within the noise margin
    assert choose(ONEDNN, {"0": 10.0, "1": 9.7}, margin=0.01) == "1"


def test_measures_once_then_uses_the_cache(tmp_path):
    env: dict[str, str] = {}
    fake = FakeMeasure({"0": 12.1, "1": 9.0})
    first = settings_in_force("tensorflow", measure=True, measure_fn=fake, cache_dir=tmp_path, environ=env)
    assert [(s.variable, s.value, s.source) for s in first] == [("TF_ENABLE_ONEDNN_OPTS", "1", "measured")]
    assert env == {"TF_ENABLE_ONEDNN_OPTS": "1"}
    assert len(fake.calls) == 2 and (tmp_path / CACHE_FILE).exists()
    cpu_settings._applied.clear()  # a new process on the same machine
    env2: dict[str, str] = {}
    again = settings_in_force("tensorflow", measure=True, measure_fn=fake, cache_dir=tmp_path, environ=env2)
    assert len(fake.calls) == 2  # not measured again
    assert (again[0].value, again[0].source, again[0].seconds) == ("1", "cached", {"0": 12.1, "1": 9.0})
    assert env2 == {"TF_ENABLE_ONEDNN_OPTS": "1"}
    assert "measured on this machine: 0 12.10 s, 1 9.00 s" in again[0].describe()


def test_the_users_variable_wins_and_is_not_measured(tmp_path):
    env = {"TF_ENABLE_ONEDNN_OPTS": "0"}
    fake = FakeMeasure({"0": 12.1, "1": 9.0})
    rows = settings_in_force("tensorflow", measure=True, measure_fn=fake, cache_dir=tmp_path, environ=env)
    assert (rows[0].value, rows[0].source) == ("0", "user") and fake.calls == []
    assert env == {"TF_ENABLE_ONEDNN_OPTS": "0"}
    assert "set by you" in rows[0].describe()


def test_without_measuring_nothing_is_set(tmp_path):
    env: dict[str, str] = {}
    rows = settings_in_force("tensorflow", measure=False, measure_fn=FakeMeasure({}), cache_dir=tmp_path, environ=env)
    assert (rows[0].value, rows[0].source) == (None, "default") and env == {}


def test_a_changed_machine_measures_again(tmp_path, monkeypatch):
    fake = FakeMeasure({"0": 5.0, "1": 9.0})
    settings_in_force("tensorflow", measure=True, measure_fn=fake, cache_dir=tmp_path, environ={})
    monkeypatch.setattr(cpu_settings, "package_versions", lambda names: {n: "99.0" for n in names})  # an upgrade
    cpu_settings._applied.clear()
    env: dict[str, str] = {}
    rows = settings_in_force("tensorflow", measure=True, measure_fn=fake, cache_dir=tmp_path, environ=env)
    assert len(fake.calls) == 4 and rows[0].source == "measured" and env["TF_ENABLE_ONEDNN_OPTS"] == "0"


def test_a_damaged_cache_is_measured_again(tmp_path):
    (tmp_path / CACHE_FILE).write_text("{not json")
    fake = FakeMeasure({"0": 12.0, "1": 6.0})
    rows = settings_in_force("tensorflow", measure=True, measure_fn=fake, cache_dir=tmp_path, environ={})
    assert rows[0].value == "1" and len(fake.calls) == 2


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_backends_without_a_setting_say_so(backend, tmp_path):
    rows = settings_in_force(backend, measure=True, measure_fn=FakeMeasure({}), cache_dir=tmp_path, environ={})
    assert rows == []
    assert "no documented" in describe_backend(backend, rows)
