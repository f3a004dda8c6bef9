"""What this machine and process offer: Python and package versions, CPU, BLAS, threads, backends."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from typing import Any

OPTIONAL_PACKAGES = ("keras", "torch", "jax", "jaxlib", "tensorflow", "tensorflow-cpu")
CORE_PACKAGES = ("mnistlab", "numpy", "scipy", "scikit-learn", "matplotlib")


def package_versions(names: tuple[str, ...] = CORE_PACKAGES + OPTIONAL_PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution in `names` (None when absent), without importing it."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or platform.processor() elsewhere."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_info() -> list[dict[str, Any]]:
    """The BLAS/OpenMP libraries NumPy loaded, with their thread counts (threadpoolctl)."""
    import numpy  # noqa: F401  (loads BLAS so threadpoolctl can see it)
    from threadpoolctl import threadpool_info

    keep = ("internal_api", "version", "num_threads", "threading_layer", "architecture")
    return [{k: lib.get(k) for k in keep} for lib in threadpool_info()]


def thread_settings() -> dict[str, Any]:
    """The thread bounds in force: CPU affinity, the *_NUM_THREADS/XLA variables, loaded frameworks' pools."""
    settings: dict[str, Any] = {
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "env": {k: os.environ[k] for k in sorted(os.environ)
                if k.endswith("_NUM_THREADS") or k.endswith("_THREADS") or k == "XLA_FLAGS"},
    }
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        settings["torch"] = {"intra_op": torch.get_num_threads(), "inter_op": torch.get_num_interop_threads()}
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        settings["tensorflow"] = {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                                  "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}
    return settings


def backend_devices(backend: str) -> list[str]:
    """Devices the framework of a Keras `backend` sees (imports it; call in a short-lived process)."""
    if backend == "torch":
        import torch  # each framework loads only when its devices are asked for

        gpus = [f"cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())] \
            if torch.cuda.is_available() else []
        return ["cpu", *gpus]
    if backend == "jax":
        import jax

        return [f"{d.platform}:{d.id}" for d in jax.devices()]
    import tensorflow as tf

    return [d.name.replace("/physical_device:", "").lower() for d in tf.config.list_physical_devices()]


def backends_info(probe_devices: bool = True) -> dict[str, dict[str, Any]]:
    """Each Keras backend: installed version and (optionally, by importing it) the devices it finds."""
    dists = {"tensorflow": ("tensorflow", "tensorflow-cpu"), "torch": ("torch",), "jax": ("jax", "jaxlib")}
    info: dict[str, dict[str, Any]] = {}
    for backend, names in dists.items():
        versions = package_versions(names)
        version = next((v for v in versions.values() if v), None)
        entry: dict[str, Any] = {"installed": version is not None, "version": version}
        if version and probe_devices:
            try:
                entry["devices"] = backend_devices(backend)
            except Exception as exc:  # a broken install must not break `mnistlab env`
                entry["devices"] = []
                entry["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        info[backend] = entry
    return info


def environment_info() -> dict[str, Any]:
    """A JSON-ready description of the environment, stored with every run."""
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "packages": package_versions(),
        "blas": blas_info(),
        "keras_backend": os.environ.get("KERAS_BACKEND"),
        "thread_env": {k: os.environ[k] for k in sorted(os.environ)
                       if k.endswith("_NUM_THREADS") or k in ("XLA_FLAGS", "OPENBLAS_CORETYPE")},
    }


def environment_lines(info: dict[str, Any]) -> list[str]:
    """`mnistlab env`'s text: versions, CPU, each Keras backend and its devices, BLAS, thread settings.

    `info` is `mnistlab.cnn.backend.environment_report()`'s dict.
    """
    packages, threads = info["packages"], info["threads"]
    lines = [f"mnistlab {packages.get('mnistlab')}  python {info['python']}  {info['platform']}",
             f"cpu: {info['cpu']} ({info['cpu_count']} cores, {threads['cpus_usable']} usable), "
             f"SIMD {info['simd']}, float32 GEMM {info['gemm']['gflops']:.1f} GFLOP/s "
             f"({info['gemm']['size']}-cube, {info['gemm']['threads']} thread(s))",
             "packages: " + ", ".join(f"{k} {v}" for k, v in packages.items() if v and k != "mnistlab"),
             f"keras: {packages.get('keras') or 'not installed'}; backend used: {info['keras_backend_selected']} "
             f"(default {info['keras_backend_default']}, override with --backend or KERAS_BACKEND)"]
    for name, entry in info["keras_backends"].items():
        devices = ", ".join(entry.get("devices", [])) or entry.get("error", "not probed")
        lines.append(f"  {name:<10} {entry['version']:<12} devices: {devices}" if entry["installed"]
                     else f"  {name:<10} not installed")
    lines.append("cpu settings in force (measured once per machine, cached; a variable you set wins):")
    lines += [f"  {entry['text']}" for entry in info["cpu_settings"].values()]
    lines.append("blas:")
    lines += [f"  {lib.get('internal_api')} {lib.get('version') or ''} threads={lib.get('num_threads')} "
              f"({lib.get('threading_layer') or 'n/a'}, {lib.get('architecture') or 'n/a'})" for lib in info["blas"]]
    lines.append("threads: " + ", ".join(f"{k}={v}" for k, v in threads["env"].items()) if threads["env"]
                 else "threads: no *_NUM_THREADS variables set (frameworks use all usable cores)")
    lines += [f"  {framework}: intra-op {threads[framework]['intra_op']}, inter-op {threads[framework]['inter_op']}"
              for framework in ("torch", "tensorflow") if framework in threads]
    return lines
