"""The search tests use the proposals tests' county (620302, 金川区政协): an office user (wang), members li
(J001), fang (J002), wei (J003), handling units 交通局 (contact chen) and 住建局 (contact zhou), a public user
(zhang), admin — on SQLite, or on PostgreSQL when SHANGLIANG_TEST_DATABASE_URL is set. Helpers write through the
API, as people would."""

from __future__ import annotations

from ..proposals.conftest import app, basic, client, county, expect_error, ok  # noqa: F401  (fixtures, helpers)

TOPIC = {"title": "老旧小区停车难问题", "description": "居民反映小区内停车位严重不足，夜间乱停乱放",
         "category": "城乡建设", "areas": ["620302001"], "raised_by_kind": "public", "raised_by_name": "居民代表"}
PROPOSAL = {"title": "关于规范共享单车停放的建议", "reasons": "共享单车乱停放占用人行道", "suggestions": "划定停放区域",
            "category": "交通", "term": 12, "session": 1, "year": 2027, "areas": ["620302002"]}
REPORT = {"title": "关于农村留守老人就医难的情况反映", "sentiment": "部分村民反映村卫生室缺医少药，停车也难",
          "analysis": "基层医疗人员流失", "suggestion": "建立巡回医疗制度", "category": "社会民生", "year": 2026}


def topic(client, **changes) -> dict:
    return ok(client.post("/api/v1/topics", json={**TOPIC, **changes}, headers=basic("wang")), 201)["topic"]


def proposal(client, user="li", **changes) -> dict:
    return ok(client.post("/api/v1/proposals", json={**PROPOSAL, **changes}, headers=basic(user)), 201)["proposal"]


def report(client, user="li", **changes) -> dict:
    return ok(client.post("/api/v1/opinions", json={**REPORT, **changes}, headers=basic(user)), 201)["opinion"]


def search(client, user="wang", status=200, **params) -> dict:
    return ok(client.get("/api/v1/search", query_string=params, headers=basic(user)), status)


def found(client, user="wang", **params) -> list[tuple[str, str]]:
    """(kind, title) of every hit, in order."""
    return [(h["kind"], h["title"]) for h in search(client, user, **params)["hits"]]
