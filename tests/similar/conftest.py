"""The similar-matters tests use the proposals tests' county (620302, 金川区政协): an office user (wang), members,
handling units, a public user (zhang), admin — on SQLite, or on PostgreSQL when SHANGLIANG_TEST_DATABASE_URL is
set. Helpers write through the API, as people would."""

from __future__ import annotations

from ..proposals.conftest import app, basic, client, county, expect_error  # noqa: F401  (fixtures, helpers)

T1, T2 = "620302001", "620302002"
#: The same drainage complaint from two townships, in different words.
DRAIN_1 = {"title": "东街村排水沟堵塞，雨天积水严重",
           "description": "村里排水沟常年堵塞没人清理，每逢下雨路面积水，群众出行困难，希望尽快疏通排水沟。"}
DRAIN_2 = {"title": "雨天道路积水，排水沟淤堵无人疏通",
           "description": "西村主干道两侧的排水沟被淤泥堵死，一下雨道路积水严重，村民出行很不方便，请求清淤疏通。"}
#: Unrelated matters that share everyday words with the complaint (村里, 出行, 希望尽快).
LIGHTS = {"title": "村道路灯损坏，夜间出行不安全",
          "description": "村里主干道路灯坏了半年没人修，晚上一片漆黑，群众出行很不方便，希望尽快维修。"}
BOOKS = {"title": "建议增加农村学校图书室藏书",
         "description": "乡里几所小学图书室书籍陈旧，数量不足，学生课外阅读困难，希望增加经费购置新书。"}


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def raise_topic(web, text: dict, area: str, user: str = "wang") -> dict:
    body = {**text, "category": "城乡建设", "areas": [area], "raised_by_kind": "public", "raised_by_name": "村民代表"}
    return ok(web.post("/api/v1/topics", json=body, headers=basic(user)), 201)["topic"]


def suggestions(web, state: str = "open", user: str = "wang") -> list[dict]:
    return ok(web.get("/api/v1/similar", query_string={"state": state}, headers=basic(user)))["suggestions"]
