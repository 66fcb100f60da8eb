"""Division codes and node ids (PROTOCOL.md §1) are matched whole: a trailing newline is not part of an id."""

import pytest

from shangliang.core.divisions import is_standard, validate_code, validate_node_id
from shangliang.core.errors import DivisionCodeError


@pytest.mark.parametrize("good", ["62", "6203", "620302", "620302001", "620302001001", "620302-kfq"])
def test_well_formed_ids_are_accepted(good):
    assert validate_node_id(good) == good


@pytest.mark.parametrize("bad", ["62\n", "6203\n", "620302-kfq\n", "620302-KFQ", "620", "62 ", "", "６２", None, 62])
def test_ids_with_anything_more_or_less_are_refused(bad):
    with pytest.raises(DivisionCodeError):
        validate_node_id(bad)


def test_a_standard_code_is_digits_only_whole():
    assert is_standard("620302") and not is_standard("620302\n") and not is_standard("620302-kfq")
    with pytest.raises(DivisionCodeError):
        validate_code("620302\n")
