"""The app's entry point for ``streamlit run serve.py`` (``make run``): Streamlit's ASGI server (``st.App``)
running ``app.py``, plus the two routes that set and clear the HttpOnly session cookie
(``app_pages/_session_routes.py``; issue #14). ``app.py`` stays the Streamlit script (and what AppTest runs)."""

from __future__ import annotations

from streamlit.starlette import App

from app_pages._session_routes import ROUTES

app = App("app.py", routes=ROUTES)
