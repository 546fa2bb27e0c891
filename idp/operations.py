"""Operations: /healthz, /readyz, Prometheus /metrics, the JSON access log with a request id, and a
clear 503 (never a 500 or a traceback) while the database is unavailable, recovering by itself."""

from __future__ import annotations

import hmac
import itertools
import json
import logging
import re
import sys
import time
import uuid

from flask import Blueprint, Flask, Response, g, jsonify, render_template, request, send_from_directory
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .config import Settings
from .extensions import db
from .i18n import gettext as _
from .services import health, metrics, throttle
from .services.clients import GRANT_TYPES
from .services.runtime import current

bp = Blueprint("ops", __name__)
access_log = logging.getLogger("idp.access")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
DATABASE_ERRORS = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
RETRY_AFTER = "5"
SECRET_PATH_ARGS = frozenset({"token"})  # route parts that are secrets (a set-password link's one-time token)
JSON_PREFIXES = ("/token", "/userinfo", "/jwks.json", "/introspect", "/revoke", "/device_authorization",
                 "/register", "/.well-known/", "/readyz", "/healthz")


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers. Touches nothing else, so a database outage does not get the
    process restarted (readiness says whether to send it traffic)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks = health.readiness(current().keyring)
    ready = all(v == "ok" for v in checks.values())
    response = jsonify(status="ready" if ready else "unavailable", checks=checks)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def prometheus():
    """Served here only to `Authorization: Bearer <metrics_token>`; without that setting it does not
    exist (use `metrics_listen` for a separate address)."""
    expected = current().settings.metrics_token
    if not expected:
        return Response("Not Found", 404, mimetype="text/plain")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        return Response("Unauthorized", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'}, mimetype="text/plain")
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})


@bp.get("/favicon.ico")
def favicon():
    from flask import current_app, redirect, url_for

    from .config import DATA_DIR

    brand = current_app.extensions["idp.brand"]
    if brand.favicon is not None:
        return redirect(url_for("branding.favicon", v=brand.favicon.version), code=302)
    return send_from_directory(DATA_DIR / "static", "favicon.svg", mimetype="image/svg+xml", max_age=86400)


# Request ids need to be unique, not secret: a random per-process prefix and a counter. (uuid4 read
# os.urandom on every request: 13 % of a JWKS worker's samples under load, profiled with py-spy.)
_ID_PREFIX = uuid.uuid4().hex[:20]
_ID_COUNTER = itertools.count(1)


def _new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER):012x}"


def request_id_of(given: str) -> str:
    """The request id: the caller's X-Request-ID when it is well-formed, else a new one."""
    return given if REQUEST_ID.fullmatch(given) else _new_request_id()


def log_access(*, request_id: str, method: str, path: str, endpoint: str, status: int, elapsed: float,
               ip: str | None, size: int | None) -> None:
    """One JSON line per request. The path only: query strings carry codes, states and hints that do
    not belong in logs; nor do secrets in a path (callers pass `loggable_path()`, where the route's
    pattern stands in for them)."""
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(json.dumps({
            "ts": round(time.time(), 3), "request_id": request_id, "method": method, "path": path,
            "endpoint": endpoint, "status": status, "ms": round(elapsed * 1000, 2), "ip": ip, "bytes": size,
        }, separators=(",", ":")))


def _start() -> None:
    g.started = time.perf_counter()
    g.request_id = request_id_of(request.headers.get("X-Request-ID", ""))
    throttle.forget_refusal()


def _finish(response: Response) -> Response:
    started = g.pop("started", None)
    if started is None:  # a request that failed before our first hook
        return response
    elapsed = time.perf_counter() - started
    endpoint = request.url_rule.endpoint if request.url_rule else "none"
    status = response.status_code
    response.headers["X-Request-ID"] = g.request_id
    metrics.REQUESTS.labels(endpoint, request.method, str(status)).inc()
    metrics.LATENCY.labels(endpoint).observe(elapsed)
    if status == 429:
        metrics.THROTTLED.labels(endpoint).inc()
        wait = throttle.refused_for()
        if wait is not None and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = str(wait)
    if endpoint == "protocol.token" and status == 200:
        grant = request.form.get("grant_type", "")
        metrics.TOKENS.labels(grant if grant in GRANT_TYPES else "other").inc()
    log_access(request_id=g.request_id, method=request.method, path=loggable_path(), endpoint=endpoint,
               status=status, elapsed=elapsed, ip=request.remote_addr, size=response.calculate_content_length())
    keyring = current().keyring
    if keyring.signing_since is not None:
        metrics.KEY_SINCE.set(keyring.signing_since)
    return response


def loggable_path() -> str:
    """The request path, or the route's pattern when a part of the path is a secret."""
    if request.url_rule is not None and SECRET_PATH_ARGS & set(request.view_args or ()):
        return request.url_rule.rule
    return request.path


def database_unavailable(error: Exception):
    """503 with a clear body while the database is away; the pool reconnects by itself afterwards."""
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; removing the session discards it
        pass
    db.session.remove()
    logging.getLogger("idp").warning("database unavailable on %s %s: %s", request.method, loggable_path(),
                                     type(error).__name__)
    headers = {"Retry-After": RETRY_AFTER, "Cache-Control": "no-store"}
    description = "The service is temporarily unavailable. Try again in a moment."
    if request.path.startswith("/admin/api/"):
        from .admin.problems import problem

        response = problem(503, description)
        response.headers.update(headers)
        return response
    if request.path.startswith(JSON_PREFIXES) or request.accept_mimetypes.best == "application/json":
        return {"error": "temporarily_unavailable", "error_description": description}, 503, headers
    try:
        page = render_template("errors/error.html", title=_("Temporarily unavailable"), message=description,
                               next_step=_("Your sign-in is not lost: reload this page in a few seconds."))
    except Exception:
        page = f"<!doctype html><title>Temporarily unavailable</title><p>{description}</p>"
    return Response(page, 503, headers, mimetype="text/html")


def init_app(app: Flask, settings: Settings) -> None:
    from .published import PublishedDocuments

    app.register_blueprint(bp)
    PublishedDocuments.install(app)
    app.before_request_funcs.setdefault(None, []).insert(0, _start)  # first, before the key-ring refresh
    app.after_request(_finish)
    for error in DATABASE_ERRORS:
        app.register_error_handler(error, database_unavailable)
    if not access_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))  # one JSON object per line
        access_log.addHandler(handler)
        access_log.propagate = False
    access_log.setLevel(settings.log_level.upper())
