"""The Kubernetes API emulator's knowledge of objects: the resources it serves, their schemas,
defaulting, validation and the four patch formats.

Part of the harness-owned Kubernetes API emulator (`kube_api.py`; the plugin that starts it is
`plugins/eks_kubernetes_api.py`). It is not a Kubernetes API server; it follows one:

- **Resources** (`RESOURCES`): the built-in kinds a chart typically renders, with the plural,
  scope, short names and subresources that discovery reports (Kubernetes API reference, "API
  Overview" and each kind's page). A kind not listed here is unknown to the emulator, as a kind
  whose API group is not served is unknown to a real server: discovery does not list it and its
  URLs answer 404.
- **Schemas**: the OpenAPI schemas of the cluster's Kubernetes version, from the
  `kubernetes-validate` package (its `vX.Y.0-local-strict` folders: the upstream OpenAPI
  definitions in JSON Schema form, `additionalProperties: false` everywhere). A cluster whose
  version has no bundled schema uses the closest older one (and the oldest for anything below).
- **Schema errors as the API server words them.** kube-apiserver does not run JSON Schema; it
  decodes into Go types and then runs its validators, so the same mistake gets different answers
  depending on the request:
  - server-side apply (`application/apply-patch+yaml`): the patch is converted to a typed object
    first, and a field the schema does not declare or a value of the wrong type fails with
    `failed to create typed patch object (NS/NAME; GROUP/VERSION, Kind=KIND): .spec.foo: field
    not declared in schema`; kube-apiserver returns that error as a plain Go error, so the client
    sees HTTP 500 with no reason (kubernetes/kubernetes#122480 and #139253, still open; the
    emulator answers the same 500 rather than the 400 those issues ask for);
  - create, update and the other patches with `fieldValidation=Strict` (what kubectl and Helm
    send): an undeclared field is `400 BadRequest` "strict decoding error: unknown field
    \"spec.foo\""; with `Warn` (the default) or `Ignore` it is dropped (with a `Warning` header
    for Warn); a value of the wrong type is `400 BadRequest` "KIND in version \"v1\" cannot be
    handled as a KIND: json: cannot unmarshal ...";
  - a missing required field, and the semantic checks below, are `422 Invalid` with one cause
    per field (`FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, ...), the
    message `KIND.GROUP "NAME" is invalid: [field: Required value, ...]`
    (k8s.io/apimachinery/pkg/api/errors NewInvalid, k8s.io/apimachinery/pkg/util/validation/field).
- **Semantic validation** (pkg/apis/*/validation in kubernetes/kubernetes), the checks most
  charts can trip: object names (RFC 1123 subdomain, RFC 1123 label for namespaces and the
  like, RFC 1035 label for services, path segment names for RBAC), label keys and values,
  selectors that must match the pod template's labels (and may not change), container names,
  images, ports, protocols, pull and restart policies, environment variable names (relaxed from
  1.34, where RelaxedEnvironmentVariableValidation went GA), resource requests above limits,
  Service ports, Secret and ConfigMap keys and their 1 MiB limit, immutable Secrets, ConfigMaps
  and Job templates, RoleBinding roleRefs.
- **Defaulting** (pkg/apis/*/v1/defaults.go): the defaults that show in what is read back and that
  controllers and kstatus read (replicas, strategies, progressDeadlineSeconds, pod spec and
  container defaults, Service type and ports, Namespace finalizers, Secret type).
- **Patches**: JSON merge patch (RFC 7386), JSON patch (RFC 6902, through the `jsonpatch`
  package), strategic merge patch driven by the schema's `x-kubernetes-patch-strategy` and
  `x-kubernetes-patch-merge-key` (with `$patch`, `$retainKeys`, `$deleteFromPrimitiveList` and
  `$setElementOrder`), and server-side apply's field sets, keyed by the schema's
  `x-kubernetes-list-type` / `x-kubernetes-list-map-keys` as structured-merge-diff keys them.

Simplified, and said so: admission plugins other than namespace lifecycle are not modelled (no
LimitRanger, ResourceQuota, PodSecurity, webhooks); validation covers the checks named above, not
every validator of every kind; one API version per group (autoscaling/v2 only, no
autoscaling/v1, so there is no conversion).
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import pathlib
import re
from dataclasses import dataclass
from typing import Any

# ---- the resources served ------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    # Whether metadata.generation is kept (the kinds whose REST strategy sets and bumps it).
    generation: bool = False
    # How metadata.name is validated (pkg/api/validation: NameIsDNSSubdomain, NameIsDNSLabel,
    # NameIsDNS1035Label, ValidatePathSegmentName).
    name_rule: str = "subdomain"
    # Whether a PUT of an object that does not exist creates it (rest.Updater AllowCreateOnUpdate).
    create_on_update: bool = False
    read_only: bool = False
    singular: str = ""
    categories: tuple[str, ...] = ()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """`deployments.apps`, `secrets`: how errors name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """`Deployment.apps`, `Service`: how NewInvalid names the kind."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def verbs(self) -> list[str]:
        if self.read_only:
            return ["get", "list", "watch"]
        return ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


RESOURCES: list[Resource] = [
    Resource("", "v1", "Namespace", "namespaces", False, ("ns",), ("status",), name_rule="label"),
    Resource("", "v1", "Node", "nodes", False, ("no",), ("status",), read_only=True),
    Resource("", "v1", "Secret", "secrets", True),
    Resource("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
    Resource("", "v1", "Service", "services", True, ("svc",), ("status",), name_rule="dns1035", categories=("all",)),
    Resource("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",)),
    Resource("", "v1", "Pod", "pods", True, ("po",), ("status",), categories=("all",)),
    Resource("", "v1", "Event", "events", True, ("ev",)),
    Resource("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",), ("status",)),
    Resource("apps", "v1", "Deployment", "deployments", True, ("deploy",), ("status",), True, categories=("all",)),
    Resource("apps", "v1", "StatefulSet", "statefulsets", True, ("sts",), ("status",), True, categories=("all",)),
    Resource("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), ("status",), True, categories=("all",)),
    Resource("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), ("status",), True, categories=("all",)),
    Resource("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    Resource("batch", "v1", "Job", "jobs", True, (), ("status",), True, categories=("all",)),
    Resource("batch", "v1", "CronJob", "cronjobs", True, ("cj",), ("status",), True, categories=("all",)),
    Resource("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ("netpol",), (), True),
    Resource("networking.k8s.io", "v1", "Ingress", "ingresses", True, ("ing",), ("status",), True),
    Resource("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",), ("status",), True),
    Resource("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ("hpa",), ("status",), True, categories=("all",)),
    Resource("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",)),
    Resource("rbac.authorization.k8s.io", "v1", "Role", "roles", True, name_rule="path"),
    Resource("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True, name_rule="path"),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False, name_rule="path"),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False, name_rule="path"),
]
BY_PATH: dict[tuple[str, str, str], Resource] = {(r.group, r.version, r.plural): r for r in RESOURCES}
BY_KIND: dict[tuple[str, str], Resource] = {(r.group, r.kind): r for r in RESOURCES}
GROUPS: dict[str, list[str]] = {}
for _r in RESOURCES:
    GROUPS.setdefault(_r.group, [])
    if _r.version not in GROUPS[_r.group]:
        GROUPS[_r.group].append(_r.version)

# ---- API errors -------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answered as a `kind: Status` document."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None, headers: dict | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details
        self.headers = headers or {}

    def status(self) -> dict:
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:
            out["reason"] = self.reason
        if self.details is not None:
            out["details"] = self.details
        out["code"] = self.code
        return out


def not_found(res: Resource, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{res.qualified} "{name}" not found', {"name": name, "group": res.group, "kind": res.plural})


def already_exists(res: Resource, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{res.qualified} "{name}" already exists', {"name": name, "group": res.group, "kind": res.plural})


def conflict(res: Resource, name: str, why: str) -> ApiError:
    return ApiError(
        409, "Conflict", f'Operation cannot be fulfilled on {res.qualified} "{name}": {why}',
        {"name": name, "group": res.group, "kind": res.plural},
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


@dataclass
class FieldError:
    """One k8s.io/apimachinery/pkg/util/validation/field.Error."""

    kind: str  # Required, Invalid, NotSupported, Forbidden, TooLong, Duplicate, TooMany
    field: str
    value: Any = None
    detail: str = ""
    supported: list | None = None

    REASONS = {
        "Required": "FieldValueRequired",
        "Invalid": "FieldValueInvalid",
        "NotSupported": "FieldValueNotSupported",
        "Forbidden": "FieldValueForbidden",
        "TooLong": "FieldValueTooLong",
        "Duplicate": "FieldValueDuplicate",
        "TooMany": "FieldValueTooMany",
    }

    def body(self) -> str:
        """The error without its field, as field.Error.ErrorBody words it."""
        if self.kind == "Required":
            return "Required value" + (f": {self.detail}" if self.detail else "")
        if self.kind == "Forbidden":
            return "Forbidden" + (f": {self.detail}" if self.detail else "")
        if self.kind == "NotSupported":
            s = f"Unsupported value: {go_value(self.value)}"
            if self.supported:
                s += ": supported values: " + ", ".join(json.dumps(v) for v in self.supported)
            return s
        if self.kind == "Duplicate":
            return f"Duplicate value: {go_value(self.value)}"
        if self.kind == "TooLong":
            return f"Too long: {self.detail}"
        return f"Invalid value: {go_value(self.value)}" + (f": {self.detail}" if self.detail else "")

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


def go_value(v: Any) -> str:
    """A value as Go's %v / %q prints it in field errors."""
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        inner = ", ".join(f"{json.dumps(k)}:{json.dumps(x) if isinstance(x, str) else x}" for k, x in sorted(v.items()))
        return f"map[string]string{{{inner}}}"
    if v is None:
        return "null"
    return str(v)


def invalid(res: Resource, name: str, errors: list[FieldError]) -> ApiError:
    """422 Invalid, as apierrors.NewInvalid builds it."""
    msgs = [str(e) for e in errors]
    text = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
    return ApiError(
        422,
        "Invalid",
        f'{res.qualified_kind} "{name}" is invalid: {text}',
        {
            "name": name,
            "group": res.group,
            "kind": res.kind,
            "causes": [{"reason": FieldError.REASONS[e.kind], "message": e.body(), "field": e.field} for e in errors],
        },
    )


# ---- schemas ----------------------------------------------------------------------------------

_SCHEMA_ROOT = None


def _schema_root() -> pathlib.Path:
    global _SCHEMA_ROOT
    if _SCHEMA_ROOT is None:
        import kubernetes_validate

        _SCHEMA_ROOT = pathlib.Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    return _SCHEMA_ROOT


def minor_of(version: str) -> int:
    m = re.match(r"v?1\.(\d+)", version or "")
    return int(m.group(1)) if m else 0


def schema_version(cluster_version: str) -> str:
    """The bundled schema folder for a cluster's Kubernetes version: the closest not newer, else
    the oldest."""
    have = sorted(
        (minor_of(p.name), p.name) for p in _schema_root().iterdir() if p.name.endswith("-local-strict")
    )
    want = minor_of(cluster_version)
    fit = [name for minor, name in have if minor <= want]
    return fit[-1] if fit else have[0][1]


class Schemas:
    """The OpenAPI schemas of one Kubernetes version, with $ref resolution and validators."""

    def __init__(self, folder: str):
        self.folder = folder
        root = _schema_root() / folder
        self.defs: dict[str, dict] = json.loads((root / "_definitions.json").read_text())["$defs"]
        self._root = root
        self._validators: dict[str, Any] = {}

    def kind_schema(self, res: Resource) -> dict | None:
        prefix = res.group.split(".")[0] if res.group else ""
        name = f"{res.kind.lower()}-{prefix + '-' if prefix else ''}{res.version}.json"
        path = self._root / name
        return json.loads(path.read_text()) if path.exists() else None

    def validator(self, res: Resource) -> Any:
        key = res.kind
        if key not in self._validators:
            import jsonschema
            from referencing import Registry
            from referencing import Resource as RefResource

            schema = self.kind_schema(res)
            if schema is None:
                self._validators[key] = None
            else:
                registry = RefResource.from_contents(schema) @ Registry()
                registry = RefResource.from_contents(json.loads((self._root / "_definitions.json").read_text())) @ registry
                self._validators[key] = jsonschema.Draft202012Validator(schema, registry=registry)
        return self._validators[key]

    def resolve(self, node: dict | None) -> dict:
        seen = 0
        while node and "$ref" in node and seen < 20:
            node = self.defs.get(node["$ref"].rsplit("/", 1)[-1], {})
            seen += 1
        return node or {}

    def root(self, res: Resource) -> dict:
        for name, d in self.defs.items():
            for gvk in d.get("x-kubernetes-group-version-kind", []):
                if gvk.get("group", "") == res.group and gvk["version"] == res.version and gvk["kind"] == res.kind:
                    return d
        return {}

    def child(self, node: dict, key: str) -> dict:
        node = self.resolve(node)
        props = node.get("properties")
        if props and key in props:
            return self.resolve(props[key])
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            return self.resolve(extra)
        return {}

    def raw_child(self, node: dict, key: str) -> dict:
        """The property's own node (with its x-kubernetes-* list annotations), unresolved."""
        node = self.resolve(node)
        props = node.get("properties") or {}
        return props.get(key) or (node.get("additionalProperties") if isinstance(node.get("additionalProperties"), dict) else {}) or {}

    def items(self, node: dict) -> dict:
        return self.resolve(self.resolve(node).get("items") or {})

    def go_type(self, node: dict) -> str:
        node = self.resolve(node)
        t = node.get("type")
        t = [x for x in t if x != "null"][0] if isinstance(t, list) and len([x for x in t if x != "null"]) == 1 else t
        fmt = node.get("format")
        if t == "integer":
            return fmt or "int"
        if t == "number":
            return "float64"
        if t == "boolean":
            return "bool"
        if t == "string":
            return "string"
        if t == "array":
            return "[]" + self.go_type(node.get("items") or {})
        if t == "object":
            return "map[string]interface {}"
        return "interface {}"


@functools.lru_cache(maxsize=None)
def schemas_for(cluster_version: str) -> Schemas:
    return Schemas(schema_version(cluster_version))


# ---- schema validation into API errors ----------------------------------------------------------


def _path_str(path: list) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (("." if out else "") + str(p))
    return out


def _typed_path(sch: Schemas, res: Resource, obj: Any, path: list) -> str:
    """A structured-merge-diff path: `.spec.template.spec.containers[name="api"].foo`."""
    node = sch.root(res)
    cur = obj
    out = ""
    for p in path:
        if isinstance(p, int):
            raw = node
            keys = raw.get("x-kubernetes-list-map-keys")
            item = cur[p] if isinstance(cur, list) and p < len(cur) else {}
            if keys and isinstance(item, dict):
                out += "[" + ",".join(f"{k}={json.dumps(item.get(k))}" for k in keys) + "]"
            elif raw.get("x-kubernetes-list-type") == "set":
                out += f"[={json.dumps(item)}]"
            else:
                out += f"[{p}]"
            node = sch.items(raw)
            cur = item
        else:
            out += f".{p}"
            nxt = sch.raw_child(node, p)
            node = nxt if nxt.get("x-kubernetes-list-map-keys") or nxt.get("x-kubernetes-list-type") else sch.resolve(nxt)
            cur = cur.get(p) if isinstance(cur, dict) else None
    return out


def _json_type(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def schema_check(sch: Schemas, res: Resource, obj: dict, *, apply: bool, directive: str, namespace: str) -> tuple[dict, list[str], list["FieldError"]]:
    # With apply=True only the typed-patch errors are raised: required fields and values are
    # validated on the merged object afterwards, as the API server validates the result.
    """Validates `obj` against its kind's schema. Answers the object (undeclared fields dropped
    when the directive lets them through), warnings, and the 422-class field errors; raises the
    API server's 400 and 500 errors."""
    v = sch.validator(res)
    if v is None:
        return obj, [], []
    errors = list(v.iter_errors(obj))
    unknown: list[list] = []
    typed: list[tuple[list, Any]] = []
    required: list[FieldError] = []
    enums: list[FieldError] = []
    for e in errors:
        path = list(e.absolute_path)
        if e.validator == "additionalProperties":
            allowed = set((e.schema.get("properties") or {}).keys())
            for k in (e.instance or {}):
                if k not in allowed:
                    unknown.append(path + [k])
        elif e.validator in ("type", "oneOf", "anyOf"):
            typed.append((path, e.instance))
        elif e.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", e.message)
            for m in missing:
                required.append(FieldError("Required", _path_str(path + [m])))
        elif e.validator == "enum":
            if path in (["apiVersion"], ["kind"]):
                continue  # checked against the URL before the schema
            enums.append(FieldError("NotSupported", _path_str(path), e.instance, supported=[str(x) for x in e.validator_value if x is not None]))
        else:
            enums.append(FieldError("Invalid", _path_str(path), e.instance, e.message))
    md = obj.get("metadata") or {}
    gvk = f"{res.group}/{res.version}, Kind={res.kind}"
    if apply and (unknown or typed):
        lines = [f"{_typed_path(sch, res, obj, p)}: field not declared in schema" for p in unknown]
        for p, inst in typed:
            want = sch.go_type(_node_at(sch, res, p))
            lines.append(f"{_typed_path(sch, res, obj, p)}: expected {_smd_type(want)}, got {_json_type(inst)}")
        ident = f"{md.get('namespace') or namespace}/{md.get('name', '')}; {gvk}"
        text = lines[0] if len(lines) == 1 else "errors:\n  " + "\n  ".join(lines)
        # kube-apiserver returns this as a plain error: HTTP 500, no reason (see the docstring).
        raise ApiError(500, "", f"failed to create typed patch object ({ident}): {text}")
    if apply:
        return obj, [], []
    if typed:
        p, inst = typed[0]
        node = _node_at(sch, res, p)
        parent = _parent_def_name(sch, res, p)
        raise bad_request(
            f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: json: cannot unmarshal '
            f"{_json_type(inst)} into Go struct field {parent}.{_path_str(p)} of type {sch.go_type(node)}"
        )
    warnings = []
    if unknown:
        names = [f'unknown field "{_path_str(p)}"' for p in unknown]
        if directive == "Strict":
            raise bad_request("strict decoding error: " + ", ".join(names))
        if directive == "Warn":
            warnings = names
        obj = copy.deepcopy(obj)
        for p in sorted(unknown, key=len, reverse=True):
            _delete_path(obj, p)
    # Required fields and values are 422 errors: the caller reports them with the semantic
    # validators' errors, in one Status, as kube-apiserver does.
    return obj, warnings, required + enums


def _smd_type(go: str) -> str:
    if go.startswith("int") or go == "float64":
        return "numeric (int or float)"
    if go == "bool":
        return "boolean"
    if go.startswith("[]"):
        return "list"
    if go.startswith("map"):
        return "map"
    return go


def _node_at(sch: Schemas, res: Resource, path: list) -> dict:
    node = sch.root(res)
    for p in path:
        node = sch.items(node) if isinstance(p, int) else sch.child(node, p)
    return node


def _parent_def_name(sch: Schemas, res: Resource, path: list) -> str:
    node = sch.root(res)
    name = res.kind
    for p in path[:-1]:
        raw = sch.resolve(node)
        nxt = raw.get("items") if isinstance(p, int) else (raw.get("properties") or {}).get(p, {})
        if isinstance(nxt, dict) and "$ref" in nxt:
            name = nxt["$ref"].rsplit(".", 1)[-1]
        node = sch.resolve(nxt or {})
    return name


def _delete_path(obj: Any, path: list) -> None:
    cur = obj
    for p in path[:-1]:
        try:
            cur = cur[p]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(cur, dict):
        cur.pop(path[-1], None)


# ---- names, labels and other field rules ----------------------------------------------------------

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
C_IDENTIFIER_ENV = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
IANA_SVC = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")

MSG_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
MSG_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
MSG_1035 = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
MSG_LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
    "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
MSG_QUALIFIED = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
MSG_CONFIG_KEY = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  "
    "or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)


def name_errors(rule: str, name: str, fld: str = "metadata.name") -> list[FieldError]:
    if rule == "path":
        if name in (".", ".."):
            return [FieldError("Invalid", fld, name, f"may not be '{name}'")]
        bad = [c for c in ("/", "%") if c in name]
        return [FieldError("Invalid", fld, name, f"may not contain '{bad[0]}'")] if bad else []
    if rule == "label":
        if len(name) > 63:
            return [FieldError("Invalid", fld, name, "must be no more than 63 characters")]
        return [] if DNS1123_LABEL.match(name) else [FieldError("Invalid", fld, name, MSG_LABEL)]
    if rule == "dns1035":
        if len(name) > 63:
            return [FieldError("Invalid", fld, name, "must be no more than 63 characters")]
        return [] if DNS1035_LABEL.match(name) else [FieldError("Invalid", fld, name, MSG_1035)]
    if len(name) > 253:
        return [FieldError("Invalid", fld, name, "must be no more than 253 characters")]
    return [] if DNS1123_SUBDOMAIN.match(name) else [FieldError("Invalid", fld, name, MSG_SUBDOMAIN)]


def qualified_name_errors(key: str, fld: str) -> list[FieldError]:
    prefix, _, name = key.rpartition("/")
    out = []
    if "/" in name or (prefix and not DNS1123_SUBDOMAIN.match(prefix)):
        out.append(FieldError("Invalid", fld, key, "prefix part " + MSG_SUBDOMAIN))
    if not name:
        out.append(FieldError("Invalid", fld, key, "name part must be non-empty"))
    elif len(name) > 63:
        out.append(FieldError("Invalid", fld, key, "name part must be no more than 63 characters"))
    elif not QUALIFIED_NAME.match(name):
        out.append(FieldError("Invalid", fld, key, MSG_QUALIFIED))
    return out


def label_errors(labels: Any, fld: str) -> list[FieldError]:
    out = []
    for k, v in (labels or {}).items():
        out += qualified_name_errors(k, fld)
        if not isinstance(v, str):
            continue
        if len(v) > 63:
            out.append(FieldError("Invalid", fld, v, "must be no more than 63 characters"))
        elif not LABEL_VALUE.match(v):
            out.append(FieldError("Invalid", fld, v, MSG_LABEL_VALUE))
    return out


# ---- quantities --------------------------------------------------------------------------------

_SUFFIX = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
}
QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|)$")


def quantity(v: Any) -> float | None:
    """A resource.Quantity as a float (cores for CPU, bytes for memory); None when unparseable."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    m = QUANTITY.match(str(v).strip()) if isinstance(v, str) else None
    if not m:
        return None
    num, suffix = m.groups()
    try:
        base = float(num)
    except ValueError:
        return None
    if suffix[:1] in ("e", "E") and suffix not in ("E",):
        return base * 10 ** int(suffix[1:])
    return base * _SUFFIX[suffix]


# ---- defaulting ---------------------------------------------------------------------------------


def _default_container(c: dict) -> None:
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    image = c.get("image") or ""
    tail = image.rsplit("/", 1)[-1]
    latest = ("@" not in tail) and (":" not in tail or tail.endswith(":latest"))
    c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    c.setdefault("resources", {})
    for p in c.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        pr = c.get(probe)
        if isinstance(pr, dict):
            pr.setdefault("timeoutSeconds", 1)
            pr.setdefault("periodSeconds", 10)
            pr.setdefault("successThreshold", 1)
            pr.setdefault("failureThreshold", 3)


def default_pod_spec(spec: dict, restart: str = "Always") -> None:
    spec.setdefault("restartPolicy", restart)
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if isinstance(c, dict):
            _default_container(c)


def default_object(res: Resource, obj: dict) -> None:
    """The defaults kube-apiserver applies on every write (pkg/apis/*/v1/defaults.go)."""
    spec = obj.get("spec")
    kind = res.kind
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job") and isinstance(spec, dict):
        template = spec.setdefault("template", {}) if isinstance(spec.get("template", {}), dict) else {}
        tspec = template.get("spec")
        if isinstance(tspec, dict):
            default_pod_spec(tspec, "Never" if kind == "Job" and "restartPolicy" not in tspec else "Always")
    if kind == "Deployment" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            ru = strategy.setdefault("rollingUpdate", {})
            ru.setdefault("maxSurge", "25%")
            ru.setdefault("maxUnavailable", "25%")
    elif kind == "ReplicaSet" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
    elif kind == "StatefulSet" and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("revisionHistoryLimit", 10)
        us = spec.setdefault("updateStrategy", {})
        us.setdefault("type", "RollingUpdate")
        if us["type"] == "RollingUpdate":
            us.setdefault("rollingUpdate", {}).setdefault("partition", 0)
        spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    elif kind == "DaemonSet" and isinstance(spec, dict):
        spec.setdefault("revisionHistoryLimit", 10)
        us = spec.setdefault("updateStrategy", {})
        us.setdefault("type", "RollingUpdate")
        if us["type"] == "RollingUpdate":
            ru = us.setdefault("rollingUpdate", {})
            ru.setdefault("maxUnavailable", 1)
            ru.setdefault("maxSurge", 0)
    elif kind == "Job" and isinstance(spec, dict):
        spec.setdefault("parallelism", 1)
        spec.setdefault("completions", spec.get("parallelism", 1))
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completionMode", "NonIndexed")
        spec.setdefault("suspend", False)
        spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    elif kind == "CronJob" and isinstance(spec, dict):
        tspec = (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
        if isinstance(tspec, dict):
            default_pod_spec(tspec, "Always")
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
    elif kind == "StorageClass":
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")
    elif kind == "Pod" and isinstance(spec, dict):
        default_pod_spec(spec)
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
    elif kind == "Service" and isinstance(spec, dict):
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if spec["type"] != "ExternalName":
            spec.setdefault("internalTrafficPolicy", "Cluster")
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("ipFamilies", ["IPv4"])
        for p in spec.get("ports") or []:
            if isinstance(p, dict):
                p.setdefault("protocol", "TCP")
                if "port" in p:
                    p.setdefault("targetPort", p["port"])
        if spec["type"] in ("LoadBalancer", "NodePort"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
    elif kind == "Namespace":
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        name = (obj.get("metadata") or {}).get("name")
        if name:
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    elif kind == "Secret":
        obj.setdefault("type", "Opaque")
    elif kind == "PersistentVolumeClaim" and isinstance(spec, dict):
        spec.setdefault("volumeMode", "Filesystem")
    elif kind == "PodDisruptionBudget" and isinstance(spec, dict):
        pass


# ---- semantic validation -------------------------------------------------------------------------

PROTOCOLS = ["SCTP", "TCP", "UDP"]
PULL = ["Always", "IfNotPresent", "Never"]


def _containers(spec: dict, base: str, minor: int) -> list[FieldError]:
    errs: list[FieldError] = []
    containers = spec.get("containers")
    if not containers:
        errs.append(FieldError("Required", f"{base}.containers"))
        return errs
    names: set[str] = set()
    for group in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(group) or []):
            if not isinstance(c, dict):
                continue
            f = f"{base}.{group}[{i}]"
            name = c.get("name")
            if not name:
                errs.append(FieldError("Required", f"{f}.name"))
            else:
                errs += name_errors("label", name, f"{f}.name")
                if name in names:
                    errs.append(FieldError("Duplicate", f"{f}.name", name))
                names.add(name)
            if not (c.get("image") or "").strip():
                errs.append(FieldError("Required", f"{f}.image"))
            if c.get("imagePullPolicy") not in PULL:
                errs.append(FieldError("NotSupported", f"{f}.imagePullPolicy", c.get("imagePullPolicy"), supported=PULL))
            pnames: set[str] = set()
            for j, p in enumerate(c.get("ports") or []):
                pf = f"{f}.ports[{j}]"
                cp = p.get("containerPort")
                if not isinstance(cp, int) or not 1 <= cp <= 65535:
                    errs.append(FieldError("Invalid", f"{pf}.containerPort", cp, "must be between 1 and 65535, inclusive"))
                if p.get("protocol") not in PROTOCOLS:
                    errs.append(FieldError("NotSupported", f"{pf}.protocol", p.get("protocol"), supported=PROTOCOLS))
                pn = p.get("name")
                if pn:
                    if len(pn) > 15:
                        errs.append(FieldError("Invalid", f"{pf}.name", pn, "must be no more than 15 characters"))
                    elif not IANA_SVC.match(pn) or "--" in pn or not re.search("[a-z]", pn):
                        errs.append(FieldError("Invalid", f"{pf}.name", pn, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"))
                    if pn in pnames:
                        errs.append(FieldError("Duplicate", f"{pf}.name", pn))
                    pnames.add(pn)
            for j, e in enumerate(c.get("env") or []):
                en = e.get("name") if isinstance(e, dict) else None
                ef = f"{f}.env[{j}].name"
                if not en:
                    errs.append(FieldError("Required", ef))
                elif minor >= 34:
                    if "=" in en or any(not 32 <= ord(ch) <= 126 for ch in en):
                        errs.append(FieldError("Invalid", ef, en, "a valid environment variable name must consist only of printable ASCII characters other than '='"))
                elif not C_IDENTIFIER_ENV.match(en):
                    errs.append(FieldError(
                        "Invalid", ef, en,
                        "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', "
                        "and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex "
                        "used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
                    ))
            res = c.get("resources") or {}
            for kind in ("requests", "limits"):
                for rname, q in (res.get(kind) or {}).items():
                    if quantity(q) is None:
                        errs.append(FieldError("Invalid", f"{f}.resources.{kind}[{rname}]", q, "must match the regex ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"))
            for rname, q in (res.get("requests") or {}).items():
                lim = (res.get("limits") or {}).get(rname)
                if lim is not None and quantity(q) is not None and quantity(lim) is not None and quantity(q) > quantity(lim):
                    errs.append(FieldError("Invalid", f"{f}.resources.requests", q, f"must be less than or equal to {rname} limit of {lim}"))
    return errs


def _pod_template(tmpl: Any, base: str, minor: int, restart: list[str]) -> list[FieldError]:
    if not isinstance(tmpl, dict):
        return [FieldError("Required", base)]
    errs = label_errors((tmpl.get("metadata") or {}).get("labels"), f"{base}.metadata.labels")
    spec = tmpl.get("spec")
    if not isinstance(spec, dict):
        return errs + [FieldError("Required", f"{base}.spec.containers")]
    errs += _containers(spec, f"{base}.spec", minor)
    if spec.get("restartPolicy") not in restart:
        errs.append(FieldError("NotSupported", f"{base}.spec.restartPolicy", spec.get("restartPolicy"), supported=restart))
    return errs


def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    labels = labels or {}
    if not selector:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        k, op, vals = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and labels.get(k) in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def _selector_vs_template(spec: dict) -> list[FieldError]:
    sel = spec.get("selector")
    if not sel:
        return [FieldError("Required", "spec.selector")] + (
            [FieldError("Invalid", "spec.template.metadata.labels", ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}, "`selector` does not match template `labels`")]
        )
    if not (sel.get("matchLabels") or sel.get("matchExpressions")):
        return [FieldError("Invalid", "spec.selector", sel, "empty selector is invalid for deployment")]
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not selector_matches(sel, labels):
        return [FieldError("Invalid", "spec.template.metadata.labels", labels, "`selector` does not match template `labels`")]
    return []


def _int_or_percent(v: Any, replicas: int) -> int | None:
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.endswith("%") and v[:-1].isdigit():
        return int(v[:-1])
    return None


def _storage_class(obj: dict, old: dict | None) -> list[FieldError]:
    """pkg/apis/storage/validation: ValidateStorageClass and ValidateStorageClassUpdate."""
    errs: list[FieldError] = []
    if not obj.get("provisioner"):
        errs.append(FieldError("Required", "provisioner"))
    if obj.get("reclaimPolicy") not in (None, "Delete", "Retain"):
        errs.append(FieldError("NotSupported", "reclaimPolicy", obj.get("reclaimPolicy"), supported=["Delete", "Retain"]))
    if obj.get("volumeBindingMode") not in (None, "Immediate", "WaitForFirstConsumer"):
        errs.append(FieldError("NotSupported", "volumeBindingMode", obj.get("volumeBindingMode"), supported=["Immediate", "WaitForFirstConsumer"]))
    if old is not None:
        if (obj.get("parameters") or {}) != (old.get("parameters") or {}):
            errs.append(FieldError("Forbidden", "parameters", detail="updates to parameters are forbidden."))
        for f, default in (("provisioner", None), ("reclaimPolicy", "Delete"), ("volumeBindingMode", "Immediate")):
            if obj.get(f, default) != old.get(f, default):
                errs.append(FieldError("Forbidden" if f == "provisioner" else "Invalid", f, obj.get(f), "updates to provisioner are forbidden." if f == "provisioner" else "field is immutable"))
    return errs


def validate_object(res: Resource, obj: dict, old: dict | None, minor: int) -> list[FieldError]:
    """kube-apiserver's validators (the subset the emulator implements) for a create (old None)
    or an update."""
    errs: list[FieldError] = []
    md = obj.get("metadata") or {}
    name = md.get("name") or ""
    if name:
        errs += name_errors(res.name_rule, name)
    else:
        errs.append(FieldError("Required", "metadata.name", detail="name or generateName is required"))
    errs += label_errors(md.get("labels"), "metadata.labels")
    for k in (md.get("annotations") or {}):
        errs += qualified_name_errors(k.lower(), "metadata.annotations")
    if len(json.dumps(md.get("annotations") or {})) > 256 * 1024:
        errs.append(FieldError("TooLong", "metadata.annotations", detail="must have at most 262144 bytes"))
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    kind = res.kind
    if kind == "StorageClass":
        errs += _storage_class(obj, old)
    if kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
        errs += _selector_vs_template(spec)
        errs += _pod_template(spec.get("template"), "spec.template", minor, ["Always"])
        if kind != "DaemonSet":
            r = spec.get("replicas")
            if isinstance(r, int) and r < 0:
                errs.append(FieldError("Invalid", "spec.replicas", r, "must be greater than or equal to 0"))
        if old is not None and (old.get("spec") or {}).get("selector") != spec.get("selector"):
            errs.append(FieldError("Invalid", "spec.selector", spec.get("selector"), "field is immutable"))
        if kind == "Deployment":
            ru = ((spec.get("strategy") or {}).get("rollingUpdate") or {})
            if (spec.get("strategy") or {}).get("type") not in ("RollingUpdate", "Recreate"):
                errs.append(FieldError("NotSupported", "spec.strategy.type", (spec.get("strategy") or {}).get("type"), supported=["Recreate", "RollingUpdate"]))
            if _int_or_percent(ru.get("maxSurge"), 0) == 0 and _int_or_percent(ru.get("maxUnavailable"), 0) == 0:
                errs.append(FieldError("Invalid", "spec.strategy.rollingUpdate.maxUnavailable", ru.get("maxUnavailable"), "may not be 0 when `maxSurge` is 0"))
            pds = spec.get("progressDeadlineSeconds")
            if isinstance(pds, int) and pds <= (spec.get("minReadySeconds") or 0):
                errs.append(FieldError("Invalid", "spec.progressDeadlineSeconds", pds, "must be greater than minReadySeconds"))
        if kind == "StatefulSet":
            if spec.get("podManagementPolicy") not in ("OrderedReady", "Parallel"):
                errs.append(FieldError("NotSupported", "spec.podManagementPolicy", spec.get("podManagementPolicy"), supported=["OrderedReady", "Parallel"]))
            if old is not None:
                allowed = {"replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds", "revisionHistoryLimit"}
                old_spec = old.get("spec") or {}
                if {k: v for k, v in spec.items() if k not in allowed} != {k: v for k, v in old_spec.items() if k not in allowed}:
                    errs.append(FieldError("Forbidden", "spec", detail="updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
    elif kind == "Job":
        tmpl = spec.get("template")
        errs += _pod_template(tmpl, "spec.template", minor, ["OnFailure", "Never"])
        if old is not None:
            ot = (old.get("spec") or {}).get("template")
            if _strip_job_labels(ot) != _strip_job_labels(tmpl):
                errs.append(FieldError("Invalid", "spec.template", "core.PodTemplateSpec{...}", "field is immutable"))
    elif kind == "CronJob":
        if not spec.get("schedule"):
            errs.append(FieldError("Required", "spec.schedule"))
        jt = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
        errs += _pod_template(jt, "spec.jobTemplate.spec.template", minor, ["OnFailure", "Never"])
    elif kind == "Pod":
        errs += _containers(spec, "spec", minor)
    elif kind == "Service":
        errs += _service(spec, old)
    elif kind in ("Secret", "ConfigMap"):
        errs += _data(obj, old, kind)
    elif kind == "RoleBinding" or kind == "ClusterRoleBinding":
        ref = obj.get("roleRef") or {}
        if not ref.get("name"):
            errs.append(FieldError("Required", "roleRef.name"))
        if ref.get("kind") not in (["ClusterRole"] if kind == "ClusterRoleBinding" else ["Role", "ClusterRole"]):
            errs.append(FieldError("NotSupported", "roleRef.kind", ref.get("kind"), supported=["ClusterRole"] if kind == "ClusterRoleBinding" else ["Role", "ClusterRole"]))
        if old is not None and (old.get("roleRef") or {}) != ref:
            errs.append(FieldError("Invalid", "roleRef", ref, "cannot change roleRef"))
        for i, s in enumerate(obj.get("subjects") or []):
            if s.get("kind") not in ("User", "Group", "ServiceAccount"):
                errs.append(FieldError("NotSupported", f"subjects[{i}].kind", s.get("kind"), supported=["ServiceAccount", "User", "Group"]))
            if s.get("kind") == "ServiceAccount" and not s.get("namespace") and kind == "ClusterRoleBinding":
                errs.append(FieldError("Required", f"subjects[{i}].namespace"))
    elif kind == "PodDisruptionBudget":
        if "minAvailable" in spec and "maxUnavailable" in spec:
            errs.append(FieldError("Invalid", "spec", spec, "minAvailable and maxUnavailable cannot be both set"))
    elif kind == "HorizontalPodAutoscaler":
        if not (spec.get("scaleTargetRef") or {}).get("name"):
            errs.append(FieldError("Required", "spec.scaleTargetRef.name"))
        mx = spec.get("maxReplicas")
        if isinstance(mx, int) and mx < 1:
            errs.append(FieldError("Invalid", "spec.maxReplicas", mx, "must be greater than 0"))
        mn = spec.get("minReplicas")
        if isinstance(mn, int) and isinstance(mx, int) and mn > mx:
            errs.append(FieldError("Invalid", "spec.maxReplicas", mx, "must be greater than or equal to `minReplicas`"))
    elif kind == "Ingress":
        for i, r in enumerate(spec.get("rules") or []):
            for j, p in enumerate(((r.get("http") or {}).get("paths")) or []):
                if p.get("pathType") not in ("Exact", "Prefix", "ImplementationSpecific"):
                    errs.append(FieldError("NotSupported", f"spec.rules[{i}].http.paths[{j}].pathType", p.get("pathType"), supported=["Exact", "ImplementationSpecific", "Prefix"]))
    return errs


def _strip_job_labels(tmpl: Any) -> Any:
    t = copy.deepcopy(tmpl) or {}
    labels = (t.get("metadata") or {}).get("labels") or {}
    for k in ("controller-uid", "job-name", "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name"):
        labels.pop(k, None)
    return t


def _service(spec: dict, old: dict | None) -> list[FieldError]:
    errs: list[FieldError] = []
    stype = spec.get("type", "ClusterIP")
    types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
    if stype not in types:
        errs.append(FieldError("NotSupported", "spec.type", stype, supported=types))
    ports = spec.get("ports") or []
    if stype != "ExternalName" and not ports and spec.get("clusterIP") != "None":
        errs.append(FieldError("Required", "spec.ports"))
    seen: set = set()
    for i, p in enumerate(ports):
        f = f"spec.ports[{i}]"
        port = p.get("port")
        if not isinstance(port, int) or not 1 <= port <= 65535:
            errs.append(FieldError("Invalid", f"{f}.port", port, "must be between 1 and 65535, inclusive"))
        if p.get("protocol") not in PROTOCOLS:
            errs.append(FieldError("NotSupported", f"{f}.protocol", p.get("protocol"), supported=PROTOCOLS))
        if len(ports) > 1 and not p.get("name"):
            errs.append(FieldError("Required", f"{f}.name"))
        if p.get("name"):
            if p["name"] in seen:
                errs.append(FieldError("Duplicate", f"{f}.name", p["name"]))
            seen.add(p["name"])
        tp = p.get("targetPort")
        if isinstance(tp, int) and not 1 <= tp <= 65535:
            errs.append(FieldError("Invalid", f"{f}.targetPort", tp, "must be between 1 and 65535, inclusive"))
        if isinstance(tp, str) and (len(tp) > 15 or not IANA_SVC.match(tp)):
            errs.append(FieldError("Invalid", f"{f}.targetPort", tp, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"))
        np = p.get("nodePort")
        if np is not None and stype == "ClusterIP":
            errs.append(FieldError("Forbidden", f"{f}.nodePort", detail="may not be used when `type` is 'ClusterIP'"))
    if old is not None:
        oip = (old.get("spec") or {}).get("clusterIP")
        nip = spec.get("clusterIP")
        if oip and nip and oip != nip and (old.get("spec") or {}).get("type") != "ExternalName":
            errs.append(FieldError("Invalid", "spec.clusterIPs[0]", nip, "may not change once set"))
    return errs


def _data(obj: dict, old: dict | None, kind: str) -> list[FieldError]:
    errs: list[FieldError] = []
    total = 0
    for fld in ("data", "stringData", "binaryData"):
        for k, v in (obj.get(fld) or {}).items():
            if not CONFIG_KEY.match(k) or len(k) > 253:
                errs.append(FieldError("Invalid", f"{fld}[{k}]", k, MSG_CONFIG_KEY))
            if isinstance(v, str):
                total += len(v) * 3 // 4 if (kind == "Secret" and fld == "data") or fld == "binaryData" else len(v)
    if total > 1024 * 1024:
        errs.append(FieldError("TooLong", "data", detail="must have at most 1048576 bytes"))
    if old is not None and old.get("immutable"):
        if obj.get("data") != old.get("data") or obj.get("binaryData") != old.get("binaryData"):
            errs.append(FieldError("Forbidden", "data", detail=f"field is immutable when `immutable` is set"))
        if not obj.get("immutable"):
            errs.append(FieldError("Forbidden", "immutable", detail="field is immutable when `immutable` is set"))
    if kind == "Secret" and old is not None and obj.get("type") != old.get("type"):
        errs.append(FieldError("Invalid", "type", obj.get("type"), "field is immutable"))
    return errs


def decode_secret_data(obj: dict) -> None:
    """Secret `data` values must be base64 (a decoding error is the JSON decoder's, 400);
    `stringData` is merged into `data` on write (the secret REST strategy)."""
    for k, v in (obj.get("data") or {}).items():
        if v is None:
            continue
        try:
            base64.b64decode(v, validate=True)
        except Exception:
            raise bad_request(
                f"Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte {len(v) // 4 * 4}"
            )
    sd = obj.pop("stringData", None)
    if sd:
        data = obj.setdefault("data", {}) or {}
        for k, v in sd.items():
            data[k] = base64.b64encode(str(v).encode()).decode()
        obj["data"] = data


# ---- patches -------------------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def json_patch(target: Any, ops: Any) -> Any:
    import jsonpatch

    if not isinstance(ops, list):
        raise bad_request("the server rejected our request due to an error in our request")
    try:
        return jsonpatch.apply_patch(target, ops)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, KeyError, IndexError, TypeError) as e:
        raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: {e}", {})


def strategic_merge(sch: Schemas, node: dict, live: Any, patch: Any) -> Any:
    """Strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch), driven by the schema's
    patch strategies and merge keys."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    out = copy.deepcopy(live) if isinstance(live, dict) else {}
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys") or k.startswith("$setElementOrder/"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            key = k.split("/", 1)[1]
            if isinstance(out.get(key), list):
                out[key] = [x for x in out[key] if x not in (v or [])]
            continue
        if v is None:
            out.pop(k, None)
            continue
        raw = sch.raw_child(node, k)
        child = sch.resolve(raw)
        if isinstance(v, dict):
            merged = strategic_merge(sch, child, out.get(k), v)
            if merged is None:
                out.pop(k, None)
            else:
                out[k] = merged
        elif isinstance(v, list):
            strategy = raw.get("x-kubernetes-patch-strategy", "") or ""
            key = raw.get("x-kubernetes-patch-merge-key")
            cur = out.get(k) if isinstance(out.get(k), list) else []
            if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in v):
                out[k] = [copy.deepcopy(x) for x in v if not (isinstance(x, dict) and x.get("$patch") == "replace")]
            elif "merge" in strategy and key:
                item_node = sch.items(raw)
                result = [copy.deepcopy(x) for x in cur]
                for item in v:
                    if not isinstance(item, dict):
                        continue
                    idx = next((i for i, x in enumerate(result) if isinstance(x, dict) and x.get(key) == item.get(key)), None)
                    if item.get("$patch") == "delete":
                        if idx is not None:
                            result.pop(idx)
                        continue
                    if idx is None:
                        result.append(strategic_merge(sch, item_node, {}, item))
                    else:
                        result[idx] = strategic_merge(sch, item_node, result[idx], item)
                order = patch.get(f"$setElementOrder/{k}")
                if isinstance(order, list):
                    rank = {json.dumps(o.get(key) if isinstance(o, dict) else o): i for i, o in enumerate(order)}
                    result.sort(key=lambda x: rank.get(json.dumps(x.get(key)), len(rank)))
                out[k] = result
            elif "merge" in strategy:
                out[k] = cur + [x for x in v if x not in cur]
            else:
                out[k] = copy.deepcopy(v)
        else:
            out[k] = v
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    return out


# ---- server-side apply field sets ---------------------------------------------------------------

Path = tuple


def fieldset(sch: Schemas, node: dict, obj: Any, prefix: Path = ()) -> set[Path]:
    """The leaf and interior field paths of `obj`, as structured-merge-diff sets them: map keys
    (`f:`), list-map items by their keys (`k:`), set items by value (`v:`); atomic lists and
    scalars are leaves."""
    out: set[Path] = set()
    if not isinstance(obj, dict):
        return out
    for k, v in obj.items():
        p = prefix + (("f", k),)
        out.add(p)
        raw = sch.raw_child(node, k)
        child = sch.resolve(raw)
        if isinstance(v, dict):
            if child.get("x-kubernetes-map-type") == "atomic":
                continue
            out |= fieldset(sch, child, v, p)
        elif isinstance(v, list):
            ltype = raw.get("x-kubernetes-list-type")
            keys = raw.get("x-kubernetes-list-map-keys")
            item_node = sch.items(raw)
            if ltype == "map" and keys:
                for item in v:
                    if isinstance(item, dict):
                        kp = p + (("k", tuple((kk, item.get(kk)) for kk in keys)),)
                        out.add(kp)
                        out |= fieldset(sch, item_node, item, kp)
            elif ltype == "set":
                for item in v:
                    out.add(p + (("v", json.dumps(item, sort_keys=True)),))
    return out


def _list_keys(sch: Schemas, node: dict, k: str) -> list[str] | None:
    raw = sch.raw_child(node, k)
    if raw.get("x-kubernetes-list-type") == "map":
        return raw.get("x-kubernetes-list-map-keys")
    return None


def value_at(sch: Schemas, node: dict, obj: Any, path: Path) -> tuple[bool, Any]:
    cur = obj
    for kind, key in path:
        if kind == "f":
            if not isinstance(cur, dict) or key not in cur:
                return False, None
            cur = cur[key]
        elif kind == "k":
            if not isinstance(cur, list):
                return False, None
            match = [x for x in cur if isinstance(x, dict) and all(x.get(a) == b for a, b in key)]
            if not match:
                return False, None
            cur = match[0]
        else:
            return (isinstance(cur, list) and json.loads(key) in cur), json.loads(key)
    return True, cur


def remove_path(obj: Any, path: Path) -> None:
    cur = obj
    for i, (kind, key) in enumerate(path):
        last = i == len(path) - 1
        if kind == "f":
            if not isinstance(cur, dict) or key not in cur:
                return
            if last:
                del cur[key]
                return
            cur = cur[key]
        elif kind == "k":
            if not isinstance(cur, list):
                return
            idx = next((j for j, x in enumerate(cur) if isinstance(x, dict) and all(x.get(a) == b for a, b in key)), None)
            if idx is None:
                return
            if last:
                cur.pop(idx)
                return
            cur = cur[idx]
        else:
            if isinstance(cur, list):
                val = json.loads(key)
                if val in cur:
                    cur.remove(val)
            return


def apply_merge(sch: Schemas, node: dict, live: Any, applied: Any) -> Any:
    """Merges an applied configuration into the live object: maps key by key, list-maps item by
    key, sets by value; atomic lists and scalars replaced."""
    if not isinstance(applied, dict) or not isinstance(live, dict):
        return copy.deepcopy(applied)
    out = copy.deepcopy(live)
    for k, v in applied.items():
        raw = sch.raw_child(node, k)
        child = sch.resolve(raw)
        if isinstance(v, dict) and child.get("x-kubernetes-map-type") != "atomic":
            out[k] = apply_merge(sch, child, out.get(k), v)
        elif isinstance(v, list) and raw.get("x-kubernetes-list-type") in ("map", "set"):
            cur = out.get(k) if isinstance(out.get(k), list) else []
            keys = raw.get("x-kubernetes-list-map-keys")
            item_node = sch.items(raw)
            result: list = []
            if raw.get("x-kubernetes-list-type") == "map" and keys:
                for item in v:
                    if not isinstance(item, dict):
                        continue
                    match = next((x for x in cur if isinstance(x, dict) and all(x.get(a) == item.get(a) for a in keys)), None)
                    result.append(apply_merge(sch, item_node, match, item) if match is not None else copy.deepcopy(item))
                for x in cur:
                    if not any(isinstance(x, dict) and all(x.get(a) == y.get(a) for a in keys) for y in v if isinstance(y, dict)):
                        result.append(x)
            else:
                result = list(v) + [x for x in cur if x not in v]
            out[k] = result
        else:
            out[k] = copy.deepcopy(v)
    return out


def fields_v1(paths: set[Path]) -> dict:
    """A field set in managedFields' FieldsV1 form."""
    tree: dict = {}
    for p in sorted(paths, key=len):
        cur = tree
        for kind, key in p:
            if kind == "f":
                name = f"f:{key}"
            elif kind == "k":
                name = "k:" + json.dumps(dict(key), separators=(",", ":"))
            else:
                name = f"v:{key}"
            cur = cur.setdefault(name, {})
    def dots(t: dict, top: bool) -> dict:
        out = {}
        for k, v in t.items():
            child = dots(v, False)
            if child and k.startswith("k:"):
                child = {".": {}, **child}
            out[k] = child
        return out
    return dots(tree, True)
