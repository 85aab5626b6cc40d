"""The Smithy RPC v2 CBOR protocol, in front of moto, for the services that speak it.

The AWS SDK for Rust calls CloudWatch over RPC v2 CBOR (`aws-sdk-cloudwatch` since 1.9x; the
botocore model `cloudwatch` 2010-08-01 lists `"protocols": ["smithy-rpc-v2-cbor", "json",
"query"]`): `POST /service/GraniteServiceVersion20100801/operation/DescribeAlarms` with a CBOR
body and `smithy-protocol: rpc-v2-cbor`. moto 5.2.5 answers only the JSON and query protocols
there, with a 404 for the CBOR path. This bridge turns such a request into the same operation
over the JSON protocol (botocore decodes the CBOR body against the operation's input shape and
serialises it as AWS JSON 1.0), passes it on (to the request validator, then moto), and turns the
answer back into CBOR against the output shape. An error keeps its status and comes back as
`{"__type": code, "message": ...}` with the `x-amzn-query-error: Code;Sender` header that
CloudWatch, an `awsQueryCompatible` service, sends so that clients report the query protocol's
error codes (Smithy RPC v2 CBOR specification, "Errors"; `awsQueryCompatible` trait).
"""

import io
import re
from typing import Any

PATH = re.compile(r"^/service/(?P<target>[^/]+)/operation/(?P<op>[^/]+)$")


class _Codec:
    """botocore's CBOR and JSON (de)serialisers, loaded once."""

    def __init__(self) -> None:
        import botocore.session
        from botocore import parsers, serialize

        self.session = botocore.session.get_session()
        self.cbor_in = parsers.RpcV2CBORParser()
        self.cbor_out = serialize.RpcV2CBORSerializer()
        self.json_out = serialize.JSONSerializer()
        self.json_in = parsers.JSONParser()
        self.models: dict[str, Any] = {}

    def model(self, target: str):
        if target not in self.models:
            found = None
            for name in self.session.get_available_services():
                m = self.session.get_service_model(name)
                if m.metadata.get("targetPrefix") == target and "smithy-rpc-v2-cbor" in (
                    m.metadata.get("protocols") or [m.protocol]
                ):
                    found = m
                    break
            self.models[target] = found
        return self.models[target]


CODEC: _Codec | None = None


def codec() -> _Codec:
    global CODEC
    if CODEC is None:
        CODEC = _Codec()
    return CODEC


def _cbor(value: Any, shape) -> bytes:
    out = bytearray()
    if shape is not None:
        codec().cbor_out._serialize_data_item(out, value, shape)
    return bytes(out)


def bridge(app):
    """Wraps a WSGI application: RPC v2 CBOR requests reach it as JSON-protocol requests."""

    def middleware(environ, start_response):
        match = PATH.match(environ.get("PATH_INFO", ""))
        if not match or environ.get("HTTP_SMITHY_PROTOCOL", "").lower() != "rpc-v2-cbor":
            return app(environ, start_response)
        c = codec()
        model = c.model(match["target"])
        op_name = match["op"]
        if model is None or op_name not in model.operation_names:
            return app(environ, start_response)
        op = model.operation_model(op_name)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        params: dict = {}
        if body and op.input_shape is not None:
            params = c.cbor_in.parse({"body": body, "headers": {}, "status_code": 200}, op.input_shape)
            params.pop("ResponseMetadata", None)
        as_json = c.json_out.serialize_to_request(params, op)
        payload = as_json["body"] if isinstance(as_json["body"], bytes) else as_json["body"].encode()
        inner = dict(environ)
        inner["PATH_INFO"] = "/"
        for key in ("RAW_URI", "REQUEST_URI"):
            inner.pop(key, None)
        inner["wsgi.input"] = io.BytesIO(payload)
        inner["CONTENT_LENGTH"] = str(len(payload))
        inner["CONTENT_TYPE"] = as_json["headers"]["Content-Type"]
        inner["HTTP_X_AMZ_TARGET"] = as_json["headers"]["X-Amz-Target"]
        inner.pop("HTTP_SMITHY_PROTOCOL", None)
        got: dict[str, Any] = {}

        def capture(status, headers, exc_info=None):
            got["status"], got["headers"] = status, headers
            return lambda data: None

        answer = b"".join(app(inner, capture))
        code = int(got["status"].split()[0])
        headers = {k.lower(): v for k, v in got["headers"]}
        out_headers = [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor")]
        if "x-amzn-requestid" in headers:
            out_headers.append(("x-amzn-RequestId", headers["x-amzn-requestid"]))
        if code < 300:
            parsed = {}
            if op.output_shape is not None and answer:
                parsed = c.json_in.parse(
                    {"body": answer, "headers": headers, "status_code": code}, op.output_shape
                )
                parsed.pop("ResponseMetadata", None)
            reply = _cbor(parsed, op.output_shape) if op.output_shape is not None else b""
        else:
            error = c.json_in.parse({"body": answer, "headers": headers, "status_code": code}, None)
            err = error.get("Error", {})
            name = err.get("Code") or str(code)
            reply = _cbor_error(name, err.get("Message", ""))
            out_headers.append(("x-amzn-query-error", f"{name};Sender"))
        out_headers.append(("Content-Length", str(len(reply))))
        start_response(got["status"], out_headers)
        return [reply]

    return middleware


def _cbor_error(code: str, message: str) -> bytes:
    """`{"__type": code, "message": message}` in CBOR (a map of two text strings)."""

    def text(s: str) -> bytes:
        data = s.encode()
        n = len(data)
        if n < 24:
            head = bytes([0x60 | n])
        elif n < 256:
            head = bytes([0x78, n])
        elif n < 65536:
            head = bytes([0x79]) + n.to_bytes(2, "big")
        else:
            head = bytes([0x7A]) + n.to_bytes(4, "big")
        return head + data

    return bytes([0xA2]) + text("__type") + text(code) + text("message") + text(message)
