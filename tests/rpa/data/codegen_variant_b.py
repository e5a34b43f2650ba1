from playwright.sync_api import Page, expect


def test_example(page: Page) -> None:
    page.goto("http://127.0.0.1:8766/auth/signin?next=/top")
    page.get_by_label("ログインID").fill("obuse-robot")
    page.get_by_label("パスワード").fill("sandbox-pass")
    page.get_by_role("button", name="サインイン").click()
    page.locator("#q-no").fill("1000002")
    page.locator("#q-no").press("Enter")
    page.get_by_role("link", name="現況届を作成").click()
    page.locator("input[name=\"nenkin\"]").nth(1).check()
    page.get_by_label("個人情報の取扱いに同意する").uncheck()
    page.get_by_text("児童を監護しています").click()
    page.wait_for_timeout(500)
