"""Models (one module per aggregate) and the queries that read and write them."""

from . import audit, clients, codes, consents, device, interactions, keys, mfa, sessions, tokens, users  # noqa: F401
