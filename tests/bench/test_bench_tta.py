"""`bench tta`: engines trained to a target in-process and in workers, the summary, the report, the CLI."""

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from mnistlab.bench.dataset import synthetic_bench_data
from mnistlab.bench.engines import get_engine
from mnistlab.bench.jobs import TtaJob
from mnistlab.bench.recipes import Recipe
from mnistlab.bench.tta import TtaConfig, TtaResult, first_to_target_lines, summarize_tta, time_to_target
from mnistlab.bench.tta_report import accuracy_figure
from mnistlab.cli import main
from mnistlab.errors import ConfigError

SMALL = Recipe(name="small", hidden=(32,), batch_size=50, max_epochs=6, learning_rate=0.01)


@pytest.fixture(scope="module")
def data():
    return synthetic_bench_data(n_train=500, n_test=200, n_features=40, n_classes=4, noise=2.0)


@pytest.mark.parametrize("name", ["mnistlab", "sklearn", "torch"])
def test_engine_trains_to_the_target_and_stops_there(name, data):
    if name == "torch" and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    outcome = get_engine(name).train(data, TtaJob(recipe=SMALL, target=0.9))
    accuracies = outcome.extra["epoch_accuracy"]
    assert accuracies[-1] >= 0.9 and all(a < 0.9 for a in accuracies[:-1])  # stopped at the first epoch on target
    assert len(outcome.epoch_seconds) == len(accuracies) == len(outcome.extra["eval_seconds"]) <= SMALL.max_epochs
    assert outcome.train_seconds == pytest.approx(sum(outcome.epoch_seconds))  # evaluation is not in it


@pytest.mark.parametrize("name", ["mnistlab", "torch"])
def test_dropout_recipe_trains_where_it_can_be_stated(name, data):
    if name == "torch" and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    job = TtaJob(recipe=Recipe(name="drop", hidden=(32,), batch_size=50, max_epochs=8, learning_rate=0.01,
                               dropout=0.3), target=0.85)
    engine = get_engine(name)
    if engine.cannot_express(job):
        pytest.skip(engine.cannot_express(job))
    assert engine.train(data, job).extra["epoch_accuracy"][-1] >= 0.85


def test_without_stop_every_epoch_of_the_budget_is_trained(data):
    outcome = get_engine("mnistlab").train(data, TtaJob(recipe=SMALL, target=0.5, stop_at_target=False))
    assert len(outcome.extra["epoch_accuracy"]) == SMALL.max_epochs


def test_mnistlab_trains_the_onecycle_recipe_with_smoothing(data):
    recipe = Recipe(name="cycle", hidden=(32,), batch_size=50, max_epochs=4, learning_rate=0.01, schedule="onecycle",
                    warmup_epochs=1.0, label_smoothing=0.1, init="glorot_uniform")
    job = TtaJob(recipe=recipe, target=1.1)
    assert get_engine("mnistlab").cannot_express(job) is None
    outcome = get_engine("mnistlab").train(data, job)
    assert len(outcome.epoch_seconds) == 4 and outcome.extra["epoch_accuracy"][-1] > 0.5


def test_mnistlab_inverse_time_decay_matches_its_decrease_const(data):
    recipe = Recipe(name="decay", hidden=(8,), batch_size=100, max_epochs=2, schedule="inverse_time", decay=0.5)
    outcome = get_engine("mnistlab").train(data, TtaJob(recipe=recipe, target=1.1))
    assert len(outcome.epoch_seconds) == 2  # target above 1: never reached, the whole budget runs


def _run(engine, seed, seconds, accuracies, target=0.9, threads=1, task="mlp-mnist"):
    run = {"task": task, "engine": engine, "threads": threads, "seed": seed, "recipe": "r", "target": target,
           "epoch_seconds": seconds, "epoch_accuracy": accuracies, "eval_seconds": [0.1] * len(seconds),
           "cpu_wall_ratio": 1.0, "pool_threads": {"blas": 1}}
    run["tta_seconds"] = time_to_target(run, target)
    return run


def test_time_to_target_sums_training_seconds_to_the_first_epoch_on_target():
    assert _run("a", 0, [1.0, 2.0, 3.0], [0.5, 0.95, 0.97])["tta_seconds"] == 3.0
    assert _run("a", 0, [1.0, 2.0], [0.5, 0.6])["tta_seconds"] is None


def test_summary_takes_medians_over_seeds_and_counts_the_unreached():
    result = TtaResult(TtaConfig(tasks=("mlp-mnist",), engines=("mnistlab", "torch")))
    result.runs = [_run("mnistlab", 0, [1.0, 1.0], [0.8, 0.91]), _run("mnistlab", 1, [1.0, 1.0], [0.92, 0.93]),
                   _run("mnistlab", 2, [1.0, 1.0, 1.0], [0.5, 0.6, 0.95]),
                   _run("torch", 0, [2.0], [0.5]), _run("torch", 1, [2.0], [0.5]), _run("torch", 2, [0.5], [0.99])]
    rows = summarize_tta(result)
    mine, torch_row = rows
    assert (mine.engine, mine.tta_seconds, mine.reached, mine.epochs_to_target) == ("mnistlab", 2.0, 3, 2)
    assert (torch_row.tta_seconds, torch_row.reached, torch_row.vs_mnistlab) == (None, 1, None)
    assert first_to_target_lines(rows) == ["mlp-mnist, 1 thread(s): mnistlab first to 90.0%: PASS (mnistlab 2.0 s)"]
    result.runs[3:5] = [_run("torch", 0, [0.5], [0.99]), _run("torch", 1, [0.5], [0.99])]
    rows = summarize_tta(result)
    assert rows[0].engine == "torch" and rows[1].vs_mnistlab == 1.0
    assert "FAIL" in first_to_target_lines(rows)[0] and "torch 0.5 s" in first_to_target_lines(rows)[0]
    fig = accuracy_figure(result.runs)
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 6 + 1  # one curve per run and the target line


def test_config_rejects_unknown_names_with_the_choices():
    with pytest.raises(ConfigError, match="unknown task 'gan-mnist'; choose from mlp-mnist"):
        TtaConfig(tasks=("gan-mnist",))
    with pytest.raises(ConfigError, match="unknown recipe 'fastest'"):
        TtaConfig(recipes=("fastest",))
    with pytest.raises(ConfigError, match="unknown engine"):
        TtaConfig(engines=("caffe",))
    with pytest.raises(ConfigError, match="recipe cnn-seed trains a cnn, but no cnn task is selected"):
        TtaConfig(tasks=("mlp-mnist",), recipes=("cnn-seed",))


def test_a_chosen_recipe_replaces_the_default_of_its_model_only():
    config = TtaConfig(recipes=("mlp-adam-decay",), max_epochs=2)
    from mnistlab.bench.recipes import TASKS

    assert config.recipe_for(TASKS["mlp-mnist"]).name == "mlp-adam-decay"
    cnn = config.recipe_for(TASKS["cnn-mnist"])
    assert cnn.name == "cnn-fast" and cnn.max_epochs == 2 and 0 < cnn.warmup_epochs < 2


def test_bench_tta_cli_end_to_end_with_numpy_engines(tmp_path, capsys):
    out, md = tmp_path / "out", tmp_path / "README.md"
    md.write_text("# Benchmarks\n")
    code = main(["bench", "tta", "--quick", "--engines", "mnistlab,sklearn", "--threads", "1", "--n-train", "600",
                 "--n-test", "300", "--json", "--quiet", "--out", str(out), "--markdown", str(md)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    document = json.loads(captured.out)
    assert [(r["task"], r["engine"]) for r in document["rows"]][:1] == [("mlp-mnist", "mnistlab")]
    assert {r["engine"] for r in document["rows"]} == {"mnistlab", "sklearn"}
    assert {(c["engine"], c["task"]) for c in document["cannot_express"]} == {("mnistlab", "cnn-mnist"),
                                                                             ("sklearn", "cnn-mnist")}
    for run in document["runs"]:
        assert len(run["epoch_accuracy"]) == 2 and 0.5 < run["epoch_accuracy"][-1] < 1.0
    assert sorted(p.name for p in out.iterdir()) == ["tta.csv", "tta.json", "tta.png"]
    text = md.read_text()
    assert "<!-- bench-tta:start -->" in text and "](out/tta.png)" in text and "cannot express cnn-fast" in text


@pytest.mark.parametrize("args, message", [
    (["--tasks", "gan-mnist"], "unknown task 'gan-mnist'"),
    (["--recipe", "fastest"], "unknown recipe 'fastest'"),
    (["--seeds", "0,x"], "--seeds takes comma-separated integers"),
    (["--max-epochs", "0"], "max_epochs must be at least 1"),
])
def test_bench_tta_bad_options_fail_with_one_line(args, message, capsys):
    assert main(["bench", "tta", "--quiet", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


@pytest.mark.slow  # two framework processes (Keras and Torch imports): 6-12 s on 2 cores
@pytest.mark.cnn
def test_keras_and_torch_build_the_same_nets_from_a_recipe():
    for module in ("keras", "torch"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    script = (
        "import os; os.environ['KERAS_BACKEND'] = 'torch'\n"
        "import keras\n"
        "from mnistlab.bench.recipes import RECIPES\n"
        "from mnistlab.bench.engines import keras_engine, torch_engine\n"
        "for name in ('mlp-adam', 'cnn-fast', 'cnn-seed'):\n"
        "    k = keras_engine._recipe_model(keras, RECIPES[name], 784, 10)\n"
        "    t = torch_engine._recipe_model(RECIPES[name], 784, 10)\n"
        "    print(name, sum(int(w.numpy().size) for w in k.trainable_weights), sum(p.numel() for p in t.parameters()))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.split("\n")
    counts = {line.split()[0]: line.split()[1:] for line in lines if line.strip()}
    assert set(counts) == {"mlp-adam", "cnn-fast", "cnn-seed"}
    for name, (keras_count, torch_count) in counts.items():
        assert keras_count == torch_count, name
    assert counts["mlp-adam"][0] == str(784 * 512 + 512 + 512 * 256 + 256 + 2570)


@pytest.mark.slow
@pytest.mark.cnn
def test_bench_tta_quick_with_every_installed_engine(capsys):
    code = main(["bench", "tta", "--quick", "--threads", "1", "--n-train", "1000", "--n-test", "500", "--max-epochs",
                 "1", "--json", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    document = json.loads(captured.out)
    installed = [e for e in ("keras-jax", "keras-tensorflow", "keras-torch", "torch")
                 if importlib.util.find_spec(e.removeprefix("keras-")) is not None]
    for task in ("mlp-mnist", "cnn-mnist"):
        ran = {r["engine"] for r in document["rows"] if r["task"] == task}
        assert set(installed) <= ran, (task, document["notes"])
    assert all(np.isfinite(r["seconds_per_epoch"]) and r["best_accuracy"] > 0.05 for r in document["rows"])
    # batch norm's moving averages need more than 8 steps: only the MLPs are held to learning here
    assert all(r["best_accuracy"] > 0.5 for r in document["rows"] if r["task"] == "mlp-mnist")


@pytest.mark.parametrize("name", ["mnistlab", "sklearn", "torch", "keras-jax"])
def test_an_mlp_recipe_with_shifts_and_flips_trains_on_every_engine(name):
    """The augmentation moves rows of 28x28 images (mlp-default and mlp-fashion shift; mlp-fashion flips)."""
    engine = get_engine(name)
    if not engine.available()[0]:
        pytest.skip(engine.available()[1])
    images = synthetic_bench_data(n_train=300, n_test=100, n_features=784, n_classes=10, noise=2.0)
    recipe = Recipe(name="augmented", hidden=(16,), batch_size=50, max_epochs=1, shift_pixels=1, flip=True)
    outcome = engine.train(images, TtaJob(recipe=recipe, target=1.1))
    assert len(outcome.extra["epoch_accuracy"]) == 1
