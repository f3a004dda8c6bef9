"""Choose the Keras backend and the device before Keras loads; check what was asked for exists.

Keras 3 reads ``KERAS_BACKEND`` once, when ``keras`` is first imported, and each framework fixes
its devices and thread pools when it initialises. So everything here runs *before* the import:
``import_keras(backend, device=..., threads=...)`` is the one door through which mnistlab code
gets ``keras``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from typing import Any

from mnistlab.cnn.cpu_settings import SETTINGS, InForce, as_json, describe_backend, settings_in_force
from mnistlab.cpu import cpu_flags, gemm_gflops, simd_level
from mnistlab.env import backends_info, environment_info, thread_settings
from mnistlab.errors import BackendError, ConfigError
from mnistlab.threads import configure_threads, restrict_cpus

# In order of preference: measured speed of the default CNN on the project machine (docs/cnn.md).
BACKENDS = ("tensorflow", "torch", "jax")
DEFAULT_BACKEND = "tensorflow"
DEVICES = ("cpu", "gpu")

_BACKEND_MODULES = {"torch": "torch", "jax": "jax", "tensorflow": "tensorflow"}


def installed_backends() -> list[str]:
    """The Keras backends whose framework is importable here, in order of preference."""
    return [name for name in BACKENDS if importlib.util.find_spec(_BACKEND_MODULES[name]) is not None]


def resolve_backend(name: str | None = None) -> str:
    """The backend to use: `name`, else $KERAS_BACKEND, else the default (or the first installed).

    Raises BackendError when the named backend is unknown or its framework is not installed.
    """
    if importlib.util.find_spec("keras") is None:
        raise BackendError("Keras is not installed; install the CNN extra: pip install 'mnistlab[cnn]'")
    installed = installed_backends()
    requested = name or os.environ.get("KERAS_BACKEND")
    if requested is None:
        if DEFAULT_BACKEND in installed:
            return DEFAULT_BACKEND
        if not installed:
            raise BackendError("no Keras backend is installed; install one: pip install 'mnistlab[cnn]'")
        return installed[0]
    requested = requested.strip().lower()
    if requested not in BACKENDS:
        raise BackendError(f"unknown Keras backend {requested!r}; choose one of {', '.join(BACKENDS)}")
    if requested not in installed:
        pkg = "tensorflow-cpu" if requested == "tensorflow" else requested
        have = ", ".join(installed) or "none"
        raise BackendError(f"Keras backend {requested!r} is not installed (installed: {have}); "
                           f"install it with pip install {pkg}, or pick an installed one with --backend")
    return requested


# Framework log lines stay visible when the user sets TensorFlow's own level (read once, at import).
_USER_LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL" in os.environ
_framework_logs = {"visible": _USER_LOG_LEVEL}


def show_framework_logs(visible: bool = True) -> None:
    """Let TensorFlow's native start-up lines (absl, oneDNN) through, or hide them (`mnistlab --verbose`).

    They always show when the user set TF_CPP_MIN_LOG_LEVEL themselves.
    """
    _framework_logs["visible"] = visible or _USER_LOG_LEVEL


@contextlib.contextmanager
def silenced_native_stderr() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null while a framework loads, unless logs were asked for.

    TensorFlow 2.16+ writes its absl and oneDNN start-up lines from C++ before it reads
    TF_CPP_MIN_LOG_LEVEL, so only the descriptor can hold them back. A user's own
    TF_CPP_MIN_LOG_LEVEL, or `show_framework_logs()`, leaves stderr untouched.
    """
    if _framework_logs["visible"]:
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quiet_tensorflow(backend: str | None = None) -> None:
    """Silence TensorFlow's start-up log lines (Keras imports it for seeding whenever it is installed).

    oneDNN is switched off only when TensorFlow is not the backend: then it merely seeds tf.random.
    """
    if not _framework_logs["visible"]:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if backend != "tensorflow":
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def _hide_gpus(backend: str) -> None:
    """Make the framework see only the CPU (must run before it is imported)."""
    os.environ["CUDA_VISIBLE_DEVICES"] = "-1" if backend == "tensorflow" else ""
    if backend == "jax":
        os.environ["JAX_PLATFORMS"] = "cpu"


def _set_gpu_memory_fraction_env(backend: str, fraction: float) -> None:
    if backend == "jax":
        os.environ["XLA_PYTHON_CLIENT_MEM_FRACTION"] = f"{fraction:.3f}"
    elif backend == "tensorflow":
        raise BackendError("--gpu-memory-fraction is not supported on the tensorflow backend here; "
                           "use --backend torch or jax, or leave the cap off")


def import_keras(backend: str | None = None, *, device: str = "cpu", threads: int | None = None,
                 gpu_memory_fraction: float | None = None, measure_cpu: bool = False) -> Any:
    """Set up backend, device and threads, import Keras and return the module.

    Parameters
    ----------
    backend : "tensorflow" | "torch" | "jax" | None
        None: $KERAS_BACKEND, else the measured default.
    device : "cpu" | "gpu"
        "gpu" raises BackendError when the backend finds no GPU.
    threads : int or None
        Bound on the CPU threads of BLAS and the framework (None: all cores).
    gpu_memory_fraction : float or None
        Share of the GPU's memory the process may take (torch, jax).
    measure_cpu : bool
        Measure the backend's CPU settings when this machine has no cached answer yet
        (`mnistlab.cnn.cpu_settings`, a few seconds once); a cached answer is applied either way,
        and `cpu_settings_in_force()` then says what is in force.

    Examples
    --------
    >>> keras = import_keras("torch", device="cpu", threads=1)  # doctest: +SKIP
    """
    name = resolve_backend(backend)
    if device not in DEVICES:
        raise ConfigError(f"--device must be one of {', '.join(DEVICES)}, got {device!r}")
    if gpu_memory_fraction is not None and not 0.0 < gpu_memory_fraction <= 1.0:
        raise ConfigError(f"--gpu-memory-fraction must be in (0, 1], got {gpu_memory_fraction}")
    if "keras" in sys.modules:
        import keras

        loaded = keras.backend.backend()
        if backend is None:
            name = loaded  # Keras read $KERAS_BACKEND (or chose) when it loaded: that is what is in force
        if loaded != name:
            raise BackendError(f"Keras is already loaded with the {loaded!r} backend in this process; "
                               f"start a new process with KERAS_BACKEND={name} to use {name!r}")
        if threads is not None:
            configure_threads(threads)
            bound_framework_threads(name, threads)
        _check_device(name, device, gpu_memory_fraction)
        return keras

    if threads is not None:
        configure_threads(threads)
        if name == "jax":
            restrict_cpus(threads)
    _IN_FORCE[name] = settings_in_force(name, measure=measure_cpu and device == "cpu")
    with silenced_native_stderr():
        quiet_tensorflow(name)
        if device == "cpu":
            _hide_gpus(name)
        elif gpu_memory_fraction is not None:
            _set_gpu_memory_fraction_env(name, gpu_memory_fraction)
        os.environ["KERAS_BACKEND"] = name
        import keras

    if threads is not None:
        bound_framework_threads(name, threads)
    _check_device(name, device, gpu_memory_fraction)
    return keras


_IN_FORCE: dict[str, list[InForce]] = {}


def cpu_settings_in_force() -> dict[str, list[InForce]]:
    """The CPU settings `import_keras` applied, per backend loaded in this process."""
    return dict(_IN_FORCE)


def bound_framework_threads(backend: str, threads: int) -> None:
    """Apply the thread bound to pools that are only reachable once the framework is loaded (imports it)."""
    if backend == "torch":
        import torch

        torch.set_num_threads(threads)
    elif backend == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:
            pass  # already initialised: the TF_NUM_* variables set before import apply


def gpu_devices(backend: str) -> list[str]:
    """Names of the GPUs the (already selected) backend can see; empty on a CPU-only machine."""
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] \
            if torch.cuda.is_available() else []
    if backend == "jax":
        import jax

        try:
            return [str(d) for d in jax.devices("gpu")]
        except RuntimeError:
            return []
    import tensorflow as tf

    return [d.name for d in tf.config.list_physical_devices("GPU")]


def _check_device(backend: str, device: str, gpu_memory_fraction: float | None) -> None:
    if device == "cpu":
        return
    gpus = gpu_devices(backend)
    if not gpus:
        hint = " (this torch is a CPU-only build)" if backend == "torch" and _torch_is_cpu_build() else ""
        raise BackendError(f"--device gpu: the {backend} backend finds no GPU{hint}; "
                           f"train on the CPU with --device cpu")
    if backend == "torch" and gpu_memory_fraction is not None:
        import torch

        torch.cuda.set_per_process_memory_fraction(gpu_memory_fraction, 0)


def _torch_is_cpu_build() -> bool:
    import torch

    return torch.version.cuda is None


GEMM_SIZE = 1024
"""`mnistlab env`'s GEMM: a 1024-cube float32 product, best of 3 (2.1 GFLOP each: well under a second)."""


def environment_report(threads: int | None = None, probe_devices: bool = True,
                       measure_cpu: bool = True) -> dict[str, Any]:
    """Everything `mnistlab env` shows, JSON-ready: `environment_info()` plus the Keras backends and
    their devices, the backend a CNN would use, and the thread settings in force.

    `threads` bounds the pools first (as `--threads` does), so the report shows the bound in force;
    `probe_devices` imports each installed framework to list its devices (seconds); `measure_cpu`
    measures each backend's CPU settings when this machine has no cached answer yet (seconds, once).
    The report also holds the SIMD level and a short float32 GEMM rate. It lives
    beside the Keras door rather than in `mnistlab.env` (the ground floor) because it resolves the
    backend and loads the frameworks quietly, which only this module knows how to do.
    """
    if threads is not None:
        configure_threads(threads)
    # before the frameworks load (they read their settings then); measures once per machine
    in_force = {name: settings_in_force(name, measure=measure_cpu) for name in SETTINGS
                if name in installed_backends()}
    quiet_tensorflow()
    with silenced_native_stderr():
        backends = backends_info(probe_devices=probe_devices)  # imports the frameworks: after the thread bound
    if threads is not None:
        for name in ("torch", "tensorflow"):
            if name in sys.modules:
                bound_framework_threads(name, threads)
    try:
        selected = resolve_backend(None)
    except BackendError as exc:
        selected = f"none ({exc})"
    flags = cpu_flags()
    gemm = {"size": GEMM_SIZE, "threads": threads or os.cpu_count(),
            "gflops": gemm_gflops(GEMM_SIZE, threads=threads, repeats=3)}
    return {**environment_info(), "keras_backends": backends, "keras_backend_selected": selected,
            "keras_backend_default": DEFAULT_BACKEND, "threads": thread_settings(), "simd": simd_level(flags),
            "gemm": gemm, "cpu_settings": {name: {"settings": as_json(rows), "text": describe_backend(name, rows)}
                                           for name, rows in in_force.items()}}
