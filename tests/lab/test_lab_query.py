"""The runs table's query language: what it matches, and the one line it gives for what it refuses."""

from __future__ import annotations

import pytest

from mnistlab.lab.query import QueryError, parse_query

RUN = {"model": "mlp", "test_accuracy": 0.985, "learning_rate": 0.001, "hidden_sizes": [512, 256],
       "val_accuracy": None, "dataset": "mnist", "early_stopping": False, "mlp.solver": "adam"}


@pytest.mark.parametrize("text, expected", [
    ("", True),
    ('model == "mlp" and test_accuracy > 0.98 and lr < 0.01', True),
    ('model == "cnn" or test_accuracy >= 0.99', False),
    ("not (test_accuracy < 0.98)", True),
    ("0.98 < test_accuracy < 0.99", True),
    ("0.98 < test_accuracy < 0.985", False),
    ('dataset in ["mnist", "fashion-mnist"]', True),
    ('model not in ("cnn",)', True),
    ("hidden_sizes == [512, 256]", True),
    ("512 in hidden_sizes", True),
    ('"ms" in model', False),
    ("val_accuracy == None", True),
    ("val_accuracy > 0.5", False),          # a missing value matches no order
    ("val_accuracy < 0.5", False),
    ('test_accuracy > "a"', False),         # a number and a text: no order
    ("early_stopping == False", True),
    ("not early_stopping", True),
    ("learning_rate > -1", True),
    ('mlp.solver == "adam"', True),
    ("acc > 0.9", True),                    # an alias of test_accuracy
])
def test_a_query_matches_what_it_says(text, expected):
    assert parse_query(text).matches(RUN) is expected


@pytest.mark.parametrize("text, problem", [
    ("test_accuracy >", "not valid syntax at the end"),
    ("test_accuracy >> == 1", "not valid syntax at column"),
    ("__import__('os').system('true')", "calls are not allowed"),
    ("hidden_sizes[0] == 512", "indexing are not allowed"),
    ("test_accuracy * 2 > 1", "arithmetic are not allowed"),
    ("lambda: 1", "lambdas are not allowed"),
    ("test_accuracy if 1 else 2", "if-expressions are not allowed"),
    ("model is None", "operator Is is not allowed"),
    ('"mlp".upper == 1', "attributes of values are not allowed"),
    ("model == {1: 2}", "dicts are not allowed"),
    ("model == -x", "not a constant"),
    ("x" * 1001, "keep it under 1000"),
])
def test_a_bad_query_is_one_line_naming_the_problem(text, problem):
    with pytest.raises(QueryError) as info:
        parse_query(text)
    message = str(info.value)
    assert problem in message and "\n" not in message


def test_names_are_collected_with_aliases_resolved_and_checked_against_the_known_fields():
    query = parse_query('lr < 0.01 and mlp.solver == "adam" and modle == "mlp"')
    assert query.names == {"learning_rate", "mlp.solver", "modle"}
    with pytest.raises(QueryError, match="no run has a field 'modle'"):
        query.check_names(RUN)
    with pytest.raises(QueryError, match="quote text values"):
        parse_query("model == mlp").check_names(RUN)
    parse_query("model == 'mlp'").check_names(RUN)  # positive control: known names pass
