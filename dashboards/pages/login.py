"""Log in against the users file (bcrypt hashes). See docs/dashboard.md for OIDC."""

import streamlit as st

from tierlens.dashboard import auth
from tierlens.errors import ConfigError

st.title("tierlens")
st.caption("QA analytics for hybrid AI + human contact centers. Please log in.")
with st.form("login"):
    username = st.text_input("Username", key="login_user")
    password = st.text_input("Password", type="password", key="login_password")
    submitted = st.form_submit_button("Log in")
if submitted:
    try:
        user = auth.authenticate(username, password)
    except ConfigError as exc:
        st.error(str(exc))
        user = None
    else:
        if user is None:
            st.error("Unknown user or wrong password.")
    if user is not None:
        auth.login(user)
        st.rerun()
