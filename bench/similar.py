"""Similar matters with 100,000 topics on a node: incremental insert and suggestion lookup per topic.

A county node (``shangliang init``, SQLite by default; ``--postgres`` for PostgreSQL in a schema of this run,
dropped at the end) is filled with ``--topics`` synthetic Chinese topics held there: a village or community of
one of the county's townships, a matter (a facility and what is wrong with it: 排水沟 堵塞, 路灯 损坏, … — 600
kinds) in one of several wordings, and everyday filler. Each is indexed as the node indexes a topic that arrives
(``core/similar/services.index_topic``: jieba keywords, MinHash LSH buckets, rapidfuzz scoring of the candidates,
the suggestion made or joined) in the timed part. The build writes the topics, their keywords and bucket keys in bulk (5,000
a transaction; the keywords and keys computed by the same functions), without suggestions. Then ``--new`` more topics
arrive one at a time, each in its own transaction as the inbox would: the topic row written, indexed, its
suggestion looked up, committed; each timed. Reported: the build's topics per second and per-topic milliseconds
of the incremental step (mean, p50, p95, p99, max), candidates scored per topic, suggestions made, and the load
average before and after.

    python bench/similar.py [--topics 100000] [--new 1000] [--postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import COUNTY, NAMES, log, result_line, run_parallel, shangliang  # noqa: E402

FACILITIES = ("排水沟", "路灯", "自来水管", "垃圾收集点", "村道", "桥梁", "卫生室", "幼儿园", "养老服务站", "文化广场",
              "菜市场", "公交站", "停车场", "灌溉渠", "河道", "污水管网", "公共厕所", "健身器材", "学校操场", "集贸市场",
              "快递点", "充电桩", "消防通道", "老旧小区电梯", "农田机耕路", "防洪堤", "饮水井", "村级图书室", "便民服务中心",
              "供暖管道")
PROBLEMS = (("堵塞", "积水"), ("损坏", "无人维修"), ("老化", "存在安全隐患"), ("缺失", "群众不便"), ("噪音扰民", "影响休息"),
            ("收费不合理", "负担较重"), ("距离太远", "出行不便"), ("管理混乱", "秩序差"), ("年久失修", "塌陷"),
            ("数量不足", "排队时间长"), ("异味严重", "影响环境"), ("被占用", "无法使用"), ("建设滞后", "需求大"),
            ("冬季结冰", "容易滑倒"), ("夜间无照明", "安全隐患"), ("水质浑浊", "不敢饮用"), ("设施陈旧", "功能不全"),
            ("开放时间短", "使用困难"), ("排放超标", "污染河流"), ("维修资金不足", "长期搁置"))
WORDINGS = ("{place}{f}{p0}，{p1}问题突出", "关于{place}{f}{p0}的情况反映", "{f}{p0}导致{p1}，{place}群众盼解决",
            "{place}的{f}长期{p0}", "建议尽快解决{place}{f}{p0}问题")
#: Everyday filler: an opening, a how-long and a request, drawn separately (8 × 8 × 8 kinds), one sentence of each
#: at most.
OPENINGS = ("村民多次向村委会反映", "社区居民联名来信", "网格员走访时了解到", "人大代表转来群众意见", "镇政府热线接到投诉",
            "政协委员调研时发现", "驻村工作队反映", "村民代表会议提出")
DURATIONS = ("至今没有得到解决", "已经持续两年多", "去年汛期就曾出现", "每到冬季更加突出", "近几个月明显加重",
             "多次维修仍未根治", "涉及上千户居民", "附近学生上学必经")
ASKS = ("请有关部门研究解决", "建议列入年度民生实事", "盼早日落实", "请政协委员调研协商", "建议财政安排专项资金",
        "希望明确责任单位", "建议纳入乡村振兴项目", "请求上级统筹协调")
VILLAGES = tuple(f"{a}{b}村" for a in "东西南北中上下前后新" for b in "庄湾坪沟堡河岭营滩寨")


def topic_text(rng: random.Random, township: int) -> tuple[str, str, str]:
    """(title, description, area) of a synthetic topic from township ``township`` (1–20)."""
    f = rng.choice(FACILITIES)
    p0, p1 = rng.choice(PROBLEMS)
    place = rng.choice(VILLAGES)
    title = rng.choice(WORDINGS).format(place=place, f=f, p0=p0, p1=p1)
    filler = [rng.choice(OPENINGS), rng.choice(DURATIONS), rng.choice(ASKS)]
    body = f"{place}{f}{p0}，{p1}。" + "，".join(rng.sample(filler, rng.randint(1, 3))) + "。"
    return title, body, f"{COUNTY}{township:03d}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--topics", type=int, default=100_000, help="topics held by the node before timing")
    parser.add_argument("--new", type=int, default=1_000, help="topics then arriving one at a time, each timed")
    parser.add_argument("--postgres", action="store_true", help="on PostgreSQL (BENCH_DATABASE_URL), not SQLite")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    before = load()
    log(f"load average before: {before}")
    run_id = f"bench_{uuid.uuid4().hex[:8]}"
    schema = None
    with tempfile.TemporaryDirectory(prefix="shangliang-bench-similar-") as base:
        node_dir = Path(base) / "county"
        init = ["init", str(node_dir), "--id", COUNTY, "--name", NAMES[COUNTY], "--url", "http://127.0.0.1:1"]
        if args.postgres:
            from common import create_schemas, schema_url

            schema = f"{run_id}_similar"
            create_schemas(schema)
            init += ["--database-url", schema_url(schema)]
        try:
            run_parallel([shangliang(*init)])
            figures = run(node_dir, args)
        finally:
            if schema:
                from common import drop_schemas

                drop_schemas(run_id)
    after = load()
    log(f"load average after: {after}")
    result_line({"benchmark": "similar", "backend": "postgresql" if args.postgres else "sqlite",
                 "load_before": before, "load_after": after, **figures})


def run(node_dir: Path, args) -> dict:
    from sqlalchemy import func, insert, select

    from shangliang.core.app import create_app
    from shangliang.core.context import node_context
    from shangliang.core.db import transaction
    from shangliang.core.similar import services
    from shangliang.core.similar.models import SimilarBucket, SimilarIndexed, SimilarMember, SimilarSuggestion
    from shangliang.core.topics.models import Topic

    app = create_app(node_dir)
    rng = random.Random(args.seed)
    counter = iter(range(1, 10 ** 9))

    def new_topic(session, at_ms: int) -> Topic:
        title, body, area = topic_text(rng, rng.randint(1, 20))
        n = next(counter)
        topic = Topic(id=n, uid=f"{area}:{n:026d}", title=title, description=body, category="城乡建设",
                      areas=json.dumps([area]), raised_by_kind="lower_level", raised_by_name="乡镇政协工作联络组",
                      raised_ms=at_ms, stage="collected", holder=COUNTY, upstream=area, updated_ms=at_ms)
        session.add(topic)
        session.flush()
        return topic

    with app.app_context():
        node = node_context()
        services.keywords("预热")  # jieba's dictionary, loaded once per process
        services.bucket_keys(["预热"])
        log(f"building {args.topics} topics (written in bulk, each indexed with its keywords and bucket keys)")
        started = time.perf_counter()
        done = 0
        while done < args.topics:
            batch = min(5000, args.topics - done)
            topics, indexed, buckets = [], [], []
            now = node.now_ms()
            for _ in range(batch):
                title, body, area = topic_text(rng, rng.randint(1, 20))
                n = next(counter)
                topics.append({"id": n, "uid": f"{area}:{n:026d}", "title": title, "description": body,
                               "category": "城乡建设", "areas": json.dumps([area]), "raised_by_kind": "lower_level",
                               "raised_by_name": "乡镇政协工作联络组", "raised_ms": now, "stage": "collected",
                               "holder": COUNTY, "upstream": area, "updated_ms": now, "overdue": False})
                words = services.keywords(title, body)
                indexed.append({"topic_id": n, "keywords": " ".join(words), "indexed_ms": now})
                buckets.extend({"key": k, "topic_id": n} for k in services.bucket_keys(words))
            with transaction("bench") as session:
                session.execute(insert(Topic.__table__), topics)
                session.execute(insert(SimilarIndexed.__table__), indexed)
                session.execute(insert(SimilarBucket.__table__), buckets)
            done += batch
            if done % 20_000 == 0:
                log(f"  {done} topics, {done / (time.perf_counter() - started):.0f}/s")
        build_s = time.perf_counter() - started
        timings, candidates = [], []
        real_candidates = services.candidates

        def counting(*a, **kw):
            found = real_candidates(*a, **kw)
            candidates.append(len(found))
            return found

        services.candidates = counting
        log(f"timing {args.new} topics arriving one at a time")
        for _ in range(args.new):
            t0 = time.perf_counter()
            with transaction("bench") as session:
                topic = new_topic(session, node.now_ms())
                services.index_topic(session, node, topic)
                session.execute(select(SimilarSuggestion.id).join(SimilarMember)
                                .where(SimilarMember.topic_id == topic.id)).first()
            timings.append((time.perf_counter() - t0) * 1000)
        services.candidates = real_candidates
        with transaction("bench") as session:
            t0 = time.perf_counter()
            listed = services.list_suggestions(session, node, "open", 100)
            list_ms = (time.perf_counter() - t0) * 1000
            suggestions = session.scalar(select(func.count()).select_from(SimilarSuggestion))
            grouped = session.scalar(select(func.count(func.distinct(SimilarMember.topic_id))))
        app.extensions["shangliang.db"].engine.dispose()
    return {"topics": args.topics, "new": args.new, "build_s": round(build_s, 1),
            "build_topics_per_s": round(args.topics / build_s), "per_topic_ms_mean": round(statistics.mean(timings), 2),
            "per_topic_ms_p50": round(percentile(timings, 0.5), 2), "per_topic_ms_p95": round(percentile(timings, 0.95), 2),
            "per_topic_ms_p99": round(percentile(timings, 0.99), 2), "per_topic_ms_max": round(max(timings), 2),
            "candidates_mean": round(statistics.mean(candidates), 1) if candidates else 0,
            "candidates_max": max(candidates) if candidates else 0, "suggestions": suggestions,
            "topics_in_suggestions": grouped, "list_100_open_ms": round(list_ms, 1), "listed": len(listed)}


if __name__ == "__main__":
    main()
