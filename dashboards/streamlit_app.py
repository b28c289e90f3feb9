"""tierlens dashboard entry point: `streamlit run dashboards/streamlit_app.py`.

Logging in is required; a login lasts across reloads and tabs through a session cookie
(tierlens.dashboard.sessions) until it expires or the user logs out. The navigation lists only the pages the user's role may open
(tierlens.dashboard.auth.PAGE_ACCESS); every page also calls `auth.guard` itself, so a
page opened by URL without the right role shows "access denied" and runs no query.
An error a page doesn't handle becomes one line (`ui.failed`), never a traceback.

This is the dashboard's one reader of the settings: it installs them for the run
(tierlens.dashboard.context), and pages and helpers take them from there.
"""

import streamlit as st

from tierlens.dashboard import auth, context
from tierlens.settings import get_settings

st.set_page_config(page_title="tierlens", layout="wide")

PAGES = {
    "executive": ("Executive", ":material/monitoring:"),
    "qa": ("QA", ":material/fact_check:"),
    "conversation": ("Conversation", ":material/forum:"),
    "review_queue": ("Review queue", ":material/assignment:"),
    "compliance": ("Compliance", ":material/gavel:"),
    "routing": ("Routing & escalation", ":material/alt_route:"),
    "data_quality": ("Data quality", ":material/rule:"),
    "topics": ("Topics", ":material/category:"),
}

settings = get_settings()
context.begin_run(settings)
user = auth.resume(settings)  # this tab's login, else the session cookie's (reload, new tab)
context.mark_checked()  # the page's guard reuses it: one session-store look-up per run
if user is None:
    # Every page's URL shows the login form, so a deep link (`/conversation?id=X`) keeps its
    # path and query parameters and, once logged in, the same URL opens the real page.
    login = "pages/login.py"
    nav = st.navigation([st.Page(login, title="Log in", icon=":material/login:", default=True),
                         *(st.Page(login, title=title, url_path=key)
                           for key, (title, _icon) in PAGES.items())], position="hidden")
else:
    allowed = auth.pages_for(user.role)
    nav = st.navigation([st.Page(f"pages/{key}.py", title=title, icon=icon, url_path=key)
                         for key, (title, icon) in PAGES.items() if key in allowed])
    with st.sidebar:
        st.caption(f"Signed in as **{user.name}** ({user.role})")
        if st.button("Log out", key="logout"):
            auth.logout(settings)
            st.rerun()
if cookie := auth.cookie_script():  # set this login's session cookie, or clear a dead one
    st.html(cookie, unsafe_allow_javascript=True)
try:
    nav.run()
except Exception as exc:  # noqa: BLE001 - the edge: one line here, the traceback in the log
    from tierlens.dashboard import ui

    ui.failed(exc)
finally:
    context.end_run()
