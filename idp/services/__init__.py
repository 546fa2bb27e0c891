"""Domain logic. Services take and return plain values and dataclasses; they never touch the
request, the browser session or templates."""
