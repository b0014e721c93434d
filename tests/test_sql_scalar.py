"""A SQL feature reads one record: one that reads more (an aggregate, a window function, a
subquery, a query) or depends on when it runs is refused when defined, since its value would
differ between history (one batch of everything) and live (one record at a time). A feature
set stored before this check still opens."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rtml
from rtml.features import SQL
from rtml.spec import reading_stored

REFUSED = [
    ('sum("x")', "sum() is an aggregate over many records"),
    ("count(*)", "count(*) is an aggregate"),
    ('"x" / avg("x") FILTER (WHERE "x" > 0)', "avg() is an aggregate"),
    ('lag("x") OVER (ORDER BY "ts")', "lag() OVER (...) is a window function"),
    ("row_number() OVER ()", "row_number() OVER"),
    ('"x" IN (SELECT 1)', "a subquery reads beyond the record"),
    ("(SELECT max(1))", "a subquery"),
    ('"x" FROM tx', "expected one scalar expression of the record's columns, not a query"),
    ('"x", "ts"', "expected one scalar expression of the record's columns, not a query"),
    ("1 UNION SELECT 2", "expected one scalar expression of the record's columns, not a query"),
    ("random()", "random() depends on when it runs, not on the record"),
    ("now()", "now() depends on when it runs, not on the record"),
    ('epoch(current_timestamp) - "ts"', "current_timestamp depends on when it runs"),
    ("gen_random_uuid()", "gen_random_uuid() depends on when it runs"),
]

ACCEPTED = [
    '"x" * 2',
    'CASE WHEN "x" > 1 THEN 1 ELSE 0 END',
    'least("x", 10) + greatest("ts", 0)',
    'hash("id") % 10',
    'list_sum(["x", 1])',
    "strftime(to_timestamp(\"ts\"), '%H')",
    '"current_date" + 1',  # a column of that name, quoted
    'coalesce("x", 0)::INTEGER',
    "error('never') IS NULL OR \"x\" > 0",
]


@pytest.mark.parametrize(("expr", "why"), REFUSED)
def test_expressions_beyond_the_record_are_refused_by_what_they_read(expr, why) -> None:
    with pytest.raises(rtml.SpecError) as refused:
        SQL("f", expr)
    assert f"SQL: field 'expr': {why}" in str(refused.value)


@pytest.mark.parametrize("expr", ACCEPTED)
def test_scalar_expressions_of_the_record_are_accepted(expr) -> None:
    assert SQL("f", expr).expr == expr


@given(
    op=st.sampled_from(["sum", "avg", "min", "max", "count", "stddev", "median", "list"]),
    depth=st.integers(0, 3),
    wrap=st.sampled_from(["{} + 1", "CASE WHEN {} > 0 THEN 1 ELSE 0 END", "coalesce({}, 0)"]),
)
def test_an_aggregate_is_refused_however_deep_it_sits(op, depth, wrap) -> None:
    expr = f'{op}("x")'
    for _ in range(depth):
        expr = wrap.format(expr)
    with pytest.raises(rtml.SpecError, match=f"{op}\\(\\) is an aggregate"):
        SQL("f", expr)


def test_a_feature_set_stored_before_the_check_still_opens(tmp_path) -> None:
    """A store written by an rtml that took sum("x") as a SQL feature opens: its records are
    there, and the feature set with them; only new definitions are refused."""
    path = str(tmp_path / "store")
    with rtml.connect("local", path=path) as backend:
        backend.create_dataset(
            "tx", key="id", df=pd.DataFrame({"id": [1, 2], "x": [1.0, 2.0], "ts": [0, 1]})
        )
        with reading_stored():  # as an earlier rtml defined it
            old = rtml.FeatureSet(
                name="f", dataset="tx", timestamp="ts", features=[SQL("total", 'sum("x")')]
            )
        backend.materialize(old)
    (tmp_path / "store" / "checkpoint.pkl").unlink()  # the feature set is read from the log
    with rtml.connect("local", path=path) as backend:
        assert backend.feature_sets() == ["f"]
        assert backend.features("f")["id"].tolist() == [1, 2]
        with pytest.raises(rtml.SpecError, match="sum\\(\\) is an aggregate"):
            rtml.FeatureSet.from_dict(old.model_dump(mode="json"))
