"""Airflow 3 UI plugin: the Great Expectations Data Docs, in the Airflow UI.

- ``fastapi_apps``: the API server mounts a small app at ``/grassroots`` that serves the built site
  (``<GRASSROOTS_REPORTS_DIR or repo/reports>/data_docs/``, written by
  ``grassroots.data_docs.build``) as static files under ``/grassroots/data-docs/``. Like the
  Airflow UI itself, it requires a logged-in user (the ``_token`` cookie or a bearer token); set
  ``GRASSROOTS_DATA_DOCS_PUBLIC=1`` to serve it without (e.g. behind an authenticating proxy).
- ``external_views``: a "Data Docs" entry in the Browse menu that shows the site inside the UI.
- ``fastapi_root_middlewares``: the UI's default display timezone is the instance's
  ``[core] default_timezone`` (Asia/Shanghai here) instead of the browser's. Airflow 3's UI keeps
  the choice in the browser's localStorage (key ``timezone``) and has no server setting for it, so
  the UI page gets a one-line script that sets that key when the user has not chosen one.

Cheap to import: every Airflow process may load plugins, so nothing heavy happens here. The app is
a plain ASGI callable that builds its FastAPI/Starlette parts on the first request, inside the
API server, where those packages are already loaded.
"""

# No ``from __future__ import annotations``: FastAPI reads the route annotations at runtime, and
# ``Request`` is imported inside build_app, not at module level.
import json
import os
from pathlib import Path
from typing import Any

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/grassroots"
DOCS_ROUTE = "/data-docs"


def data_docs_dir() -> Path:
    """The directory served: $GRASSROOTS_REPORTS_DIR/data_docs (default: <repo>/reports/...)."""
    reports = os.environ.get("GRASSROOTS_REPORTS_DIR")
    if reports:
        return Path(reports).resolve() / "data_docs"
    home = os.environ.get("GRASSROOTS_HOME")
    base = Path(home).resolve() if home else Path(__file__).resolve().parents[1]
    return base / "reports" / "data_docs"


_NOT_BUILT = """<!doctype html><html><head><meta charset="utf-8"><title>Data Docs</title></head>
<body style="font-family:sans-serif;margin:2em"><h1>Data Docs not built yet</h1>
<p>Great Expectations Data Docs appear here after the first ingest or warehouse run
(<code>grassroots.data_docs.build()</code> writes them to <code>{path}</code>).</p></body></html>"""


def build_app(*, require_login: bool | None = None) -> Any:
    """The FastAPI app serving the Data Docs (``require_login`` default: unless
    GRASSROOTS_DATA_DOCS_PUBLIC=1)."""
    from fastapi import Depends, FastAPI, Request
    from fastapi.responses import HTMLResponse, RedirectResponse
    from starlette.staticfiles import StaticFiles

    if require_login is None:
        require_login = os.environ.get("GRASSROOTS_DATA_DOCS_PUBLIC", "") not in ("1", "true")
    dependencies = []
    if require_login:
        from airflow.api_fastapi.core_api.security import requires_authenticated

        dependencies = [Depends(requires_authenticated())]

    app = FastAPI(
        title="grassroots Data Docs",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=dependencies,
    )
    directory = data_docs_dir()
    static = StaticFiles(directory=str(directory), html=True, check_dir=False)

    @app.get("/", include_in_schema=False)
    def root():
        return RedirectResponse(url=f"{URL_PREFIX}{DOCS_ROUTE}/index.html")

    @app.get(DOCS_ROUTE + "/{path:path}", include_in_schema=False)
    async def docs(path: str, request: Request):
        if not (directory / "index.html").is_file():
            return HTMLResponse(_NOT_BUILT.format(path=directory), status_code=404)
        response = await static.get_response(path or "index.html", request.scope)
        # Pages of a run are rewritten by the next build: do not let browsers keep stale ones.
        response.headers["Cache-Control"] = "no-cache"
        return response

    return app


class LazyApp:
    """An ASGI app that builds the real one on first use (keeps plugin import cheap)."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope, receive, send) -> None:
        if self._app is None:
            self._app = build_app()
        await self._app(scope, receive, send)


def _timezone_script(timezone: str) -> bytes:
    quoted = json.dumps(json.dumps(timezone))  # the UI stores the value JSON-encoded
    return (
        '<script>try{if(!localStorage.getItem("timezone"))'
        f'localStorage.setItem("timezone",{quoted})}}catch(e){{}}</script>'
    ).encode()


class DefaultTimezoneMiddleware:
    """ASGI middleware: HTML pages of the UI preset the display timezone (see module docstring)."""

    def __init__(self, app: Any, timezone: str | None = None) -> None:
        self.app = app
        if timezone is None:
            from airflow.configuration import conf

            timezone = conf.get("core", "default_timezone", fallback="utc")
        # "system" has no IANA name to give the browser; the browser's own zone is then right.
        self.script = _timezone_script(timezone) if timezone.lower() != "system" else b""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not self.script or scope["path"].startswith(URL_PREFIX):
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        body: list[bytes] = []

        async def send_wrapper(message: dict) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                html = headers.get(b"content-type", b"").startswith(b"text/html")
                if html and b"content-encoding" not in headers:
                    start = message  # hold it: the length changes
                    return
            elif start is not None and message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                page = b"".join(body).replace(b"<head>", b"<head>" + self.script, 1)
                headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
                headers.append((b"content-length", str(len(page)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": page})
                return
            await send(message)

        await self.app(scope, receive, send_wrapper)


class GrassrootsUIPlugin(AirflowPlugin):
    name = "grassroots_ui"
    fastapi_apps = [
        {"app": LazyApp(), "url_prefix": URL_PREFIX, "name": "grassroots Data Docs"},
    ]
    external_views = [
        {
            "name": "Data Docs",
            # Relative (no leading slash): works when Airflow is served under a base_url path.
            "href": f"{URL_PREFIX.lstrip('/')}{DOCS_ROUTE}/index.html",
            "destination": "nav",
            "category": "browse",
            "url_route": "data-docs",
        }
    ]
    fastapi_root_middlewares = [
        {"middleware": DefaultTimezoneMiddleware, "name": "grassroots default UI timezone"},
    ]
