"""Canonical form (PROTOCOL.md §2): the profile parser and serialiser, against the ``rfc8785``
package, the RFC 8785 vectors and the Matrix canonical JSON and signing examples."""

from __future__ import annotations

import base64
import enum
import hashlib
import json
import re
import struct
from decimal import Decimal
from pathlib import Path

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from shangliang.federation.canonical import MAX_BYTES, MAX_DEPTH, MAX_INT, digest, dumps, loads
from shangliang.federation.errors import Malformed, TooLarge

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "vectors"


def _vectors(name: str) -> dict:
    path = VECTORS / name
    if not path.is_file():
        pytest.skip(f"test vectors not found: {path} (expected the shared/ checkout beside the repository)")
    return json.loads(path.read_text("utf-8"))


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, (list, tuple)):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _nested(levels: int, leaf=0, kind: str = "mixed"):
    """``levels`` containers deep (a top-level container is level 1), alternating list and object."""
    value = leaf
    for i in range(levels):
        value = [value] if (kind == "list" or (kind == "mixed" and i % 2)) else {"k": value}
    return value


# --- strategies ----------------------------------------------------------------------------------

NO_SURROGATES = st.characters(exclude_categories=("Cs",))
# The characters whose escaping differs between serialisers, and a few that must stay literal.
TRICKY = st.sampled_from('\x00\x01\x07\x08\t\n\x0b\x0c\r\x1f "\\/\x7f\x80\u2028\u2029\ufeff\uffff😀é日')
ASCII_KEYS = st.text(st.characters(max_codepoint=0x7F), max_size=6) | st.text(TRICKY.filter(str.isascii), max_size=3)
TEXTS = st.text(NO_SURROGATES, max_size=20) | st.text(TRICKY, max_size=8)
INTS = st.integers(-MAX_INT, MAX_INT) | st.sampled_from([0, -1, MAX_INT, -MAX_INT, 2**31, 2**32, 10**15])
SCALARS = st.none() | st.booleans() | INTS | TEXTS
IN_PROFILE = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(ASCII_KEYS, children, max_size=5),
    max_leaves=30,
).filter(lambda v: _depth(v) <= 10)

BIG_INTS = st.integers(min_value=MAX_INT + 1, max_value=10**40) | st.integers(min_value=-(10**40), max_value=-MAX_INT - 1)
NON_ASCII_KEYS = st.builds(
    lambda head, char, tail: head + char + tail,
    st.text(st.characters(max_codepoint=0x7F), max_size=4),
    st.characters(min_codepoint=0x80, exclude_categories=("Cs",)),
    st.text(NO_SURROGATES, max_size=4),
)
LONE_SURROGATE_TEXTS = st.builds(
    lambda head, char, tail: head + char + tail,
    st.text(NO_SURROGATES, max_size=6),
    st.characters(categories=("Cs",)),
    st.text(NO_SURROGATES, max_size=6),
)


def _placements(bad):
    """The same refused piece at the top level and inside containers."""
    return [bad, [bad], {"a": [1, {"b": bad}]}]


# --- in-profile values: byte for byte what rfc8785 writes ----------------------------------------


@given(IN_PROFILE)
def test_dumps_equals_rfc8785_and_round_trips(value):
    canonical = dumps(value)
    assert canonical == rfc8785.dumps(value)
    assert loads(canonical) == value
    assert dumps(loads(canonical)) == canonical
    assert digest(value) == hashlib.sha256(canonical).digest()


@given(st.dictionaries(ASCII_KEYS, SCALARS, max_size=8))
def test_loads_of_any_spelling_gives_the_same_canonical_bytes(value):
    """Whitespace, key order and escapes on the wire do not change the canonical bytes."""
    spelled = json.dumps(dict(reversed(value.items())), indent=2, ensure_ascii=True)
    assert loads(spelled) == value
    assert dumps(loads(spelled.encode())) == rfc8785.dumps(value)


def test_every_code_point_is_escaped_as_rfc8785_escapes_it():
    """The claim behind the fast path: json's escaping equals JCS for every non-surrogate code point."""
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert dumps(everything) == rfc8785.dumps(everything)
    for start in range(0, len(everything), 40_000):
        chunk = everything[start : start + 40_000]
        assert loads(dumps(chunk)) == chunk


def test_ascii_keys_sort_as_rfc8785_sorts_them():
    keys = [chr(c) for c in range(0x80)] + [chr(c) + chr(d) for c in (0, 0x41, 0x61, 0x7F) for d in range(0x80)]
    value = {key: i for i, key in enumerate(reversed(keys))}
    assert dumps(value) == rfc8785.dumps(value)
    assert list(loads(dumps(value))) == sorted(keys)


def test_scalars_and_containers_serialise_as_specified():
    assert dumps(None) == b"null"
    assert dumps(True) == b"true" and dumps(False) == b"false"
    assert dumps({"a": True, "b": 1, "c": False, "d": 0}) == b'{"a":true,"b":1,"c":false,"d":0}'
    assert dumps((1, (2, "x"), [])) == b'[1,[2,"x"],[]]'  # tuples are lists
    assert dumps(MAX_INT) == b"9007199254740991" and dumps(-MAX_INT) == b"-9007199254740991"
    assert dumps({"b": "\u00e9\n", "a": {}}) == '{"a":{},"b":"\u00e9\\n"}'.encode()
    assert digest({}) == hashlib.sha256(b"{}").digest()


def test_enum_subclasses_serialise_as_their_values():
    class Kind(str, enum.Enum):
        ESCALATE = "escalate"

    class Level(enum.IntEnum):
        CITY = 2

    assert dumps({"kind": Kind.ESCALATE, "level": Level.CITY}) == b'{"kind":"escalate","level":2}'
    with pytest.raises(Malformed):
        dumps({Kind.ESCALATE: Level.CITY, "x": type("Big", (int,), {})(2**60)})


# --- out-of-profile values: refused by dumps, their texts by loads -------------------------------


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_floats_are_refused(number):
    for value in _placements(number):
        with pytest.raises(Malformed):
            dumps(value)
    text = json.dumps(number)  # 1.0, 1e+100, -0.0, NaN, Infinity, ...
    for document in (text, f"[{text}]", f'{{"a":{{"b":{text}}}}}'):
        with pytest.raises(Malformed):
            loads(document)


@given(BIG_INTS)
def test_integers_beyond_the_profile_are_refused(number):
    for value in _placements(number):
        with pytest.raises(Malformed):
            dumps(value)
    for document in (str(number), f'{{"a":[{number}]}}'):
        with pytest.raises(Malformed):
            loads(document.encode())


@given(NON_ASCII_KEYS)
def test_non_ascii_keys_are_refused(key):
    for value in ({key: 1}, [{"a": {key: None}}], {"a": 1, key: 1}):
        with pytest.raises(Malformed):
            dumps(value)
        for document in (json.dumps(value, ensure_ascii=False).encode(), json.dumps(value).encode()):
            with pytest.raises(Malformed, match="not ASCII"):
                loads(document)


@given(LONE_SURROGATE_TEXTS)
def test_lone_surrogates_are_refused(text):
    for value in (*_placements(text), {"a": [text]}):
        with pytest.raises(Malformed):
            dumps(value)
    escaped = json.dumps({"a": [text]})  # the surrogate as a \udxxx escape
    with pytest.raises(Malformed, match="surrogate"):
        loads(escaped.encode())
    with pytest.raises(Malformed, match="surrogate"):
        loads(json.dumps(text, ensure_ascii=False))  # a raw surrogate in a str document


# --- the published vectors -----------------------------------------------------------------------

RFC8785_IN_PROFILE = {"arrays", "unicode"}
RFC8785_FLOATS = {"structures", "values"}
RFC8785_NON_ASCII_KEYS = {"french", "weird"}


def test_rfc8785_pairs_in_profile_serialise_to_the_expected_bytes():
    vectors = _vectors("rfc8785_jcs.json")
    pairs = {pair["name"]: pair for pair in vectors["testdata_pairs"]}
    assert set(pairs) == RFC8785_IN_PROFILE | RFC8785_FLOATS | RFC8785_NON_ASCII_KEYS
    for name in sorted(RFC8785_IN_PROFILE):
        pair = pairs[name]
        expected = pair["expected_output"].encode("utf-8")
        assert expected == bytes.fromhex(pair["expected_output_hex"])
        assert dumps(loads(pair["input"].encode("utf-8"))) == expected, name
        assert dumps(loads(pair["input"])) == expected, name


def test_rfc8785_vectors_outside_the_profile_are_rejected():
    vectors = _vectors("rfc8785_jcs.json")
    pairs = {pair["name"]: pair for pair in vectors["testdata_pairs"]}
    for name in sorted(RFC8785_FLOATS):
        with pytest.raises(Malformed, match="fraction or an exponent"):
            loads(pairs[name]["input"].encode("utf-8"))
    for name in sorted(RFC8785_NON_ASCII_KEYS):
        with pytest.raises(Malformed, match="not ASCII"):
            loads(pairs[name]["input"].encode("utf-8"))
    with pytest.raises(Malformed, match="fraction or an exponent"):
        loads(vectors["section_3_2_2_example"]["input"])
    with pytest.raises(Malformed, match="not ASCII"):
        loads(vectors["section_3_2_3_sorting"]["input"])


def test_rfc8785_vectors_agree_with_the_oracle():
    """The rfc8785 package (the property tests' oracle) reproduces every RFC 8785 output."""
    vectors = _vectors("rfc8785_jcs.json")
    for pair in vectors["testdata_pairs"]:
        assert rfc8785.dumps(json.loads(pair["input"])) == bytes.fromhex(pair["expected_output_hex"]), pair["name"]
    example = vectors["section_3_2_2_example"]
    assert rfc8785.dumps(json.loads(example["input"])).hex() == example["expected_output_hex_section_3_2_4"]


_PROFILE_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")


def test_rfc8785_numbers_are_floats_and_refused_unless_integers_in_range():
    vectors = _vectors("rfc8785_jcs.json")
    numbers = vectors["appendix_b_number_serialization"] + vectors["es6testfile_readme_samples"]["samples"]
    accepted = 0
    for vector in numbers:
        (number,) = struct.unpack(">d", bytes.fromhex(vector["ieee754_hex"].zfill(16)))
        with pytest.raises(Malformed):
            dumps(number)
        with pytest.raises(Malformed):
            loads(vector["python_repr"])  # Python's spelling: always a fraction, an exponent, nan or inf
        text = vector["expected"]
        if text is None:  # NaN and Infinity: JCS itself refuses them
            continue
        if _PROFILE_INTEGER.fullmatch(text) and text != "-0" and abs(int(text)) <= MAX_INT:
            assert loads(text) == number
            assert dumps(loads(text)) == text.encode()
            accepted += 1
        else:
            with pytest.raises(Malformed):
                loads(text)
    assert accepted >= 3  # 0 (twice) and -0.0, whose JCS form is 0


def _matrix_in_profile(text: str) -> bool:
    """Independently of the code under test: ASCII keys, integers only, no -0."""
    problems = []

    def pairs(items):
        problems.extend(k for k, _ in items if not k.isascii())
        return dict(items)

    def integer(digits):
        if digits == "-0" or abs(int(digits)) > MAX_INT:
            problems.append(digits)
        return int(digits)

    json.loads(text, object_pairs_hook=pairs, parse_int=integer, parse_float=problems.append)
    return not problems


def test_matrix_canonical_json_examples():
    examples = _vectors("matrix_signing.json")["canonical_json_examples"]
    inside = [e for e in examples if _matrix_in_profile(e["input"])]
    outside = [e for e in examples if not _matrix_in_profile(e["input"])]
    assert len(inside) >= 8 and len(outside) >= 1
    for example in inside:
        assert dumps(loads(example["input"].encode("utf-8"))) == example["expected"].encode("utf-8")
    for example in outside:
        with pytest.raises(Malformed):
            loads(example["input"].encode("utf-8"))


def _unpadded_b64decode(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def test_matrix_signatures_are_over_our_canonical_bytes():
    """Ed25519 is deterministic: re-signing our bytes must give Matrix's published signatures."""
    vectors = _vectors("matrix_signing.json")
    key = Ed25519PrivateKey.from_private_bytes(_unpadded_b64decode(vectors["signing_key_seed_unpadded_b64"]))
    public = key.public_key()
    assert public.public_bytes(Encoding.Raw, PublicFormat.Raw) == _unpadded_b64decode(vectors["derived_verify_key_unpadded_b64"])
    for vector in vectors["json_signing"]:
        signed = loads(vector["expected_signed"])
        signature = _unpadded_b64decode(signed.pop("signatures")[vectors["server_name"]][vectors["key_id"]])
        assert signed == loads(vector["input"])
        assert key.sign(dumps(signed)) == signature
        public.verify(signature, dumps(loads(vector["input"])))


def test_matrix_event_content_hashes_are_digests_of_our_canonical_bytes():
    for vector in _vectors("matrix_signing.json")["event_signing"]:
        event = loads(vector["input"])
        expected = loads(vector["expected_signed"])["hashes"]["sha256"]
        for field in ("unsigned", "signatures", "hashes"):
            event.pop(field, None)
        assert digest(event) == _unpadded_b64decode(expected)


# --- loads: every refusal ------------------------------------------------------------------------

DEEP_33 = json.dumps(_nested(33))
REFUSED = {
    "invalid-utf8-byte": (b'{"a":"\xff"}', "invalid UTF-8"),
    "invalid-utf8-truncated": (b'"\xe6\x97"', "invalid UTF-8"),
    "invalid-utf8-overlong": (b'"\xc0\xaf"', "invalid UTF-8"),
    "invalid-utf8-encoded-surrogate": (b'"\xed\xa0\x80"', "invalid UTF-8"),
    "not-json-empty": (b"", "not JSON"),
    "not-json-bare-word": (b"{a:1}", "not JSON"),
    "not-json-single-quotes": (b"{'a':1}", "not JSON"),
    "not-json-trailing-comma": (b"[1,]", "not JSON"),
    "not-json-control-char-in-string": (b'"a\x01b"', "not JSON"),
    "not-json-leading-zero": (b"01", "not JSON"),
    "not-json-plus": (b"+1", "not JSON"),
    "trailing-garbage": (b'{"a":1} x', "not JSON: Extra data"),
    "trailing-second-value": (b"{}{}", "not JSON: Extra data"),
    "duplicate-key": (b'{"a":1,"a":2}', "duplicate object key"),
    "duplicate-key-escaped": (b'{"a":1,"\\u0061":1}', "duplicate object key"),
    "duplicate-key-nested": (b'{"x":[{"y":{"b":1,"c":2,"b":1}}]}', "duplicate object key"),
    "non-ascii-key": ('{"\u00e9":1}'.encode(), "not ASCII"),
    "non-ascii-key-escaped": (b'{"ok":{"\\u65e5":1}}', "not ASCII"),
    "float-dot": (b"1.0", "fraction or an exponent"),
    "float-exponent": (b"1e5", "fraction or an exponent"),
    "float-exponent-upper": (b"[1E5]", "fraction or an exponent"),
    "float-negative-exponent": (b'{"a":2e-3}', "fraction or an exponent"),
    "float-minus-zero": (b"-0.0", "fraction or an exponent"),
    "minus-zero": (b"-0", "-0 is not allowed"),
    "minus-zero-nested": (b'{"a":[-0]}', "-0 is not allowed"),
    "nan": (b"NaN", "NaN is not allowed"),
    "infinity": (b"[Infinity]", "Infinity is not allowed"),
    "minus-infinity": (b'{"a":-Infinity}', "-Infinity is not allowed"),
    "int-too-big": (str(MAX_INT + 1).encode(), "out of range"),
    "int-too-small": (str(-MAX_INT - 1).encode(), "out of range"),
    "int-huge": (b"[" + b"9" * 5000 + b"]", "out of range"),
    "surrogate-escaped-high": (b'"\\ud800"', "surrogate"),
    "surrogate-escaped-low": (b'["\\udc00"]', "surrogate"),
    "surrogate-escaped-upper-case": (b'{"a":"x\\uDBFFy"}', "surrogate"),
    "surrogate-escaped-reversed-pair": (b'"\\ude00\\ud83d"', "surrogate"),
    "surrogate-escaped-high-then-text": (b'"\\ud83dx"', "surrogate"),
    "surrogate-escaped-after-escaped-backslash": (b'"\\\\\\ud800"', "surrogate"),
    "surrogate-raw-in-str": ('"a\ud800"', "surrogate"),
    "too-deep-33": (DEEP_33.encode(), "deeper than 32"),
    "too-deep-recursion": (b"[" * 200_000, "deeper than 32"),
    "bom-bytes": (b'\xef\xbb\xbf{"a":1}', "byte order mark"),
    "bom-str": ('\ufeff{"a":1}', "byte order mark"),
}


@pytest.mark.parametrize(("document", "problem"), REFUSED.values(), ids=REFUSED.keys())
def test_loads_refuses(document, problem):
    with pytest.raises(Malformed, match=re.escape(problem)) as caught:
        loads(document)
    assert type(caught.value) is Malformed and caught.value.status == 400 and caught.value.code == "malformed"


ACCEPTED = {
    "zero": (b"0", 0),
    "max-int": (str(MAX_INT).encode(), MAX_INT),
    "min-int": (str(-MAX_INT).encode(), -MAX_INT),
    "literals": (b"[true,false,null]", [True, False, None]),
    "whitespace": (b' \n{ "a" :\t[ 1 , -2 ] }\r\n', {"a": [1, -2]}),
    "escaped-pair": (b'"\\ud83d\\ude00"', "\U0001F600"),
    "escaped-pair-upper-case": (b'"\\uD83D\\uDE00"', "\U0001F600"),
    "escaped-backslash-then-u": (b'"\\\\ud800"', "\\ud800"),
    "dates-with-minus-zero": (b'"2025-01-05"', "2025-01-05"),
    "non-ascii-value": ('{"a":"\u65e5\u672c"}'.encode(), {"a": "\u65e5\u672c"}),
    "ascii-control-key": (b'{"\\n":1,"\\u0061":2}', {"\n": 1, "a": 2}),
    "bom-inside-string": ('"\ufeff"'.encode(), "\ufeff"),
    "brackets-in-strings": (b'"' + b"[{" * 100 + b'"', "[{" * 100),
    "many-shallow-brackets": (b"[" + b"[]," * 40 + b"{}]", [[]] * 40 + [{}]),
    "str-input": ('{"a":"\u00e9"}', {"a": "\u00e9"}),
    "bytearray-input": (bytearray(b"[1]"), [1]),
    "memoryview-input": (memoryview(b"[2]"), [2]),
}


@pytest.mark.parametrize(("document", "expected"), ACCEPTED.values(), ids=ACCEPTED.keys())
def test_loads_accepts(document, expected):
    value = loads(document)
    assert value == expected and type(value) is type(expected)


def test_depth_32_is_accepted_and_33_refused():
    for kind in ("list", "dict", "mixed"):
        deepest = _nested(MAX_DEPTH, kind=kind)
        assert _depth(deepest) == 32
        assert loads(dumps(deepest)) == deepest
        too_deep = _nested(MAX_DEPTH + 1, kind=kind)
        with pytest.raises(Malformed, match="deeper than 32"):
            dumps(too_deep)
        with pytest.raises(Malformed, match="deeper than 32"):
            loads(json.dumps(too_deep))
    assert loads("[" * 32 + "]" * 32) is not None
    with pytest.raises(Malformed):
        loads("[" * 33 + "]" * 33)


def test_size_limit_is_checked_first():
    exactly = b" " * (MAX_BYTES - 2) + b"{}"
    assert len(exactly) == MAX_BYTES and loads(exactly) == {}
    assert loads(exactly.decode()) == {}
    with pytest.raises(TooLarge) as caught:
        loads(exactly + b" ")
    assert caught.value.status == 413 and caught.value.code == "too_large"
    with pytest.raises(TooLarge):
        loads(b"\xff" * (MAX_BYTES + 1))  # not valid UTF-8 either: the size is checked first
    with pytest.raises(TooLarge):
        loads(" " * MAX_BYTES + "1")
    with pytest.raises(TooLarge):  # fewer characters than the limit, more UTF-8 bytes
        loads('"' + "\u00e9" * (MAX_BYTES // 2) + '"')
    with pytest.raises(TooLarge):  # ... even with a lone surrogate in it
        loads('"\ud800' + "\u00e9" * (MAX_BYTES // 2) + '"')


HUGE = {
    "non-ascii-key": ("\u00e9", '{"' + "\u00e9" * 100_000 + '":1}'),
    "duplicate-key": ("k", '{"' + "k" * 100_000 + '":1,"' + "k" * 100_000 + '":2}'),
    "float": ("7", "7." + "7" * 200_000),
    "integer": ("8", "8" * 200_000),
    "surrogate": ("s", '"' + "s" * 100_000 + "\\ud800" + "s" * 100_000 + '"'),
    "garbage": ("g", "[1]" + "g" * 200_000),
    "not-json": ("q", "q" * 200_000),
    "invalid-utf8": ("\xff", b"\xff" * 200_000),
}


@pytest.mark.parametrize(("filler", "document"), HUGE.values(), ids=HUGE.keys())
def test_error_messages_for_huge_input_are_short(filler, document):
    with pytest.raises(Malformed) as caught:
        loads(document)
    message = str(caught.value)
    assert len(message) <= 400
    assert filler * 61 not in message


# --- dumps: every refusal ------------------------------------------------------------------------


def _cycle():
    looped: list = []
    looped.append(looped)
    return looped


DUMPS_REFUSED = {
    "float": 1.0,
    "float-integral-in-dict": {"a": 2.0},
    "nan": [float("nan")],
    "infinity": {"a": [float("inf")]},
    "minus-zero-float": -0.0,
    "int-too-big": MAX_INT + 1,
    "int-too-small": [-MAX_INT - 1],
    "int-key": {1: "a"},
    "tuple-key": {("a",): 1},
    "none-key": {None: 1},
    "non-ascii-key": {"ok": {"\u00e9": 1}},
    "lone-surrogate": "\ud800",
    "lone-surrogate-nested": ["ok", {"a": "x\udc00"}],
    "surrogate-pair-as-two-code-points": "\ud83d\ude00",
    "bytes": b"x",
    "set": {"a": {1}},
    "decimal": Decimal("1.5"),
    "object": [object()],
    "too-deep-33": _nested(33),
    "cycle": _cycle(),
}


@pytest.mark.parametrize("value", DUMPS_REFUSED.values(), ids=DUMPS_REFUSED.keys())
def test_dumps_refuses(value):
    with pytest.raises(Malformed):
        dumps(value)
    with pytest.raises(Malformed):
        digest(value)
