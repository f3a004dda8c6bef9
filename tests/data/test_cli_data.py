"""`mnistlab data fetch` and `mnistlab data info`: exit codes, output, and one-line errors."""

from __future__ import annotations

import json

from idxfiles import write_idx_dir

from mnistlab.cli import main
from mnistlab.data import catalog


def test_fetch_from_data_dir_then_no_op(tmp_path, tiny, capsys, isolated_cache):
    directory = write_idx_dir(tmp_path / "idx", tiny)
    assert main(["data", "fetch", "mnist", "--data-dir", str(directory)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"mnist train: 50 images ok, from {directory}/train-images-idx3-ubyte.gz + train-labels-idx1-ubyte.gz"
        f" -> {isolated_cache}/mnist/train.npz",
        f"mnist test: 20 images ok, from {directory}/t10k-images-idx3-ubyte.gz + t10k-labels-idx1-ubyte.gz"
        f" -> {isolated_cache}/mnist/test.npz",
    ]
    assert main(["data", "fetch", "mnist"]) == 0
    assert "already cached" in capsys.readouterr().out
    assert main(["data", "fetch", "mnist", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_fetch_error_is_one_line(no_registry, capsys):
    assert main(["data", "fetch", "--offline"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no source has MNIST train/test")
    assert "--data-dir" in lines[0] and "Traceback" not in captured.err


def test_fetch_bad_data_dir(tmp_path, capsys):
    assert main(["data", "fetch", "mnist", "--data-dir", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().err == f"error: --data-dir {tmp_path / 'nope'} does not exist; pass a directory that holds the IDX files\n"


def test_fetch_unknown_name_is_a_usage_error(capsys):
    assert main(["data", "fetch", "cifar10"]) == 2
    assert "'cifar10' is not one of 'mnist', 'fashion-mnist'" in capsys.readouterr().err


def test_info_on_empty_cache(capsys, isolated_cache):
    assert main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"cache: {isolated_cache}\n")
    assert out.count("missing") == 4 and "run `mnistlab data fetch`" in out
    assert main(["data", "info", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {split["status"] for item in report["datasets"].values() for split in item["splits"].values()} == {"missing"}


def test_info_json_reports_the_real_datasets(use_real_cache, capsys):
    assert main(["data", "info", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cache_dir"] == str(use_real_cache)
    assert set(report["datasets"]) == {"mnist", "fashion-mnist"}
    for name, item in report["datasets"].items():
        assert item["class_names"] == list(catalog.DATASETS[name].class_names)
        for split, count in (("train", 60000), ("test", 10000)):
            entry = item["splits"][split]
            expected = catalog.EXPECTED[(name, split)]
            assert entry["status"] == "ok" and entry["count"] == count
            assert entry["images_sha256"] == expected.images_sha256
            assert entry["labels_sha256"] == expected.labels_sha256
            assert entry["size_bytes"] > count * 784
    assert main(["data", "info"]) == 0
    table = capsys.readouterr().out
    assert table.count(" ok ") == 4 and "60000" in table and "741c988805d008ac..." in table


def test_fetch_from_a_mirror(tiny, local_mirror, capsys):
    root, base_url = local_mirror
    write_idx_dir(root, tiny)
    assert main(["data", "fetch", "mnist", "--mirror", f"{base_url}/", "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["data", "fetch", "mnist"]) == 0
    assert capsys.readouterr().out.count("already cached") == 2
