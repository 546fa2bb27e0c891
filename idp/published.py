"""Discovery and JWKS answered in front of Flask: the hottest, most public documents, identical for
every caller, served as pre-built bytes with the exact headers the Flask view produced.

The first request for a document (and the first after the signing keys change, or when the key ring is
due for its refresh) goes through the whole app — views, security headers, error handling — and its
status, headers and body are kept; later GET/HEAD requests get them straight away, with their own
X-Request-ID, access-log line and metrics. Measured: Flask's request machinery costs more than the rest
of these requests put together (docs/performance.md)."""

from __future__ import annotations

import threading
import time

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .services import clock, metrics

DOCUMENTS = {
    "/.well-known/openid-configuration": "protocol.openid_configuration",
    "/.well-known/oauth-authorization-server": "protocol.oauth_authorization_server",
    "/jwks.json": "protocol.jwks",
}
JWKS = "/jwks.json"


class PublishedDocuments:
    def __init__(self, flask_app: Flask, inner):
        self.flask_app, self.inner = flask_app, inner
        self._cache: dict[str, tuple[object, str, list, bytes]] = {}  # path → (source, status, headers, body)
        self._lock = threading.Lock()

    @classmethod
    def install(cls, app: Flask) -> None:
        """Just inside ProxyFix (when configured), so the client address is already the real one."""
        outer = app.wsgi_app
        if isinstance(outer, ProxyFix):
            outer.app = cls(app, outer.app)
        else:
            app.wsgi_app = cls(app, outer)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        if path not in DOCUMENTS or method not in ("GET", "HEAD"):
            return self.inner(environ, start_response)
        started = time.perf_counter()
        source = self._source(path)
        cached = self._cache.get(path)
        if source is None or cached is None or cached[0] is not source:
            return self._capture(path, source, environ, start_response)
        from .operations import log_access, request_id_of

        _, status, headers, body = cached
        request_id = request_id_of(environ.get("HTTP_X_REQUEST_ID", ""))
        start_response(status, [*headers, ("X-Request-ID", request_id)])
        endpoint = DOCUMENTS[path]
        code = int(status[:3])
        metrics.REQUESTS.labels(endpoint, method, str(code)).inc()
        elapsed = time.perf_counter() - started
        metrics.LATENCY.labels(endpoint).observe(elapsed)
        log_access(request_id=request_id, method=method, path=path, endpoint=endpoint, status=code,
                   elapsed=elapsed, ip=environ.get("REMOTE_ADDR"), size=len(body))
        return [body] if method == "GET" else []

    def _source(self, path: str):
        """What the cached answer depends on: the key ring's JWKS bytes (a new object whenever the
        published keys change), or nothing for discovery. None sends the request through Flask: the ring
        is not loaded yet or is due for its refresh (done in the app's before-request hook)."""
        if path != JWKS:
            return DOCUMENTS
        keyring = self.flask_app.extensions["idp"].keyring
        if not keyring.loaded or keyring.refresh_due(clock.now()):
            return None
        return keyring.jwks_json()

    def _capture(self, path, source, environ, start_response):
        """Serve through the app and keep a successful answer for the next requests."""
        seen: dict = {}

        def capture(status, headers, exc_info=None):
            seen.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)

        chunks = self.inner(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        # Only a plain 200 is kept, never one that sets a cookie (it would be replayed to everyone).
        cacheable = seen.get("status", "").startswith("200") and not any(
            k.lower() == "set-cookie" for k, _ in seen.get("headers", ()))
        if environ["REQUEST_METHOD"] == "GET" and cacheable:
            if source is None:
                source = self._source(path)  # the hook has just refreshed the ring
            if source is not None:
                headers = [(k, v) for k, v in seen["headers"] if k.lower() not in ("x-request-id", "date")]
                with self._lock:
                    self._cache[path] = (source, seen["status"], headers, body)
        return [body]
