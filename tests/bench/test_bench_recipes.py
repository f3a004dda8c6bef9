"""Recipes as data: validation, the schedule function, the CNN preset's recipe, jobs across the process boundary."""

import math

import pytest

from mnistlab.bench.engines import get_engine
from mnistlab.bench.jobs import CnnJob, TrainJob, TtaJob, job_from_fields, job_to_fields
from mnistlab.bench.recipes import (RECIPES, TASKS, Recipe, get_recipe, learning_rate_at, recipe_from_cnn_config,
                                    recipe_from_mlp_config)
from mnistlab.cnn.config import CNN_PRESETS, LayerSpec
from mnistlab.errors import ConfigError


@pytest.mark.parametrize("job", [TrainJob(hidden=(5,), epochs=2), CnnJob(batch_size=8),
                                 TtaJob(recipe=RECIPES["cnn-fast"], target=0.5, random_state=3)])
def test_jobs_survive_the_json_round_trip(job):
    import json

    fields = json.loads(json.dumps(job_to_fields(job)))
    assert job_from_fields(fields) == job


def test_unknown_job_kind_or_field_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown benchmark job kind 'gan'"):
        job_from_fields({"kind": "gan"})
    with pytest.raises(ConfigError, match="unknown field"):
        job_from_fields({"kind": "cnn", "epochs": 3})


@pytest.mark.parametrize("changes, message", [
    ({"schedule": "cyclic"}, "schedule 'cyclic' is not one of"),
    ({"model": "cnn", "hidden": ()}, "needs conv filters"),
    ({"schedule": "onecycle", "warmup_epochs": 0.0}, "onecycle needs 0 < warmup_epochs"),
    ({"shift_pixels": 2, "preprocessing": "standard"}, "needs preprocessing 'unit'"),
    ({"label_smoothing": 1.0}, "0 <= label_smoothing < 1"),
])
def test_invalid_recipes_name_the_field(changes, message):
    with pytest.raises(ConfigError, match=message):
        Recipe(**changes)


def test_every_task_names_a_known_recipe_and_a_sensible_target():
    for task in TASKS.values():
        assert get_recipe(task.recipe).name == task.recipe
        assert 0.8 < task.target < 1.0


def test_schedules_follow_their_definitions():
    steps = 10  # per epoch
    constant = Recipe(max_epochs=4)
    assert {learning_rate_at(constant, s, steps) for s in range(40)} == {0.001}
    decay = Recipe(schedule="inverse_time", decay=0.5, max_epochs=4)
    assert [learning_rate_at(decay, s, steps) for s in (0, 9, 10, 25)] == pytest.approx([1e-3, 1e-3, 1e-3 / 1.5, 1e-3 / 2])
    cosine = Recipe(schedule="cosine", warmup_epochs=1.0, max_epochs=4)
    assert learning_rate_at(cosine, 0, steps) == pytest.approx(1e-4)  # ramp: lr x (step + 1) / warm-up steps
    assert learning_rate_at(cosine, 9, steps) == pytest.approx(1e-3)
    assert learning_rate_at(cosine, 10 + 15, steps) == pytest.approx(5e-4)  # half-way through the decay
    onecycle = Recipe(schedule="onecycle", warmup_epochs=2.0, max_epochs=4)
    lrs = [learning_rate_at(onecycle, s, steps) for s in range(40)]
    assert max(lrs) == pytest.approx(1e-3) and lrs.index(max(lrs)) == 19
    assert lrs[-1] == pytest.approx(1e-3 * 1 / 20) and all(b <= a for a, b in zip(lrs[19:], lrs[20:]))


def test_the_fast_cnn_preset_is_the_cnn_fast_recipe():
    recipe = RECIPES["cnn-fast"]
    preset = CNN_PRESETS["fast"]
    assert recipe == recipe_from_cnn_config("cnn-fast", preset)
    assert (recipe.conv, recipe.dense, recipe.batch_norm, recipe.pool_last) == ((16, 32), (128,), True, True)
    assert (recipe.batch_size, recipe.max_epochs, recipe.learning_rate) == (preset.batch_size, preset.epochs,
                                                                           preset.learning_rate)
    seed = RECIPES["cnn-seed"]
    assert (seed.conv, seed.dense, seed.pool_last, seed.schedule) == ((32, 64, 64), (64,), False, "cosine")


def test_the_documented_default_mlp_is_the_mlp_default_recipe():
    from mnistlab.mlp.run import PRESETS

    preset, recipe = PRESETS["default"], RECIPES["mlp-default"]
    mlp = preset.mlp
    assert (recipe.hidden, recipe.batch_size, recipe.max_epochs, recipe.learning_rate, recipe.decay) == (
        mlp.hidden_sizes, mlp.batch_size, mlp.epochs, mlp.learning_rate, mlp.decrease_const)
    assert (recipe.schedule, recipe.init, recipe.shift_pixels, recipe.epsilon) == (
        "inverse_time", "uniform_fan_in", mlp.shift_pixels, mlp.epsilon)
    assert (mlp.init, mlp.l2, mlp.dropout, preset.scaler, recipe.preprocessing) == ("sqrt_nodes", 0.0, 0.0, "unit", "unit")


def test_the_98_5_task_runs_the_default_mlp_preset():
    task = TASKS["mlp-mnist-98.5"]
    assert (task.dataset, task.target, task.recipe) == ("mnist", 0.985, "mlp-default")


def test_the_fashion_tasks_run_the_fashion_presets():
    from mnistlab.mlp.run import PRESETS

    mlp, cnn = TASKS["mlp-fashion"], TASKS["cnn-fashion"]
    assert (mlp.target, cnn.target) == (0.90, 0.93)
    assert RECIPES[cnn.recipe] == recipe_from_cnn_config("cnn-fashion", CNN_PRESETS["fashion"])
    assert RECIPES[cnn.recipe].flip and not RECIPES["cnn-fast"].flip
    preset, recipe = PRESETS["fashion"].mlp, RECIPES[mlp.recipe]
    assert (recipe.hidden, recipe.dropout, recipe.shift_pixels, recipe.flip, recipe.label_smoothing,
            recipe.max_epochs) == (preset.hidden_sizes, preset.dropout, preset.shift_pixels, preset.flip,
                                   preset.label_smoothing, preset.epochs)
    assert (recipe.schedule, recipe.warmup_epochs, recipe.init) == ("onecycle", preset.warmup_epochs, "uniform_fan_in")
    assert PRESETS["fashion"].dataset == "fashion-mnist"
    with pytest.raises(ConfigError, match="preset odd: only ReLU"):
        recipe_from_mlp_config("odd", PRESETS["seed"].mlp)


def test_a_preset_a_recipe_cannot_state_is_refused():
    preset = CNN_PRESETS["fast"].replace(layers=[LayerSpec("conv", 8), LayerSpec("dropout", rate=0.5),
                                                 LayerSpec("flatten")])
    with pytest.raises(ConfigError, match="layer dropout has no recipe form"):
        recipe_from_cnn_config("odd", preset)


@pytest.mark.parametrize("engine, recipe, reason", [
    ("mnistlab", "cnn-fast", "dense nets only"),
    ("sklearn", "cnn-fast", "dense layers only"),
    ("mnistlab", "mlp-wide-onecycle", None),
    ("sklearn", "mlp-adam-decay", "keeps Adam's learning rate constant"),
    ("sklearn", "mlp-adam-dropout", "keeps Adam's learning rate constant"),
    ("torch", "mlp-adam-dropout", None),
    ("mnistlab", "mlp-adam", None),
    ("mnistlab", "mlp-adam-decay", None),
    ("mnistlab", "mlp-default", None),
    ("sklearn", "mlp-adam", None),
    ("torch", "mlp-wide-onecycle", None),
    ("keras-jax", "cnn-fast", None),
])
def test_engines_say_what_they_cannot_express(engine, recipe, reason):
    why = get_engine(engine).cannot_express(TtaJob(recipe=RECIPES[recipe]))
    assert (why is None) if reason is None else (reason in why)


def test_dropout_is_beyond_sklearn_and_mnistlab_only_without_the_option():
    from mnistlab import MLPClassifier

    job = TtaJob(recipe=Recipe(dropout=0.2))
    assert get_engine("sklearn").cannot_express(job) == "MLPClassifier has no dropout"
    has_dropout = "dropout" in MLPClassifier().get_params()
    assert (get_engine("mnistlab").cannot_express(job) is None) == has_dropout


def test_label_smoothing_is_beyond_sklearn_only():
    job = TtaJob(recipe=Recipe(label_smoothing=0.1))
    assert get_engine("mnistlab").cannot_express(job) is None
    assert "label smoothing" in get_engine("sklearn").cannot_express(job)
    assert math.isclose(job.recipe.label_smoothing, 0.1)
