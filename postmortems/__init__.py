"""Postmortems: blameless incident postmortems kept as a knowledge base."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from jinja2 import FileSystemBytecodeCache
from werkzeug.middleware.proxy_fix import ProxyFix

from models import Role
from postmortems.api.views import bp as api_bp
from postmortems.audit.views import bp as audit_bp
from postmortems.auth.access import require_sign_in
from postmortems.auth.sessions import load_session_user, load_token_user
from postmortems.auth.views import bp as auth_bp
from postmortems.cli import db_cli, demo_cli, markdown_cli, report_cli, users_cli
from postmortems.commit import init_commit_pipeline
from postmortems.config import Config
from postmortems.db import DatabaseIdConverter, init_db
from postmortems.errors import register_error_handlers
from postmortems.extensions import csrf, login_manager
from postmortems.files import make_private_directory
from postmortems.filters import register_filters
from postmortems.guards.cli import guards_cli
from postmortems.guards.views import bp as guards_bp
from postmortems.health.views import bp as health_bp
from postmortems.home.views import bp as home_bp
from postmortems.incidents.views import bp as incidents_bp
from postmortems.knowledge.views import bp as knowledge_bp
from postmortems.links import init_links
from postmortems.paths.views import bp as paths_bp
from postmortems.policy import init_policy
from postmortems.reports.views import bp as reports_bp
from postmortems.search.cli import search_cli
from postmortems.search.views import bp as search_bp
from postmortems.security import init_security
from postmortems.taxonomy.views import bp as taxonomy_bp
from postmortems.teams.views import bp as teams_bp
from postmortems.tokens.cli import tokens_cli
from postmortems.tokens.views import bp as tokens_bp
from postmortems.transfer.cli import backup_command, export_command, import_command
from postmortems.transfer.views import bp as transfer_bp
from postmortems.users.views import bp as users_bp


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure an instance of the application."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_object(Config)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)  # instance/config.py
        app.config.from_prefixed_env("POSTMORTEMS")  # POSTMORTEMS_SECRET_KEY=...
    else:
        app.config.from_mapping(test_config)
    check_config(app)
    init_proxy(app)
    init_db(app)
    init_commit_pipeline(app)
    csrf.init_app(app)
    init_login(app)
    init_security(app)
    init_policy(app)
    init_links(app)
    register_filters(app)
    # Compiled templates kept on disk (the user's temporary directory, checked by checksum),
    # so that a newly started worker loads them instead of compiling every page it renders.
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache()
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def check_config(app: Flask) -> None:
    """Fill in runtime defaults and refuse settings that would break later in a confusing way."""
    if not app.config.get("DATABASE_URL"):
        make_private_directory(Path(app.instance_path))
        db_path = Path(app.instance_path) / "postmortems.db"
        app.config["DATABASE_URL"] = f"sqlite:///{db_path}"
    try:
        ZoneInfo(app.config["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RuntimeError(
            f"POSTMORTEMS_TIMEZONE={app.config['TIMEZONE']!r} is not a time zone name "
            "(use one like 'UTC' or 'Europe/Berlin')."
        ) from exc
    for name in COUNT_SETTINGS:
        app.config[name] = _count(app.config[name], name)
    check_lifetimes(app)
    key = app.config.get("SECRET_KEY")
    insecure = not key or str(key).lower() in app.config["INSECURE_SECRET_KEYS"]
    # Debug mode too: a debug server reachable from the network with a known key lets anyone
    # forge a session. Only tests may run without one.
    if insecure and not app.testing:
        raise RuntimeError(
            "No secret key, or a placeholder one. Set POSTMORTEMS_SECRET_KEY in the environment "
            "or SECRET_KEY in instance/config.py; make one with:\n"
            "  python -c 'import secrets; print(secrets.token_hex(32))'"
        )


# Whole-number settings; from the environment they arrive as JSON numbers or as strings.
COUNT_SETTINGS = (
    "TRUSTED_PROXIES",
    "SIGN_IN_FAILURES_PER_MINUTE",
    "SIGN_IN_FAILURES_PER_ADDRESS_PER_MINUTE",
    "SESSION_IDLE_MINUTES",
    "SESSION_LIFETIME_DAYS",
    "API_TOKEN_DEFAULT_DAYS",
    "API_TOKEN_MAX_DAYS",
    "API_REQUESTS_PER_MINUTE_PER_TOKEN",
    "API_REQUESTS_PER_MINUTE_PER_ADDRESS",
    "API_FAILED_AUTH_PER_MINUTE_PER_ADDRESS",
    "REPORT_MIN_SAMPLE_SIZE",
    "NEW_USER_DAYS",
    "CACHE_MAX_ENTRIES",
    "MARKDOWN_MAX_CHARS",
    "MARKDOWN_MAX_NESTING",
    "MARKDOWN_MAX_UNCLOSED_BRACKETS",
)


# Lifetimes of 0 would end every session or token at once.
LIFETIME_SETTINGS = (
    "SESSION_IDLE_MINUTES",
    "SESSION_LIFETIME_DAYS",
    "API_TOKEN_DEFAULT_DAYS",
    "API_TOKEN_MAX_DAYS",
)


def check_lifetimes(app: Flask) -> None:
    """Session and token lifetimes are at least 1, and a token's default is within its maximum."""
    for name in LIFETIME_SETTINGS:
        if app.config[name] < 1:
            raise RuntimeError(f"POSTMORTEMS_{name} must be 1 or more.")
    if app.config["API_TOKEN_DEFAULT_DAYS"] > app.config["API_TOKEN_MAX_DAYS"]:
        raise RuntimeError(
            "POSTMORTEMS_API_TOKEN_DEFAULT_DAYS is more than POSTMORTEMS_API_TOKEN_MAX_DAYS."
        )


def _count(value: Any, name: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = -1
    if number < 0:
        raise RuntimeError(f"POSTMORTEMS_{name}={value!r} is not a whole number of 0 or more.")
    return number


def init_proxy(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client's address, scheme and host from
    their X-Forwarded-* headers. Without proxies those headers are the client's own words and
    are ignored, or anyone could pick the address that failed sign-ins are counted against."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )


def init_login(app: Flask) -> None:
    """Flask-Login loads the user from the session; every page but sign-in needs one."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.user_loader(load_session_user)
    login_manager.request_loader(load_token_user)
    app.before_request(require_sign_in)
    app.jinja_env.globals["Role"] = Role


def register_blueprints(app: Flask) -> None:
    # Ids in URLs are bounded by the database's integer: a larger one is a 404, not a 500.
    app.url_map.converters["int"] = DatabaseIdConverter

    app.register_blueprint(incidents_bp)
    app.register_blueprint(guards_bp)
    app.register_blueprint(transfer_bp)
    app.register_blueprint(teams_bp)
    app.register_blueprint(taxonomy_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(users_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(knowledge_bp)
    app.register_blueprint(paths_bp)
    app.register_blueprint(tokens_bp)
    app.register_blueprint(api_bp)


def register_commands(app: Flask) -> None:

    app.cli.add_command(db_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(markdown_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(report_cli)
    app.cli.add_command(guards_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)
    app.cli.add_command(backup_command)
