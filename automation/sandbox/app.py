"""The sandbox 児童手当 business system: a small, real, server-rendered web app.

Two vendor variants share the store and the validation but differ in markup, labels,
URLs and page flow, the way two municipalities' systems do:

* variant ``a``: 受給者 / 個人番号; login → menu → separate search page → recipient page
  → entry form → separate confirmation page → completion page.
* variant ``b``: 請求者 / マイナンバー; sign-in → top page with the search box on it →
  claimant page → entry form whose confirmation is shown inline on the same page, a
  consent checkbox (個人情報の取扱いに同意) variant a does not have, pension as radio buttons.

Admin endpoints under ``/_admin`` seed recipients, read stored reports (JSON) and switch
on misbehaviour (slow pages, HTTP 500s, expired sessions) for tests.
"""
from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .store import MAX_CHILDREN, PENSION_TYPES, RELATIONS, Faults, SandboxStore, validate_report

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Variant:
    name: str
    labels: dict[str, str]
    cookie: str
    login_path: str
    home_path: str
    receipt_prefix: str
    # record key -> form field name; "{i}" is the 1-based child row
    fields: dict[str, str] = field(default_factory=dict)
    child_fields: dict[str, str] = field(default_factory=dict)
    needs_consent: bool = False


VARIANTS = {
    "a": Variant(
        name="a",
        labels={"recipient": "受給者", "my_number": "個人番号", "system": "児童手当システム"},
        cookie="sid", login_path="/login", home_path="/menu", receipt_prefix="A",
        fields={k: k for k in ("recipient_name", "recipient_kana", "recipient_birth_date", "postal_code", "address",
                                "phone", "my_number", "spouse_name", "pension_type", "supervision_confirmed",
                                "livelihood_confirmed", "submission_date", "addressed_to")},
        child_fields={"name": "child{i}_name", "birth_date": "child{i}_birth_date", "relation": "child{i}_relation",
                      "lives_together": "child{i}_lives_together"},
    ),
    "b": Variant(
        name="b",
        labels={"recipient": "請求者", "my_number": "マイナンバー", "system": "こども給付管理 Web"},
        cookie="JSESSIONID", login_path="/auth/signin", home_path="/top", receipt_prefix="B",
        fields={"recipient_name": "f_shimei", "recipient_kana": "f_kana", "recipient_birth_date": "f_seinengappi",
                "postal_code": "f_yubin", "address": "f_jusho", "phone": "f_tel", "my_number": "f_mynumber",
                "spouse_name": "f_haigusha", "pension_type": "nenkin", "supervision_confirmed": "kakunin_kango",
                "livelihood_confirmed": "kakunin_seikei", "submission_date": "f_teishutsubi", "addressed_to": "f_atesaki"},
        child_fields={"name": "kid{i}_shimei", "birth_date": "kid{i}_seinengappi", "relation": "kid{i}_zokugara",
                      "lives_together": "kid{i}_dokyo"},
        needs_consent=True,
    ),
}
BOOL_FIELDS = ("supervision_confirmed", "livelihood_confirmed")


def form_to_report(v: Variant, form: Any, recipient_number: str) -> dict[str, Any]:
    """The submitted form as a record with the contract's keys (what ``stored()`` returns)."""
    r: dict[str, Any] = {"recipient_number": recipient_number}
    for key, name in v.fields.items():
        r[key] = bool(form.get(name)) if key in BOOL_FIELDS else (form.get(name) or "").strip()
    children = []
    for i in range(1, MAX_CHILDREN + 1):
        row = {k: (form.get(n.format(i=i)) or "").strip() for k, n in v.child_fields.items() if k != "lives_together"}
        if not any(row.values()):
            continue
        row["lives_together"] = bool(form.get(v.child_fields["lives_together"].format(i=i)))
        children.append(row)
    r["children"] = children
    return r


def create_sandbox_app(variant: str = "a", *, username: str = "robot", password: str = "sandbox-pass",
                       store: SandboxStore | None = None) -> FastAPI:
    if variant not in VARIANTS:
        raise ValueError(f"unknown sandbox variant '{variant}' (known: {', '.join(VARIANTS)})")
    v = VARIANTS[variant]
    store = store or SandboxStore(v.receipt_prefix)
    env = Environment(loader=FileSystemLoader(TEMPLATES / v.name), autoescape=select_autoescape(["html"]))
    app = FastAPI(title=f"sandbox {v.labels['system']} ({variant})", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.state.variant = v

    def render(name: str, request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
        html = env.get_template(name).render(L=v.labels, pension_types=PENSION_TYPES, relations=RELATIONS,
                                            max_children=MAX_CHILDREN, logged_in=_session(request) is not None, **ctx)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def _session(request: Request) -> str | None:
        sid = request.cookies.get(v.cookie)
        return sid if sid in store.sessions else None

    def to_login(request: Request) -> RedirectResponse:
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{v.login_path}?next={quote(nxt)}&expired=1", status_code=303)

    @app.middleware("http")
    async def misbehave(request: Request, call_next):  # noqa: ANN001, ANN202
        path = request.url.path
        if path.startswith("/_admin"):
            return await call_next(request)
        store.requests += 1
        f = store.faults
        if f.expire_sessions:
            store.sessions.clear()
            f.expire_sessions = False
        slow = f.slow_ms or int(request.query_params.get("_slow", "0") or 0)
        if slow:
            await asyncio.sleep(slow / 1000)  # the *server* is slow; the robot must wait for it, not sleep
        if (f.fail_next > 0 and f.fail_path in path and (not f.fail_method or f.fail_method == request.method)) \
                or request.query_params.get("_fail") == "500":
            f.fail_next = max(0, f.fail_next - 1)
            return HTMLResponse("<h1>500 Internal Server Error</h1><p>システムエラーが発生しました。</p>", status_code=500)
        return await call_next(request)

    # -- admin (tests, demo) -------------------------------------------------------
    @app.get("/_admin/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "variant": v.name}

    @app.post("/_admin/seed")
    async def seed(request: Request) -> dict[str, int]:
        return {"seeded": store.seed(await request.json())}

    @app.get("/_admin/stored")
    def stored() -> JSONResponse:
        return JSONResponse(store.reports)

    @app.get("/_admin/stats")
    def stats() -> dict[str, int]:
        return {"requests": store.requests, "logins": store.logins, "reports": len(store.reports)}

    @app.post("/_admin/faults")
    async def faults(request: Request) -> dict[str, Any]:
        store.faults = Faults.model_validate(await request.json())
        return store.faults.model_dump()

    @app.post("/_admin/reset")
    def reset() -> dict[str, bool]:
        store.reset()
        return {"ok": True}

    # -- login ---------------------------------------------------------------------
    @app.get("/")
    def root(request: Request) -> Response:
        return RedirectResponse(v.home_path if _session(request) else v.login_path, status_code=303)

    @app.get(v.login_path)
    def login_form(request: Request, next: str = "", expired: str = "") -> HTMLResponse:  # noqa: A002
        return render("login.html", request, next=next, expired=bool(expired), error="")

    @app.post(v.login_path)
    async def login(request: Request) -> Response:
        form = await request.form()
        user = form.get("username" if v.name == "a" else "login_id", "")
        pw = form.get("password" if v.name == "a" else "login_pw", "")
        nxt = str(form.get("next") or "")
        if user != username or pw != password:
            return render("login.html", request, status=401, next=nxt, expired=False,
                          error="ユーザーIDまたはパスワードが正しくありません。")
        sid = secrets.token_urlsafe(16)
        store.sessions.add(sid)
        store.logins += 1
        target = nxt if nxt.startswith("/") and not nxt.startswith("//") else v.home_path
        resp = RedirectResponse(target, status_code=303)
        resp.set_cookie(v.cookie, sid, httponly=True, samesite="lax")
        return resp

    @app.get("/logout")
    def logout(request: Request) -> Response:
        store.sessions.discard(request.cookies.get(v.cookie, ""))
        return RedirectResponse(v.login_path, status_code=303)

    def recipient_or_none(no: str):  # noqa: ANN202
        return store.recipients.get(no)

    def entry_context(no: str) -> dict[str, Any]:
        reports = store.reports_for(no)
        return {"recipient": store.recipients[no], "reports": reports}

    # -- pages that differ by variant ---------------------------------------------
    if v.name == "a":
        @app.get("/menu")
        def menu(request: Request) -> Response:
            if not _session(request):
                return to_login(request)
            return render("menu.html", request, user=username)

        @app.get("/search")
        def search(request: Request, recipient_number: str = "") -> Response:
            if not _session(request):
                return to_login(request)
            no = recipient_number.strip()
            if no and recipient_or_none(no):
                return RedirectResponse(f"/recipients/{no}", status_code=303)
            error = "該当する受給者が見つかりません。" if no else ""
            return render("search.html", request, q=no, error=error)

        @app.get("/recipients/{no}")
        def recipient(request: Request, no: str) -> Response:
            if not _session(request):
                return to_login(request)
            if not recipient_or_none(no):
                return render("search.html", request, status=404, q=no, error="該当する受給者が見つかりません。")
            return render("recipient.html", request, **entry_context(no))

        @app.get("/recipients/{no}/genkyo")
        def entry(request: Request, no: str) -> Response:
            if not _session(request):
                return to_login(request)
            if not recipient_or_none(no):
                return RedirectResponse("/search", status_code=303)
            return render("entry.html", request, recipient=store.recipients[no], r={"children": []}, errors=[])

        @app.post("/recipients/{no}/genkyo/confirm")
        async def confirm(request: Request, no: str) -> Response:
            if not _session(request):
                return to_login(request)
            report = form_to_report(v, await request.form(), no)
            errors = validate_report(report, v.labels)
            if errors:
                return render("entry.html", request, status=422, recipient=store.recipients[no], r=report, errors=errors)
            return render("confirm.html", request, recipient=store.recipients[no], r=report)

        @app.post("/recipients/{no}/genkyo/register")
        async def register(request: Request, no: str) -> Response:
            if not _session(request):
                return to_login(request)
            form = await request.form()
            report = form_to_report(v, form, no)
            errors = validate_report(report, v.labels)
            if form.get("back") or errors:
                return render("entry.html", request, status=422 if errors else 200, recipient=store.recipients[no],
                              r=report, errors=errors)
            receipt = store.add_report(report)
            return RedirectResponse(f"/reports/{receipt}", status_code=303)

        @app.get("/reports")
        def reports(request: Request) -> Response:
            if not _session(request):
                return to_login(request)
            return render("reports.html", request, reports=list(store.reports), recipients=store.recipients)

        @app.get("/reports/{receipt}")
        def done(request: Request, receipt: str) -> Response:
            if not _session(request):
                return to_login(request)
            rep = next((r for r in store.reports if r["receipt_number"] == receipt), None)
            if rep is None:
                return render("reports.html", request, status=404, reports=list(store.reports), recipients=store.recipients)
            return render("done.html", request, r=rep)
    else:
        @app.get("/top")
        def top(request: Request) -> Response:
            if not _session(request):
                return to_login(request)
            return render("top.html", request, user=username, q="", error="")

        @app.post("/top/lookup")
        async def lookup(request: Request) -> Response:
            if not _session(request):
                return to_login(request)
            no = str((await request.form()).get("seikyusha_no", "")).strip()
            if no and recipient_or_none(no):
                return RedirectResponse(f"/claimants/{no}", status_code=303)
            return render("top.html", request, user=username, q=no,
                          error="該当する受給者が見つかりません（請求者番号をご確認ください）。")

        @app.get("/claimants/{no}")
        def claimant(request: Request, no: str) -> Response:
            if not _session(request):
                return to_login(request)
            if not recipient_or_none(no):
                return render("top.html", request, status=404, user=username, q=no,
                              error="該当する受給者が見つかりません（請求者番号をご確認ください）。")
            return render("claimant.html", request, **entry_context(no))

        @app.get("/claimants/{no}/report")
        def report_form(request: Request, no: str) -> Response:
            if not _session(request):
                return to_login(request)
            if not recipient_or_none(no):
                return RedirectResponse("/top", status_code=303)
            return render("report.html", request, recipient=store.recipients[no], r={"children": []}, errors=[],
                          stage="input", receipt="")

        @app.post("/claimants/{no}/report")
        async def report_post(request: Request, no: str) -> Response:
            if not _session(request):
                return to_login(request)
            form = await request.form()
            report = form_to_report(v, form, no)
            errors = validate_report(report, v.labels)
            if not form.get("doi"):
                errors.append("個人情報の取扱いへの同意が必要です。")
            action = form.get("_action", "confirm")
            ctx = {"recipient": store.recipients[no], "r": report, "errors": errors, "receipt": ""}
            if errors or action == "back":
                return render("report.html", request, status=422 if errors else 200, stage="input", **ctx)
            if action == "confirm":
                return render("report.html", request, stage="confirm", **ctx)
            ctx["receipt"] = store.add_report(report)
            return render("report.html", request, stage="done", **ctx)

        @app.get("/history")
        def history(request: Request) -> Response:
            if not _session(request):
                return to_login(request)
            return render("history.html", request, reports=list(store.reports), recipients=store.recipients)

    return app
