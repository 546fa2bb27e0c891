"""The application factory: settings → extensions → blueprints → error handlers → CLI → logging."""

from __future__ import annotations

import logging

from flask import Flask, Response, abort, render_template, request, url_for
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import DATA_DIR, Settings, load_settings
from .errors import LogoutRequestRejected, UnsafeRedirect
from .extensions import csrf, db, migrate
from .i18n import describe
from .i18n import gettext as _
from .services import json_input
from .services.backchannel import Deliverer
from .services.keys import KeyRing
from .services.passwords import PasswordPolicy, Passwords
from .services.runtime import Runtime
from .services.text import N_

CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:{img_src}; "
       "form-action {form_action}; frame-ancestors 'none'; base-uri 'none'")
# Only the logout page frames anything: the front-channel logout URIs of the clients it signs out of.
FRAME_SRC = "; frame-src {frame_src}"


def create_app(overrides: dict | None = None) -> Flask:
    settings = load_settings(overrides)
    app = Flask(
        __name__,
        template_folder=str(DATA_DIR / "templates"),
        static_folder=str(DATA_DIR / "static"),
        instance_path=settings.instance_path,
        instance_relative_config=False,
    )
    configure_app(app, settings)
    configure_extensions(app, settings)
    configure_blueprints(app)
    configure_branding(app, settings)
    configure_input_guard(app)
    configure_security_headers(app)
    configure_errorhandlers(app)
    configure_operations(app, settings)
    configure_cli(app)
    configure_logging(app, settings)
    return app


class JSONProvider(DefaultJSONProvider):
    """Request bodies go through services.json_input: NUL characters and deep nesting are invalid JSON
    (a 400 wherever a view reads JSON), never a 500 or a database error."""

    def loads(self, s, **kwargs):
        return json_input.loads(s, **kwargs)


def configure_app(app: Flask, settings: Settings) -> None:
    app.json = JSONProvider(app)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        MAX_CONTENT_LENGTH=settings.max_content_length,
        MAX_FORM_MEMORY_SIZE=settings.max_content_length,
        SESSION_COOKIE_NAME="idp_csrf",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.issuer_is_https,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (browser-session) cookie
        WTF_CSRF_SSL_STRICT=False,  # SameSite=Lax + token; the Referer check breaks behind some proxies
        JSON_SORT_KEYS=False,
    )
    if settings.proxy_fix_hops:
        # Proxy headers only say who the client is (address, scheme). Host and prefix are never trusted:
        # every URL the provider publishes is built from the issuer (http.issuer_url).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_fix_hops, x_proto=settings.proxy_fix_hops,
                                x_host=0, x_prefix=0)


def _engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        # Wait for the write lock instead of failing at once when requests race.
        return {"connect_args": {"timeout": 30}}
    # No pre-ping: it cost a round trip per request (a fifth of UserInfo's time under load, profiled with
    # py-spy). After a database restart the first statement on a stale connection fails (503), which
    # invalidates the whole pool, and later requests connect afresh. A database that does not answer
    # fails a request within seconds (503) instead of holding it; pool_size covers the worker's threads.
    return {"pool_size": 10, "max_overflow": 10, "pool_recycle": 1800, "connect_args": {"connect_timeout": 5}}


def configure_extensions(app: Flask, settings: Settings) -> None:
    from .protocol.server import build_server

    db.init_app(app)
    migrate.init_app(app, db, directory=str(DATA_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    if settings.database_url.startswith("sqlite"):
        _private_sqlite_file(settings.database_url)
        _sqlite_pragmas(app)
    policy = PasswordPolicy(settings.password_time_cost, settings.password_memory_cost, settings.password_parallelism)
    app.extensions["idp"] = Runtime(settings=settings, keyring=KeyRing(settings), passwords=Passwords(policy),
                                    backchannel=Deliverer(app))
    app.extensions["idp.authorization_server"] = build_server()


def _private_sqlite_file(url: str) -> None:
    """Create a new SQLite database file readable by this user only (0600; SQLite gives its -wal and -shm
    files the same mode): it holds password hashes and the audit trail."""
    import os

    from sqlalchemy import make_url

    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:  # exists already, or a folder SQLite will complain about itself
        pass


def _sqlite_pragmas(app: Flask) -> None:
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):  # pragma: no branch
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()


def configure_blueprints(app: Flask) -> None:
    from .account import bp as account_bp
    from .admin import api_bp as admin_api_bp
    from .admin import bp as admin_bp
    from .interaction import bp as interaction_bp
    from .interaction import device_bp
    from .protocol import bp as protocol_bp

    app.register_blueprint(protocol_bp)
    app.register_blueprint(interaction_bp)
    app.register_blueprint(device_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(admin_api_bp)
    app.register_blueprint(admin_bp)

    from . import i18n

    i18n.init_app(app)

    from .services.mfa import webauthn

    passkeys = webauthn.usable(app.extensions["idp"].settings)

    @app.context_processor
    def _globals() -> dict:
        return {"passkeys_available": passkeys}

    @app.template_filter("ago")
    def _ago(timestamp: int | None) -> str:
        """A stored epoch-seconds time as an approximate age ("5 minutes ago")."""
        from .services import clock

        if timestamp is None:
            return i18n.gettext("never")
        seconds = max(0, clock.now() - timestamp)
        if seconds >= 86400:
            return i18n.ngettext("%(num)d day ago", "%(num)d days ago", seconds // 86400)
        if seconds >= 3600:
            return i18n.ngettext("%(num)d hour ago", "%(num)d hours ago", seconds // 3600)
        if seconds >= 60:
            return i18n.ngettext("%(num)d minute ago", "%(num)d minutes ago", seconds // 60)
        return i18n.gettext("just now")

    app.add_template_filter(i18n.when, "when")  # in the person's language and time zone

    @app.get("/")
    def home():
        return render_template(
            "errors/error.html", title=app.extensions["idp.brand"].name,
            message=i18n.gettext("This is an OpenID Connect identity provider. "
                                 "Sign in from an application that uses it."),
        )


def configure_branding(app: Flask, settings: Settings) -> None:
    from . import branding

    branding.init_app(app, settings)


MAX_DB_INT = 2**31 - 1
# The error page's title and message for the HTTP errors a person may meet (404 has its own page).
HTTP_ERROR_WORDS = {
    400: (N_("Bad request"), N_("The server could not understand this request.")),
    405: (N_("Not possible here"), N_("This address does not accept this kind of request.")),
    413: (N_("Request too large"), N_("The request is larger than the server accepts.")),
}


def configure_input_guard(app: Flask) -> None:
    """Refuse, before any view runs, input no field of ours can hold: NUL characters (PostgreSQL text
    cannot store them, so a lookup would fail) and path ids beyond the database's integer range."""

    @app.before_request
    def _guard() -> None:
        values = [request.path, request.headers.get("Authorization", "")]
        values += [v for _, v in request.args.items(multi=True)]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values += [v for _, v in request.form.items(multi=True)]
            values += list(request.form.keys())
        values += list(request.args.keys())
        if any("\x00" in v for v in values):
            abort(400, N_("The request contains a NUL character."))
        if any(isinstance(v, int) and not 0 <= v <= MAX_DB_INT for v in (request.view_args or {}).values()):
            abort(404)


def configure_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        if response.mimetype == "text/html":
            # Pages post to this server; a form_post response posts only to the client's redirect URI.
            target = getattr(response, "form_action", None) or "'self'"
            # The sign-in and consent pages show the client's logo from its registered https origin only.
            img_src = getattr(response, "img_src", None)
            csp = CSP.format(form_action=target, img_src=f" {img_src}" if img_src else "")
            frame_src = getattr(response, "frame_src", None)
            if frame_src:
                csp += FRAME_SRC.format(frame_src=frame_src)
            headers["Content-Security-Policy"] = csp
            headers["X-Frame-Options"] = "DENY"
            headers.setdefault("Cache-Control", "no-store")
        if app.extensions["idp"].settings.issuer_is_https:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def configure_errorhandlers(app: Flask) -> None:
    @app.errorhandler(UnsafeRedirect)
    def _unsafe_redirect(error: UnsafeRedirect):
        return render_template(
            "errors/error.html", title=_("This sign-in request cannot be completed"), message=describe(error),
            next_step=_("Return to the application and try again. If this keeps happening, contact its support."),
        ), 400

    @app.errorhandler(LogoutRequestRejected)
    def _logout_rejected(error: LogoutRequestRejected):
        return render_template(
            "errors/error.html", title=_("This sign-out request cannot be completed"), message=describe(error),
            next_step=_("You are still signed in. Return to the application, or sign out from your account page."),
        ), 400

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return render_template(
            "errors/error.html", title=_("Your form expired"), message=_("The form was open too long or came from "
            "another site, so it was not sent."), next_step=_("Go back, reload the page and try again."),
        ), 400

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        # Keep the exception's own headers (e.g. Allow on 405, RFC 9110 §15.5.6), not its body type.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        if request.path.startswith("/admin/api/"):
            from .admin.problems import problem

            response = problem(error.code or 500, error.description or "")
            response.headers.extend(headers)
            return response
        if _answers_json(request.path) or request.accept_mimetypes.best == "application/json":
            error_code = "invalid_request" if error.code is not None and error.code < 500 else "server_error"
            headers.append(("Cache-Control", "no-store"))
            return {"error": error_code, "error_description": error.description}, error.code, headers
        if error.code == 404:
            page = render_template("errors/error.html", title=_("Page not found"),
                                   message=_("There is nothing at this address. The link may be mistyped or out of "
                                   "date."))
        else:
            # Werkzeug's own titles and descriptions are English: the common ones in the page's words.
            ours = error.description if error.description != type(error).description else None
            title, message = HTTP_ERROR_WORDS.get(error.code, (None, None))
            page = render_template("errors/error.html", title=_(title) if title else error.name,
                                   message=describe(ours) if ours or not message else _(message))
        return page, error.code, headers

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        from .operations import loggable_path

        app.logger.exception("unhandled error on %s %s", request.method, loggable_path())
        if request.path.startswith("/admin/api/"):
            from .admin.problems import problem

            return problem(500, "The server could not complete the request.")
        if _answers_json(request.path):  # RFC 6749 §5.2's shape even for a failure of ours
            return ({"error": "server_error", "error_description": "The server could not complete the request."},
                    500, {"Cache-Control": "no-store"})
        links = [(_("Try again"), request.path)] if request.method == "GET" else []
        return render_template("errors/error.html", title=_("Something went wrong"),
                               message=_("The server could not complete the request."),
                               next_step=_("Try again in a moment. If it keeps happening, tell the administrators."),
                               links=links + [(_("Go to your account"), url_for("account.index"))]), 500


_JSON_PATHS = ("/token", "/userinfo", "/jwks.json", "/introspect", "/revoke", "/device_authorization", "/register",
               "/par", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")


def _answers_json(path: str) -> bool:
    """The protocol endpoints, the client configuration endpoints /register/<client_id> (RFC 7592 §2)
    included, answer errors as JSON."""
    return path in _JSON_PATHS or path.startswith("/register/")


def configure_operations(app: Flask, settings: Settings) -> None:
    from . import operations

    operations.init_app(app, settings)


def configure_cli(app: Flask) -> None:
    from .cli import register

    register(app)


def configure_logging(app: Flask, settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app.logger.setLevel(settings.log_level.upper())
