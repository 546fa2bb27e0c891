"""JSON from the outside world, parsed once for every endpoint (the app's JSON provider uses it for
`request.get_json`): anything no field of ours can hold is refused as invalid JSON (a ValueError),
before any view or database sees it — NUL characters in strings or member names (PostgreSQL text
cannot store them) and nesting deeper than MAX_DEPTH (a RecursionError in the parser or in any code
walking the value later)."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32


def loads(data: str | bytes, **kwargs) -> Any:
    """json.loads, refusing NUL characters and deep nesting with a ValueError."""
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    check(value)
    return value


def check(value: Any) -> None:
    """Raise ValueError if `value` nests deeper than MAX_DEPTH or holds a string with a NUL (iteratively:
    the check itself must not recurse)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ValueError("JSON string contains a NUL character")
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
            if isinstance(item, dict):
                stack.extend((k, depth) for k in item)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
