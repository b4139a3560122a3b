"""Sealed compaction items: only a gateway with the same key opens them, and any change is detected."""

from __future__ import annotations

import base64

import pytest

from app.models import generated as m
from app.service.compaction import SUMMARY_HEADING, Compaction
from app.wire.errors import GatewayError


def test_a_sealed_summary_opens_with_the_same_key_only() -> None:
    token = Compaction("key-one").seal("The launch is on Tuesday.", 1_700_000_000)
    assert "Tuesday" not in token and token.startswith("gwc1.")
    assert Compaction("key-one").open(token) == "The launch is on Tuesday."  # another replica, same key
    assert Compaction("key-two").open(token) is None
    assert Compaction(None).open(token) is None  # a per-process random key opens nothing else


def test_each_seal_is_different() -> None:
    sealer = Compaction("key")
    assert sealer.seal("same", 1) != sealer.seal("same", 1)  # a fresh nonce every time


@pytest.mark.parametrize("position", [5, 20, -1])
def test_any_changed_byte_is_refused(position: int) -> None:
    sealer = Compaction("key")
    token = sealer.seal("summary", 1)
    raw = bytearray(base64.urlsafe_b64decode(token[5:]))
    raw[position] ^= 0x01
    assert sealer.open("gwc1." + base64.urlsafe_b64encode(bytes(raw)).decode()) is None


@pytest.mark.parametrize("token", ["", "gAAAAABpM0Yj-...=", "gwc1.", "gwc1.!!!", "gwc1.AAAA", "gwc2.abc"])
def test_foreign_or_garbage_tokens_are_refused(token: str) -> None:
    assert Compaction("key").open(token) is None


def test_expand_replaces_items_by_their_summary_and_names_the_bad_one() -> None:
    sealer = Compaction("key")
    good = m.CompactionInputItem(id="cmp_1", encrypted_content=sealer.seal("Code word: slate.", 1))
    user = m.InputMessage(role="user", content="Continue.")
    expanded = sealer.expand(m.CreateResponse(input=[good, user]))
    assert isinstance(expanded.input, list)
    first = expanded.input[0]
    assert isinstance(first, m.InputMessage) and first.role == "developer"
    assert first.content == f"{SUMMARY_HEADING}\nCode word: slate."
    assert expanded.input[1] is user

    bad = m.CompactionInputItem(id="cmp_2", encrypted_content=Compaction("other").seal("x", 1))
    with pytest.raises(GatewayError) as refused:
        sealer.expand(m.CreateResponse(input=[user, bad]))
    assert refused.value.status == 400
    assert refused.value.param == "input[1].encrypted_content"
    assert refused.value.code == "invalid_encrypted_content"
    assert "cmp_2" in refused.value.message


def test_expand_leaves_requests_without_compaction_items_alone() -> None:
    request = m.CreateResponse(input="hi")
    assert Compaction("key").expand(request) is request
