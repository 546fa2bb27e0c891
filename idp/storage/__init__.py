"""Models (one module per aggregate) and the queries that read and write them."""

from . import (  # noqa: F401
    audit,
    backchannel,
    clients,
    codes,
    consents,
    device,
    interactions,
    keys,
    leases,
    logout_requests,
    mfa,
    password_links,
    pushed_requests,
    rbac,
    replay,
    sessions,
    throttle,
    tokens,
    users,
)
