"""`record`: a dataclass whose methods are shared functions, not compiled per class.

Python 3.11's `dataclass` writes `__init__`, `__repr__`, `__eq__`, `__hash__` and a
frozen class's `__setattr__`/`__delattr__` as source text and compiles each with
`exec`: about 1 ms a class on a 2-CPU VM, a third of what `check FILE` spends on
its own imports (issue 20). The values on the start-up path of `check` and `fix`
are declared with `record` instead: it lets `dataclass` collect the fields (so
`fields()`, `replace()`, `asdict()`, `match` and pickling work unchanged) and sets
the methods to the functions below, which read the fields from a plan made once
per class. Other classes keep `dataclass`, whose compiled `__init__` is about
2 µs faster per object: a video's samples, made by the thousand, and the service
and the publisher, which do not start once per command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError, dataclass, fields
from typing import Any, TypeVar, dataclass_transform, overload

T = TypeVar("T", bound=type)

_PLAN = "__record_plan__"
_FILL: Any = object()  # a field the caller or a default factory has yet to give


class _Plan:
    """What the shared methods need to know about one record class."""

    __slots__ = (
        "init", "names", "defaults", "repr", "compare", "hash",
        "positional", "template", "factories", "required",
    )  # fmt: skip

    def __init__(self, cls: type) -> None:
        every = fields(cls)
        # (name, default, default_factory) for the arguments, in order.
        self.init = tuple((f.name, f.default, f.default_factory) for f in every if f.init)
        self.names = frozenset(name for name, _default, _factory in self.init)
        # Fields that are not arguments but have a default, set after them.
        self.defaults = tuple(
            (f.name, f.default, f.default_factory)
            for f in every
            if not f.init and (f.default is not MISSING or f.default_factory is not MISSING)
        )
        self.repr = tuple(f.name for f in every if f.repr)
        self.compare = tuple(f.name for f in every if f.compare)
        self.hash = tuple(f.name for f in every if (f.compare if f.hash is None else f.hash))
        # The fast path of `_init`: every field it sets, in order, with its default
        # (_FILL where a factory or the caller must give it).
        self.positional = tuple(name for name, _default, _factory in self.init)
        self.template = {
            name: _FILL if default is MISSING else default
            for name, default, _factory in (*self.init, *self.defaults)
        }
        self.factories = tuple(
            (name, factory)
            for name, default, factory in (*self.init, *self.defaults)
            if default is MISSING and factory is not MISSING
        )
        self.required = tuple(
            name
            for name, default, factory in self.init
            if default is MISSING and factory is MISSING
        )


def _value(name: str, default: Any, factory: Any, owner: str) -> Any:
    if default is not MISSING:
        return default
    if factory is not MISSING:
        return factory()
    raise TypeError(f"{owner}.__init__() missing required argument: '{name}'")


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    """A record's `__init__`. The values of a call that names only known fields, gives
    every required one and none twice go into the instance's dict in one update
    (3-4x faster: a check of 300 files makes about 3,000 records); any other call
    takes the field-by-field path, which raises the errors `dataclass` would."""
    plan: _Plan = getattr(type(self), _PLAN)
    n = len(args)
    if (
        n <= len(plan.positional)
        and plan.names.issuperset(kwargs)
        and (not n or not kwargs or kwargs.keys().isdisjoint(plan.positional[:n]))
    ):
        values = plan.template.copy()
        if n:
            values.update(zip(plan.positional[:n], args, strict=True))
        values.update(kwargs)
        for name, factory in plan.factories:
            if values[name] is _FILL:
                values[name] = factory()
        if all(values[name] is not _FILL for name in plan.required):
            vars(self).update(values)
            post_init = getattr(self, "__post_init__", None)
            if post_init is not None:
                post_init()
            return
    _init_fields(self, plan, args, kwargs)


def _init_fields(self: Any, plan: _Plan, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    owner = type(self).__qualname__
    if len(args) > len(plan.init):
        raise TypeError(
            f"{owner}.__init__() takes {len(plan.init) + 1} positional arguments "
            f"but {len(args) + 1} were given"
        )
    put = object.__setattr__
    taken = 0
    for index, (name, default, factory) in enumerate(plan.init):
        if index < len(args):
            if name in kwargs:
                raise TypeError(f"{owner}.__init__() got multiple values for argument '{name}'")
            put(self, name, args[index])
        elif name in kwargs:
            put(self, name, kwargs[name])
            taken += 1
        else:
            put(self, name, _value(name, default, factory, owner))
    if taken != len(kwargs):
        unknown = next(name for name in kwargs if name not in plan.names)
        raise TypeError(f"{owner}.__init__() got an unexpected keyword argument '{unknown}'")
    for name, default, factory in plan.defaults:
        put(self, name, _value(name, default, factory, owner))
    post_init = getattr(self, "__post_init__", None)
    if post_init is not None:
        post_init()


def _repr(self: Any) -> str:
    plan: _Plan = getattr(type(self), _PLAN)
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in plan.repr)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: Any) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    names = getattr(type(self), _PLAN).compare
    return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)


def _hash(self: Any) -> int:
    return hash(tuple(getattr(self, n) for n in getattr(type(self), _PLAN).hash))


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _make(cls: T, frozen: bool, eq: bool) -> T:
    own = dict(cls.__dict__)
    cls = dataclass(cls, init=False, repr=False, eq=False)
    setattr(cls, _PLAN, _Plan(cls))
    if "__init__" not in own:
        cls.__init__ = _init  # type: ignore[misc]
    if "__repr__" not in own:
        cls.__repr__ = _repr  # type: ignore[assignment]
    if eq:
        if "__eq__" not in own:
            cls.__eq__ = _eq  # type: ignore[assignment]
        # dataclass's rule: a hash of the class's own stays (a `__hash__ = None` that
        # Python wrote for an own `__eq__` is not one); else a frozen value hashes its
        # fields and a mutable one is unhashable.
        own_hash = own.get("__hash__", MISSING)
        if own_hash is MISSING or (own_hash is None and "__eq__" in own):
            cls.__hash__ = _hash if frozen else None  # type: ignore[assignment]
    if frozen:
        cls.__setattr__ = _frozen_setattr  # type: ignore[assignment]
        cls.__delattr__ = _frozen_delattr  # type: ignore[assignment]
    return cls


@overload
def record(cls: T, /) -> T: ...
@overload
def record(*, frozen: bool = True, eq: bool = True) -> Callable[[T], T]: ...


@dataclass_transform(frozen_default=True)
def record(cls: T | None = None, /, *, frozen: bool = True, eq: bool = True) -> Any:
    """`@record` is `@dataclass(frozen=True)`; `@record(frozen=False)` a mutable one."""
    if cls is None:
        return lambda c: _make(c, frozen, eq)
    return _make(cls, frozen, eq)
