"""Each role's day in a real browser (issue 16): signed in on a live county node, in Chinese and in English, at
desktop (1280) and phone (375) widths, with a screenshot of each page seen (artefacts under the pytest basetemp).

One node and one browser serve the whole module; the tests run in order and share what they leave behind
(the member's topic is the one the office then determines)."""

from __future__ import annotations

import pytest

from .conftest import COUNTY, DESKTOP, PHONE, assigned_topic, escalate_from_township


def test_the_office_accepts_a_topic_from_the_township_and_moves_it_on(live, browser):
    uid = escalate_from_township(live, "两镇交界道路维修")
    browser.sign_in("wang", DESKTOP)
    browser.language("zh_CN")
    card = browser.text("#work-topics-to_accept")
    assert "两镇交界道路维修" in card and "受理" in browser.text("#work-topics-to_accept h2"), card
    browser.shot("office-workbench-zh")
    browser.click(f"#work-topics-to_accept a[href='/topics/{uid}']")
    assert browser.path() == f"/topics/{uid}"
    assert browser.find("svg.route")  # the route picture: the township's escalation
    browser.submit("#form-accept")
    assert "受理" in browser.text(".flash") and browser.all("#form-advance")
    browser.fill({"#a-note": "经主席会议研究，列入年度协商计划"})
    browser.submit("#form-advance")
    assert "确定议题" in browser.text("body") and browser.path().startswith(f"/topics/{uid}")
    assert not browser.all("#form-accept")
    browser.shot("office-topic-zh")
    browser.open("/")
    assert "两镇交界道路维修" not in browser.text("body")  # nothing left to accept


def test_a_member_raises_a_topic_by_keyboard_and_submits_a_proposal(live, browser):
    browser.sign_in("zhao", PHONE)
    browser.language("en")
    browser.fits()
    browser.click("a.button[href='/topics/mine#raise']")
    assert browser.path() == "/topics/mine#raise" and "My matters" in browser.text("h1")
    # keyboard only: Tab to the title, type, Tab on through the fields, Enter submits
    browser.keyboard_to("r-title")
    browser.type_keys("社区养老服务中心建设")
    from selenium.webdriver.common.keys import Keys

    browser.type_keys(Keys.TAB, "老年人口多，日间照料不足")
    browser.type_keys(Keys.TAB, "民生")
    browser.type_keys(Keys.TAB, COUNTY)
    old = browser.find("html")
    browser.type_keys(Keys.ENTER)
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser.driver, 15).until(EC.staleness_of(old))
    assert browser.path().startswith("/topics/mine?raised="), browser.path()
    row = browser.text("#mine-list")
    assert "社区养老服务中心建设" in row and "Collected" in row
    browser.fits()
    browser.shot("member-my-matters-en")
    topic = live.api("GET", "/topics/mine", user="zhao").json()["topics"][0]
    assert topic["raised_by"] == {"kind": "member", "name": "赵委员（J007）"}
    live.seeded["member_topic"] = topic["uid"]
    # then a proposal, from the workbench's form
    browser.open("/proposals/new")
    browser.fill({"#n-title": "关于加快老旧小区改造的提案", "#n-reasons": "老旧小区设施陈旧",
                  "#n-suggestions": "统筹资金，分批改造", "#n-category": "城乡建设", "#n-term": "1", "#n-session": "1"})
    browser.submit("form.stack")
    assert "关于加快老旧小区改造的提案" in browser.text("body")
    browser.not_an_error_page()
    browser.shot("member-proposal-en")


def test_the_office_determines_the_members_topic(live, browser):
    uid = live.seeded.get("member_topic")
    if uid is None:
        pytest.skip("the member's topic was not raised (the test before failed)")
    browser.sign_in("wang", PHONE)
    browser.language("zh_CN")
    browser.open(f"/topics/{uid}")
    assert "赵委员（J007）" in browser.text("body")
    browser.submit("#form-advance")
    assert "确定议题" in browser.text(".flash")
    browser.fits()
    browser.shot("office-determined-zh")


def test_a_handling_unit_reports_progress_from_its_workbench(live, browser):
    uid = assigned_topic(live, "国道改线工程")
    browser.sign_in("jt", PHONE)
    browser.language("zh_CN")
    assert "国道改线工程" in browser.text("#work-topics-assigned")
    browser.fits()
    browser.shot("unit-workbench-zh")
    browser.click(f"a.button[href='/topics/{uid}#form-report']")
    assert browser.path() == f"/topics/{uid}#form-report"
    browser.fill({"#i-report": "已完成线路勘测，进入设计阶段"})
    browser.submit("#form-report")
    assert browser.path().startswith(f"/topics/{uid}")
    assert "已完成线路勘测" in browser.text("#implementation")
    browser.shot("unit-report-zh")
    reports = live.api("GET", f"/topics/{uid}/implementation").json()["assignments"][0]["reports"]
    assert [(r["kind"], r["review"]) for r in reports] == [("progress", "pending")]


def test_the_public_raises_a_matter_and_follows_it(live, browser):
    browser.sign_in("cun", DESKTOP)
    browser.language("en")
    browser.click("a.button[href='/topics/mine#raise']")
    browser.fill({"#r-title": "村口路灯不亮", "#r-category": "Public works", "#r-areas": COUNTY})
    assert not browser.all("#r-kind")  # who raised it is not choosable
    browser.submit("#raise-form")
    assert "村口路灯不亮" in browser.text("#mine-list")
    live.api("POST", "/topics", json={"title": "县道养护计划", "category": "交通", "areas": [COUNTY],
                                      "raised_by_kind": "government", "raised_by_name": "区政府"})
    browser.open("/topics/mine")
    assert "村口路灯不亮" in browser.text("#mine-list")
    assert "县道养护计划" not in browser.text("#mine-list")  # only their own, not the office's
    browser.open("/")
    assert "村口路灯不亮" in browser.text("#work-topics-mine")
    browser.shot("public-workbench-en")
    # the office takes it through to its result; the public reads the result on "my matters"
    uid = live.api("GET", "/topics/mine", user="cun").json()["topics"][0]["uid"]
    for stage in ("determined", "researching", "consulting", "implementing", "feedback"):
        live.api("POST", f"/topics/{uid}/actions", json={"action": "advance", "to_stage": stage})
    live.api("POST", f"/topics/{uid}/actions", json={"action": "result", "title": "路灯已修复",
                                                      "summary": "镇里更换了村口的三盏路灯"})
    browser.click("#work-topics-mine h2 a")
    assert browser.path() == "/topics/mine"
    mine = browser.text("#mine-list")
    assert "路灯已修复" in mine and "Closed" in mine
    browser.shot("public-my-matters-en")


@pytest.mark.parametrize("path", ["/admin/plugins", "/units", "/topics/statistics"])
def test_the_admin_opens_admin_pages(live, browser, path):
    if browser.who != "admin":  # signed in once for the three pages
        browser.sign_in("admin", DESKTOP)
        browser.language("zh_CN")
    browser.open(path)
    browser.not_an_error_page()
    assert browser.find("html").get_attribute("lang") == "zh-CN"
    browser.shot("admin" + path.replace("/", "-"))
