"""What the app hands the pages for one script run: the Settings, and whether the login was
already checked.

``dashboards/streamlit_app.py`` is the dashboard's one entry point: it reads the settings
once, installs them here with :func:`begin_run`, checks the login
against the session store once (:func:`tierlens.dashboard.auth.resume`) and runs the page.
Pages and helpers read :func:`settings` instead of reading the environment themselves;
library functions take the settings (or a path) as a parameter.
"""

from __future__ import annotations

from tierlens.errors import ConfigError
from tierlens.settings import Settings

SETTINGS_KEY = "tierlens_settings"
CHECKED_KEY = "tierlens_login_checked"  # set while a run's login was resolved by the app


def begin_run(settings: Settings) -> None:
    """Install this run's settings (the app calls it first, every run)."""
    import streamlit as st

    st.session_state[SETTINGS_KEY] = settings
    st.session_state.pop(CHECKED_KEY, None)


def mark_checked() -> None:
    """The app resolved this run's login: the page's guard need not open the session store."""
    import streamlit as st

    st.session_state[CHECKED_KEY] = True


def end_run() -> None:
    import streamlit as st

    st.session_state.pop(CHECKED_KEY, None)


def login_checked() -> bool:
    import streamlit as st

    return bool(st.session_state.get(CHECKED_KEY))


def installed() -> Settings | None:
    """This run's settings, or None when a page runs without the app (a bare page script)."""
    import streamlit as st

    value = st.session_state.get(SETTINGS_KEY)
    return value if isinstance(value, Settings) else None


def settings() -> Settings:
    """This run's settings; a page run without the app gets one clear line."""
    value = installed()
    if value is None:
        raise ConfigError("the dashboard's settings are missing: start it with "
                          "`streamlit run dashboards/streamlit_app.py`")
    return value
