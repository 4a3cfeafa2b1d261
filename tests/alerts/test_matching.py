"""Label matchers as Alertmanager writes them (pure)."""

from __future__ import annotations

import pytest

from opsdesk.alerts.matching import (
    MatcherError,
    labels_match,
    matchers_parse,
    matchers_stored,
    matchers_text,
    matches_everything,
)

LABELS = {"alertname": "HostDown", "instance": "web-1", "env": "prod"}


@pytest.mark.parametrize(
    ("matchers", "expected"),
    [
        (['env="prod"'], True),
        (["env=prod"], True),
        (['env!="prod"'], False),
        (['instance=~"web-[0-9]+"'], True),
        (['instance=~"web"'], False),  # regular expressions match the whole value
        (['instance!~"db-.*"'], True),
        (['team=""'], True),  # an absent label is the empty string
        (['team!=""'], False),
        (['env="prod"', 'instance=~"db-.*"'], False),  # every matcher must match
        ('{env="prod", instance=~"web-.*"}', True),
        ('env="prod"\ninstance!~"db-.*"', True),
        ([{"name": "env", "op": "!=", "value": "dev"}], True),
        ([{"name": "instance", "value": "web-.*", "isRegex": True}], True),
        ([{"name": "instance", "value": "web-.*", "isRegex": True, "isEqual": False}], False),
        ({"instance": "/web-.*/"}, True),  # the older mapping form
        ({"env": "dev"}, False),
    ],
)
def test_alertmanager_operators(matchers, expected):
    assert labels_match(matchers_stored(matchers), LABELS) is expected


def test_commas_and_quotes_inside_values():
    parsed = matchers_parse('{msg="a, b", q="say \\"hi\\""}')
    assert [(m.name, m.value) for m in parsed] == [("msg", "a, b"), ("q", 'say "hi"')]
    assert matchers_text(matchers_stored(parsed_text := 'q="say \\"hi\\""')) == parsed_text


@pytest.mark.parametrize(
    ("matchers", "reason"),
    [
        ([], "at least one"),
        ("", "at least one"),
        (["env~prod"], "matchers[0]: cannot read"),
        (['env="prod"', "=prod"], "matchers[1]: '=prod' has no label name"),
        (['instance=~"web-("'], "matchers[0]: 'web-(' is not a valid regular expression"),
        ([{"name": "env", "op": "==", "value": "x"}], "unknown operator '=='"),
        ([{"name": "bad name", "op": "=", "value": "x"}], "is not a label name"),
        ([{"name": "env", "op": "=", "value": ["x"]}], "must be text"),
        ([42], "each matcher is a text"),
        (42, "must be a list"),
    ],
)
def test_bad_matchers_say_where_and_why(matchers, reason):
    with pytest.raises(MatcherError) as caught:
        matchers_parse(matchers)
    assert reason in str(caught.value)


def test_matchers_that_match_everything_are_recognised():
    assert matches_everything(matchers_parse(['env=~".*"', 'team=""']))
    assert not matches_everything(matchers_parse(['env=~".*"', 'team!=""']))


def test_stored_rows_that_are_unreadable_match_nothing():
    assert labels_match({}, LABELS) is False
    assert labels_match([{"name": "env"}], LABELS) is False
