"""The integer codes the kernels share, one :class:`~enum.IntEnum` per kind of code.

Every code is defined here and only here. numba compiles IntEnum members used in a kernel as
constants; callers pass ``int(member)`` (or an array of codes) as a kernel argument. Names
that users write (config strings, names in results files) are the members' :attr:`label`.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Self

__all__ = ["Compare", "CoverType", "DefaultMethod", "EventKind", "Feature", "Stream"]


class _Labelled(IntEnum):
    """An IntEnum whose members are written as lower-case labels (``PER_CUSTOMER`` is
    ``"per_customer"``)."""

    @property
    def label(self) -> str:
        """The name users write and results files carry."""
        return self.name.lower()

    @classmethod
    def of(cls, label: str) -> Self:
        """The member written ``label``; ``ValueError`` quoting the choices otherwise."""
        try:
            return cls[label.upper()]
        except KeyError:
            choices = ", ".join(repr(m.label) for m in cls)
            raise ValueError(f"{cls.__name__} {label!r} is not one of {choices}") from None

    @classmethod
    def labels(cls) -> tuple[str, ...]:
        """Every member's label, indexed by code."""
        return tuple(m.label for m in sorted(cls))


class DefaultMethod(_Labelled):
    """How the default kernels draw defaults (``[simulation] kernel``): a normal per
    customer-path, a uniform against the group's conditional PD, or geometric skipping over
    each group's customers (see :mod:`portsim.kernels.defaults`)."""

    PER_CUSTOMER = 0
    GROUPED = 1
    SKIP = 2


class EventKind(_Labelled):
    """Kind of a claim event the timeline kernel logs and the claims kernel applies."""

    INSOLVENCY = 0
    PROTRACTED = 1


class CoverType(_Labelled):
    """Credit-insurance cover of a buyer under a policy variant."""

    NONE = 0
    NAMED = 1
    DISCRETIONARY = 2
    UNNAMED = 3
    EXCLUDED = 4


class Feature(_Labelled):
    """A customer's feature computed on a path's simulated invoices at a period end, which
    the monitoring rules of ``[actions]`` test (see :mod:`portsim.config.actions`)."""

    DBT = 0
    OLDEST_OVERDUE_DAYS = 1
    LIMIT_UTILISATION = 2


class Compare(IntEnum):
    """The comparison of a rule's condition ``feature op value``."""

    GT = 0
    GE = 1
    LT = 2
    LE = 3
    EQ = 4
    NE = 5

    @classmethod
    def of(cls, op: str) -> Compare:
        """The member written ``op`` (``>``, ``>=``, ``<``, ``<=``, ``==``, ``!=``)."""
        return cls(_OPERATORS.index(op))


_OPERATORS = (">", ">=", "<", "<=", "==", "!=")


class Stream(IntEnum):
    """Random stream of a path, by purpose (index into the per-path states of
    :func:`portsim.kernels.rng.all_path_states`); part of the reproducibility contract."""

    DEFAULT = 0
    LGD = 1
    DELAY = 2
    SUPPLIER = 3
