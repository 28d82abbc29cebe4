"""Paging of a list shown a page at a time (`/mytasks`, the team board, `/deal list`)."""

from __future__ import annotations


class Paged:
    """A page of `limit` items from `offset`, out of `total`; the page dataclasses declare the three fields."""

    total: int
    offset: int
    limit: int

    @property
    def has_prev(self) -> bool:
        """There is a page before this one."""
        return self.offset > 0

    @property
    def has_next(self) -> bool:
        """There is a page after this one."""
        return self.offset + self.limit < self.total

    @property
    def number(self) -> int:
        """This page's number, from 1."""
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        """How many pages the list has."""
        return (self.total + self.limit - 1) // self.limit

    @property
    def prev_offset(self) -> int:
        """Where the page before this one starts."""
        return max(0, self.offset - self.limit)

    @property
    def next_offset(self) -> int:
        """Where the page after this one starts."""
        return self.offset + self.limit
