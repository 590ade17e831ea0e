"""The problem collector of an input table: every problem of a file found and then raised
together as one :class:`~portsim.errors.BookError`, sorted as the user reads the table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

import numpy as np

from portsim.data.cells import BoolArray, IntArray, ObjectArray, show
from portsim.errors import BookError, Problem

__all__ = ["MAX_LISTED_PROBLEMS", "TableProblems", "fixed", "split_problem"]

#: At most this many problems are listed in one :class:`BookError`; an "and N more" line follows.
MAX_LISTED_PROBLEMS: Final = 50


class TableProblems:
    """Collects the problems of one table, sorted by row, then by the column's place in the
    table, listing at most :data:`MAX_LISTED_PROBLEMS`.

    Parameters
    ----------
    name : str
        The table's file name (or source), which starts every location.
    title : str
        Title of the :class:`~portsim.errors.BookError` raised.
    order : mapping of str to int
        Place of each known column, for sorting the problems of one row.
    assumed : tuple of Problem
        What reading the file assumed (e.g. its CSV dialect), listed after the problems
        when there are any, as it may explain them.
    """

    def __init__(self, name: str, title: str, order: Mapping[str, int],
                 assumed: tuple[Problem, ...] = ()) -> None:
        self.name = name
        self.assumed = assumed
        self.title = title
        self.order = order
        self.rows: IntArray = np.zeros(0, dtype=np.int64)
        self.ids: ObjectArray = np.zeros(0, dtype=object)
        self._items: list[tuple[int, int, int, Problem]] = []
        self.notes: list[Problem] = []
        self.unlisted = 0

    def _add(self, row: int, column: str, problem: Problem) -> None:
        self._items.append((row, self.order.get(column, -1), len(self._items), problem))

    def where(self, i: int) -> str:
        cid = str(self.ids[i]) if self.ids.size else ""
        label = f"{self.name} row {int(self.rows[i])}"
        return f"{label} ({show(cid)})" if cid else label

    def file(self, what: str, rule: str, fix: str = "") -> None:
        self._add(0, "", Problem(self.name, what, rule, fix))

    def header(
        self, column: str, what: str, rule: str, fix: str = "", *, note: bool = False
    ) -> None:
        problem = Problem(f"{self.name} row 1 (header)", what, rule, fix)
        if note:
            self.notes.append(problem)
        self._add(1, column, problem)

    def at(self, row: int, column: str, problem: Problem) -> None:
        self._add(row, column, problem)

    def cells(
        self, mask: BoolArray, column: str, describe: Callable[[int], tuple[str, str, str]]
    ) -> None:
        """Add one problem per row in ``mask``; ``describe(i)`` gives (what, rule, fix)."""
        index = np.flatnonzero(mask)
        # Only the first MAX of one check can be among the first MAX of all, sorted by row.
        for i in index[:MAX_LISTED_PROBLEMS]:
            what, rule, fix = describe(int(i))
            self._add(int(self.rows[i]), column, Problem(self.where(int(i)), what, rule, fix))
        self.unlisted += max(0, index.size - MAX_LISTED_PROBLEMS)

    @property
    def has_errors(self) -> bool:
        return len(self._items) > len(self.notes) or self.unlisted > 0

    def raise_if_any(self) -> None:
        if not self.has_errors:
            return
        items = sorted(self._items, key=lambda item: item[:3])
        listed = [item[3] for item in items[:MAX_LISTED_PROBLEMS]]
        more = len(items) - len(listed) + self.unlisted
        if more:
            listed.append(
                Problem(self.name, f"{more} more problem(s)", "are not listed", "fix these first")
            )
        raise BookError([*listed, *self.assumed], title=self.title)


def split_problem(problem: Problem) -> tuple[str, str, str]:
    """(what, rule, fix) of a problem, to file it again at another place."""
    return problem.what, problem.rule, problem.fix


def fixed(what: str, rule: str, fix: str) -> Callable[[int], tuple[str, str, str]]:
    """A describe() for problems whose text does not depend on the row."""

    def describe(i: int) -> tuple[str, str, str]:
        return what, rule, fix

    return describe
