"""Errors caused by user input.

Every error that a user can fix by editing a file derives from :class:`InputError`; the
command line turns it into exit code 1 and prints every problem it carries.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BookError", "ConfigError", "InputError", "Problem"]


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Parameters
    ----------
    where : str
        File and location, e.g. ``"book.csv row 4 (C003)"`` or ``"example.toml line 12"``.
    what : str
        The offending key or column and its value, e.g. ``"p_default=3.5"``.
    rule : str
        The rule it breaks, e.g. ``"is outside [0, 1]"``.
    fix : str
        How to fix it, e.g. ``"for 3.5 % write 0.035"``; may be empty.
    """

    where: str
    what: str
    rule: str
    fix: str = ""

    def __str__(self) -> str:
        body = " ".join(part for part in (self.what, self.rule) if part)
        text = f"{self.where}: {body}" if self.where else body
        return f"{text}; {self.fix}" if self.fix else text


class InputError(Exception):
    """An input (config, book, scenario) that cannot be used, with every problem found."""

    def __init__(self, problems: list[Problem] | str, *, title: str = "invalid input") -> None:
        if isinstance(problems, str):
            problems = [Problem(where="", what="", rule=problems)]
        self.problems = list(problems)
        self.title = title
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [f"{self.title}: {len(self.problems)} problem(s)"]
        lines += [f"  - {str(p).lstrip(': ')}" for p in self.problems]
        return "\n".join(lines)


class ConfigError(InputError):
    """A run configuration or scenario file that cannot be used."""

    def __init__(self, problems: list[Problem] | str, *, title: str = "invalid config") -> None:
        super().__init__(problems, title=title)


class BookError(InputError):
    """A receivables book (customers or invoices table) that cannot be used."""

    def __init__(self, problems: list[Problem] | str, *, title: str = "invalid book") -> None:
        super().__init__(problems, title=title)
