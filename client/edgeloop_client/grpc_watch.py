"""ParamWatcher over gRPC ``WatchParams`` (the ``grpc`` extra: ``pip install 'edgeloop-client[grpc]'``).

Only grpcio is needed: the three messages involved are encoded and decoded here from the protobuf wire
format (field numbers of proto/edgeloop/v1/params.proto and learning.proto), so the client ships no
generated stubs and imports nothing of the server. The stream opens with the version held, delivers each
new document as it is made, and is reopened every ``wait_s`` so expiry is checked; the active version
travels as ``edgeloop-active-version`` metadata and, after each update, by ``ReportActivation``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgeloop_client.watcher import ParamWatcher

WATCH = "/edgeloop.v1.LearningService/WatchParams"
REPORT = "/edgeloop.v1.LearningService/ReportActivation"
SOURCES = {0: "unspecified", 1: "default", 2: "cycle", 3: "rollback", 4: "manual"}
DIRECTIONS = {0: "unspecified", 1: "long", 2: "short"}

# field number -> (name, kind, sub-schema); kinds: str, int, double, enum, msg, rep (repeated msg), map
Schema = dict[int, tuple[str, str, Any]]
_HOLD: Schema = {1: ("target_s", "int", None), 2: ("max_s", "int", None)}
_COMBO: Schema = {
    1: ("symbol", "str", None),
    2: ("direction", "enum", DIRECTIONS),
    3: ("since", "str", None),
    4: ("reason", "str", None),
    5: ("trades", "int", None),
    6: ("win_rate", "double", None),
    7: ("pnl", "double", None),
}
DOCUMENT: Schema = {
    1: ("bot_id", "str", None),
    2: ("version", "int", None),
    3: ("created_at", "str", None),
    4: ("source", "enum", SOURCES),
    5: ("cycle_id", "str", None),
    6: ("default_weight", "double", None),
    7: ("weights", "map", "double"),
    8: ("signal_horizons", "map", "str"),
    9: (
        "gates",
        "msg",
        {
            1: ("conviction", "msg", {1: ("min_conviction", "double", None)}),
            2: ("fee", "msg", {1: ("min_expected_edge_bps", "double", None)}),
        },
    ),
    10: (
        "sizing",
        "msg",
        {
            1: (
                "buckets",
                "rep",
                {
                    1: ("min_conviction", "double", None),
                    2: ("max_conviction", "double", None),
                    3: ("multiplier", "double", None),
                },
            )
        },
    ),
    11: ("blocked_combos", "rep", _COMBO),
    12: ("allocation", "msg", {1: ("strategies", "map", "double"), 2: ("symbols", "map", "double")}),
    13: ("hold_time", "msg", {1: ("default", "msg", _HOLD), 2: ("by_strategy", "map", _HOLD)}),
    14: ("expires_at", "str", None),
}


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, raw value) of every field in a message."""
    out, pos = [], 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            length, pos = _read_varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        out.append((number, wire, value))
    return out


def _scalar(kind: str, raw: Any, sub: Any) -> Any:
    if kind == "str":
        return bytes(raw).decode()
    if kind == "double":
        return struct.unpack("<d", raw)[0]
    if kind == "int":
        return raw - (1 << 64) if raw >= 1 << 63 else raw
    if kind == "enum":
        return sub.get(raw, raw)
    return decode(bytes(raw), sub)  # msg


_EMPTY = {"str": "", "double": 0.0, "int": 0, "enum": 0}


def decode(buf: bytes, schema: Schema) -> dict[str, Any]:
    """A message -> dict, every field present (proto3 defaults for absent ones, as the JSON document has)."""
    out: dict[str, Any] = {}
    for name, kind, sub in schema.values():
        if kind in ("map",):
            out[name] = {}
        elif kind == "rep":
            out[name] = []
        elif kind == "msg":
            out[name] = decode(b"", sub)
        elif kind == "enum":
            out[name] = sub[0]
        else:
            out[name] = _EMPTY[kind]
    for number, _, raw in _fields(buf):
        if number not in schema:
            continue  # a field added later: ignored, as protobuf does
        name, kind, sub = schema[number]
        if kind == "rep":
            out[name].append(decode(bytes(raw), sub))
        elif kind == "map":
            entry = {n: v for n, _, v in _fields(bytes(raw))}
            key = bytes(entry.get(1, b"")).decode()
            if isinstance(sub, dict):
                out[name][key] = decode(bytes(entry.get(2, b"")), sub)
            else:
                out[name][key] = _scalar(sub, entry[2], None) if 2 in entry else _EMPTY[sub]
        else:
            out[name] = _scalar(kind, raw, sub)
    return out


def decode_document(watch_response: bytes) -> dict[str, Any]:
    """WatchParamsResponse {ParamDocument document = 1} -> the JSON-shaped document."""
    raw = next((bytes(v) for n, w, v in _fields(watch_response) if n == 1 and w == 2), b"")
    document = decode(raw, DOCUMENT)
    document["cycle_id"] = document["cycle_id"] or None
    return document


def encode_request(bot_id: str, version: int | None) -> bytes:
    """WatchParamsRequest / ReportActivationRequest: {bot_id = 1, known_version or version = 2}."""
    name = bot_id.encode()
    out = b"\x0a" + _varint(len(name)) + name
    if version is not None:
        out += b"\x10" + _varint(version)
    return out


class GrpcSource:
    """The watcher's poll over one WatchParams stream; ``poll_once`` mirrors the HTTP long-poll's contract."""

    def __init__(self, target: str, api_key: str, *, secure: bool = False) -> None:
        import grpc  # the optional extra

        self._grpc = grpc
        self._channel = (
            grpc.secure_channel(target, grpc.ssl_channel_credentials()) if secure else (grpc.insecure_channel(target))
        )
        identity: Callable[[bytes], bytes] = lambda b: b  # noqa: E731
        self._watch = self._channel.unary_stream(WATCH, request_serializer=identity, response_deserializer=identity)
        self._report = self._channel.unary_unary(REPORT, request_serializer=identity, response_deserializer=identity)
        self._auth = ("authorization", f"Bearer {api_key}")
        self._call: Any = None

    def poll_once(self, watcher: ParamWatcher, attempt: int) -> float | None:
        current = watcher._params
        metadata = [self._auth]
        if watcher.active_version is not None:
            metadata.append(("edgeloop-active-version", str(watcher.active_version)))
        deadline = watcher._until_expiry(float(max(1, watcher.wait_s)))
        known = current.version if current is not None else None
        self._call = self._watch(encode_request(watcher.bot, known), metadata=metadata, timeout=deadline)
        try:
            for message in self._call:
                watcher.reachable = True
                before = watcher.active_version
                watcher._receive(decode_document(message))
                if watcher.active_version is not None and watcher.active_version != before:
                    self._report(encode_request(watcher.bot, watcher.active_version), metadata=[self._auth], timeout=10)
        except self._grpc.RpcError as exc:
            code = exc.code()
            if code == self._grpc.StatusCode.DEADLINE_EXCEEDED:
                watcher.reachable = True
                return None  # the stream's round is over; reopen
            if code == self._grpc.StatusCode.CANCELLED and watcher._stop.is_set():
                return None
            watcher.reachable = code not in (self._grpc.StatusCode.UNAVAILABLE,)
            return watcher.backoff.delay(attempt)
        return None

    def close(self) -> None:
        if self._call is not None:
            self._call.cancel()
        self._channel.close()
