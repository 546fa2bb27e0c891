"""Search, sort and paging for the console's tables: the query-string parameters one listing page
reads (q, sort, dir, offset) and, for short lists held in memory (clients, roles), the filtering
itself. Long lists (users, audit) are paged by their services' queries."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import request

from ..http import whole_number
from ..types import Page

PAGE_SIZE = 25


@dataclass(frozen=True)
class Listing:
    q: str
    sort: str
    descending: bool
    offset: int
    limit: int = PAGE_SIZE

    def args(self, **changes) -> dict:
        """Query-string arguments for a link to this listing with some of them changed."""
        listing = replace(self, **changes)
        args = {"q": listing.q, "sort": listing.sort, "dir": "desc" if listing.descending else "asc",
                "offset": listing.offset}
        return {k: v for k, v in args.items() if v not in ("", 0)}

    def sorted_by(self, column: str) -> dict:
        """Arguments for a column header's link: sort by it, or reverse the order if it is already."""
        return self.args(sort=column, descending=not self.descending if column == self.sort else False, offset=0)

    def aria_sort(self, column: str) -> str | None:
        if column != self.sort:
            return None
        return "descending" if self.descending else "ascending"


def read(sorts: tuple[str, ...], default: str) -> Listing:
    """The listing parameters of this request; anything unusable falls back to the defaults."""
    args = request.args
    offset = whole_number(args.get("offset")) or 0
    sort = args.get("sort", default)
    return Listing(q=args.get("q", "").strip()[:200], sort=sort if sort in sorts else default,
                   descending=args.get("dir") == "desc", offset=offset)


def in_memory(items, listing: Listing, text, keys: dict) -> Page:
    """Filter `items` by `listing.q` (a case-insensitive substring of `text(item)`), sort by
    `keys[listing.sort](item)` and cut out one page."""
    q = listing.q.lower()
    chosen = [i for i in items if q in text(i).lower()] if q else list(items)
    chosen.sort(key=keys[listing.sort], reverse=listing.descending)
    return Page(items=tuple(chosen[listing.offset:listing.offset + listing.limit]), total=len(chosen),
                offset=listing.offset, limit=listing.limit)


def combine_args(args: dict, **changes) -> dict:
    """Template filter: link arguments with some changed (empty values and offset 0 dropped)."""
    merged = dict(args) | changes
    return {k: v for k, v in merged.items() if v not in ("", None, 0)}


def init(bp) -> None:
    bp.add_app_template_filter(combine_args, "combine_args")
