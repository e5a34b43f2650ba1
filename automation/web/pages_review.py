"""The clerk's review queue and document page (thin: logic lives in automation.review)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from automation import review
from tenants.users import Role, User

from .auth import require, user_session
from .common import data_root, engine_of, get_document, render, tenant_config
from .images import crop_png, image_size, page_path

router = APIRouter(include_in_schema=False)
Reviewer = Annotated[User, Depends(require(Role.clerk, Role.tenant_admin))]
FIELD_PREFIX = "f:"


def _flash(request: Request, message: str) -> None:
    request.session["flash"] = message


@router.get("/review")
def queue(request: Request, user: Reviewer):  # noqa: ANN201
    with user_session(engine_of(request), user) as s:
        items = review.list_review_queue(s)
    return render(request, "queue.html", items=items, flash=request.session.pop("flash", ""))


def _document_page(request: Request, user: User, document_id: int, *, entered: dict[str, str] | None = None,
                   errors: dict[str, str] | None = None, status_code: int = 200):  # noqa: ANN202
    with user_session(engine_of(request), user) as s:
        doc = get_document(request, s, user, document_id)
        form = review.form_of(doc)
        fields = review.review_fields(form)
        job = review.job_for_document(s, doc.id)
        corrections = review.corrections_for(s, doc.id)
    tenant = tenant_config(request, doc.tenant_id)
    page_numbers = sorted({(f.box.page if f.box else 0) for f in fields} | {0})
    pages = []
    for idx in page_numbers:
        path = page_path(tenant, data_root(request), doc.id, idx + 1)
        size = image_size(path)
        if size is None:
            continue
        w, h = size
        boxes = [
            {"key": f.key, "label": f.label, "doubtful": f.doubtful,
             "left": f.box.x / w * 100, "top": f.box.y / h * 100, "width": f.box.w / w * 100, "height": f.box.h / h * 100}
            for f in fields if f.box is not None and f.box.page == idx
        ]
        pages.append({"n": idx + 1, "url": f"/documents/{doc.id}/pages/{idx + 1}.png", "boxes": boxes})
    first = next((f.key for f in fields if f.doubtful), fields[0].key if fields else "")
    return render(request, "document.html", status_code=status_code, doc=doc, form=form, fields=fields, pages=pages,
                  job=job, corrections=corrections, entered=entered or {}, errors=errors or {}, first=first,
                  doubtful=sum(f.doubtful for f in fields), reviewable=doc.status == "needs_review")


@router.get("/documents/{document_id}")
def document_page(request: Request, document_id: int, user: Reviewer):  # noqa: ANN201
    try:
        return _document_page(request, user, document_id)
    except review.ReviewError as e:
        raise HTTPException(status_code=409, detail=e.message_ja) from None


@router.get("/documents/{document_id}/pages/{page}.png")
def page_image(request: Request, document_id: int, page: int, user: Reviewer):  # noqa: ANN201
    with user_session(engine_of(request), user) as s:
        doc = get_document(request, s, user, document_id)
    path = page_path(tenant_config(request, doc.tenant_id), data_root(request), doc.id, page)
    if page < 1 or not path.is_file():
        raise HTTPException(status_code=404, detail="ページ画像がありません")
    return Response(path.read_bytes(), media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


@router.get("/documents/{document_id}/crops/{key}.png")
def field_crop(request: Request, document_id: int, key: str, user: Reviewer):  # noqa: ANN201
    with user_session(engine_of(request), user) as s:
        doc = get_document(request, s, user, document_id)
        fields = {f.key: f for f in review.review_fields(review.form_of(doc))}
    f = fields.get(key)
    if f is None or f.box is None:
        raise HTTPException(status_code=404, detail="この項目の切り出し画像はありません")
    path = page_path(tenant_config(request, doc.tenant_id), data_root(request), doc.id, f.box.page + 1)
    if not path.is_file():
        raise HTTPException(status_code=404, detail="ページ画像がありません")
    try:
        png = crop_png(path, f.box)
    except ValueError:
        raise HTTPException(status_code=404, detail="切り出し位置がページの外です") from None
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


async def _values(request: Request) -> dict[str, str]:
    # The last value wins: a checkbox posts a hidden "0" and, when ticked, a "1" after it.
    form = await request.form()
    values: dict[str, str] = {}
    for k, v in form.multi_items():
        if k.startswith(FIELD_PREFIX) and isinstance(v, str):
            values[k[len(FIELD_PREFIX):]] = v
    return values


@router.post("/documents/{document_id}/approve")
async def approve(request: Request, document_id: int, user: Reviewer):  # noqa: ANN201
    values = await _values(request)
    try:
        with user_session(engine_of(request), user) as s:
            doc = get_document(request, s, user, document_id)
            outcome = review.approve(s, doc, values, user=user)
            if not outcome.ok:
                s.rollback()
    except review.ReviewError as e:
        _flash(request, e.message_ja)
        return RedirectResponse(f"/documents/{document_id}", status_code=303)
    if not outcome.ok:
        return _document_page(request, user, document_id, entered=values, errors=outcome.errors, status_code=422)
    _flash(request, f"書類 {document_id} を承認しました（訂正 {outcome.corrections} 件）。登録ジョブ #{outcome.job_id} を作成しました。")
    return RedirectResponse("/review", status_code=303)


@router.post("/documents/{document_id}/reject")
def reject(request: Request, document_id: int, user: Reviewer, reason: Annotated[str, Form()] = ""):  # noqa: ANN201
    try:
        with user_session(engine_of(request), user) as s:
            doc = get_document(request, s, user, document_id)
            tenant = tenant_config(request, doc.tenant_id)
            review.reject(s, doc, reason, user=user, tenant=tenant)
    except review.ReviewError as e:
        return _document_page(request, user, document_id, errors={"_reject": e.message_ja}, status_code=422)
    _flash(request, f"書類 {document_id} を差し戻しました（エラーフォルダへ移動）。")
    return RedirectResponse("/review", status_code=303)
