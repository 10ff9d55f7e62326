"""`record` behaves as `dataclass` does, for every use the package makes of it.

Each case declares the same class twice, once with `dataclass` and once with
`record`, and compares what both do; the start-up path of `check` and `fix` relies
on the two being interchangeable.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import FrozenInstanceError, dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from igpreflight.records import _init_fields, record


def pair(frozen: bool = True, eq: bool = True) -> tuple[type, type]:
    """The same class, as a dataclass and as a record."""

    def body() -> type:
        class Sample:
            """A value with every kind of field the package declares."""

            name: str
            size: int = 0
            tags: tuple[str, ...] = ()
            notes: list[str] = field(default_factory=list, hash=False)
            hidden: str = field(default="h", repr=False)
            uncompared: int = field(default=0, compare=False)
            derived: str = field(init=False, default="d")

        return Sample

    return dataclass(frozen=frozen, eq=eq)(body()), record(frozen=frozen, eq=eq)(body())


values = st.fixed_dictionaries(
    {
        "name": st.text(max_size=8),
        "size": st.integers(),
        "tags": st.lists(st.text(max_size=3), max_size=3).map(tuple),
        "hidden": st.text(max_size=3),
        "uncompared": st.integers(),
    }
)


def shown(value: object) -> str:
    """repr without the class's qualified name, which differs between the two."""
    return repr(value).split("(", 1)[1]


@given(values, values)
def test_init_repr_eq_and_hash_agree_with_dataclass(a: dict, b: dict) -> None:
    plain, fast = pair()
    pa, pb, fa, fb = plain(**a), plain(**b), fast(**a), fast(**b)
    assert shown(fa) == shown(pa)
    assert (fa == fb) == (pa == pb)
    assert hash(fa) == hash(fb) if fa == fb else True
    assert hash(fa) == hash(pa)
    assert dataclasses.asdict(fa) == dataclasses.asdict(pa)
    assert dataclasses.astuple(fa) == dataclasses.astuple(pa)
    assert [f.name for f in dataclasses.fields(fast)] == [f.name for f in dataclasses.fields(plain)]


def test_positional_arguments_defaults_and_factories() -> None:
    plain, fast = pair()
    value = fast("a", 3, ("x",))
    assert (value.name, value.size, value.tags, value.notes, value.derived) == (
        "a",
        3,
        ("x",),
        [],
        "d",
    )
    assert fast("b").notes is not fast("b").notes  # a fresh list each time
    assert fast.__match_args__ == plain.__match_args__


ORDER = ("name", "size", "tags", "notes", "hidden", "uncompared")


@given(values, st.integers(0, 6), st.sets(st.sampled_from(ORDER[1:])))
def test_any_call_shape_sets_what_dataclass_sets(given_: dict, n: int, omitted: set) -> None:
    """Arguments split into positional and keyword ones, defaults left out: `record`'s
    one-update path and the field-by-field one give what `dataclass` gives, in its order."""
    plain, fast = pair()
    full = {"notes": ["n"], **given_}
    args = tuple(full[name] for name in ORDER[:n])
    kwargs = {k: v for k, v in full.items() if k not in ORDER[:n] and k not in omitted}
    a, b = plain(*args, **kwargs), fast(*args, **kwargs)
    assert dataclasses.asdict(b) == dataclasses.asdict(a)
    slow = object.__new__(fast)
    _init_fields(slow, fast.__record_plan__, args, kwargs)
    assert vars(b) == vars(slow) and list(vars(b)) == list(vars(slow))


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "missing required argument: 'name'"),
        (("a",), {"name": "b"}, "multiple values for argument 'name'"),
        (("a",), {"colour": 1}, "unexpected keyword argument 'colour'"),
        (("a", 1, (), [], "h", 0, "extra"), {}, "takes 7 positional arguments but 8"),
        (("a",), {"derived": "x"}, "unexpected keyword argument 'derived'"),
    ],
)
def test_wrong_arguments_are_refused_as_dataclass_refuses_them(
    args: tuple, kwargs: dict, message: str
) -> None:
    plain, fast = pair()
    with pytest.raises(TypeError):
        plain(*args, **kwargs)
    with pytest.raises(TypeError, match=message):
        fast(*args, **kwargs)


def test_frozen_refuses_changes_and_replace_makes_a_new_value() -> None:
    _plain, fast = pair()
    value = fast("a", 1)
    with pytest.raises(FrozenInstanceError):
        value.size = 2  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del value.size  # type: ignore[misc]
    changed = dataclasses.replace(value, size=2)
    assert (changed.size, value.size, changed.name) == (2, 1, "a")


def test_mutable_record_is_unhashable_and_assignable() -> None:
    _plain, fast = pair(frozen=False)
    value = fast("a")
    value.size = 5
    assert value.size == 5
    assert fast.__hash__ is None
    with pytest.raises(TypeError):
        hash(value)


def test_eq_false_keeps_identity() -> None:
    _plain, fast = pair(eq=False)
    a, b = fast("a"), fast("a")
    assert a != b and a == a
    assert hash(a) != hash(b) or a is b


def test_pickle_and_copies_round_trip() -> None:
    value = Pickled("a", 1, ("t",))
    for back in (pickle.loads(pickle.dumps(value)), copy.copy(value), copy.deepcopy(value)):
        assert back == value and back is not value
        with pytest.raises(FrozenInstanceError):
            back.size = 3  # type: ignore[misc]


def test_post_init_runs_and_subclasses_add_fields() -> None:
    child = Child("a", 2, extra=7)
    assert (child.name, child.size, child.extra, child.double) == ("a", 2, 7, 4)
    assert repr(child) == "Child(name='a', size=2, extra=7)"
    assert child != Parent("a", 2)  # another class is never equal
    assert hash(child) == hash(Child("a", 2, extra=7))


def test_own_methods_are_kept() -> None:
    assert repr(Custom(1)) == "custom 1"
    assert Custom(1) == Custom(2)  # its own __eq__
    assert Custom.__hash__ is object.__hash__


@pytest.mark.parametrize("frozen", [True, False])
def test_an_own_eq_without_a_hash_gets_dataclass_s_hash(frozen: bool) -> None:
    """Python sets `__hash__ = None` beside a class's own `__eq__`; dataclass then
    still gives a frozen class its field hash and a mutable one none."""

    def declare(decorate):  # noqa: ANN001 - dataclass or record
        @decorate
        class OwnEq:
            """Equal to any other of its kind."""

            size: int

            def __eq__(self, other: object) -> bool:
                return isinstance(other, OwnEq)

        return OwnEq

    plain = declare(dataclass(frozen=frozen))
    fast = declare(record(frozen=frozen))
    assert (plain.__hash__ is None) == (fast.__hash__ is None) == (not frozen)
    if frozen:
        assert hash(fast(3)) == hash(plain(3)) == hash((3,))


@record
class Pickled:
    """Module level, so pickle can find it."""

    name: str
    size: int = 0
    tags: tuple[str, ...] = ()


@record
class Parent:
    """A base record."""

    name: str
    size: int = 0
    double: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "double", self.size * 2)


@record
class Child(Parent):
    """A record that inherits one."""

    extra: int = 0


@record
class Custom:
    """A record with its own repr and eq."""

    size: int

    def __repr__(self) -> str:
        return f"custom {self.size}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Custom)

    __hash__ = object.__hash__
