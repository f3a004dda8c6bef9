"""Framework CPU settings measured once per machine, cached, and applied before Keras loads.

TensorFlow leaves its oneDNN kernels off by default on CPUs without AVX-512 (and on some with
it), and on an AVX2 EPYC turning them on saved a quarter of a CNN epoch (issue 22). Whether a
setting helps depends on the CPU and the framework version, so it is measured, not guessed:
each value of each documented setting trains a few batches of a small CNN in a fresh process
(`mnistlab.cnn.cpu_probe`: the variables are read when the framework loads), the fastest wins
unless it beats the framework's default by less than `MARGIN`, and the answer is cached per
machine (CPU model, flags and package versions) in the cache directory. A variable the user set
is never changed.

Settings per Keras backend (`SETTINGS`):
- tensorflow: `TF_ENABLE_ONEDNN_OPTS` ("0" / "1"; TensorFlow's documented switch for oneDNN).
- torch: none to measure: PyTorch's CPU convolutions always run through oneDNN (mkldnn), with no
  documented environment switch.
- jax: none to measure: XLA:CPU compiles its own kernels and documents no CPU library switch.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from mnistlab.cpu import cpu_flags
from mnistlab.data.cache import default_cache_dir
from mnistlab.env import cpu_model, package_versions
from mnistlab.errors import ConfigError
from mnistlab.fileio import read_json_object, write_json_atomic
from mnistlab.threads import thread_limit

MARGIN = 0.05
"""A value replaces the framework's default only when it is at least 5% faster (below that, noise)."""

CACHE_FILE = "cpu-settings.json"

_applied: set[str] = set()
"""Variables this process set itself (so a second call does not mistake them for the user's)."""


@dataclass(frozen=True)
class Setting:
    """An environment variable a framework reads when it loads, its values, and the framework's default."""

    variable: str
    values: tuple[str, ...]
    default: str


SETTINGS: dict[str, tuple[Setting, ...]] = {
    "tensorflow": (Setting("TF_ENABLE_ONEDNN_OPTS", ("0", "1"), "0"),),
    "torch": (),
    "jax": (),
}
NO_SETTING = {
    "torch": "PyTorch runs its CPU convolutions through oneDNN always; no documented switch to measure",
    "jax": ("XLA:CPU compiles its own kernels; no documented CPU library switch to measure (its oneDNN "
            "convolutions needed the classic runtime, which jaxlib 0.10 no longer has)"),
}
_PACKAGES = {"tensorflow": ("tensorflow", "tensorflow-cpu"), "torch": ("torch",), "jax": ("jax", "jaxlib")}


@dataclass(frozen=True)
class InForce:
    """A setting's value in this process and where it came from.

    source : "user" (set before mnistlab started), "measured" (now), "cached" (an earlier
        measurement on this machine), or "default" (not measured: the framework decides).
    seconds : the measured seconds per value (empty unless measured or cached).
    """

    variable: str
    value: str | None
    source: str
    seconds: dict[str, float]

    def describe(self) -> str:
        """One line, e.g. "TF_ENABLE_ONEDNN_OPTS=1 (measured on this machine: 0 4.10 s, 1 3.02 s)"."""
        value = self.value if self.value is not None else "unset"
        timings = ", ".join(f"{k} {v:.2f} s" for k, v in self.seconds.items())
        where = {"user": "set by you", "measured": "measured on this machine", "cached": "measured on this machine",
                 "default": "the framework's default; not measured yet"}[self.source]
        return f"{self.variable}={value} ({where}{': ' + timings if timings else ''})"


def machine_key(backend: str) -> str:
    """What the answer depends on: CPU model and flags, Python, Keras and the backend's versions."""
    versions = package_versions(("keras", *_PACKAGES.get(backend, ())))
    text = json.dumps([cpu_model(), sorted(cpu_flags()), sys.version_info[:2], backend, versions], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def choose(setting: Setting, seconds: dict[str, float], margin: float = MARGIN) -> str:
    """The value to use: the fastest, unless the default is within `margin` of it.

    Examples
    --------
    >>> onednn = SETTINGS["tensorflow"][0]
    >>> choose(onednn, {"0": 12.1, "1": 9.0})
    '1'
    >>> choose(onednn, {"0": 10.0, "1": 9.8})
    '0'
    """
    fastest = min(seconds, key=seconds.get)
    default = seconds.get(setting.default)
    if default is not None and default <= seconds[fastest] * (1 + margin):
        return setting.default
    return fastest


def probe_seconds(backend: str, variable: str, value: str, threads: int | None = None) -> float:
    """Seconds of a short CNN training in a fresh process with `variable=value` (the real measurement)."""
    env = {**os.environ, variable: value, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = [sys.executable, "-m", "mnistlab.cnn.cpu_probe", backend]
    if threads is not None:
        cmd.append(str(threads))
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=True)
    return float(out.stdout.strip().splitlines()[-1])


Measure = Callable[[str, str, str], float]
"""(backend, variable, value) -> seconds; tests inject a fake one."""


def settings_in_force(backend: str, *, measure: bool, measure_fn: Measure | None = None,
                      cache_dir: Path | None = None, environ: dict[str, str] | None = None) -> list[InForce]:
    """Decide every setting of `backend`, put the decisions into `environ` (os.environ), and say why.

    A variable already in `environ` is the user's and stays. Otherwise the cached answer for this
    machine is used; without one, `measure=True` measures each value with `measure_fn`
    (default: `probe_seconds`) and caches the answer, and `measure=False` leaves the variable unset.
    Call it before the framework is imported: it reads the variables only when it loads.
    """
    environ = os.environ if environ is None else environ
    path = (cache_dir or default_cache_dir()) / CACHE_FILE
    try:
        cache = read_json_object(path, "cpu settings cache")
    except ConfigError:  # missing or damaged: measure again and rewrite it
        cache = {}
    key = machine_key(backend)
    entry = cache.get(key, {})
    result = []
    for setting in SETTINGS.get(backend, ()):
        if setting.variable in environ and setting.variable not in _applied:
            result.append(InForce(setting.variable, environ[setting.variable], "user", {}))
            continue
        seconds, source = entry.get(setting.variable), "cached"
        if seconds is None and measure:
            run = measure_fn or (lambda b, var, val: probe_seconds(b, var, val, thread_limit()))
            seconds = {value: float(run(backend, setting.variable, value)) for value in setting.values}
            source = "measured"
            cache[key] = entry = {**entry, setting.variable: seconds}
            write_json_atomic(path, cache)
        if seconds is None:
            result.append(InForce(setting.variable, None, "default", {}))
            continue
        value = choose(setting, seconds)
        environ[setting.variable] = value
        _applied.add(setting.variable)
        result.append(InForce(setting.variable, value, source, seconds))
    return result


def describe_backend(backend: str, in_force: list[InForce]) -> str:
    """`backend: VAR=value (why)` for each setting, or why there is none."""
    if not SETTINGS.get(backend):
        return f"{backend}: {NO_SETTING.get(backend, 'no CPU setting known')}"
    return f"{backend}: " + "; ".join(s.describe() for s in in_force)


def as_json(in_force: list[InForce]) -> list[dict]:
    """JSON-ready rows."""
    return [asdict(s) for s in in_force]
