"""The one place the bench scripts read the settings (environment and ``.env``).

Each script asks here once, in ``main``, and passes the settings (or the values it needs)
down to the library, which reads none itself.
"""

from __future__ import annotations

from tierlens.settings import Settings, get_settings


def bench_settings(**update) -> Settings:
    """The settings, with ``update`` applied (e.g. ``warehouse=`` a scratch warehouse)."""
    settings = get_settings()
    return settings.model_copy(update=update) if update else settings


def reread_settings() -> Settings:
    """The settings read afresh, after a script changed the environment for an app it runs
    in process (the dashboard app reads them itself, as an entry point)."""
    get_settings.cache_clear()
    return get_settings()
