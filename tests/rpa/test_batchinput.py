"""Batched form input in real Chromium: same result and events as Playwright's steps, in order,
with Playwright's own step wherever the page script cannot apply an op exactly."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Error as PlaywrightError

from automation.rpa import browser as bw
from automation.rpa.batchinput import InputBatch, InputOp, js_selector

pytestmark = pytest.mark.browser

FORM = """<html><body><form action="javascript:void(0)">
  <p><label for="name">受給者氏名</label><input id="name"></p>
  <p><label>フリガナ <input id="kana"></label></p>
  <p><input id="tel" aria-label="電話番号"></p>
  <p><label for="birth">生年月日</label><input id="birth" type="date"></p>
  <p><label for="rel">続柄</label><select id="rel"><option value="">-</option>
     <option value="01">子</option><option value="02">孫</option></select></p>
  <p><label for="together">同居</label><input id="together" type="checkbox"></p>
  <p><label for="postal">郵便番号</label><input id="postal" maxlength="8"></p>
  <p><label for="a1">住所</label><input id="a1"><label for="a2">住所</label><input id="a2"></p>
  <p><label for="hidden">備考</label><input id="hidden" style="display:none"></p>
</form>
<script>
  window.events = [];
  for (const t of ['input', 'change', 'click'])
    document.addEventListener(t, (e) => window.events.push(t + ':' + e.target.id), true);
</script></body></html>"""


@pytest.fixture
def page(browser) -> Iterator:
    p = browser.browser.new_page()
    p.set_content(FORM)
    try:
        yield p
    finally:
        p.close()


def ops_for(page, spec: list[tuple[str, str, str | bool]], fallbacks: list[str]) -> list[InputOp]:
    """InputOps whose fallback is Playwright's own step, noting which ops took it."""
    def fallback(kind: str, target: str, value: str | bool):
        def run() -> None:
            fallbacks.append(target)
            loc = bw.locate(page, target)
            if kind == "fill":
                loc.fill(value, timeout=2000)
            elif kind == "select":
                loc.select_option(value, timeout=2000)
            else:
                bw.set_checked(loc, bool(value), 2000)
        return run
    return [InputOp(kind=k, target=t, value=v, fallback=fallback(k, t, v)) for k, t, v in spec]  # type: ignore[arg-type]


def test_one_round_trip_sets_every_native_control_with_its_events(page) -> None:
    fallbacks: list[str] = []
    batch = InputBatch(lambda: page)
    for op in ops_for(page, [("fill", "label:受給者氏名", "髙﨑 花子"), ("fill", "label:フリガナ", "タカサキ ハナコ"),
                             ("fill", "label:電話番号", "026-123-4567"), ("fill", "#birth", " 2019-04-01 "),
                             ("select", "label:続柄", "孫"), ("check", "label:同居", True)], fallbacks):
        batch.add(op)
    batch.flush()
    assert fallbacks == []
    got = page.evaluate("""() => ['name', 'kana', 'tel', 'birth', 'rel'].map((id) => document.getElementById(id).value)
                                 .concat([document.getElementById('together').checked])""")
    assert got == ["髙﨑 花子", "タカサキ ハナコ", "026-123-4567", "2019-04-01", "02", True]
    events = page.evaluate("window.events")
    for el in ("name", "kana", "tel", "birth", "rel"):
        assert events.index(f"input:{el}") < events.index(f"change:{el}")
    assert "click:together" in events and "change:together" in events
    assert page.evaluate("document.activeElement.id") == "together"  # focus moved like a user's


def test_ops_the_page_cannot_apply_exactly_go_to_playwright_in_order(page) -> None:
    fallbacks: list[str] = []
    batch = InputBatch(lambda: page)
    for op in ops_for(page, [("fill", "label:受給者氏名", "長野 太郎"),
                             ("fill", "label:郵便番号", "380-0000-9999"),     # longer than maxlength
                             ("fill", "role:textbox:フリガナ", "ナガノ タロウ"),  # a selector only Playwright resolves
                             ("select", "#rel", "01"),
                             ("check", "#together", True)], fallbacks):
        batch.add(op)
    batch.flush()
    assert fallbacks == ["label:郵便番号", "role:textbox:フリガナ"]
    assert page.input_value("#name") == "長野 太郎" and page.input_value("#kana") == "ナガノ タロウ"
    assert page.input_value("#rel") == "01" and page.is_checked("#together")
    events = [e for e in page.evaluate("window.events") if e.startswith("change:")]
    assert events == ["change:name", "change:postal", "change:kana", "change:rel", "change:together"]


def test_ambiguous_or_hidden_targets_keep_playwrights_errors(page) -> None:
    for target in ("label:住所", "label:備考"):
        fallbacks: list[str] = []
        batch = InputBatch(lambda: page)
        for op in ops_for(page, [("fill", "#name", "先に入力"), ("fill", target, "x")], fallbacks):
            batch.add(op)
        with pytest.raises(PlaywrightError):  # strict mode (two 住所) / not visible (備考)
            batch.flush()
        assert fallbacks == [target]
        assert page.input_value("#name") == "先に入力"  # the ops before it were applied
        assert batch.ops == []


def test_selector_syntax_split() -> None:
    assert js_selector("label:受給者氏名") == {"label": "受給者氏名"}
    assert js_selector("#child1_name") == {"css": "#child1_name"}
    assert js_selector("form#x input[name=a]") == {"css": "form#x input[name=a]"}
    for target in ("text=送信", "xpath=//input", "role:button:登録", "#a >> nth=1", "placeholder:郵便番号"):
        assert js_selector(target) is None, target
