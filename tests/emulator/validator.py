"""Every request checked against AWS's own service model before moto sees it.

moto accepts almost anything: a tag value with `[`, a name longer than AWS allows, a list
with too many members. AWS refuses them before any service logic runs, with a 400. This
module makes the emulator refuse them too, from botocore's service models (the JSON files AWS
publishes, shipped with botocore in the emulator's venv) rather than from hand-written rules:

1. the service comes from the SigV4 credential scope of the `Authorization` header;
2. the operation from the protocol: `Action` (EC2 and query protocols), `X-Amz-Target` (JSON
   1.0/1.1), or the HTTP method and URI template of every operation (REST-JSON, REST-XML);
3. the request is decoded into the operation's input shape by walking that shape the way the
   protocol serialises it (query keys such as `Tags.member.1.Value`, EC2's `TagSpecification.1.Tag.1.Value`,
   JSON bodies, URI labels, query strings, headers, XML bodies);
4. the decoded value is checked against the shape's constraints: required members, enum
   values, string length and pattern, numeric ranges, list and map sizes;
5. a violation is answered as AWS answers it: HTTP 400 with the protocol's error document
   (`ValidationError` for query services, `ValidationException` for JSON and REST-JSON,
   EC2's `InvalidParameterValue`/`MissingParameter`, Route 53's `InvalidInput`, CloudFront's
   `InvalidArgument`) and AWS's wording, "1 validation error detected: Value 'x' at
   'tags.1.member.value' failed to satisfy constraint: Member must satisfy regular expression
   pattern: ...".

Some constraints are enforced by AWS but only documented, not modelled; `DOCUMENTED` adds them
(with the source of each), so that the same walk checks them.

Counts of validated requests per service and every violation are kept in memory and served at
`GET /carbonc-api/validation` (`POST /carbonc-api/validation/reset` clears them), so that a test
can show how many requests went through and that none was refused for a reason of its own. The
decoded input of every mutating request is kept too and served at `GET /carbonc-api/requests`:
the field-coverage test looks there for every value a program sets.

Setting `CARBONC_EMULATOR_VALIDATE=0` turns the layer off (to compare with plain moto).
"""

from __future__ import annotations

import json
import os
import threading
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import regex

_MISSING = object()


class Violation(Exception):
    """A request that AWS would refuse: `code` and `message` as AWS sends them."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# Constraints that AWS enforces and documents but that botocore's models leave out, keyed by
# (service, shape name, member): (pattern, error code, message). Each cites its source.
TAG_CHARS = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"
DOCUMENTED: dict[tuple[str, str, str], tuple[str, str, str]] = {
    # RDS: "Tag values may only contain unicode letters, digits, whitespace, or one of these
    # symbols: _ . : / = + - @" (model rds: Tag.Value documentation, the Java regex
    # ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$; the error as answered in cloud-custodian/cloud-custodian#4674).
    ("rds", "Tag", "Value"): (
        TAG_CHARS,
        "InvalidParameterValue",
        "Tag values may only contain unicode letters, digits, whitespace, or one of these symbols: _ . : / = + - @",
    ),
    ("rds", "Tag", "Key"): (
        TAG_CHARS,
        "InvalidParameterValue",
        "Tag keys may only contain unicode letters, digits, whitespace, or one of these symbols: _ . : / = + - @",
    ),
    # ElastiCache: the same character set (ElastiCache User Guide, "Tagging your ElastiCache
    # resources": "Tag keys and values ... can contain letters, numbers, spaces, and the
    # following characters: _ . : / = + - @"; refusals in hashicorp/terraform#12127 and
    # hashicorp/terraform-provider-aws#8389).
    ("elasticache", "Tag", "Value"): (
        TAG_CHARS,
        "InvalidParameterValue",
        "Tag values may only contain unicode letters, digits, whitespace, or one of these symbols: _ . : / = + - @",
    ),
    ("elasticache", "Tag", "Key"): (
        TAG_CHARS,
        "InvalidParameterValue",
        "Tag keys may only contain unicode letters, digits, whitespace, or one of these symbols: _ . : / = + - @",
    ),
    # Route 53 (health checks and hosted zones): "Tags can only contain letters, numbers, spaces,
    # and the following special characters: _ . : / = + - @" (InvalidInput on
    # ChangeTagsForResource, octodns/octodns-route53#136).
    ("route53", "Tag", "Value"): (
        TAG_CHARS,
        "InvalidInput",
        "Tags can only contain letters, numbers, spaces, and the following special characters: _ . : / = + - @",
    ),
    ("route53", "Tag", "Key"): (
        TAG_CHARS,
        "InvalidInput",
        "Tags can only contain letters, numbers, spaces, and the following special characters: _ . : / = + - @",
    ),
}


# ---------------------------------------------------------------------------------------------
# Service models


# Services whose SigV4 signing name is not their botocore name.
SIGNING_ALIASES = {"monitoring": "cloudwatch"}


class Speaking:
    """A service model as one request speaks it: a service with several protocols (CloudWatch:
    RPC v2 CBOR, JSON and query) is read in the one the request uses."""

    def __init__(self, model, protocol: str) -> None:
        self._model = model
        self.protocol = protocol

    def __getattr__(self, name: str):
        return getattr(self._model, name)


def speaking(model, req: "Request"):
    protocols = model.metadata.get("protocols") or []
    if len(protocols) < 2:
        return model
    if "x-amz-target" in req.headers and "json" in protocols:
        return Speaking(model, "json")
    if "query" in protocols and "Action" in req.form():
        return Speaking(model, "query")
    return model


class Models:
    """botocore's service models, found by SigV4 signing name, loaded once each."""

    def __init__(self) -> None:
        import botocore.session

        self._session = botocore.session.get_session()
        self._lock = threading.Lock()
        self._by_signing: dict[str, Any] = {}
        self._rest_index: dict[str, list[tuple[Any, regex.Pattern, list[str], int]]] = {}

    def for_signing_name(self, signing: str):
        with self._lock:
            if signing in self._by_signing:
                return self._by_signing[signing]
            model = None
            try:
                # The service named like its signing name (rds, not neptune or docdb, which sign as
                # rds), or the one service whose signing name differs (CloudWatch signs as
                # monitoring).
                model = self._session.get_service_model(SIGNING_ALIASES.get(signing, signing))
            except Exception:  # noqa: BLE001 - an unknown service is simply not validated
                model = None
            self._by_signing[signing] = model
            return model

    def rest_operations(self, model):
        """(operation, path regex, query keys or headers that must be present, specificity) per operation."""
        name = model.service_name
        with self._lock:
            if name not in self._rest_index:
                index = []
                for op_name in model.operation_names:
                    op = model.operation_model(op_name)
                    uri = op.http.get("requestUri", "/")
                    path, _, query = uri.partition("?")
                    pattern = ""
                    literal = 0
                    for part in regex.split(r"(\{[^}]+\})", path):
                        if part.startswith("{"):
                            pattern += "(.+)" if part.endswith("+}") else "([^/]+)"
                        else:
                            pattern += regex.escape(part)
                            literal += len(part)
                    keys = [q.split("=", 1)[0] for q in query.split("&") if q]
                    # S3 adds `x-id=Operation` to URIs that the SDKs may or may not send.
                    keys = [k for k in keys if k != "x-id"]
                    # Operations on one URI differ by a required header (S3 CopyObject vs PutObject).
                    shape = op.input_shape
                    headers = [
                        m.serialization.get("name", n).lower()
                        for n, m in (shape.members.items() if shape else [])
                        if n in shape.required_members
                        and m.serialization.get("location") in ("header", "querystring")
                    ]
                    weight = literal + 10 * len(keys) + 10 * len(headers)
                    # A trailing slash is optional on the wire (Route 53's `.../rrset/`).
                    index.append((op, regex.compile(pattern.rstrip("/") + "/?"), keys + headers, weight))
                self._rest_index[name] = index
            return self._rest_index[name]


MODELS: Models | None = None


def models() -> Models:
    global MODELS
    if MODELS is None:
        MODELS = Models()
    return MODELS


# ---------------------------------------------------------------------------------------------
# Decoding a request into its input shape


class Request:
    """What the validator needs of an HTTP request."""

    def __init__(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes):
        self.method = method.upper()
        self.path = path
        self.query = urllib.parse.parse_qs(query, keep_blank_values=True)
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    def signing_name(self) -> str | None:
        auth = self.headers.get("authorization", "")
        try:
            scope = auth.split(",")[0].split()[1]
            return scope.split("=", 1)[1].split("/")[3].lower()
        except (IndexError, ValueError):
            return None

    def form(self) -> dict[str, str]:
        params = {k: v[-1] for k, v in self.query.items()}
        ctype = self.headers.get("content-type", "")
        if self.body and "x-www-form-urlencoded" in ctype:
            for k, v in urllib.parse.parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items():
                params[k] = v[-1]
        return params


def find_operation(model, req: Request):
    """The operation a request calls, or None when it cannot be told."""
    protocol = model.protocol
    if protocol in ("query", "ec2"):
        action = req.form().get("Action")
        if action and action in model.operation_names:
            return model.operation_model(action)
        return None
    if protocol == "json":
        target = req.headers.get("x-amz-target", "")
        op = target.rsplit(".", 1)[-1]
        return model.operation_model(op) if op in model.operation_names else None
    # REST: the most specific URI template that matches the method, path and query keys.
    best = None
    for op, pattern, keys, weight in models().rest_operations(model):
        if op.http.get("method", "POST").upper() != req.method:
            continue
        if not pattern.fullmatch(req.path):
            continue
        if any(k not in req.query and k not in req.headers for k in keys):
            continue
        xid = req.query.get("x-id")
        if xid and xid[-1] != op.name:
            continue
        if best is None or weight > best[1]:
            best = (op, weight)
        elif weight == best[1]:
            # S3 keeps deprecated operations on the URIs of their successors (PutBucketLifecycle
            # and PutBucketLifecycleConfiguration both `PUT /{Bucket}?lifecycle`): the current
            # one is what the SDKs send. Otherwise two equally specific operations: do not guess.
            if best[0] is not None and best[0].deprecated != op.deprecated:
                best = (best[0] if op.deprecated else op, weight)
            else:
                best = (None, weight)
    return best[0] if best else None


def _scalar(shape, raw: str):
    """A query-string, header or XML text value in the type of its shape."""
    t = shape.type_name
    if t in ("integer", "long"):
        try:
            return int(raw)
        except ValueError:
            return raw  # reported by the type check
    if t in ("float", "double"):
        try:
            return float(raw)
        except ValueError:
            return raw
    if t == "boolean":
        return {"true": True, "false": False}.get(raw.lower(), raw)
    return raw


def _query_name(protocol: str, member_shape, default: str) -> str:
    ser = member_shape.serialization
    if protocol == "ec2":
        if "queryName" in ser:
            return ser["queryName"]
        if "name" in ser:
            return ser["name"][0].upper() + ser["name"][1:]
        return default
    return ser.get("name", default)


def decode_query(protocol: str, shape, params: dict[str, str], prefix: str = ""):
    """The value of `shape` at `prefix` of flattened query parameters (query and EC2 protocols)."""
    t = shape.type_name
    dot = f"{prefix}." if prefix else ""
    if t == "structure":
        out = {}
        for name, member in shape.members.items():
            key = dot + _query_name(protocol, member, name)
            if key in params or any(p.startswith(key + ".") for p in params):
                out[name] = decode_query(protocol, member, params, key)
        return out
    if t == "list":
        if params.get(prefix) == "":
            return []
        if protocol == "ec2":
            base = prefix
        elif shape.serialization.get("flattened"):
            base = prefix
            if shape.member.serialization.get("name"):
                base = ".".join(prefix.split(".")[:-1] + [shape.member.serialization["name"]])
        else:
            base = f"{prefix}.{shape.member.serialization.get('name', 'member')}"
        items = []
        i = 1
        while f"{base}.{i}" in params or any(p.startswith(f"{base}.{i}.") for p in params):
            items.append(decode_query(protocol, shape.member, params, f"{base}.{i}"))
            i += 1
        return items
    if t == "map":
        base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        kname = shape.key.serialization.get("name", "key")
        vname = shape.value.serialization.get("name", "value")
        out = {}
        i = 1
        while f"{base}.{i}.{kname}" in params:
            out[params[f"{base}.{i}.{kname}"]] = decode_query(
                protocol, shape.value, params, f"{base}.{i}.{vname}"
            )
            i += 1
        return out
    return _scalar(shape, params.get(prefix, ""))


def decode_json(shape, value):
    """A JSON value in the terms of its shape (members by their JSON names)."""
    t = shape.type_name
    if value is None:
        return _MISSING
    if t == "structure" and isinstance(value, dict):
        out = {}
        for name, member in shape.members.items():
            key = member.serialization.get("name", name)
            if key in value and value[key] is not None:
                out[name] = decode_json(member, value[key])
        return out
    if t == "list" and isinstance(value, list):
        return [decode_json(shape.member, v) for v in value]
    if t == "map" and isinstance(value, dict):
        return {k: decode_json(shape.value, v) for k, v in value.items()}
    return value


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def decode_xml(shape, elem):
    """An XML element in the terms of its shape."""
    t = shape.type_name
    if t == "structure":
        out = {}
        children = list(elem)
        for name, member in shape.members.items():
            if member.serialization.get("location"):
                continue
            key = member.serialization.get("name", name)
            if member.type_name == "list" and member.serialization.get("flattened"):
                items = [c for c in children if _local(c.tag) == key]
                if items:
                    out[name] = [decode_xml(member.member, c) for c in items]
                continue
            for c in children:
                if _local(c.tag) == key:
                    out[name] = decode_xml(member, c)
                    break
        return out
    if t == "list":
        name = shape.member.serialization.get("name", "member")
        return [decode_xml(shape.member, c) for c in elem if _local(c.tag) == name]
    if t == "map":
        kname = shape.key.serialization.get("name", "key")
        vname = shape.value.serialization.get("name", "value")
        out = {}
        for entry in elem:
            k = next((c for c in entry if _local(c.tag) == kname), None)
            v = next((c for c in entry if _local(c.tag) == vname), None)
            if k is not None and v is not None:
                out[k.text or ""] = decode_xml(shape.value, v)
        return out
    return _scalar(shape, elem.text or "")


def decode_rest(model, op, req: Request) -> dict:
    """The input of a REST-JSON or REST-XML request: URI labels, query string, headers, body."""
    shape = op.input_shape
    out: dict[str, Any] = {}
    if shape is None:
        return out
    uri = op.http.get("requestUri", "/").partition("?")[0]
    labels = regex.findall(r"\{([^}+]+)\+?\}", uri)
    pattern = ""
    for part in regex.split(r"(\{[^}]+\})", uri):
        if part.startswith("{"):
            pattern += "(.+)" if part.endswith("+}") else "([^/]+)"
        else:
            pattern += regex.escape(part)
    m = regex.fullmatch(pattern.rstrip("/") + "/?", req.path)
    values = dict(zip(labels, m.groups())) if m else {}
    body_members = {}
    for name, member in shape.members.items():
        ser = member.serialization
        loc = ser.get("location")
        key = ser.get("name", name)
        if loc == "uri" and key in values:
            out[name] = _scalar(member, urllib.parse.unquote(values[key]))
        elif loc == "querystring":
            if member.type_name == "list" and key in req.query:
                out[name] = [_scalar(member.member, v) for v in req.query[key]]
            elif member.type_name == "map":
                continue
            elif key in req.query:
                out[name] = _scalar(member, req.query[key][-1])
        elif loc == "header":
            if key.lower() in req.headers and member.type_name not in ("timestamp", "blob"):
                out[name] = _scalar(member, req.headers[key.lower()])
        elif loc == "headers":
            continue
        else:
            body_members[name] = member
    payload = shape.serialization.get("payload")
    if payload:
        member = shape.members[payload]
        if member.type_name not in ("structure",) or not req.body:
            return out  # a blob or streaming body (S3 objects): nothing to check inside it
        if model.protocol == "rest-json":
            out[payload] = decode_json(member, json.loads(req.body))
        else:
            out[payload] = decode_xml(member, ET.fromstring(req.body))
        return out
    if body_members and req.body:
        if model.protocol == "rest-json":
            doc = json.loads(req.body)
            for name, member in body_members.items():
                key = member.serialization.get("name", name)
                if key in doc and doc[key] is not None:
                    out[name] = decode_json(member, doc[key])
        else:
            root = ET.fromstring(req.body)
            out.update(decode_xml(shape, root))
    return out


def decode(model, op, req: Request):
    if model.protocol in ("query", "ec2"):
        return decode_query(model.protocol, op.input_shape, req.form()) if op.input_shape else {}
    if model.protocol == "json":
        if op.input_shape is None:
            return {}
        body = json.loads(req.body) if req.body else {}
        return decode_json(op.input_shape, body)
    return decode_rest(model, op, req)


# ---------------------------------------------------------------------------------------------
# Checking a decoded value against its shape


def _coral(name: str) -> str:
    """AWS's validation messages name members in lowerCamelCase."""
    return name[:1].lower() + name[1:]


def _show(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 100 else text[:97] + "..."


def check(service: str, shape, value, path: str, errors: list[tuple[str | None, str]]) -> None:
    """Appends (error code or None for the protocol's own, message) for every violation."""
    t = shape.type_name
    meta = shape.metadata
    if t == "structure":
        if not isinstance(value, dict):
            return
        for name in shape.required_members:
            if name not in value or value[name] is _MISSING:
                where = f"{path}.{_coral(name)}" if path else _coral(name)
                errors.append((None, f"Value null at '{where}' failed to satisfy constraint: Member must not be null"))
        for name, v in value.items():
            if v is _MISSING or name not in shape.members:
                continue
            member = shape.members[name]
            where = f"{path}.{_coral(name)}" if path else _coral(name)
            rule = DOCUMENTED.get((service, shape.name, name))
            if rule and isinstance(v, str) and not regex.fullmatch(rule[0], v):
                errors.append((rule[1], rule[2]))
            check(service, member, v, where, errors)
        return
    if t == "list":
        if not isinstance(value, list):
            return
        _bounds(meta, len(value), value, path, "length", errors)
        for i, v in enumerate(value, 1):
            check(service, shape.member, v, f"{path}.{i}.member", errors)
        return
    if t == "map":
        if not isinstance(value, dict):
            return
        _bounds(meta, len(value), value, path, "length", errors)
        for k, v in value.items():
            check(service, shape.key, k, f"{path}.key", errors)
            check(service, shape.value, v, f"{path}.{k}", errors)
        return
    if t == "string":
        if not isinstance(value, str):
            return
        enum = meta.get("enum")
        if enum and value not in enum:
            errors.append(
                (None, f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                       f"Member must satisfy enum value set: [{', '.join(enum)}]")
            )
        _bounds(meta, len(value), value, path, "length", errors)
        pattern = meta.get("pattern")
        if pattern:
            compiled = _pattern(pattern)
            if compiled is not None and not compiled.fullmatch(value):
                errors.append(
                    (None, f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                           f"Member must satisfy regular expression pattern: {pattern}")
                )
        return
    if t in ("integer", "long", "float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, str):
                errors.append((None, f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be a number"))
            return
        _bounds(meta, value, value, path, "value", errors)
        return
    if t == "boolean" and isinstance(value, str):
        errors.append((None, f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must be true or false"))


def _bounds(meta, n, value, path, what, errors) -> None:
    if "min" in meta and n < meta["min"]:
        op = "greater than or equal to"
        errors.append((None, f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must have {what} {op} {meta['min']}"))
    if "max" in meta and n > meta["max"]:
        op = "less than or equal to"
        errors.append((None, f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: Member must have {what} {op} {meta['max']}"))


_PATTERNS: dict[str, Any] = {}


def _pattern(p: str):
    """A model's (Java) pattern, compiled once; None when Python cannot compile it."""
    if p not in _PATTERNS:
        try:
            _PATTERNS[p] = regex.compile(p, regex.V1)
        except regex.error:
            _PATTERNS[p] = None
    return _PATTERNS[p]


# ---------------------------------------------------------------------------------------------
# Answering as AWS does


def protocol_error(model, op, code: str | None, missing: bool) -> str:
    """The error code of a validation failure when the rule does not name one."""
    if code:
        return code
    if model.protocol == "ec2":
        return "MissingParameter" if missing else "InvalidParameterValue"
    # A JSON or CBOR service compatible with its query protocol (CloudWatch) keeps the query
    # protocol's codes (the `awsQueryCompatible` trait).
    if model.protocol == "query" or "awsQueryCompatible" in model.metadata:
        return "ValidationError"
    if model.protocol == "rest-xml":
        modelled = {e.name: e.metadata.get("error", {}).get("code", e.name) for e in op.error_shapes}
        for candidate in ("InvalidInput", "InvalidArgument"):
            if candidate in modelled:
                return modelled[candidate]
        return "InvalidArgument"
    return "ValidationException"


def error_response(model, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    rid = str(uuid.uuid4())
    esc = lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # noqa: E731
    if model.protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            f"<Code>{esc(code)}</Code><Message>{esc(message)}</Message></Error></Errors>"
            f"<RequestID>{rid}</RequestID></Response>"
        )
        return 400, {"Content-Type": "text/xml"}, body.encode()
    if model.protocol in ("query", "rest-xml"):
        body = (
            "<ErrorResponse>"
            f"<Error><Type>Sender</Type><Code>{esc(code)}</Code><Message>{esc(message)}</Message></Error>"
            f"<RequestId>{rid}</RequestId></ErrorResponse>"
        )
        return 400, {"Content-Type": "text/xml", "x-amzn-RequestId": rid}, body.encode()
    ctype = "application/json"
    if model.protocol == "json":
        ctype = f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.1')}"
    body = json.dumps({"__type": code, "message": message, "Message": message})
    return 400, {"Content-Type": ctype, "x-amzn-ErrorType": code, "x-amzn-RequestId": rid}, body.encode()


# ---------------------------------------------------------------------------------------------
# Bookkeeping


class Ledger:
    """Requests validated per service and operation, and the violations answered."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.validated: dict[str, int] = {}
        self.operations: dict[str, int] = {}
        self.unmatched: dict[str, int] = {}
        self.violations: list[dict[str, str]] = []
        # Every decoded request of a mutating operation, for the field-coverage test.
        self.requests: list[dict[str, Any]] = []

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "validated": dict(self.validated),
                "operations": dict(self.operations),
                "unmatched": dict(self.unmatched),
                "violations": list(self.violations),
            }


LEDGER = Ledger()


def validate(req: Request):
    """None when the request passes (or cannot be told), else (status, headers, body) to answer."""
    signing = req.signing_name()
    if not signing:
        return None
    model = models().for_signing_name(signing)
    if model is None:
        return None
    model = speaking(model, req)
    try:
        op = find_operation(model, req)
    except Exception:  # noqa: BLE001 - an undecodable request is left to moto
        op = None
    if op is None:
        with LEDGER.lock:
            LEDGER.unmatched[signing] = LEDGER.unmatched.get(signing, 0) + 1
        return None
    try:
        value = decode(model, op, req)
    except (ValueError, ET.ParseError):
        value = None
    errors: list[tuple[str | None, str]] = []
    if op.input_shape is not None and value is not None:
        check(model.service_name, op.input_shape, value, "", errors)
    with LEDGER.lock:
        LEDGER.validated[model.service_name] = LEDGER.validated.get(model.service_name, 0) + 1
        key = f"{model.service_name}.{op.name}"
        LEDGER.operations[key] = LEDGER.operations.get(key, 0) + 1
        if RECORD and value is not None and not op.name.startswith(("Describe", "Get", "List")):
            LEDGER.requests.append({"service": model.service_name, "operation": op.name, "input": _plain(value)})
    if not errors:
        return None
    # AWS reports a documented rule on its own and model constraints together.
    own = [e for e in errors if e[0] is not None]
    if own:
        code, message = own[0]
    else:
        n = len(errors)
        detail = "; ".join(m for _, m in errors[:10])
        message = f"{n} validation error{'s' if n > 1 else ''} detected: {detail}"
        missing = all("Member must not be null" in m for _, m in errors)
        code = protocol_error(model, op, None, missing)
    with LEDGER.lock:
        LEDGER.violations.append(
            {"service": model.service_name, "operation": op.name, "code": code, "message": message}
        )
    return error_response(model, code, message)


# Recording requests costs memory; on unless CARBONC_EMULATOR_RECORD=0.
RECORD = os.environ.get("CARBONC_EMULATOR_RECORD", "1") != "0"


def _plain(value):
    """A decoded request as JSON-ready data (bytes as text, the missing marker dropped)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not _MISSING}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def enabled() -> bool:
    return os.environ.get("CARBONC_EMULATOR_VALIDATE", "1") != "0"


def wsgi_middleware(app):
    """Wraps moto's WSGI application: validates, then either refuses or passes the request on."""

    def middleware(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/carbonc-api/requests"):
            with LEDGER.lock:
                body = json.dumps(LEDGER.requests).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if path.startswith("/carbonc-api/validation"):
            if environ.get("REQUEST_METHOD") == "POST" and path.endswith("/reset"):
                with LEDGER.lock:
                    LEDGER.reset()
            body = json.dumps(LEDGER.snapshot()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if not enabled() or path.startswith("/moto-api"):
            return app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length else b""
        import io

        environ["wsgi.input"] = io.BytesIO(body)
        headers = {
            k[5:].replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = environ["CONTENT_TYPE"]
        raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
        raw_path = raw_path.split("?", 1)[0] or urllib.parse.quote(path)
        req = Request(environ.get("REQUEST_METHOD", "GET"), raw_path, environ.get("QUERY_STRING", ""), headers, body)
        refused = validate(req)
        if refused is None:
            return app(environ, start_response)
        status, hdrs, payload = refused
        hdrs = dict(hdrs)
        hdrs["Content-Length"] = str(len(payload))
        start_response(f"{status} Bad Request", list(hdrs.items()))
        return [payload]

    return middleware
