"""No English on a Chinese page: every page a role can reach by following links from the home page, rendered in
zh_CN on a node holding every kind of record (the authorisation matrix's node: a topic with an attachment, a
plan, an activity, a proposal, a social-opinion report, units, peers, users and the enabled practices), is read
as a person reads it — text and the attributes a browser shows — and any run of two or more English words that
is not a name a Chinese interface keeps in Latin letters fails the test, with the page and the words."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from .test_authorization import Who, make_matrix_node, matrix  # noqa: F401 (the node and its fixture)

#: Pages not crawled: the JSON API and its readable document (for programmers, in English by design), files,
#: downloads, the language switch and signing out.
SKIP = re.compile(r"^/(api/|static/|lang/|logout)|\.(xlsx|docx|ics|csv|json|txt|pdf)$|/attachments/|/materials/"
                  r"|/export|/download|\.(xlsx|docx|ics)\?")
#: What a Chinese interface writes in Latin letters on purpose.
KEPT = re.compile(r"\bshangliang(?: [a-z][a-z_-]+){1,3}|\b(English|Shangliang|Apache ECharts|ECharts|OpenAPI|JSON|CSV|Excel|Word|iCalendar|HTTP|HTTPS|"
                  r"URL|Ed25519|SHA-256|sha256|PostgreSQL|SQLite|Redis|Celery|zh_CN|YYYY-MM-DD|HH:MM|"
                  r"letter\.txt|joint letter|node\.toml|Prometheus)\b")
#: Two or more English words in a row (a word: two or more letters).
RUN = re.compile(r"[A-Za-z][a-z]+(?:[ ,'’-]+[A-Za-z][a-z]+)+")
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
PAGES_PER_ROLE = 120


class Reader(HTMLParser):
    """The text a person reads on a page, and the page's links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self.hidden = 0  # inside <script>, <style>, <code>, <pre> or a .uid / .code element (ids and codes)
        self.stack: list[bool] = []

    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr", "area", "base", "col", "embed", "track"}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        for name in SHOWN_ATTRIBUTES:
            if values.get(name):
                self.texts.append(values[name] or "")
        if tag == "input" and (values.get("type") or "") in ("submit", "button") and values.get("value"):
            self.texts.append(values["value"] or "")
        if tag in self.VOID:
            return
        classes = (values.get("class") or "").split()
        hides = tag in ("script", "style", "code", "pre", "textarea") or "uid" in classes or "code" in classes
        self.stack.append(hides)
        self.hidden += hides

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID or not self.stack:
            return
        self.hidden -= self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.texts.append(data)


def english_on(html: str) -> tuple[set[str], list[str]]:
    reader = Reader()
    reader.feed(html)
    found = set()
    for text in reader.texts:
        for run in RUN.findall(KEPT.sub(" ", text)):
            found.add(run)
    return found, reader.links


def crawl(client, headers: dict[str, str]) -> tuple[dict[str, set[str]], int]:
    seen: set[str] = set()
    queue = deque(["/", "/no-such-page"])
    problems: dict[str, set[str]] = {}
    pages = 0
    while queue and len(seen) < PAGES_PER_ROLE:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        answer = client.get(path, headers={**headers, "Accept-Language": "zh-CN"})
        if not answer.mimetype == "text/html":
            continue
        pages += 1
        found, links = english_on(answer.get_data(as_text=True))
        if found:
            problems[path] = found
        for link in links:
            url = urlsplit(urljoin("http://node.test" + path, link))
            target = url.path + (f"?{url.query}" if url.query else "")
            if url.netloc == "node.test" and not SKIP.search(url.path) and target not in seen:
                queue.append(target)
    return problems, pages


def test_no_english_on_any_page_a_role_reaches_in_chinese(matrix):
    report, read = [], {}
    for role in ("admin", "office", "member", "handling_unit", "public"):
        client, headers, _token = matrix.client(Who(role, "session"))
        problems, read[role] = crawl(client, headers)
        for path, runs in sorted(problems.items()):
            report.append(f"{role} {path}: {' | '.join(sorted(runs))}")
    # the crawl reads the node's pages, not a sign-in page (the office reaches every feature's pages and records)
    assert read["admin"] >= 40 and read["office"] >= 40 and min(read.values()) >= 20, read
    assert not report, f"{len(report)} pages show English in Chinese:\n" + "\n".join(report)


def test_the_reader_finds_english_and_keeps_ids_and_names():
    found, links = english_on('<p>操作被拒绝:due date 2020-01-01 has passed</p><span class="uid">620302:01J abc def'
                              '</span><a href="/topics" title="Open the topic">议题</a><p>English</p><p>Excel 导出</p>')
    assert found == {"due date", "has passed", "Open the topic"} and links == ["/topics"]
