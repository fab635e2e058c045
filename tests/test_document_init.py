"""The records of ketl.document keep their dataclass behaviour with the quick __init__ (document._quick_init)."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from ketl.document import Change, EntityMention, Edit, Quote, Suggestion
from ketl.stages.repair.scan import TextFacts

RECORDS = (Change, Edit, Quote, EntityMention, Suggestion, TextFacts)


def _values(cls: type) -> list:
    # distinct values of each field's type, so a swapped pair of fields shows
    return [f"v{i}" if "str" in str(f.type) else 10 + i for i, f in enumerate(dataclasses.fields(cls))]


@pytest.mark.parametrize("cls", RECORDS)
def test_positional_and_keyword_give_the_fields(cls: type) -> None:
    values = _values(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    by_position = cls(*values)
    by_name = cls(**dict(zip(names, values)))
    assert [getattr(by_position, n) for n in names] == values
    assert by_position == by_name and hash(by_position) == hash(by_name)
    assert pickle.loads(pickle.dumps(by_position)) == by_position
    assert dataclasses.replace(by_position, **{names[0]: values[1]}) != by_position


@pytest.mark.parametrize("cls", RECORDS)
def test_signature_and_defaults_are_the_fields(cls: type) -> None:
    params = inspect.signature(cls).parameters
    fields = dataclasses.fields(cls)
    assert list(params) == [f.name for f in fields]
    for f in fields:
        expected = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        assert params[f.name].default == expected
    required = [f for f in fields if f.default is dataclasses.MISSING]
    with pytest.raises(TypeError):
        cls(*_values(cls)[:len(required) - 1])
    with pytest.raises(TypeError):
        cls(*_values(cls), "one too many")


def test_defaults_apply_and_records_stay_frozen() -> None:
    q = Quote("Wir schaffen das", None, 3, 19)
    assert (q.kind, q.speaker_name, q.speaker_id) == ("statement", None, None)
    c = Change(4, 9, "", "space.trim")
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.start = 5  # type: ignore[misc]
    assert c == Change(start=4, end=9, replacement="", rule="space.trim")
