"""Request bodies in Kubernetes' protobuf encoding, for the Kubernetes API emulator
(`kube_api.py`).

kube-apiserver accepts `application/vnd.kubernetes.protobuf` bodies, and client-go's typed
clients (kubectl's factory, hence Helm's release storage in Secrets) send them. The encoding
(Kubernetes API reference, "Kubernetes Protobuf encoding"): the magic bytes `k8s\\x00`, then a
`runtime.Unknown` message {typeMeta {apiVersion=1, kind=2}=1, raw=2, contentEncoding=3,
contentType=4} whose `raw` is the object's own message. The field numbers below are those of
k8s.io/api core/v1 generated.proto (Secret, ConfigMap) and k8s.io/apimachinery
pkg/apis/meta/v1 generated.proto (ObjectMeta, OwnerReference, Time, DeleteOptions,
Preconditions), v0.36. Only these kinds are decoded; another kind in protobuf is refused with
415 (the emulator answers every request in JSON, which every client accepts as well).
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

MAGIC = b"k8s\x00"


class Unsupported(Exception):
    pass


def _varint(b: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(b):
            raise ValueError("truncated varint")
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        if not c & 0x80:
            return result, i
        shift += 7


def fields(b: bytes) -> list[tuple[int, Any]]:
    out = []
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 2:
            n, i = _varint(b, i)
            v = b[i:i + n]
            i += n
        elif wt == 1:
            v = b[i:i + 8]
            i += 8
        elif wt == 5:
            v = b[i:i + 4]
            i += 4
        else:
            raise ValueError(f"unsupported wire type {wt}")
        out.append((num, v))
    return out


def _s(v: bytes) -> str:
    return v.decode("utf-8")


def _int64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _map(entries: list[bytes], value_bytes: bool) -> dict:
    out = {}
    for e in entries:
        k = v = b""
        for num, val in fields(e):
            if num == 1:
                k = val
            elif num == 2:
                v = val
        out[_s(k)] = base64.b64encode(v).decode() if value_bytes else _s(v)
    return out


def _time(b: bytes) -> str:
    secs = 0
    for num, v in fields(b):
        if num == 1:
            secs = _int64(v)
    return datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _owner(b: bytes) -> dict:
    names = {1: "kind", 3: "name", 4: "uid", 5: "apiVersion"}
    out: dict[str, Any] = {}
    for num, v in fields(b):
        if num in names:
            out[names[num]] = _s(v)
        elif num == 6:
            out["controller"] = bool(v)
        elif num == 7:
            out["blockOwnerDeletion"] = bool(v)
    return out


def _meta(b: bytes) -> dict:
    strings = {1: "name", 2: "generateName", 3: "namespace", 4: "selfLink", 5: "uid", 6: "resourceVersion"}
    out: dict[str, Any] = {}
    labels, annotations, owners, finalizers = [], [], [], []
    for num, v in fields(b):
        if num in strings:
            out[strings[num]] = _s(v)
        elif num == 7:
            out["generation"] = _int64(v)
        elif num == 8:
            out["creationTimestamp"] = _time(v)
        elif num == 9:
            out["deletionTimestamp"] = _time(v)
        elif num == 10:
            out["deletionGracePeriodSeconds"] = _int64(v)
        elif num == 11:
            labels.append(v)
        elif num == 12:
            annotations.append(v)
        elif num == 13:
            owners.append(_owner(v))
        elif num == 14:
            finalizers.append(_s(v))
        # 17 managedFields: ignored, as the server ignores them on writes it manages
    if labels:
        out["labels"] = _map(labels, False)
    if annotations:
        out["annotations"] = _map(annotations, False)
    if owners:
        out["ownerReferences"] = owners
    if finalizers:
        out["finalizers"] = finalizers
    return out


def _secret(b: bytes) -> dict:
    out: dict[str, Any] = {}
    data, string_data = [], []
    for num, v in fields(b):
        if num == 1:
            out["metadata"] = _meta(v)
        elif num == 2:
            data.append(v)
        elif num == 3:
            out["type"] = _s(v)
        elif num == 4:
            string_data.append(v)
        elif num == 5:
            out["immutable"] = bool(v)
    if data:
        out["data"] = _map(data, True)
    if string_data:
        out["stringData"] = _map(string_data, False)
    return out


def _configmap(b: bytes) -> dict:
    out: dict[str, Any] = {}
    data, binary = [], []
    for num, v in fields(b):
        if num == 1:
            out["metadata"] = _meta(v)
        elif num == 2:
            data.append(v)
        elif num == 3:
            binary.append(v)
        elif num == 4:
            out["immutable"] = bool(v)
    if data:
        out["data"] = _map(data, False)
    if binary:
        out["binaryData"] = _map(binary, True)
    return out


def _delete_options(b: bytes) -> dict:
    out: dict[str, Any] = {}
    dry = []
    for num, v in fields(b):
        if num == 1:
            out["gracePeriodSeconds"] = _int64(v)
        elif num == 2:
            pre = {}
            for n2, v2 in fields(v):
                pre[{1: "uid", 2: "resourceVersion"}.get(n2, str(n2))] = _s(v2)
            out["preconditions"] = pre
        elif num == 3:
            out["orphanDependents"] = bool(v)
        elif num == 4:
            out["propagationPolicy"] = _s(v)
        elif num == 5:
            dry.append(_s(v))
    if dry:
        out["dryRun"] = dry
    return out


DECODERS = {"Secret": _secret, "ConfigMap": _configmap, "DeleteOptions": _delete_options}


def decode(raw: bytes) -> dict:
    """A protobuf-encoded object as the JSON object it stands for; raises Unsupported."""
    if not raw.startswith(MAGIC):
        raise Unsupported("the body does not start with the Kubernetes protobuf magic bytes")
    api_version = kind = ""
    inner = b""
    for num, v in fields(raw[len(MAGIC):]):
        if num == 1:
            for n2, v2 in fields(v):
                if n2 == 1:
                    api_version = _s(v2)
                elif n2 == 2:
                    kind = _s(v2)
        elif num == 2:
            inner = v
        elif num == 3 and v:
            raise Unsupported(f"contentEncoding {_s(v)!r}")
    decoder = DECODERS.get(kind)
    if decoder is None:
        raise Unsupported(f"{kind or 'an unknown kind'} in protobuf")
    obj = decoder(inner)
    obj = {"apiVersion": api_version, "kind": kind, **obj} if kind != "DeleteOptions" else obj
    return obj
