"""The runs table's query language: `model == "mlp" and test_accuracy > 0.98 and lr < 0.01`.

A query is parsed with Python's own parser (`ast.parse(..., mode="eval")`) and then walked by a
tiny interpreter that accepts only a whitelist of node types: `and`/`or`/`not`, comparisons (`==
!= < <= > >= in`, `not in`, chained as in `0.9 < test_accuracy < 0.99`), field names (dotted
names such as `mlp.learning_rate` too), and constants (numbers, strings, True/False/None, and lists
or tuples of them). Nothing is ever evaluated as code: a call, an attribute of a value, an index,
arithmetic or a lambda is refused with one line naming it.

Missing values are not errors: a run without `val_accuracy` simply does not match
`val_accuracy > 0.9` (but matches `val_accuracy == None`), and so does a comparison between a
number and a text. A name that no run has is an error (`Query.check_names`), because it is
almost always a typo.

Examples
--------
>>> query = parse_query('model == "mlp" and test_accuracy > 0.98')
>>> query.matches({"model": "mlp", "test_accuracy": 0.985})
True
>>> query.matches({"model": "cnn", "test_accuracy": 0.99})
False
>>> parse_query("lr < 0.01").names
frozenset({'learning_rate'})
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mnistlab.errors import MnistlabError

MAX_QUERY_CHARS = 1000
ALIASES = {"lr": "learning_rate", "accuracy": "test_accuracy", "acc": "test_accuracy", "seconds": "train_seconds"}
"""Short names people type, and the field each one stands for."""

_ORDER = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
_SYMBOL = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
           ast.In: "in", ast.NotIn: "not in"}
_REFUSED = {ast.Call: "calls", ast.Subscript: "indexing", ast.BinOp: "arithmetic", ast.Lambda: "lambdas",
            ast.IfExp: "if-expressions", ast.Dict: "dicts", ast.Set: "sets", ast.JoinedStr: "f-strings",
            ast.ListComp: "comprehensions", ast.GeneratorExp: "comprehensions", ast.NamedExpr: ":="}


class QueryError(MnistlabError):
    """A query that is not valid: one line naming the problem and the fix."""


@dataclass(frozen=True)
class Query:
    """A parsed query: its text, its checked syntax tree and the field names it reads."""

    text: str
    tree: ast.expr | None = None
    names: frozenset[str] = field(default_factory=frozenset)

    def matches(self, fields: Mapping[str, Any]) -> bool:
        """Whether a run with these field values passes the query (an empty query passes everything)."""
        return True if self.tree is None else bool(_value(self.tree, fields))

    def check_names(self, known: Iterable[str]) -> None:
        """QueryError naming the first field that is not in `known` (almost always a typo)."""
        known = set(known)
        for name in sorted(self.names - known):
            close = sorted(k for k in known if name in k or k in name)[:4]
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise QueryError(f"no run has a field {name!r}; {hint}quote text values (model == \"mlp\")")


def parse_query(text: str) -> Query:
    """Parse `text` into a Query; QueryError (one line: the problem and the fix) when it is not one."""
    text = (text or "").strip()
    if not text:
        return Query("")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(text)} characters long; keep it under {MAX_QUERY_CHARS}")
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset and exc.offset <= len(text) else " at the end"
        raise QueryError(f"the query is not valid syntax{where} ({exc.msg}); "
                         "write e.g. model == \"mlp\" and test_accuracy > 0.98") from None
    names: set[str] = set()
    _check(tree, names)
    return Query(text, tree, frozenset(names))


def _field_name(node: ast.expr) -> str | None:
    """`a` or `a.b.c` as a field name; None when the node is not a (dotted) name."""
    if isinstance(node, ast.Name):
        return ALIASES.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = _field_name(node.value)
        return f"{base}.{node.attr}" if base is not None else None
    return None


def _check(node: ast.expr, names: set[str]) -> None:
    """Refuse every node outside the whitelist; collect the field names read."""
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        _constant(node)
    elif isinstance(node, ast.Compare):
        for part in (node.left, *node.comparators):
            _check(part, names)
        for op in node.ops:
            if type(op) not in _SYMBOL:
                raise QueryError(f"the operator {type(op).__name__} is not allowed; use == != < <= > >= in, not in")
    elif isinstance(node, (ast.Name, ast.Attribute)):
        name = _field_name(node)
        if name is None:
            raise QueryError("attributes of values are not allowed; name a field, e.g. mlp.learning_rate")
        names.add(name)
    elif isinstance(node, (ast.Constant, ast.List, ast.Tuple)):
        _constant(node)
    else:
        what = next((label for kind, label in _REFUSED.items() if isinstance(node, kind)),
                    f"{type(node).__name__} expressions")
        raise QueryError(f"{what} are not allowed in a query (found {ast.unparse(node)!r}); "
                         "use field names, constants, comparisons, and/or/not")


def _constant(node: ast.expr) -> Any:
    """The value of a constant, a negative number, or a list/tuple of them; QueryError otherwise."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
        return -node.operand.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_constant(item) for item in node.elts]
    raise QueryError(f"{ast.unparse(node)!r} is not a constant a query can hold; "
                     "use numbers, quoted text, True/False/None or [lists] of them")


def _value(node: ast.expr, fields: Mapping[str, Any]) -> Any:
    """The value of a checked node for one run's fields."""
    if isinstance(node, ast.BoolOp):
        combine = all if isinstance(node.op, ast.And) else any
        return combine(bool(_value(v, fields)) for v in node.values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _value(node.operand, fields)
    if isinstance(node, ast.Compare):
        left = _value(node.left, fields)
        for op, right_node in zip(node.ops, node.comparators):
            right = _value(right_node, fields)
            if not _compare(op, left, right):
                return False
            left = right
        return True
    if isinstance(node, (ast.Name, ast.Attribute)):
        return _normal(fields.get(_field_name(node)))
    return _constant(node)


def _normal(value: Any) -> Any:
    """Tuples as lists, so that a config's [512, 256] equals the query's [512, 256] or (512, 256)."""
    return [_normal(v) for v in value] if isinstance(value, (list, tuple)) else value


def _compare(op: ast.cmpop, left: Any, right: Any) -> bool:
    if isinstance(op, (ast.Eq, ast.NotEq)):
        equal = left == right
        return equal if isinstance(op, ast.Eq) else not equal
    if isinstance(op, (ast.In, ast.NotIn)):
        if isinstance(right, list):
            found = left in right
        elif isinstance(right, str) and isinstance(left, str):
            found = left in right
        else:
            return False  # a missing value, or a number: neither in nor not in
        return found if isinstance(op, ast.In) else not found
    both_numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
    if both_numbers or (isinstance(left, str) and isinstance(right, str)):
        return _ORDER[type(op)](left, right)
    return False  # None, or a number against a text: no order, no match
