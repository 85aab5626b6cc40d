"""The verbs of the Kubernetes API emulator on one resource: get, list, watch, create, update,
patch (four formats), delete, deletecollection. Part of `kube_api.py` (see its docstring for
what is modelled); this module follows k8s.io/apiserver/pkg/registry/generic/registry/store.go
and k8s.io/apiserver/pkg/endpoints/handlers (create.go, update.go, patch.go, delete.go,
watch.go, get.go) in what it checks, in which order, and how it answers.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import time
from typing import Any

import aws_delays
import kube_schema as ks
from kube_schema import ApiError, Resource

PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}
STRATEGIC_KINDS = True  # every kind served is a built-in type, for which strategic merge patch exists


def _now() -> str:
    import kube_api

    return kube_api.now_rfc3339()


def _strip_for_compare(obj: dict) -> dict:
    o = copy.deepcopy(obj)
    md = o.get("metadata") or {}
    for k in ("resourceVersion", "managedFields"):
        md.pop(k, None)
    return o


def _spec_part(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


class Ops:
    def __init__(self, store: Any, res: Resource, namespace: str, req: Any):
        self.store, self.res, self.ns, self.req = store, res, namespace, req
        self.schemas = store.schemas
        self.root = self.schemas.root(res)

    # ---- request helpers
    def decode(self, patch_kind: str = "") -> Any:
        raw = self.req.body
        ctype = (self.req.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        if not raw:
            raise ApiError(400, "BadRequest", "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml")
        if ctype == "application/vnd.kubernetes.protobuf" and not patch_kind:
            import kube_protobuf

            try:
                return kube_protobuf.decode(raw)
            except (kube_protobuf.Unsupported, ValueError, UnicodeDecodeError) as e:
                raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (the emulator decodes protobuf for Secret and ConfigMap only: {e})")
        if ctype in ("application/vnd.kubernetes.protobuf", "application/cbor", "application/apply-patch+cbor"):
            raise ApiError(415, "UnsupportedMediaType", f'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (the emulator does not decode {ctype})')
        try:
            if ctype in ("application/yaml", "application/apply-patch+yaml"):
                import yaml

                return yaml.safe_load(raw)
            return json.loads(raw)
        except Exception as e:
            if patch_kind:
                raise ApiError(400, "BadRequest", f"error decoding patch: {e}")
            raise ApiError(400, "BadRequest", f"couldn't get version/kind; json parse error: {e}")

    def manager(self) -> str:
        m = self.req.q("fieldManager")
        if m:
            if len(m) > 128:
                raise ApiError(422, "Invalid", "fieldManager: Too long: may not be more than 128 bytes", {})
            return m
        ua = self.req.headers.get("User-Agent") or "unknown"
        return ua.split("/", 1)[0] or "unknown"

    def directive(self) -> str:
        d = self.req.q("fieldValidation") or "Warn"
        if d not in ("Ignore", "Warn", "Strict"):
            raise ApiError(400, "BadRequest", f'fieldValidation must be one of "Ignore", "Warn", or "Strict", got "{d}"')
        return d

    def dry_run(self) -> bool:
        vals = self.req.query.get("dryRun") or []
        for v in vals:
            if v != "All":
                raise ApiError(400, "BadRequest", f'dryRun: Unsupported value: "{v}": supported values: "All"')
        return bool(vals)

    def send(self, code: int, obj: Any, warnings: list[str] | None = None) -> None:
        headers = {"Warning": ['299 - "' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in warnings]} if warnings else None
        self.req.h.send_json(code, obj, headers)

    def _name_in(self, obj: dict) -> str:
        return ((obj.get("metadata") or {}).get("name")) or ""

    # ---- reads
    def get(self, name: str, sub: str) -> None:
        with self.store.lock:
            obj = self.store.get(self.res, self.ns, name)
        if obj is None:
            raise ks.not_found(self.res, name)
        self.send(200, obj)

    def _selected(self) -> list[dict]:
        import kube_api

        labels = kube_api.parse_label_selector(self.req.q("labelSelector"))
        fields = kube_api.parse_field_selector(self.res, self.req.q("fieldSelector"))
        with self.store.lock:
            items = self.store.list(self.res, self.ns or None)
            rv = self.store.rv
        out = [o for o in items if kube_api.label_match(labels, o["metadata"].get("labels")) and kube_api.field_match(fields, o)]
        return out, rv

    def list(self) -> None:
        items, rv = self._selected()
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        limit = self.req.q("limit")
        cont = self.req.q("continue")
        if cont:
            try:
                token = json.loads(base64.b64decode(cont))
                start = (token["ns"], token["name"])
            except Exception:
                raise ApiError(400, "BadRequest", "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
            items = [o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > start]
        if limit and limit.isdigit() and int(limit) > 0 and len(items) > int(limit):
            n = int(limit)
            last = items[n - 1]["metadata"]
            meta["continue"] = base64.b64encode(json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "ns": last.get("namespace", ""), "name": last["name"]}).encode()).decode()
            meta["remainingItemCount"] = len(items) - n
            items = items[:n]
        out = []
        for o in items:
            o = dict(o)
            o.pop("apiVersion", None)
            o.pop("kind", None)
            out.append(o)
        self.send(200, {"kind": f"{self.res.kind}List", "apiVersion": self.res.group_version, "metadata": meta, "items": out})

    def watch(self) -> None:
        import kube_api

        labels = kube_api.parse_label_selector(self.req.q("labelSelector"))
        fields = kube_api.parse_field_selector(self.res, self.req.q("fieldSelector"))
        rv_param = self.req.q("resourceVersion")
        initial = self.req.flag("sendInitialEvents")
        bookmarks = self.req.flag("allowWatchBookmarks")
        if initial and self.req.q("resourceVersionMatch") != "NotOlderThan":
            raise ApiError(422, "Invalid", "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan", {})
        timeout = self.req.q("timeoutSeconds")
        deadline = time.monotonic() + (float(timeout) if timeout and timeout.isdigit() else random.uniform(1800, 3600))

        def matches(o: dict | None) -> bool:
            return o is not None and kube_api.label_match(labels, o["metadata"].get("labels")) and kube_api.field_match(fields, o)

        store = self.store
        h = self.req.h
        with store.lock:
            start = store.rv
            snapshot = []
            expired = False
            if initial or rv_param in ("", "0"):
                snapshot = [o for o in store.list(self.res, self.ns or None) if matches(o)]
            else:
                try:
                    cursor_rv = int(rv_param)
                except ValueError:
                    raise ApiError(400, "BadRequest", f'resourceVersion: Invalid value: "{rv_param}": must be a valid resourceVersion')
                if cursor_rv < store.oldest - 1:
                    expired = True
                start = cursor_rv
        h.start_stream()
        try:
            if expired:
                h.chunk({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                                     "message": f"too old resource version: {rv_param} ({store.oldest})", "reason": "Expired", "code": 410}})
                return
            for o in snapshot:
                h.chunk({"type": "ADDED", "object": o})
            if initial and bookmarks:
                h.chunk(self._bookmark(start, initial_end=True))
            cursor = start
            last_bookmark = time.monotonic()
            while time.monotonic() < deadline and not store.dead:
                with store.lock:
                    events = []
                    for item in reversed(store.history):
                        if item[0] <= cursor:
                            break
                        events.append(item)
                    if not events:
                        store.changed.wait(1.0)
                        now_rv = store.rv
                    events.reverse()
                for ev_rv, kind, plural, ns, obj, prev in events:
                    cursor = ev_rv
                    if plural != self.res.plural or (self.ns and ns != self.ns):
                        continue
                    new_ok = matches(obj) if kind != "DELETED" else False
                    old_ok = matches(prev) if prev is not None else False
                    if kind == "DELETED":
                        if matches(obj):
                            h.chunk({"type": "DELETED", "object": obj})
                        continue
                    if new_ok and (kind == "ADDED" or old_ok):
                        h.chunk({"type": kind, "object": obj})
                    elif new_ok:
                        h.chunk({"type": "ADDED", "object": obj})
                    elif old_ok:
                        h.chunk({"type": "DELETED", "object": obj})
                if not events:
                    if h.client_gone():
                        return
                    if bookmarks and time.monotonic() - last_bookmark > 30:
                        h.chunk(self._bookmark(max(cursor, now_rv)))
                        last_bookmark = time.monotonic()
        except OSError:
            h.close_connection = True
            return
        h.end_stream()

    def _bookmark(self, rv: int, initial_end: bool = False) -> dict:
        md: dict[str, Any] = {"resourceVersion": str(rv)}
        if initial_end:
            md["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {"type": "BOOKMARK", "object": {"kind": self.res.kind, "apiVersion": self.res.group_version, "metadata": md}}

    # ---- writes: the common pipeline
    def _check_type(self, obj: Any) -> dict:
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", f"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml")
        av, kind = obj.get("apiVersion"), obj.get("kind")
        if not kind:
            raise ApiError(400, "BadRequest", f"Object 'Kind' is missing in '{json.dumps(obj)[:200]}'")
        if not av:
            raise ApiError(400, "BadRequest", f"Object 'apiVersion' is missing in '{json.dumps(obj)[:200]}'")
        if av != self.res.group_version:
            raise ApiError(400, "BadRequest", f"the API version in the data ({av}) does not match the expected API version ({self.res.group_version})")
        if kind != self.res.kind:
            raise ApiError(400, "BadRequest", f"the kind in the data ({kind}) does not match the expected kind ({self.res.kind})")
        return obj

    def _namespace(self, obj: dict) -> None:
        md = obj.setdefault("metadata", {})
        if not isinstance(md, dict):
            raise ApiError(400, "BadRequest", "metadata must be an object")
        if self.res.namespaced:
            if md.get("namespace") and md["namespace"] != self.ns:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request")
            md["namespace"] = self.ns
        else:
            md.pop("namespace", None)

    def _admit_namespace(self) -> None:
        """The NamespaceLifecycle admission plugin."""
        if not self.res.namespaced:
            return
        ns = self.store.get(ks.BY_KIND[("", "Namespace")], "", self.ns)
        if ns is None:
            raise ApiError(404, "NotFound", f'namespaces "{self.ns}" not found', {"name": self.ns, "kind": "namespaces"})
        if ns["metadata"].get("deletionTimestamp"):
            raise ApiError(
                403, "Forbidden",
                f"{self.res.qualified} \"\" is forbidden: unable to create new content in namespace {self.ns} because it is being terminated",
                {"group": self.res.group, "kind": self.res.plural, "causes": [{"reason": "NamespaceTerminating", "message": f"namespace {self.ns} is being terminated", "field": "metadata.namespace"}]},
            )

    def _commit(self, obj: dict, old: dict | None, *, manager: str, operation: str, sub: str = "",
                applied_fields: set | None = None, warnings: list[str] | None = None, force: bool = False,
                check_schema: bool = True) -> tuple[int, dict]:
        """Defaulting, validation, server fields, managed fields and the write. Holds the lock."""
        res, store = self.res, self.store
        warnings = list(warnings or [])
        obj = copy.deepcopy(obj)
        self._namespace(obj)
        md = obj["metadata"]
        if res.kind == "Secret":
            ks.decode_secret_data(obj)
        schema_errors: list = []
        if check_schema:
            obj, more, schema_errors = ks.schema_check(self.schemas, res, obj, apply=False, directive=self.directive(), namespace=self.ns)
            warnings += more
            md = obj["metadata"]
        if old is None:
            if md.get("resourceVersion"):
                raise ApiError(400, "BadRequest", "resourceVersion should not be set on objects to be created")
            if not md.get("name") and md.get("generateName"):
                md["name"] = md["generateName"] + "".join(random.choices("bcdfghjklmnpqrstvwxz2456789", k=5))
            for k in ("uid", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink", "creationTimestamp", "generation"):
                md.pop(k, None)
            md["uid"] = str(__import__("uuid").uuid4())
            md["creationTimestamp"] = _now()
            if res.generation:
                md["generation"] = 1
            if "status" in res.subresources:
                obj.pop("status", None)
        else:
            omd = old["metadata"]
            for k in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds"):
                if k in omd:
                    md[k] = omd[k]
                else:
                    md.pop(k, None)
            md.pop("managedFields", None)
            if md.get("resourceVersion") and md["resourceVersion"] != omd["resourceVersion"]:
                raise ks.conflict(res, omd["name"], "the object has been modified; please apply your changes to the latest version and try again")
            if md.get("uid") and md["uid"] != omd["uid"]:
                raise ks.conflict(res, omd["name"], f"Precondition failed: UID in precondition: {md['uid']}, UID in object meta: {omd['uid']}")
            if sub == "status":
                status = obj.get("status")
                obj = copy.deepcopy(old)
                if status is not None:
                    obj["status"] = status
                md = obj["metadata"]
            elif "status" in res.subresources:
                if "status" in old:
                    obj["status"] = copy.deepcopy(old["status"])
                else:
                    obj.pop("status", None)
            if omd.get("deletionTimestamp"):
                new_fin = set(md.get("finalizers") or []) - set(omd.get("finalizers") or [])
                if new_fin:
                    raise ks.invalid(res, omd["name"], [ks.FieldError("Forbidden", "metadata.finalizers", detail=f"no new finalizers can be added if the object is being deleted, found new finalizers []string{{{', '.join(json.dumps(f) for f in sorted(new_fin))}}}")])
        ks.default_object(res, obj)
        if res.kind == "Namespace":
            obj["status"] = copy.deepcopy((old or {}).get("status") or {"phase": "Active"})
        if res.kind == "Pod" and old is None:
            obj["status"] = {"phase": "Pending", "qosClass": _qos(obj)}
        if res.kind == "Service" and sub != "status":
            store.allocate_service(obj, old)
        errs = list(schema_errors)
        for e in (ks.validate_object(res, obj, old, store.minor) if sub != "status" else []):
            if not any(x.kind == e.kind and x.field == e.field for x in errs):
                errs.append(e)
        if errs:
            raise ks.invalid(res, md.get("name", ""), errs)
        if res.generation and old is not None and _spec_part(old) != _spec_part(obj):
            md["generation"] = (old["metadata"].get("generation") or 1) + 1
        created = old is None
        if not created and _strip_for_compare(old) == _strip_for_compare(obj) and applied_fields is None:
            return 200, old
        # Managed fields.
        key_fields = ks.fieldset(self.schemas, self.root, _user(obj) if sub != "status" else {"status": obj.get("status")})
        if applied_fields is not None:
            fields = applied_fields
        elif old is None:
            fields = key_fields
        else:
            old_fields = ks.fieldset(self.schemas, self.root, _user(old) if sub != "status" else {"status": old.get("status")})
            fields = set()
            for p in key_fields:
                have_old, vo = ks.value_at(self.schemas, self.root, old, p)
                _, vn = ks.value_at(self.schemas, self.root, obj, p)
                if p not in old_fields or not have_old or (not isinstance(vn, (dict, list)) and vo != vn):
                    fields.add(p)
        if created and store.get(res, self.ns, md["name"]) is not None:
            raise ks.already_exists(res, md["name"])
        if self.dry_run():
            return (201 if created else 200), obj
        if not created and md.get("deletionTimestamp") and not md.get("finalizers"):
            store.remove(res, old)
            return 200, obj
        if created:
            import kube_api

            store.managers[kube_api.key_of(res, self.ns, md["name"])] = {}
        if operation == "Apply":
            store.own(res, obj, manager, "Apply", fields, replace=True) if force else _own_shared(store, res, obj, manager, fields)
        else:
            store.own(res, obj, manager, "Update", fields, subresource=sub, replace=False)
        store.write(res, obj, old)
        self._warnings = warnings
        return (201 if created else 200), obj

    # ---- create
    def create(self) -> None:
        obj = self._check_type(self.decode())
        self._namespace(obj)
        with self.store.lock:
            self._admit_namespace()
            self._warnings: list[str] = []
            code, out = self._commit(obj, None, manager=self.manager(), operation="Update")
        self.send(code, out, self._warnings)

    # ---- update
    def update(self, name: str, sub: str) -> None:
        obj = self._check_type(self.decode())
        if self._name_in(obj) and self._name_in(obj) != name:
            raise ApiError(400, "BadRequest", f"the name of the object ({self._name_in(obj)}) does not match the name on the URL ({name})")
        obj.setdefault("metadata", {})["name"] = name
        with self.store.lock:
            old = self.store.get(self.res, self.ns, name)
            self._warnings = []
            if old is None:
                if not self.res.create_on_update or sub:
                    raise ks.not_found(self.res, name)
                self._admit_namespace()
                code, out = self._commit(obj, None, manager=self.manager(), operation="Update")
            else:
                code, out = self._commit(obj, old, manager=self.manager(), operation="Update", sub=sub)
        self.send(code, out, self._warnings)

    # ---- patch
    def patch(self, name: str, sub: str) -> None:
        ctype = (self.req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        kind = PATCH_TYPES.get(ctype)
        if kind is None:
            raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - accepted media types include: {', '.join(PATCH_TYPES)}")
        body = self.decode(kind)
        if kind == "apply":
            self._apply(name, sub, body)
            return
        with self.store.lock:
            old = self.store.get(self.res, self.ns, name)
            if old is None:
                raise ks.not_found(self.res, name)
            base = copy.deepcopy(old)
            base["metadata"].pop("managedFields", None)
            if kind == "json":
                patched = ks.json_patch(base, body)
            elif kind == "merge":
                if not isinstance(body, dict):
                    raise ApiError(400, "BadRequest", "error decoding patch: the patch must be a JSON object")
                patched = ks.merge_patch(base, body)
            else:
                if not isinstance(body, dict):
                    raise ApiError(400, "BadRequest", "error decoding patch: the patch must be a JSON object")
                patched = ks.strategic_merge(self.schemas, self.root, base, body)
            patched = self._check_type(patched)
            if self._name_in(patched) != name:
                raise ApiError(400, "BadRequest", f"the name of the object ({self._name_in(patched)}) does not match the name on the URL ({name})")
            rv_pre = ((body.get("metadata") or {}).get("resourceVersion") if isinstance(body, dict) else None)
            if rv_pre and rv_pre != old["metadata"]["resourceVersion"]:
                raise ks.conflict(self.res, name, "the object has been modified; please apply your changes to the latest version and try again")
            patched["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            self._warnings = []
            code, out = self._commit(patched, old, manager=self.manager(), operation="Update", sub=sub)
        self.send(code, out, self._warnings)

    def _apply(self, name: str, sub: str, applied: Any) -> None:
        """Server-side apply (k8s.io/apimachinery/pkg/util/managedfields): the applied
        configuration is the manager's intent; fields it applied before and no longer applies
        are removed unless another manager owns them; fields owned by another manager with a
        different value are a conflict unless `force=true`."""
        res = self.res
        manager = self.req.q("fieldManager")
        if not manager:
            raise ApiError(400, "BadRequest", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
        force = self.req.flag("force")
        if not isinstance(applied, dict):
            raise ApiError(400, "BadRequest", "error decoding YAML: the apply patch must be an object")
        if applied.get("apiVersion") != res.group_version or applied.get("kind") != res.kind:
            raise ApiError(400, "BadRequest", f"Incorrect version specified in apply patch. Specified patch version: {applied.get('apiVersion')}, expected: {res.group_version}")
        md = applied.setdefault("metadata", {})
        if md.get("name") and md["name"] != name:
            raise ApiError(400, "BadRequest", f"the name of the object ({md['name']}) does not match the name on the URL ({name})")
        md["name"] = name
        if res.namespaced:
            if md.get("namespace") and md["namespace"] != self.ns:
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request")
        for k in ("managedFields",):
            md.pop(k, None)
        if res.kind == "Secret":
            applied = copy.deepcopy(applied)
            ks.decode_secret_data(applied)
        applied, warnings, _ = ks.schema_check(self.schemas, res, applied, apply=True, directive=self.directive(), namespace=self.ns)
        fields = ks.fieldset(self.schemas, self.root, _user(applied) if sub != "status" else {"status": applied.get("status")})
        import kube_api

        with self.store.lock:
            old = self.store.get(res, self.ns, name)
            k = kube_api.key_of(res, self.ns, name)
            managers = self.store.managers.get(k, {}) if old is not None else {}
            if old is not None and not force:
                conflicts: dict[str, list[str]] = {}
                for other_key, other in managers.items():
                    if other_key == manager:
                        continue
                    for p in fields & other["set"]:
                        have_live, live_v = ks.value_at(self.schemas, self.root, old, p)
                        _, new_v = ks.value_at(self.schemas, self.root, applied, p)
                        if have_live and not isinstance(new_v, dict) and not _is_keyed_list(live_v) and live_v != new_v:
                            conflicts.setdefault(other_key.split("\x00")[0], []).append(_fmt_path(p))
                if conflicts:
                    n = sum(len(v) for v in conflicts.values())
                    parts = []
                    causes = []
                    for mgr, paths in conflicts.items():
                        parts.append(f'conflict with "{mgr}" using {res.group_version}: ' + (paths[0] if len(paths) == 1 else "\n- " + "\n- ".join(sorted(paths))))
                        causes += [{"reason": "FieldManagerConflict", "message": f'conflict with "{mgr}" using {res.group_version}', "field": p} for p in sorted(paths)]
                    msg = f"Apply failed with {n} conflict{'s' if n > 1 else ''}: " + "\n".join(parts)
                    raise ApiError(409, "Conflict", msg, {"name": name, "group": res.group, "kind": res.plural, "causes": causes})
            if old is None:
                if sub:
                    raise ks.not_found(res, name)
                self._admit_namespace()
                base: dict = {}
            else:
                base = copy.deepcopy(old)
                base["metadata"].pop("managedFields", None)
                mine = (managers.get(manager) or {}).get("set", set())
                others: set = set()
                for other_key, other in managers.items():
                    if other_key != manager:
                        others |= other["set"]
                for p in sorted(mine - fields - others, key=len, reverse=True):
                    ks.remove_path(base, p)
            merged = ks.apply_merge(self.schemas, self.root, base, applied)
            if old is not None:
                merged["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            self._warnings = []
            code, out = self._commit(merged, old, manager=manager, operation="Apply", sub=sub, applied_fields=fields,
                                     warnings=warnings, force=force)
        self.send(code, out, self._warnings)

    # ---- delete
    def _delete_options(self) -> dict:
        opts: dict[str, Any] = {}
        if self.req.body:
            ctype = (self.req.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
            if ctype == "application/vnd.kubernetes.protobuf":
                import kube_protobuf

                try:
                    opts = kube_protobuf.decode(self.req.body)
                except (kube_protobuf.Unsupported, ValueError, UnicodeDecodeError) as e:
                    raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {e}")
            else:
                try:
                    opts = json.loads(self.req.body) or {}
                except ValueError as e:
                    raise ApiError(400, "BadRequest", f"couldn't get version/kind; json parse error: {e}")
        if self.req.q("propagationPolicy"):
            opts["propagationPolicy"] = self.req.q("propagationPolicy")
        if self.req.q("gracePeriodSeconds"):
            opts["gracePeriodSeconds"] = int(self.req.q("gracePeriodSeconds"))
        if self.req.q("orphanDependents"):
            opts["orphanDependents"] = self.req.flag("orphanDependents")
        policy = opts.get("propagationPolicy")
        if policy is not None and policy not in ("Orphan", "Background", "Foreground"):
            raise ApiError(422, "Invalid", f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "{policy}": supported values: "Foreground", "Background", "Orphan", "nil"', {})
        if opts.get("orphanDependents") is True and policy is None:
            opts["propagationPolicy"] = "Orphan"
        return opts

    def delete(self, name: str) -> None:
        opts = self._delete_options()
        with self.store.lock:
            obj = self.store.get(self.res, self.ns, name)
            if obj is None:
                raise ks.not_found(self.res, name)
            code, out = self._delete_one(obj, opts)
        self.send(code, out)

    def _delete_one(self, obj: dict, opts: dict) -> tuple[int, dict]:
        res, store = self.res, self.store
        md = obj["metadata"]
        pre = opts.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != md["uid"]:
            raise ks.conflict(res, md["name"], f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {md['uid']}")
        if pre.get("resourceVersion") and pre["resourceVersion"] != md["resourceVersion"]:
            raise ks.conflict(res, md["name"], f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, ResourceVersion in object meta: {md['resourceVersion']}")
        if self.dry_run():
            return 200, obj
        status_ok = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                     "details": {"name": md["name"], "group": res.group, "kind": res.plural, "uid": md["uid"]}}
        if res.kind == "Namespace":
            if md["name"] in ("default", "kube-system", "kube-public"):
                raise ApiError(403, "Forbidden", f'namespaces "{md["name"]}" is forbidden: this namespace may not be deleted',
                               {"name": md["name"], "kind": "namespaces"})
            if md.get("deletionTimestamp"):
                return 200, obj
            new = copy.deepcopy(obj)
            new["metadata"]["deletionTimestamp"] = _now()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            new["status"] = {"phase": "Terminating"}
            store.write(res, new, obj)
            return 200, new
        policy = opts.get("propagationPolicy") or "Background"
        if policy == "Orphan":
            self._orphan(md["uid"])
        finalizers = list(md.get("finalizers") or [])
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        grace = opts.get("gracePeriodSeconds")
        if res.kind == "Pod" and (obj.get("spec") or {}).get("nodeName") and (obj.get("status") or {}).get("phase") not in ("Succeeded", "Failed") and grace != 0:
            if md.get("deletionTimestamp"):
                return 200, obj
            new = copy.deepcopy(obj)
            g = grace if grace is not None else (obj.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
            new["metadata"]["deletionTimestamp"] = _now()
            new["metadata"]["deletionGracePeriodSeconds"] = g
            if finalizers:
                new["metadata"]["finalizers"] = finalizers
            store.internal[("pod-terminate", md["uid"])] = aws_delays.deadline("k8s_pod_terminate")
            store.write(res, new, obj)
            return 200, new
        if finalizers:
            if md.get("deletionTimestamp") and finalizers == (md.get("finalizers") or []):
                return 200, obj
            new = copy.deepcopy(obj)
            new["metadata"].setdefault("deletionTimestamp", _now())
            new["metadata"].setdefault("deletionGracePeriodSeconds", 0)
            new["metadata"]["finalizers"] = finalizers
            store.write(res, new, obj)
            return (202 if policy == "Foreground" else 200), new
        store.remove(res, obj)
        return 200, status_ok

    def _orphan(self, uid: str) -> None:
        import kube_controllers

        for r, o in kube_controllers.dependents(self.store, uid):
            new = copy.deepcopy(o)
            new["metadata"]["ownerReferences"] = [x for x in o["metadata"].get("ownerReferences") or [] if x.get("uid") != uid]
            if not new["metadata"]["ownerReferences"]:
                del new["metadata"]["ownerReferences"]
            self.store.write(r, new, o)

    def delete_collection(self) -> None:
        opts = self._delete_options()
        items, _ = self._selected()
        out = []
        with self.store.lock:
            for o in items:
                cur = self.store.get(self.res, o["metadata"].get("namespace", ""), o["metadata"]["name"])
                if cur is not None:
                    self._delete_one(cur, opts)
                    c = dict(cur)
                    c.pop("apiVersion", None)
                    c.pop("kind", None)
                    out.append(c)
            rv = self.store.rv
        self.send(200, {"kind": f"{self.res.kind}List", "apiVersion": self.res.group_version, "metadata": {"resourceVersion": str(rv)}, "items": out})


def _user(obj: dict) -> dict:
    import kube_api

    return kube_api._user_fields(obj)


def _own_shared(store: Any, res: Resource, obj: dict, manager: str, fields: set) -> None:
    """An apply without force: the manager's set becomes what it applied; fields other managers
    also own (with the same value, or there would have been a conflict) stay shared."""
    import kube_api

    k = kube_api.key_of(res, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
    managers = store.managers.setdefault(k, {})
    entry = managers.setdefault(manager, {"operation": "Apply", "set": set(), "subresource": ""})
    entry["set"] = set(fields)
    entry["time"] = kube_api.now_rfc3339()


def _is_keyed_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, dict) for x in v) and bool(v)


def _fmt_path(p: tuple) -> str:
    out = ""
    for kind, key in p:
        if kind == "f":
            out += f".{key}"
        elif kind == "k":
            out += "[" + ",".join(f"{a}={json.dumps(b)}" for a, b in key) + "]"
        else:
            out += f"[={key}]"
    return out


def _qos(pod: dict) -> str:
    cs = (pod.get("spec") or {}).get("containers") or []
    if not cs:
        return "BestEffort"
    any_set = False
    guaranteed = True
    for c in cs:
        r = c.get("resources") or {}
        req, lim = r.get("requests") or {}, r.get("limits") or {}
        if req or lim:
            any_set = True
        for name in ("cpu", "memory"):
            if name not in lim or (name in req and ks.quantity(req[name]) != ks.quantity(lim[name])):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
