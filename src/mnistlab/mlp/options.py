"""Every option of the MLP, declared once: name, default, allowed values, help, CLI flag, seed name.

`MLPConfig`'s fields and `MLPClassifier.__init__`'s parameters are written out (dataclasses
and scikit-learn's `get_params` need them spelled), and tests hold both equal to `OPTIONS`;
the `mlp train` click options and the parameter table of docs/mlp.md are generated from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mnistlab.mlp.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from mnistlab.mlp.init import INIT_METHODS
from mnistlab.mlp.losses import LOSSES
from mnistlab.mlp.optimizers import MOMENTUM_TYPES, SCHEDULES, SOLVERS

DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Option:
    """One MLP option.

    kind: "int", "float", "bool", "choice", or "special" (parsed by the CLI's own parser);
    flag: the `mlp train` flag, None when the option has no CLI form (Python objects);
    seed: the seed's (MyANN's) parameter name; sklearn: scikit-learn's MLPClassifier name.
    """

    name: str
    default: Any
    kind: str
    help: str
    choices: tuple[str, ...] = ()
    flag: str | None = None
    seed: str = ""
    sklearn: str = ""


def _o(name: str, default: Any, kind: str, help: str, *, choices: tuple[str, ...] = (), flag: str | None = "",
       seed: str = "", sklearn: str = "") -> Option:
    flag = "--" + name.replace("_", "-") if flag == "" else flag
    return Option(name, default, kind, help, choices, flag, seed, sklearn)


OPTIONS: tuple[Option, ...] = (
    _o("hidden_sizes", (256, 128), "special", "Units per hidden layer, e.g. 70,30 (() or 'none': no hidden layer).",
       flag="--hidden", seed="ay_nodes_layers", sklearn="hidden_layer_sizes"),
    _o("activation", "relu", "choice", "Hidden activation.", choices=HIDDEN_ACTIVATIONS, seed="my_activation_function",
       sklearn="activation ('logistic' is our 'sigmoid')"),
    _o("output", "softmax", "choice", "Output activation (two classes and multilabel: one logistic unit per "
       "label, always).", choices=OUTPUT_ACTIVATIONS, seed="my_out_function", sklearn="(out_activation_)"),
    _o("loss", "cross_entropy", "choice", "Loss: categorical cross-entropy, the seed's LogLoss, or half the squared "
       "error.", choices=LOSSES, seed="my_loss_function", sklearn="(log-loss only)"),
    _o("loss_reduction", "mean", "choice", "Batch cost: mean, or sum (the seed's).", choices=("mean", "sum"),
       flag="--reduction", seed="(sum)"),
    _o("label_smoothing", 0.0, "float", "Training targets y (1 - s) + s / classes (0: none); softens the "
       "cross-entropy's pull toward certainty."),
    _o("solver", "adam", "choice", "Optimiser; lbfgs runs SciPy's L-BFGS-B on the whole training set.",
       choices=SOLVERS, seed="(sgd)", sklearn="solver"),
    _o("learning_rate", 0.001, "float", "Initial step size.", flag="--lr", seed="learn_rate",
       sklearn="learning_rate_init"),
    _o("lr_schedule", "decay", "choice", "Step-size schedule: the seed's decay, constant, scikit-learn's "
       "invscaling or adaptive (/5 when the loss stalls), per epoch; per batch, cosine (to 0 at the epoch "
       "budget) or onecycle (linear up over the warm-up, then linearly down to 0 at the epoch budget).",
       choices=SCHEDULES, sklearn="learning_rate"),
    _o("decrease_const", 0.0, "float", "Decay lr / (1 + decrease_const * epochs done).", seed="decrease_const"),
    _o("power_t", 0.5, "float", "Exponent of invscaling: lr / (samples seen + 1) ** power_t.", sklearn="power_t"),
    _o("warmup_epochs", 0.0, "float", "Linear warm-up, batch by batch, over this many epochs (constant, cosine, "
       "onecycle; onecycle needs one)."),
    _o("momentum", 0.0, "float", "SGD momentum rate.", seed="mom_rate", sklearn="momentum"),
    _o("momentum_type", "classical", "choice", "SGD momentum form.", choices=MOMENTUM_TYPES,
       sklearn="nesterovs_momentum"),
    _o("rho", 0.9, "float", "RMSprop decay."),
    _o("beta_1", 0.9, "float", "Adam decay of the first moment.", flag="--beta1", sklearn="beta_1"),
    _o("beta_2", 0.999, "float", "Adam decay of the second moment.", flag="--beta2", sklearn="beta_2"),
    _o("epsilon", 1e-7, "float", "RMSprop/Adam denominator term.", sklearn="epsilon (1e-8)"),
    _o("l2", 0.0, "float", "L2 penalty on weights (never biases), scaled like the loss.", seed="lambda2_reg",
       sklearn="alpha"),
    _o("l1", 0.0, "float", "L1 penalty on weights (never biases).", seed="lambda1_reg"),
    _o("batch_size", "auto", "special", "Rows per mini-batch; auto = min(200, n).", seed="n_size_mini_batch",
       sklearn="batch_size"),
    _o("epochs", 200, "int", "Epoch budget (lbfgs: iterations).", seed="n_epochs", sklearn="max_iter"),
    _o("shuffle", True, "bool", "Reshuffle the rows every epoch.", seed="b_shuffle_batches", sklearn="shuffle"),
    _o("tol", 1e-4, "float", "Smallest improvement of the loss (or validation score) that counts.",
       sklearn="tol"),
    _o("n_iter_no_change", 10, "special", "Stop after more than this many epochs without improvement; "
       "'inf': never stop but warn, 'none': a fixed epoch budget, no warning.", sklearn="n_iter_no_change"),
    _o("max_fun", 15000, "int", "lbfgs: most loss evaluations.", sklearn="max_fun"),
    _o("init", "glorot", "choice", "Weight initialiser (glorot: scikit-learn's).", choices=INIT_METHODS, seed="init_weight_meth_Ln"),
    _o("init_first", None, "choice", "Initialiser of the first layer only (default: as init).", choices=INIT_METHODS,
       seed="init_weight_meth_L0"),
    _o("init_factor", 1.0, "float", "Scale of the sqrt_nodes and const intervals.", seed="init_weight_fact"),
    _o("init_intervals", None, "special", "Per-layer LOW:HIGH for init const, e.g. -0.5:0.5,-0.5:0.5.",
       seed="init_weight_intervals"),
    _o("leaky_slope", 0.01, "float", "Negative slope of leaky_relu."),
    _o("dropout", 0.0, "float", "Share of hidden units dropped per batch in training (0: none)."),
    _o("shift_pixels", 0, "int", "Augmentation: every training image moves by up to this many whole pixels "
       "per axis, anew in every batch, zero-filled (square images, e.g. 784 = 28 x 28 pixels; 0: none)."),
    _o("flip", False, "bool", "Augmentation: about half the training images of every batch, drawn anew, mirrored "
       "left-right (square images). For Fashion-MNIST's clothes; not for digits, whose mirror images are none."),
    _o("class_weight", None, "special", "Loss weight per class: 'balanced' or {label: weight}.", flag=None,
       sklearn="(none; sample_weight only)"),
    _o("early_stopping", False, "bool", "Stop on a stratified validation split and keep the best weights.",
       sklearn="early_stopping"),
    _o("validation_fraction", 0.1, "float", "Share held out for early stopping.", sklearn="validation_fraction"),
    _o("eval_train_every", 0, "int", "Full training-set accuracy every K epochs (0: never).",
       seed="prediction_train_period"),
    _o("eval_test_every", 0, "int", "Accuracy on fit's eval_set every K epochs (0: never).",
       seed="prediction_test_period"),
    _o("dtype", "float32", "choice", "Weight and arithmetic precision (float32: the seed's speed).",
       choices=DTYPES, sklearn="(follows X's dtype)"),
    _o("warm_start", False, "bool", "fit continues the previous training (weights, optimiser, epoch count).",
       flag=None, sklearn="warm_start"),
    _o("verbose", False, "bool", "Print the loss after every epoch (stdout).", flag=None, sklearn="verbose"),
    _o("random_state", None, "special", "Seed of weights, shuffles, split and dropout: int, None, "
       "RandomState or Generator.", flag="--seed", sklearn="random_state"),
)
"""The options in `MLPConfig` field order."""

BY_NAME = {o.name: o for o in OPTIONS}

SKLEARN_RENAMES = {
    "hidden_layer_sizes": "hidden_sizes", "learning_rate_init": "learning_rate", "max_iter": "epochs",
    "alpha": "l2", "nesterovs_momentum": "momentum_type='nesterov'",
}
"""scikit-learn parameter names that mnistlab spells differently, with the name to use."""


def _value(value: Any) -> str:
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return "None" if value is None else repr(value)


def options_table() -> str:
    """The Markdown table of every option (docs/mlp.md carries it verbatim; a test checks)."""
    lines = ["| option | default | meaning | CLI | seed | scikit-learn |", "|---|---|---|---|---|---|"]
    for o in OPTIONS:
        meaning = o.help + (" One of " + ", ".join(f"`{c}`" for c in o.choices) + "." if o.choices else "")
        cells = [f"`{o.name}`", f"`{_value(o.default)}`", meaning, f"`{o.flag}`" if o.flag else "(Python only)",
                 o.seed, o.sklearn]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def rename_message(names: dict) -> str:
    """The error for scikit-learn parameter names given to MLPClassifier: each with mnistlab's name."""
    parts = []
    for name in names:
        ours = SKLEARN_RENAMES.get(name)
        parts.append(f"{name!r} is scikit-learn's name; mnistlab's MLPClassifier calls it {ours}" if ours
                     else f"unexpected parameter {name!r}; docs/mlp.md lists MLPClassifier's parameters")
    return "; ".join(parts)


class NamesScikitLearnSpellings:
    """Turns scikit-learn's spellings (max_iter=...) into a TypeError naming mnistlab's.

    `__new__` runs before Python binds `__init__`'s arguments, so it is the one place to catch
    them; it lives in a base class so that `inspect.signature` still reads the subclass's `__init__`.
    """

    def __new__(cls, *args, **kwargs):
        renamed = {k: v for k, v in kwargs.items() if k in SKLEARN_RENAMES}
        if renamed:
            raise TypeError(rename_message(renamed))
        return super().__new__(cls)
