"""OpenAPI v3 documents of the Kubernetes API emulator (`kube_api.py`).

kube-apiserver publishes `/openapi/v3` (an index of group versions, each with a
`serverRelativeURL` carrying a content hash) and one OpenAPI 3.0 document per group version
(Kubernetes API reference, "API Concepts: OpenAPI V3"). kubectl's and Helm's resource builder
(k8s.io/kubectl/pkg/cmd/util factory Validator, k8s.io/cli-runtime/pkg/resource
queryParamVerifierV3) read the document of an object's group version to learn whether the PATCH
operation of its kind takes the `fieldValidation` query parameter; when it does, they leave
field validation to the server (and send `fieldValidation=Strict`). The documents here have, for
each served resource, the paths and operations kube-apiserver has (list, create,
deletecollection, read, replace, patch, delete, and the status subresource), with their query
parameters and `x-kubernetes-action` / `x-kubernetes-group-version-kind` extensions, and the
component schemas of the group version's kinds, converted from the cluster version's bundled
schemas (JSON Schema `$defs` back to `#/components/schemas`, without the strict mode's
`additionalProperties: false` and `null` types, which the published OpenAPI does not have).
"""

from __future__ import annotations

import functools
import hashlib
import json

import kube_schema as ks


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _param(name: str, desc: str = "", kind: str = "string", required: bool = False, where: str = "query") -> dict:
    p = {"name": name, "in": where, "description": desc, "schema": {"type": kind, "uniqueItems": True}}
    if required:
        p["required"] = True
    return p


_COMMON_WRITE = [
    _param("dryRun", "When present, indicates that modifications should not be persisted."),
    _param("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
    _param("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict"),
]
_LIST = [
    _param("allowWatchBookmarks", kind="boolean"), _param("continue"), _param("fieldSelector"), _param("labelSelector"),
    _param("limit", kind="integer"), _param("resourceVersion"), _param("resourceVersionMatch"),
    _param("sendInitialEvents", kind="boolean"), _param("timeoutSeconds", kind="integer"), _param("watch", kind="boolean"),
]


def _op(res: ks.Resource, action: str, op_id: str, params: list, schema_ref: str, body: bool = False, patch: bool = False) -> dict:
    ref = {"$ref": f"#/components/schemas/{schema_ref}"}
    out = {
        "tags": [res.group.replace(".", "") + "_" + res.version if res.group else "core_" + res.version],
        "description": f"{action} {res.kind}",
        "operationId": op_id,
        "parameters": params,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": ref}, "application/yaml": {"schema": ref}}},
            "401": {"description": "Unauthorized"},
        },
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": res.group, "version": res.version, "kind": res.kind},
    }
    if body:
        types = (
            ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"]
            if patch else ["*/*"]
        )
        out["requestBody"] = {"content": {t: {"schema": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"} if patch else ref} for t in types}, "required": True}
    if patch:
        out["responses"]["201"] = {"description": "Created", "content": {"application/json": {"schema": ref}}}
    return out


def _def_name(sch: ks.Schemas, res: ks.Resource) -> str:
    for name, d in sch.defs.items():
        for gvk in d.get("x-kubernetes-group-version-kind", []):
            if gvk.get("group", "") == res.group and gvk["version"] == res.version and gvk["kind"] == res.kind:
                return name
    return f"io.k8s.api.{res.group or 'core'}.{res.version}.{res.kind}"


def _convert(node: object) -> object:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in ("$schema", "$id"):
                continue
            if k == "additionalProperties" and v is False:
                continue
            if k == "$ref" and isinstance(v, str):
                out[k] = "#/components/schemas/" + v.rsplit("/", 1)[-1]
                continue
            if k == "type" and isinstance(v, list):
                types = [t for t in v if t != "null"]
                out[k] = types[0] if len(types) == 1 else types
                continue
            out[k] = _convert(v)
        return out
    if isinstance(node, list):
        return [_convert(x) for x in node]
    return node


def _closure(sch: ks.Schemas, names: list[str]) -> dict:
    seen: dict[str, dict] = {}
    todo = list(names)
    while todo:
        n = todo.pop()
        if n in seen or n not in sch.defs:
            continue
        seen[n] = sch.defs[n]
        text = json.dumps(sch.defs[n])
        for part in text.split('"$ref": "')[1:]:
            todo.append(part.split('"', 1)[0].rsplit("/", 1)[-1])
    return {n: _convert(d) for n, d in sorted(seen.items())}


@functools.lru_cache(maxsize=None)
def _document(version: str, gv: str) -> str | None:
    sch = ks.schemas_for(version)
    resources = [r for r in ks.RESOURCES if _gv_path(r.group, r.version) == gv]
    if not resources:
        return None
    paths: dict[str, dict] = {}
    names = ["io.k8s.apimachinery.pkg.apis.meta.v1.Status", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"]
    pretty = _param("pretty")
    for r in resources:
        d = _def_name(sch, r)
        names += [d, d + "List"]
        base = "/" + gv
        suffix = r.kind
        ns_prefix = f"{base}/namespaces/{{namespace}}" if r.namespaced else base
        ns_param = [_param("namespace", "object name and auth scope", required=True, where="path")] if r.namespaced else []
        name_param = [_param("name", f"name of the {r.kind}", required=True, where="path")]
        coll = {
            "get": _op(r, "list", f"list{'Namespaced' if r.namespaced else ''}{suffix}", _LIST, d + "List"),
            "parameters": ns_param + [pretty],
        }
        if not r.read_only:
            coll["post"] = _op(r, "post", f"create{'Namespaced' if r.namespaced else ''}{suffix}", list(_COMMON_WRITE), d, body=True)
            coll["delete"] = _op(r, "deletecollection", f"deleteCollection{'Namespaced' if r.namespaced else ''}{suffix}", _LIST + [_param("dryRun"), _param("gracePeriodSeconds", kind="integer"), _param("propagationPolicy")], "io.k8s.apimachinery.pkg.apis.meta.v1.Status")
        paths[f"{ns_prefix}/{r.plural}"] = coll
        item = {
            "get": _op(r, "get", f"read{'Namespaced' if r.namespaced else ''}{suffix}", [], d),
            "parameters": name_param + ns_param + [pretty],
        }
        if not r.read_only:
            item["put"] = _op(r, "put", f"replace{'Namespaced' if r.namespaced else ''}{suffix}", list(_COMMON_WRITE), d, body=True)
            item["patch"] = _op(r, "patch", f"patch{'Namespaced' if r.namespaced else ''}{suffix}", list(_COMMON_WRITE) + [_param("force", kind="boolean")], d, body=True, patch=True)
            item["delete"] = _op(r, "delete", f"delete{'Namespaced' if r.namespaced else ''}{suffix}", [_param("dryRun"), _param("gracePeriodSeconds", kind="integer"), _param("propagationPolicy")], "io.k8s.apimachinery.pkg.apis.meta.v1.Status")
        paths[f"{ns_prefix}/{r.plural}/{{name}}"] = item
        if "status" in r.subresources:
            st = {"get": _op(r, "get", f"read{'Namespaced' if r.namespaced else ''}{suffix}Status", [], d), "parameters": name_param + ns_param + [pretty]}
            if not r.read_only:
                st["put"] = _op(r, "put", f"replace{'Namespaced' if r.namespaced else ''}{suffix}Status", list(_COMMON_WRITE), d, body=True)
                st["patch"] = _op(r, "patch", f"patch{'Namespaced' if r.namespaced else ''}{suffix}Status", list(_COMMON_WRITE) + [_param("force", kind="boolean")], d, body=True, patch=True)
            paths[f"{ns_prefix}/{r.plural}/{{name}}/status"] = st
        if r.namespaced:
            paths[f"{base}/{r.plural}"] = {"get": _op(r, "list", f"list{suffix}ForAllNamespaces", _LIST, d + "List"), "parameters": [pretty]}
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": f"v{version}"},
        "paths": paths,
        "components": {"schemas": _closure(sch, names), "securitySchemes": {"BearerToken": {"type": "apiKey", "description": "Bearer Token authentication", "name": "authorization", "in": "header"}}},
        "security": [{"BearerToken": []}],
    }
    return json.dumps(doc, separators=(",", ":"))


def document(version: str, gv: str) -> dict | None:
    text = _document(version, gv)
    return json.loads(text) if text else None


def doc_hash(version: str, gv: str) -> str:
    return hashlib.sha512((_document(version, gv) or "").encode()).hexdigest().upper()


def index(version: str) -> dict:
    paths = {}
    for group, versions in ks.GROUPS.items():
        for v in versions:
            gv = _gv_path(group, v)
            paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash={doc_hash(version, gv)}"}
    return {"paths": paths}
