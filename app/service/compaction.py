"""Compaction items: a conversation's summary, sealed by the gateway so only the gateway can read it back.

``POST /v1/responses/compact`` (``app.service.compact``) has the configured deployment summarise the
conversation and returns the summary as a ``compaction`` item whose ``encrypted_content`` is sealed here;
when such an item comes back in a later ``input``, ``Compaction.expand`` opens it and puts the summary in its
place (a ``developer`` message) before the request is translated. The client can store and replay the item
but neither read nor change it, as with OpenAI's own opaque compaction items.

Sealing is AES-256-GCM (``cryptography``'s AEAD: confidentiality and integrity in one, a fresh 96-bit nonce
per item) with a fixed associated-data label, so a token made for something else never opens as a summary.
The key is derived with HKDF-SHA256 from the ``compaction_key`` secret (any string; every replica behind one
address needs the same one). Without ``compaction_key`` the process makes a random key at start and logs a
warning: compaction works, but items are readable only by that process until it stops - a replica or a
restart answers them with a 400 naming the item.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.models import generated as m
from app.wire.errors import invalid_request

log = logging.getLogger("app.service.compaction")

_PREFIX = "gwc1."  # the format's version: a later format can still open (or clearly refuse) this one
_LABEL = b"azure-openai-gateway/compaction/v1"
_NONCE_BYTES = 12
SUMMARY_HEADING = "Summary of the earlier conversation (compacted):"


class _Sealed(msgspec.Struct, frozen=True):
    summary: str
    created_at: int


_ENCODE = msgspec.json.Encoder()
_DECODE = msgspec.json.Decoder(_Sealed)


class Compaction:
    """Seals summaries into ``compaction`` items and opens them again."""

    __slots__ = ("_aead", "ephemeral")

    def __init__(self, key: str | None) -> None:
        self.ephemeral = not key
        if key:
            material = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(key.encode())
        else:
            material = AESGCM.generate_key(bit_length=256)
        self._aead = AESGCM(material)

    def warn_if_ephemeral(self) -> None:
        """At start-up (once logging is set up): say so when the key is a random per-process one."""
        if self.ephemeral:
            log.warning(
                "compaction_key is not set: compaction items are sealed with a random per-process key and "
                "only this process can open them until it stops. Set compaction_key (the same on every "
                "replica) to keep them valid across restarts and replicas."
            )

    def seal(self, summary: str, created_at: int) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, _ENCODE.encode(_Sealed(summary, created_at)), _LABEL)
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, token: str) -> str | None:
        """The summary sealed in ``token``, or None when this gateway did not seal it or it was altered."""
        if not token.startswith(_PREFIX):
            return None
        try:
            raw = base64.urlsafe_b64decode(token[len(_PREFIX) :].encode())
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _LABEL)
            return _DECODE.decode(plain).summary
        except (binascii.Error, ValueError, InvalidTag, msgspec.DecodeError):
            return None

    def expand(self, request: m.CreateResponse) -> m.CreateResponse:
        """``request`` with each ``compaction`` input item replaced by the summary it carries.

        Raises a 400 naming the first item this gateway cannot open (foreign, altered, or sealed with a
        key it no longer has).
        """
        items = request.input
        if not isinstance(items, list) or not any(isinstance(item, m.CompactionInputItem) for item in items):
            return request
        expanded: list[m.InputItem] = []
        for index, item in enumerate(items):
            if not isinstance(item, m.CompactionInputItem):
                expanded.append(item)
                continue
            summary = self.open(item.encrypted_content)
            if summary is None:
                name = f" '{item.id}'" if isinstance(item.id, str) else ""
                raise invalid_request(
                    f"The compaction item{name} at input[{index}] cannot be opened: it was not made by this "
                    "gateway's POST /v1/responses/compact, it was altered, or the gateway's compaction_key has "
                    "changed since. Send the conversation itself, or compact it again.",
                    param=f"input[{index}].encrypted_content",
                    code="invalid_encrypted_content",
                )
            expanded.append(m.InputMessage(role="developer", content=f"{SUMMARY_HEADING}\n{summary}"))
        return msgspec.structs.replace(request, input=expanded)
