"""Login, logout and the home redirect."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from tenants.audit import audit
from tenants.db import session_scope
from tenants.users import Role

from .auth import current_user_or_none
from .common import engine_of, render
from .throttle import check_password

router = APIRouter(include_in_schema=False)


def home_for(role: str) -> str:
    return "/review" if role == Role.clerk else "/jobs"


def _safe_next(nxt: str | None) -> str | None:
    # Only local paths: an open redirect would let a phishing link borrow our login page.
    if nxt and nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt:
        return nxt
    return None


@router.get("/")
def home(request: Request):  # noqa: ANN201
    user = current_user_or_none(request)
    return RedirectResponse("/login" if user is None else home_for(user.role), status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None):  # noqa: ANN201, A002
    return render(request, "login.html", tenants=request.app.state.tenant_configs, next=_safe_next(next) or "",
                  error="", form={})


@router.post("/login")
def login(request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()],  # noqa: ANN201
          tenant: Annotated[str, Form()] = "", next: Annotated[str, Form()] = ""):  # noqa: A002
    with session_scope(engine_of(request)) as s:
        check = check_password(s, tenant or None, username.strip(), password, via="login")
    user = check.user
    if check.locked_until is not None:
        return render(request, "login.html", status_code=429, tenants=request.app.state.tenant_configs, next=next,
                      error=check.wait_message(), form={"tenant": tenant, "username": username})
    if user is None:
        return render(request, "login.html", status_code=401, tenants=request.app.state.tenant_configs, next=next,
                      error="自治体・ユーザー名・パスワードのいずれかが違います。", form={"tenant": tenant, "username": username})
    request.session.clear()  # a fresh session (and CSRF token) on login: no session fixation
    request.session["uid"] = user.id
    request.state.user = user
    return RedirectResponse(_safe_next(next) or home_for(user.role), status_code=303)


@router.post("/logout")
def logout(request: Request):  # noqa: ANN201
    user = current_user_or_none(request)
    if user is not None:
        with session_scope(engine_of(request)) as s:
            audit(s, "auth.logout", actor=user.label, tenant_id=user.tenant_id)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
