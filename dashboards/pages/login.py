"""Log in against the users file (bcrypt hashes), throttled per user name and per client.
See docs/dashboard.md for OIDC and for serving behind a reverse proxy."""

import streamlit as st

from tierlens.dashboard import auth, context
from tierlens.dashboard.throttle import Throttle
from tierlens.errors import TierlensError

auth.legacy_pages_off()  # on a fresh server, its URL may run this script alone
st.title("tierlens")
st.caption("QA analytics for hybrid AI + human contact centers. Please log in.")
with st.form("login"):
    username = st.text_input("Username", key="login_user")
    password = st.text_input("Password", type="password", key="login_password")
    submitted = st.form_submit_button("Log in")
if submitted:
    # the client's address (None on localhost); behind a proxy, the proxy's address
    client = st.context.ip_address or "local"
    try:
        settings = context.settings()
        user = auth.authenticate(username, password, settings.users_file, client=client,
                                 throttle=Throttle.from_settings(settings))
    except TierlensError as exc:  # locked out, password too long, bad users file
        st.error(str(exc))
        user = None
    else:
        if user is None:
            st.error("Unknown user or wrong password.")
    if user is not None:
        auth.login(user, context.settings())
        st.rerun()
