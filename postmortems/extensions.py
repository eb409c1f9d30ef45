"""Flask extensions, created here unbound and bound to the app in create_app()."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
# Memory storage by default (per process); POSTMORTEMS_RATELIMIT_STORAGE_URI can point it at
# Redis or memcached so that all gunicorn workers share one count.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
