import re
from playwright.sync_api import Playwright, sync_playwright, expect


def run(playwright: Playwright) -> None:
    browser = playwright.chromium.launch(headless=False)
    context = browser.new_context()
    page = context.new_page()
    page.goto("http://127.0.0.1:8765/login")
    page.get_by_label("ユーザーID").click()
    page.get_by_label("ユーザーID").fill("nagano-robot")
    page.get_by_label("パスワード").fill("sandbox-pass")
    page.get_by_role("button", name="ログイン").click()
    page.get_by_role("link", name="受給者検索").click()
    page.get_by_label("受給者番号").fill("1000001")
    page.get_by_label("受給者番号").press("Enter")
    expect(page.locator("#genkyo-status")).to_be_visible()
    page.locator("#genkyo-entry").click()
    page.locator("#child1_relation").select_option("長男")
    page.locator("#child1_lives_together").check()
    expect(page.get_by_role("heading")).to_contain_text("現況届 入力")
    page.get_by_role("row", name="2").get_by_role("textbox").first.fill("山田 花子")

    # ---------------------
    context.close()
    browser.close()


with sync_playwright() as playwright:
    run(playwright)
