"""The FastAPI application: pages for clerks and administrators, and the JSON API."""
from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import tenants.users  # noqa: F401 - registers the web tables with SQLModel before first use
from tenants.db import get_engine
from tenants.settings import get_settings

from . import api, pages_auth, pages_jobs, pages_review, pages_usage
from .auth import SESSION_COOKIE, SESSION_MAX_AGE, Forbidden, LoginRequired, csrf_protect, secret_key
from .common import HERE, load_tenant_configs, render

ERROR_TITLES = {403: "この操作は許可されていません", 404: "ページが見つかりません", 409: "この操作は今はできません",
                401: "ログインが必要です", 405: "この操作はできません", 413: "ファイルが大きすぎます"}


CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "frame-ancestors 'none'")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin")]


class SecurityHeaders:
    """Pure ASGI middleware (no per-request task like BaseHTTPMiddleware): standard hardening headers.

    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [*SECURITY_HEADERS, (b"content-security-policy", CSP.encode())]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(engine: Engine | None = None, *, data_root: Path | None = None) -> FastAPI:
    """Build the app on *engine* (default: the configured database)."""
    settings = get_settings()
    root = data_root or settings.data_root
    app = FastAPI(title="Kyodo API", version="1", dependencies=[Depends(csrf_protect)],
                  description="Kyodo (共同): documents, OCR results and jobs of a municipality. "
                              "Authenticate with a session cookie (and X-CSRF-Token on POST) or a bearer token from /api/token.",
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.engine = engine or get_engine()
    app.state.data_root = root
    app.state.secret_key = secret_key(root)
    app.state.tenant_configs = load_tenant_configs()
    app.add_middleware(SessionMiddleware, secret_key=app.state.secret_key, session_cookie=SESSION_COOKIE,
                       max_age=SESSION_MAX_AGE, same_site="lax", https_only=False)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (pages_auth, pages_review, pages_jobs, pages_usage, api):
        app.include_router(module.router)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired):  # noqa: ANN202
        if _wants_json(request):
            return JSONResponse({"detail": "authentication required"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        nxt = request.url.path if request.method == "GET" else "/"
        return RedirectResponse(f"/login?next={nxt}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, _exc: Forbidden):  # noqa: ANN202
        if _wants_json(request):
            return JSONResponse({"detail": "your role may not do this"}, status_code=403)
        return render(request, "error.html", status_code=403, title=ERROR_TITLES[403],
                      message="この画面はあなたの役割では使えません。必要なら自治体の管理者に依頼してください。")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):  # noqa: ANN202
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return render(request, "error.html", status_code=exc.status_code,
                      title=ERROR_TITLES.get(exc.status_code, "エラー"), message=str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):  # noqa: ANN202
        if _wants_json(request):
            return await request_validation_exception_handler(request, exc)
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) for e in exc.errors())
        return render(request, "error.html", status_code=422, title="入力内容に誤りがあります",
                      message=f"次の項目を確認してください: {fields}")

    app.add_middleware(SecurityHeaders)

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request):  # noqa: ANN202
        # Server-rendered from the OpenAPI schema: Swagger UI would need a CDN, which an
        # LGWAN-connected municipality cannot reach.
        schema = app.openapi()
        ops = [{"method": m.upper(), "path": path, "summary": op.get("summary", ""),
                "params": [f"{p['name']} ({p['in']})" for p in op.get("parameters", [])],
                "body": bool(op.get("requestBody"))}
               for path, item in schema["paths"].items() for m, op in item.items()]
        return render(request, "api_docs.html", ops=ops, info=schema["info"])
    return app
