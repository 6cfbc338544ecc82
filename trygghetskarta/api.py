"""The small API service beside the app (issue 16), started with ``trygghetskarta serve-api``: Open311
GeoReport v2 under ``/open311/v2/`` (JSON and XML) and the residents' report endpoint ``/public/v1/reports``
(JSON, no account: the same path as the report page, with the same rate limits). An ASGI app (Starlette)
under uvicorn, over the same core and store as the Streamlit app."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from trygghetskarta import open311, public, public_texts, settings
from trygghetskarta.errors import ValidationError
from trygghetskarta.open311 import FORMATS, Open311Error
from trygghetskarta.store import Store, open_store

MAX_BODY = 64 * 1024  # a service request is a few fields; nothing larger is read
_FMT = re.compile(r"^(json|xml)$")


def _client(request: Request) -> str:
    peer = request.client.host if request.client else None
    return public.client_address(peer, request.headers.get("x-forwarded-for"))


def _render(fmt: str, data: Any, root: str, item: str | None, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(open311.to_xml(root, item, data), status_code=status, media_type=FORMATS["xml"])
    return Response(json.dumps(data, ensure_ascii=False), status_code=status, media_type=FORMATS["json"])


def _error(fmt: str, error: Open311Error) -> Response:
    if fmt == "xml":
        return Response(open311.errors_xml(error), status_code=error.status, media_type=FORMATS["xml"])
    return Response(json.dumps(error.errors(), ensure_ascii=False), status_code=error.status,
                    media_type=FORMATS["json"])


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise Open311Error(413, f"the request body is larger than {MAX_BODY // 1024} KB")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise Open311Error(413, f"the request body is larger than {MAX_BODY // 1024} KB")
    return body


Handler = Callable[[Request, str], Awaitable[Response]]


def _endpoint(root: str, item: str | None, work: Callable[[Store, Request, dict[str, str]], Any],
              *, write: bool = False) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        fmt = request.path_params.get("fmt", "json")
        if not _FMT.match(fmt):
            return _error("json", Open311Error(404, "use the .json or .xml form of the endpoint"))
        try:
            params = dict(request.query_params)
            if write:
                kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
                if kind not in ("application/x-www-form-urlencoded", ""):
                    raise Open311Error(400, "send the service request as application/x-www-form-urlencoded")
                text = (await _body(request)).decode("utf-8", "replace")
                params.update(dict(parse_qsl(text, keep_blank_values=True, max_num_fields=100)))
            store: Store = request.app.state.store
            data = await run_in_threadpool(work, store, request, params)
        except Open311Error as exc:
            return _error(fmt, exc)
        except ValueError as exc:  # parse_qsl's field limit, a ValidationError
            return _error(fmt, Open311Error(400, str(exc)))
        return _render(fmt, data, root, item)

    return handle


def _discovery(_store: Store, request: Request, _params: dict[str, str]) -> Any:
    return open311.discovery(str(request.base_url))


def _services(_store: Store, _request: Request, _params: dict[str, str]) -> Any:
    return open311.services()


def _service(_store: Store, request: Request, _params: dict[str, str]) -> Any:
    return open311.service_definition(request.path_params["code"])


def _requests(store: Store, request: Request, params: dict[str, str]) -> Any:
    if request.method == "POST":
        return open311.create_request(store, params, _client(request))
    return open311.list_requests(store, params)


def _one_request(store: Store, request: Request, _params: dict[str, str]) -> Any:
    return open311.get_request(store, request.path_params["id"])


def _token(store: Store, request: Request, _params: dict[str, str]) -> Any:
    return open311.token(store, request.path_params["token"])


async def _requests_route(request: Request) -> Response:
    handler = _endpoint("service_requests", "request", _requests, write=request.method == "POST")
    return await handler(request)


async def public_report(request: Request) -> Response:
    """``POST /public/v1/reports``: a resident's report as JSON (category, lat, lon, text, address, email,
    lang, client_id, and the honeypot ``website`` that people leave empty). 201 with the receipt code and the
    status link; 4xx with ``{"error": …}`` in the sender's language (429 when over a rate limit)."""
    try:
        body = await _body(request)
        data = json.loads(body or b"{}")
    except Open311Error as exc:
        return JSONResponse({"error": exc.description}, status_code=exc.status)
    except (ValueError, UnicodeDecodeError):
        return JSONResponse({"error": public_texts.text("refused", "sv")}, status_code=400)
    if not isinstance(data, dict):
        return JSONResponse({"error": public_texts.text("refused", "sv")}, status_code=400)
    lang = public_texts.lang_or_default(data.get("lang"))
    store: Store = request.app.state.store
    client = _client(request)

    text = data.get("text")

    def work() -> public.Receipt:
        return public.submit_public_report(
            store, category=str(data.get("category") or ""), lon=data.get("lon"), lat=data.get("lat"),
            text=text if isinstance(text, str) else "",
            address=str(data.get("address") or ""), email=data.get("email") or None, lang=lang,
            client_addr=client, honeypot=str(data.get("website") or ""),
            client_id=str(data["client_id"]) if data.get("client_id") else None)

    try:
        receipt = await run_in_threadpool(work)
    except public.PublicRefusedError as exc:
        return JSONResponse({"error": exc.message(lang), "reason": exc.key}, status_code=exc.status)
    except ValidationError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"receipt_code": receipt.receipt_code, "status_url": receipt.status_url,
                         "created": receipt.created}, status_code=201 if receipt.created else 200)


async def health(_request: Request) -> Response:
    return Response("ok", media_type="text/plain")


def create_app(db_url: str | None = None) -> Starlette:
    """The ASGI app over the store at ``db_url`` (else the configured database), which must be initialised."""
    store = open_store(db_url)
    store.require_initialised()
    base = "/open311/v2"
    routes = [
        Route("/health", health),
        Route(f"{base}/discovery.{{fmt}}", _endpoint("discovery", None, _discovery)),
        Route(f"{base}/services.{{fmt}}", _endpoint("services", "service", _services)),
        Route(f"{base}/services/{{code}}.{{fmt}}", _endpoint("service_definition", None, _service)),
        Route(f"{base}/requests.{{fmt}}", _requests_route, methods=["GET", "POST"]),
        Route(f"{base}/requests/{{id}}.{{fmt}}", _endpoint("service_requests", "request", _one_request)),
        Route(f"{base}/tokens/{{token}}.{{fmt}}", _endpoint("service_requests", "request", _token)),
        Route("/public/v1/reports", public_report, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.store = store
    return app


def serve(db_url: str | None, host: str, port: int | None) -> None:
    """Run the API under uvicorn until stopped (the ``serve-api`` command)."""
    import uvicorn

    uvicorn.run(create_app(db_url), host=host, port=int(port or settings.get("api_port")), log_level="warning",
                access_log=False, proxy_headers=False, server_header=False)
