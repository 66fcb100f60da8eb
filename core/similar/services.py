"""Similar matters, merged upward (集中的问题): the rules of finding topics held here with similar content from
different places, suggesting them as one matter, and the staff's decision — merge, keep separate, dismiss —
for pages, the API, commands and tasks alike.

Matching (docs/similar.md): a topic's keywords are jieba's TF-IDF keywords of its title (counted twice) and
text; a MinHash of the keywords (datasketch) is cut into LSH bands, each band a bucket key stored in
``similar_buckets``; topics sharing a bucket are candidates, scored by rapidfuzz's ``token_set_ratio`` over the
keywords (0–100). A candidate at or over the node's threshold, held here, open, and from another place (another
sender or other areas) joins the topic in a suggestion. Each topic is indexed once, as it arrives: raised here
(the beat task and every listing catch up on topics not yet indexed) or accepted from a neighbour (a worker
kicked when the inbox's transaction commits).

Every function takes a session and the node's context and either returns a value or raises a named error
(``InputError``, ``NotFound``, ``Conflict``, ``NotHeldHere``); the caller's transaction stores all of a change or
none of it.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from sqlalchemy import bindparam, func, insert, select, text, union_all
from sqlalchemy.orm import Session, selectinload

from shangliang.core.context import NodeContext
from shangliang.core.errors import Conflict, InputError, NotFound
from shangliang.core.i18n import N_
from shangliang.core.models import Role
from shangliang.core.topics import services as topics
from shangliang.core.topics.models import Topic

from .models import STATES, SimilarBucket, SimilarIndexed, SimilarMember, SimilarMerged, SimilarSuggestion

#: Who decides on suggestions: the office (and admins). Every signed-in user of those roles may read them.
DECIDERS = frozenset({Role.ADMIN.value, Role.OFFICE.value})
#: Keywords kept per topic.
KEYWORDS = 12
#: MinHash permutations and the LSH bands cut from them (rows per band = NUM_PERM // BANDS): with 2 rows a band,
#: two topics whose keyword sets overlap by a Jaccard of 0.25 share a bucket with probability 1 - (1 - 0.25²)⁶⁴
#: ≈ 0.98, by 0.15 with 0.76, by 0.05 with 0.15.
NUM_PERM = 128
BANDS = 64
#: datasketch's hashing scheme, named so that the stored bucket keys stay valid whatever a later version defaults to
#: (a change of scheme, permutations or bands needs every topic indexed again: delete ``similar_indexed`` rows).
SCHEME = "affine32"
#: The default similarity (rapidfuzz token_set_ratio of the keywords, 0–100) at which topics are suggested.
DEFAULT_THRESHOLD = 55.0
#: The most candidates from the buckets scored for one topic (those sharing the most bands first).
MAX_CANDIDATES = 200
#: The most topics read from one bucket (its newest).
BUCKET_READ = 100
#: The most topics in one suggestion.
MAX_MEMBERS = 50
#: The most topics a listing indexes before it answers (oldest first; beat indexes the rest): a listing's wait
#: stays bounded after a spell without a worker (about 10 ms a topic, and a second or two once per process to
#: load jieba's dictionaries and datasketch).
LISTING_INDEX = 100
NOTE = 2000

log = logging.getLogger("shangliang.similar")
_jieba_lock = threading.Lock()


class NotHeldHere(Conflict):
    """A merge names a topic this node does not hold (sent on, or only passed through here): nothing is merged."""


# ---------------------------------------------------------------------------------------------
# Keywords, signatures and scores


#: Words a complaint or suggestion says whatever it is about (who asks, how urgently, how badly): left out of the
#: keywords, on top of jieba's own stop words, so that two topics match by what they are about.
STOP_WORDS = frozenset("""群众 村民 居民 希望 尽快 请求 建议 要求 反映 问题 情况 严重 困难 常年 每逢 无人 没人 一下
很多 不便 方便 相关 部门 进一步 加强 及时 目前 存在 导致 造成 影响 增加 解决 长期 多年 有关 一些 由于 已经 能够 可以 没有
非常 比较 半年 村里""".split())
_extractor = None
_permutations = None


def _analyse():
    """A jieba TF-IDF keyword extractor with :data:`STOP_WORDS`, its dictionary loaded once per process (about
    half a second)."""
    global _extractor
    if _extractor is None:
        with _jieba_lock:
            if _extractor is None:
                import jieba
                import jieba.analyse

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                # a copy of jieba's own extractor, sharing its IDF table (made again, it parses the 350,000-line
                # IDF file a second time: about half a second), with stop words of its own
                extractor = copy.copy(jieba.analyse.default_tfidf)
                extractor.stop_words = set(extractor.stop_words) | STOP_WORDS
                _extractor = extractor
    return _extractor


def keywords(title: str, description: str = "") -> list[str]:
    """The topic's keywords, the most telling first: jieba's TF-IDF ranking of its title (counted twice: a title
    names the matter) and its text. Latin words are lower-cased."""
    words = _analyse().extract_tags(f"{title}。{title}。{description}", topK=KEYWORDS)
    return [w.lower() for w in words if w.strip()]


def bucket_keys(words: Iterable[str]) -> list[int]:
    """The LSH bucket keys of a keyword set: a MinHash of the words (datasketch, ``NUM_PERM`` permutations, a
    fixed seed so every node and process agrees), cut into ``BANDS`` bands; each band's key a signed 64-bit
    hash of its number and its values. No words, no keys."""
    from datasketch import MinHash

    words = sorted(set(words))
    if not words:
        return []
    global _permutations
    if _permutations is None:  # made once: datasketch would draw them again for every MinHash
        _permutations = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME).permutations
    mh = MinHash(num_perm=NUM_PERM, seed=1, permutations=_permutations, scheme=SCHEME)
    mh.update_batch([w.encode("utf-8") for w in words])
    rows = NUM_PERM // BANDS
    keys = []
    for band in range(BANDS):
        digest = hashlib.blake2b(band.to_bytes(2, "big") + mh.hashvalues[band * rows:(band + 1) * rows].tobytes(),
                                 digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return keys


def _joined(words: Sequence[str]) -> str:
    return " ".join(sorted(set(words)))


def scores(words: Sequence[str], others: Sequence[Sequence[str]]) -> list[float]:
    """How similar ``words`` is to each keyword list of ``others``, 0–100: rapidfuzz's ``token_set_ratio`` of the
    sorted keywords (one call for all, in rapidfuzz's C++)."""
    if not others:
        return []
    from rapidfuzz import fuzz, process

    matrix = process.cdist([_joined(words)], [_joined(o) for o in others], scorer=fuzz.token_set_ratio,
                           dtype="float32")
    return [float(s) for s in matrix[0]]


def similarity(a: Topic, b: Topic) -> float:
    """How similar two topics are, 0–100 (what a suggestion's reasons show)."""
    return scores(keywords(a.title, a.description), [keywords(b.title, b.description)])[0]


def threshold(node: NodeContext) -> float:
    return float(node.config.get("SIMILAR_THRESHOLD", DEFAULT_THRESHOLD))


# ---------------------------------------------------------------------------------------------
# Indexing and suggesting, as topics arrive


def _areas(topic: Topic) -> list[str]:
    return json.loads(topic.areas)


def _source(topic: Topic) -> tuple[str, tuple[str, ...]]:
    """Where a topic comes from: the node that sent it here (or raised it) and its areas."""
    return topic.upstream or topic.raised_at, tuple(_areas(topic))


def _open(topic: Topic, node: NodeContext) -> bool:
    return topic.holder == node.id and topic.stage != "closed"


def _merged_away(session: Session, topic_ids: Iterable[int]) -> set[int]:
    ids = list(topic_ids)
    if not ids:
        return set()
    return set(session.execute(select(SimilarMerged.topic_id).where(SimilarMerged.topic_id.in_(ids))).scalars())


def index_topic(session: Session, node: NodeContext, topic: Topic) -> SimilarSuggestion | None:
    """Index a topic held here once (its keywords and buckets) and suggest grouping it with similar topics held
    here from other places: it joins an open suggestion that holds one of them, or starts a new one. Returns
    the suggestion it is in (None when nothing similar is held here, or it was indexed before)."""
    if session.get(SimilarIndexed, topic.id) is not None:
        return None
    words = keywords(topic.title, topic.description)
    keys = bucket_keys(words)
    session.add(SimilarIndexed(topic_id=topic.id, keywords=" ".join(words), indexed_ms=node.now_ms()))
    session.flush()
    if keys:  # one bulk statement (executemany, no RETURNING), not one INSERT per band
        session.execute(insert(SimilarBucket), [{"key": k, "topic_id": topic.id} for k in keys])
    if not _open(topic, node) or not keys:
        return None
    return _suggest(session, node, topic, words, keys)


@dataclass(frozen=True)
class Candidate:
    """A topic held here sharing buckets with the one being indexed: what the matching needs of it."""

    id: int
    uid: str
    upstream: str | None
    areas: str
    keywords: list[str]
    bands: int  # how many of the LSH bands it shares: the more, the more similar its keywords

    @property
    def source(self) -> tuple[str, tuple[str, ...]]:
        return self.upstream or self.uid.split(":", 1)[0], tuple(json.loads(self.areas))


@functools.lru_cache(maxsize=8)
def _bands_statement(n: int):
    """For ``n`` bucket keys (bound as ``k0``…, the topic as ``me``): each bucket's newest ``BUCKET_READ`` topics
    but ``me``, read from the (key, topic_id) index alone, counted per topic, the most shared bands first. The work
    is bounded however crowded a bucket grows (a topic as alike as that shares other, less crowded buckets too).
    Built once per number of keys (always ``BANDS`` but for a topic without keywords): building the 64 subqueries
    again for every topic cost more than running them."""
    reads = [select(SimilarBucket.topic_id).where(SimilarBucket.key == bindparam(f"k{i}"),
                                                  SimilarBucket.topic_id != bindparam("me"))
             .order_by(SimilarBucket.topic_id.desc()).limit(BUCKET_READ).subquery() for i in range(n)]
    found = union_all(*(select(r.c.topic_id) for r in reads)).subquery()
    return (select(found.c.topic_id, func.count()).group_by(found.c.topic_id)
            .order_by(func.count().desc(), found.c.topic_id.desc()).limit(MAX_CANDIDATES * 4))


def candidates(session: Session, node: NodeContext, topic: Topic, keys: list[int]) -> list[Candidate]:
    """Topics held here, open and not merged into another, among the newest ``BUCKET_READ`` of each bucket of
    ``topic``; the ``MAX_CANDIDATES`` sharing the most bands (LSH's estimate of how alike their keywords are)."""
    keys = sorted(set(keys))
    params = {"me": topic.id, **{f"k{i}": key for i, key in enumerate(keys)}}
    bands = dict(session.execute(_bands_statement(len(keys)), params).all())
    if not bands:
        return []
    # Then those of them held here and open: by their primary keys (a planner starting from the topics held here
    # would read them all).
    rows = session.execute(
        select(Topic.id, Topic.uid, Topic.upstream, Topic.areas, SimilarIndexed.keywords)
        .join(SimilarIndexed, SimilarIndexed.topic_id == Topic.id)
        .where(Topic.id.in_(list(bands)), Topic.holder == node.id, Topic.stage != "closed",
               Topic.id.not_in(select(SimilarMerged.topic_id)))).all()
    rows = sorted(rows, key=lambda r: (-bands[r.id], -r.id))[:MAX_CANDIDATES]
    return [Candidate(r.id, r.uid, r.upstream, r.areas, r.keywords.split(), bands[r.id]) for r in rows]


def _suggest(session: Session, node: NodeContext, topic: Topic, words: list[str], keys: list[int]) -> SimilarSuggestion | None:
    here = _source(topic)
    found = [c for c in candidates(session, node, topic, keys) if c.source != here]
    limit = threshold(node)
    matches = sorted(((s, c) for c, s in zip(found, scores(words, [c.keywords for c in found])) if s >= limit),
                     key=lambda m: (-m[0], -m[1].id))[:MAX_MEMBERS]
    if not matches:
        return None
    now = node.now_ms()
    joinable = session.execute(
        select(SimilarMember.suggestion_id, func.count(SimilarMember.id))
        .where(SimilarMember.suggestion_id.in_(
            select(SimilarMember.suggestion_id).join(SimilarSuggestion)
            .where(SimilarSuggestion.state == "open", SimilarMember.topic_id.in_([c.id for _s, c in matches]))))
        .group_by(SimilarMember.suggestion_id).order_by(SimilarMember.suggestion_id)).all()
    room = next((sid for sid, count in joinable if count < MAX_MEMBERS), None)
    best_score, best = matches[0]
    if room is None:  # a new suggestion (those it would join, if any, are full)
        suggestion = SimilarSuggestion(state="open", score=best_score, created_ms=now, updated_ms=now, note="")
        session.add(suggestion)
        session.flush()
        session.add(SimilarMember(suggestion_id=suggestion.id, topic_id=best.id, matched_id=None, score=None,
                                  shared="[]"))
        present, size = {best.id}, 1
    else:
        suggestion = session.get(SimilarSuggestion, room)
        present = set(session.execute(select(SimilarMember.topic_id)
                                      .where(SimilarMember.suggestion_id == room)).scalars())
        size = len(present)

    def shared(keywords: list[str]) -> str:
        return json.dumps(sorted(set(words) & set(keywords)), ensure_ascii=False)

    session.add(SimilarMember(suggestion_id=suggestion.id, topic_id=topic.id, matched_id=best.id, score=best_score,
                              shared=shared(best.keywords)))
    present.add(topic.id)
    size += 1
    for score, other in matches[1:]:  # others as similar to this topic join the same matter
        if other.id not in present and size < MAX_MEMBERS:
            session.add(SimilarMember(suggestion_id=suggestion.id, topic_id=other.id, matched_id=topic.id,
                                      score=score, shared=shared(other.keywords)))
            present.add(other.id)
            size += 1
    suggestion.score = max(suggestion.score or 0.0, best_score)
    suggestion.updated_ms = now
    session.flush()
    session.expire(suggestion, ["members"])
    return suggestion


def index_pending(session: Session, node: NodeContext, limit: int | None = None) -> int:
    """Index the topics held here not yet indexed (raised here since the last look), oldest first; how many."""
    # One indexer at a time (a worker's kick, beat, a listing): two at once would each miss the other's topic
    # among the candidates, its buckets not yet committed, and two similar topics arriving together would never
    # be matched. SQLite's write transaction serialises them already; on PostgreSQL a transaction-level lock.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('shangliang.similar.index'))"))
    query = (select(Topic).where(Topic.holder == node.id, Topic.stage != "closed",
                                 Topic.id.not_in(select(SimilarIndexed.topic_id))).order_by(Topic.id))
    if limit is not None:
        query = query.limit(limit)
    done = 0
    for topic in session.execute(query).scalars().all():
        index_topic(session, node, topic)
        done += 1
    return done


def _in_session(session: Session, uid: str) -> Topic | None:
    """The topic ``uid`` if the session holds it already — the topics feature has just read or made it in the
    same inbox transaction (a read by uid again was one statement more per accepted topic message)."""
    for held in (*session.new, *session.identity_map.values()):
        if isinstance(held, Topic) and held.uid == uid:
            return held
    return None


def topic_arrived(session: Session, node: NodeContext, envelope: dict[str, Any]) -> bool:
    """A neighbour's message was accepted (the inbox's transaction): a topic passed here is queued for indexing; a
    result for a merged matter that was passed on reaches its originals here too. True when a topic now held
    here waits to be indexed: the caller has a worker index it once the inbox's transaction commits (jieba,
    MinHash and the candidates' reads would otherwise lengthen every accepted escalation); beat and every
    listing index what a kick missed."""
    uid = envelope.get("topic")
    if not uid:
        return False
    topic = _in_session(session, uid) or session.execute(select(Topic).where(Topic.uid == uid)).scalar_one_or_none()
    if topic is None:
        return False
    if envelope["kind"] in ("topic.escalate", "topic.delegate") and topic.holder == node.id:
        return True
    if envelope["kind"] == "topic.result" and topic.result:
        share_result(session, node, topic, json.loads(topic.result), f"node:{envelope['origin']}")
    return False


# ---------------------------------------------------------------------------------------------
# Reading


def get_suggestion(session: Session, suggestion_id: int, lock: bool = False) -> SimilarSuggestion:
    query = select(SimilarSuggestion).where(SimilarSuggestion.id == suggestion_id).options(
        selectinload(SimilarSuggestion.members).selectinload(SimilarMember.topic))
    if lock:
        query = query.with_for_update(of=SimilarSuggestion)
    found = session.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound(N_("no suggestion %(suggestion_id)s on this node", suggestion_id=suggestion_id))
    return found


def list_suggestions(session: Session, node: NodeContext, state: str | None = "open", limit: int = 100) -> list[SimilarSuggestion]:
    """Suggestions, the most recently changed first; ``state`` None for every state. Topics raised here since the
    last look are indexed first (the oldest ``LISTING_INDEX`` of them; beat indexes the rest)."""
    if state is not None and state not in STATES:
        raise InputError(N_("unknown state %(state)s; states: %(states)s", state=repr(str(state)[:20]),
                            states=', '.join(STATES)), field="state")
    if not 1 <= limit <= 1000:
        raise InputError(N_("limit is from 1 to 1000"), field="limit")
    index_pending(session, node, limit=LISTING_INDEX)
    query = select(SimilarSuggestion).options(selectinload(SimilarSuggestion.members).selectinload(SimilarMember.topic))
    if state is not None:
        query = query.where(SimilarSuggestion.state == state)
    return list(session.execute(query.order_by(SimilarSuggestion.updated_ms.desc(), SimilarSuggestion.id.desc())
                                .limit(limit)).scalars())


def merged_matter(session: Session, topic: Topic) -> dict[str, Any] | None:
    """For a topic's page: the merged matter it belongs to — its primary and the originals merged into it."""
    link = session.get(SimilarMerged, topic.id)
    primary = link.primary if link else topic
    originals = list(session.execute(select(SimilarMerged).where(SimilarMerged.primary_id == primary.id)
                                     .order_by(SimilarMerged.merged_ms, SimilarMerged.topic_id)).scalars())
    if not originals:
        return None
    return {"primary": {"uid": primary.uid, "title": primary.title, "areas": _areas(primary), "stage": primary.stage},
            "is_primary": link is None,
            "originals": [{"uid": m.topic.uid, "title": m.topic.title, "areas": _areas(m.topic),
                           "from": m.topic.upstream or m.topic.raised_at, "stage": m.topic.stage,
                           "merged_ms": m.merged_ms, "merged_by": m.merged_by} for m in originals]}


# ---------------------------------------------------------------------------------------------
# Staff decide


def _decidable(suggestion: SimilarSuggestion) -> None:
    if suggestion.state != "open":
        raise Conflict(N_("suggestion %(id)s was already decided: %(state)s", id=suggestion.id, state=suggestion.state))


def _note(note: Any) -> str:
    return topics.text(note, "note", NOTE, required=False)


def merge(session: Session, node: NodeContext, suggestion_id: int, actor: str, primary: str | None = None,
          uids: Sequence[str] | None = None, note: str = "") -> SimilarSuggestion:
    """Merge the suggestion's topics (or ``uids``: some of them, or others held here too) into one matter held
    here: ``primary`` (by default a topic that is already a merged matter's primary, else the first of the
    suggestion) stays, every other is linked as merged into it; topics not yet accepted here are accepted (the
    route to each raiser hears so). Every topic must be held here, open and not merged into another already;
    ``NotHeldHere`` (or another named error) otherwise, and nothing is merged."""
    suggestion = get_suggestion(session, suggestion_id, lock=True)
    _decidable(suggestion)
    note = _note(note)
    wanted = list(dict.fromkeys(uids)) if uids else [m.topic.uid for m in suggestion.members]
    if len(wanted) > MAX_MEMBERS:
        raise InputError(N_("a merged matter has at most %(max_members)s topics",
                            max_members=MAX_MEMBERS), field="topics")
    chosen: list[Topic] = []
    for uid in wanted:
        if not isinstance(uid, str) or not uid.strip():
            raise InputError(N_("a topic is named by its uid"), field="topics")
        chosen.append(topics.get_topic(session, uid.strip(), lock=True))
    if len(chosen) < 2:
        raise InputError(N_("a merge needs at least two topics"), field="topics")
    for topic in chosen:
        if topic.holder != node.id:
            raise NotHeldHere(N_("topic %(uid)s is held by %(holder)s, not by this node: only topics held here can "
                                 "be merged into a matter held here", uid=topic.uid, holder=topic.holder))
        if topic.stage == "closed":
            raise Conflict(N_("topic %(uid)s is closed: its result is recorded already", uid=topic.uid))
    away = _merged_away(session, [t.id for t in chosen])
    if away:
        uid = next(t.uid for t in chosen if t.id in away)
        raise Conflict(N_("topic %(uid)s is merged into another matter already", uid=uid))
    primaries = {t.id for t in chosen} & set(session.execute(select(SimilarMerged.primary_id)).scalars())
    if primary is None:
        lead = next((t for t in chosen if t.id in primaries), chosen[0])
    else:
        lead = next((t for t in chosen if t.uid == primary.strip()), None)
        if lead is None:
            raise InputError(N_("the primary topic %(primary)s is not among the topics merged",
                                primary=repr(primary[:120])), field="primary")
    now = node.now_ms()
    for topic in [lead] + [t for t in chosen if t is not lead]:
        if topic.accepted_ms is None:
            topics.accept(session, node, topic, actor)
    present = {m.topic_id for m in suggestion.members}
    for topic in chosen:
        if topic.id not in present:  # named by staff beyond the suggestion
            suggestion.members.append(SimilarMember(topic=topic, matched=None, score=None, shared="[]"))
        if topic is lead:
            continue
        session.add(SimilarMerged(topic_id=topic.id, primary_id=lead.id, suggestion_id=suggestion.id, merged_ms=now,
                           merged_by=actor))
        topic.record("merged", actor, node.id, now, f"merged into {lead.uid}" + (f": {note}" if note else ""))
        lead.record("merged", actor, node.id, now, f"{topic.uid} ({', '.join(_areas(topic))}) merged into this matter")
    # originals of a matter merged now into another follow it
    for link in session.execute(select(SimilarMerged).where(SimilarMerged.primary_id.in_([t.id for t in chosen if t is not lead]))
                                ).scalars():
        link.primary_id = lead.id
    suggestion.state, suggestion.primary_id = "merged", lead.id
    suggestion.decided_ms, suggestion.decided_by, suggestion.note, suggestion.updated_ms = now, actor, note, now
    session.flush()
    return suggestion


def decide(session: Session, node: NodeContext, suggestion_id: int, decision: str, actor: str,
           note: str = "") -> SimilarSuggestion:
    """Keep the suggestion's topics separate (``separate``: different matters) or ``dismiss`` it (not worth
    grouping); the topics are not changed."""
    if decision not in ("separate", "dismissed"):
        raise InputError(N_("the decision is separate or dismissed"), field="decision")
    suggestion = get_suggestion(session, suggestion_id, lock=True)
    _decidable(suggestion)
    now = node.now_ms()
    suggestion.state, suggestion.decided_ms, suggestion.decided_by = decision, now, actor
    suggestion.note, suggestion.updated_ms = _note(note), now
    session.flush()
    return suggestion


# ---------------------------------------------------------------------------------------------
# The merged matter's result reaches every original's raiser


def share_result(session: Session, node: NodeContext, primary: Topic, result: dict[str, Any], actor: str) -> list[str]:
    """Give the result of a merged matter to every original merged into it and held here: each is closed with
    it and the result travels back along that original's own route (``topic.result``). The uids answered."""
    answered = []
    for link in session.execute(select(SimilarMerged).where(SimilarMerged.primary_id == primary.id)
                                .order_by(SimilarMerged.topic_id)).scalars().all():
        original = link.topic
        if original.holder != node.id or original.stage == "closed":
            continue
        topics.feed_back_shared_result(session, node, original, result, actor, f"merged into {primary.uid}")
        answered.append(original.uid)
    return answered
