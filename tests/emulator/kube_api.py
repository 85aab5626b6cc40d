"""A Kubernetes API emulator for the emulator's EKS clusters: the harness's stand-in for each
cluster's API server, since no real one can run on the test machines.

`plugins/eks_kubernetes_api.py` starts it inside the moto process and points every EKS
cluster's `endpoint` at it (`https://127.0.0.1:PORT/clusters/REGION/NAME`, a server URL with a
path prefix, which client-go accepts), with `certificateAuthority.data` the base64 of its CA.
It is not a Kubernetes API server; it answers the subset of the Kubernetes API that Helm v4
(install, upgrade, rollback, status, uninstall, with its kstatus "watcher" wait) and kubectl-style
clients use, as kube-apiserver answers it (Kubernetes API reference, "API Concepts"):

- **TLS** with a certificate for 127.0.0.1 and localhost, signed by a CA made at start-up
  (`cryptography`), HTTP/1.1 only (no ALPN h2; Go's client falls back to HTTP/1.1).
- **Non-resource URLs**: `/version` (gitVersion `v1.X.Y-eks-...` for the cluster's version),
  `/healthz`, `/livez`, `/readyz`; discovery `/api`, `/api/v1`, `/apis`, `/apis/GROUP`,
  `/apis/GROUP/VERSION` in the plain (unaggregated) form: a request that asks for aggregated
  discovery (`Accept: ...;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`, with plain JSON
  as its fallback) gets the plain form, as from a server without aggregated discovery, and
  client-go then walks the group versions; `/openapi/v3` and `/openapi/v3/api/v1`,
  `/openapi/v3/apis/GROUP/VERSION` (paths with their operations and parameters, notably
  `fieldValidation` on PATCH, which is how kubectl and Helm learn that the server validates
  fields itself, and the components' schemas, from the cluster version's bundled schemas);
  `/openapi/v2` answers 404, as servers that only publish v3 would (clients that need it fall
  back to v3 or fail, as they would there).
- **Objects** of the kinds in `kube_schema.RESOURCES`, per cluster: GET, LIST (label and field
  selectors, `limit`/`continue`, `resourceVersion`, `kind: XList` with items without their own
  apiVersion/kind), WATCH (`watch=true`: newline-delimited JSON events streamed with chunked
  encoding from the given resourceVersion; `resourceVersion` unset or 0 starts with synthetic
  ADDED events; `sendInitialEvents=true` with `resourceVersionMatch=NotOlderThan` (client-go's
  WatchList, on by default since 1.35) sends the current objects then a BOOKMARK annotated
  `k8s.io/initial-events-end: "true"`; a resourceVersion older than the kept history is an
  ERROR event 410 Expired; objects leaving or entering a filtered watch are DELETED/ADDED),
  POST, PUT (a stale resourceVersion is 409 Conflict), PATCH (JSON patch, merge patch,
  strategic merge patch, server-side apply with `fieldManager` and `force`), DELETE (with
  propagationPolicy Background, Foreground and Orphan, preconditions, finalizers, graceful pod
  deletion) and DELETE of a collection. Server-managed metadata: uid, resourceVersion (one
  counter per cluster, like etcd's revision), generation (kinds that keep one; bumped when
  anything but metadata and status changes), creationTimestamp, deletionTimestamp,
  managedFields. Writes to a resource with a status subresource ignore its status, and
  `/status` writes only change the status. `dryRun=All` computes and does not store.
- **Admission**: a namespaced object in a namespace that does not exist is 404
  `namespaces "x" not found`; in a terminating one 403 Forbidden "unable to create new content
  in namespace x because it is being terminated"; `default`, `kube-system`, `kube-public` may
  not be deleted.
- **Validation and defaulting** (`kube_schema.py`), the Service IP allocator (the cluster's
  `kubernetesNetworkConfig.serviceIpv4Cidr`) and node ports (30000-32767).
- **Controllers** with real delays (`kube_controllers.py`): deployments, replica sets, stateful
  sets, daemon sets, jobs, pods scheduled onto the nodes of the cluster's managed node groups
  (their instance types' allocatable CPU, memory and pods), namespace deletion, garbage
  collection of dependents.
- **Authentication and authorization** as EKS does them (`kube_auth.py`).

Errors are `kind: Status` documents with kube-apiserver's reasons, codes and wording. Each
cluster's objects live as long as the cluster: a deleted cluster, a cluster created again under
the same name, and `POST /moto-api/reset` start from an empty cluster (the default namespaces,
the bootstrap RBAC objects).

Simplified, and said so: no protobuf or CBOR (requests must accept JSON; every Kubernetes client
does), no Table output (`as=Table` requests get the plain object, which clients accept as the
fallback they offer), no `/scale` subresource, no pod logs/exec/port-forward, no CRDs or
aggregated APIs, no admission webhooks, no Endpoints/EndpointSlices, one version per group.
"""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
import http.server
import ipaddress
import json
import os
import random
import select
import socket
import ssl
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid
from collections import deque
from typing import Any

import kube_auth
import kube_schema as ks
from kube_schema import ApiError, Resource

HISTORY = 50000  # watch events kept per cluster (older resourceVersions are 410 Gone)
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
UNDELETABLE = ("default", "kube-system", "kube-public")


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def log(msg: str) -> None:
    kube_auth.log(msg)


# ---- certificates ------------------------------------------------------------------------------


def make_certificates() -> tuple[bytes, bytes, bytes]:
    """(CA PEM, server certificate PEM, server key PEM): a CA and a certificate for 127.0.0.1
    and localhost that it signs."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.DNSName("kubernetes"), x509.DNSName("kubernetes.default.svc"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            ]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return (
        ca.public_bytes(pem),
        cert.public_bytes(pem),
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


# ---- one cluster's store --------------------------------------------------------------------------


def key_of(res: Resource, namespace: str, name: str) -> tuple[str, str, str]:
    return (res.plural, namespace if res.namespaced else "", name)


class Store:
    """One EKS cluster's objects, its resourceVersion counter and its watch history."""

    def __init__(self, cluster: Any, account: str, region: str):
        self.cluster = cluster  # the moto Cluster object it belongs to
        self.account, self.region, self.name = account, region, cluster.name
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rv = 0
        self.objects: dict[tuple[str, str, str], dict] = {}
        self.history: deque = deque(maxlen=HISTORY)
        self.oldest = 1
        self.managers: dict[tuple[str, str, str], dict[str, dict]] = {}
        self.internal: dict[Any, Any] = {}  # controllers' bookkeeping
        self.service_ips: set[str] = set()
        self.node_ports: set[int] = set()
        self.dead = False
        with self.lock:
            for ns in DEFAULT_NAMESPACES:
                obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                ks.default_object(ks.BY_KIND[("", "Namespace")], obj)
                obj["status"] = {"phase": "Active"}
                self.create_internal(ks.BY_KIND[("", "Namespace")], obj, "kube-apiserver")
            for obj in kube_auth.bootstrap_rbac():
                self.create_internal(ks.BY_KIND[("rbac.authorization.k8s.io", obj["kind"])], obj, "kube-apiserver")
            svc = {
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
                "spec": {"ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}]},
            }
            res = ks.BY_KIND[("", "Service")]
            ks.default_object(res, svc)
            self.allocate_service(svc, None)
            self.create_internal(res, svc, "kube-apiserver")

    # -- versions, clock, identity
    @property
    def version(self) -> str:
        return getattr(self.cluster, "version", None) or "1.33"

    @property
    def minor(self) -> int:
        return ks.minor_of(self.version)

    @property
    def schemas(self) -> ks.Schemas:
        return ks.schemas_for(self.version)

    # -- raw access (callers hold the lock)
    def get(self, res: Resource, namespace: str, name: str) -> dict | None:
        return self.objects.get(key_of(res, namespace, name))

    def list(self, res: Resource, namespace: str | None = None) -> list[dict]:
        out = [o for (plural, ns, _), o in self.objects.items() if plural == res.plural and (namespace is None or ns == namespace)]
        out.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return out

    def list_plural(self, plural: str, namespace: str | None) -> list[dict]:
        for r in ks.RESOURCES:
            if r.plural == plural:
                return self.list(r, namespace)
        return []

    def _record(self, kind: str, res: Resource, obj: dict, prev: dict | None) -> None:
        self.history.append((self.rv, kind, res.plural, obj["metadata"].get("namespace", ""), obj, prev))
        if len(self.history) == self.history.maxlen:
            self.oldest = self.history[0][0]
        self.changed.notify_all()
        KICK.set()

    def write(self, res: Resource, obj: dict, prev: dict | None) -> dict:
        """Stores a new state of an object (with a new resourceVersion) and tells the watchers."""
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        k = key_of(res, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        self.objects[k] = obj
        self._render_managed(res, k, obj)
        self._record("ADDED" if prev is None else "MODIFIED", res, obj, prev)
        return obj

    def remove(self, res: Resource, obj: dict) -> None:
        k = key_of(res, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        prev = self.objects.pop(k, None)
        self.managers.pop(k, None)
        if prev is None:
            return
        if res.kind == "Service":
            for ip in (prev.get("spec") or {}).get("clusterIPs") or []:
                self.service_ips.discard(ip)
            for p in (prev.get("spec") or {}).get("ports") or []:
                self.node_ports.discard(p.get("nodePort"))
        self.rv += 1
        gone = copy.deepcopy(prev)
        gone["metadata"]["resourceVersion"] = str(self.rv)
        self._record("DELETED", res, gone, prev)

    def _render_managed(self, res: Resource, k: tuple, obj: dict) -> None:
        entries = []
        for manager, m in sorted((self.managers.get(k) or {}).items(), key=lambda x: x[1]["time"]):
            if not m["set"]:
                continue
            e = {"manager": manager.split("\x00")[0], "operation": m["operation"], "apiVersion": res.group_version,
                 "time": m["time"], "fieldsType": "FieldsV1", "fieldsV1": ks.fields_v1(m["set"])}
            if m.get("subresource"):
                e["subresource"] = m["subresource"]
            entries.append(e)
        if entries:
            obj["metadata"]["managedFields"] = entries
        else:
            obj["metadata"].pop("managedFields", None)

    def own(self, res: Resource, obj: dict, manager: str, operation: str, fields: set, subresource: str = "", replace: bool = True) -> None:
        """Records that `manager` set `fields`; other managers of an Update lose the fields it
        changed."""
        k = key_of(res, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        mk = manager if operation == "Apply" else f"{manager}\x00{operation}\x00{subresource}"
        managers = self.managers.setdefault(k, {})
        for other_key, other in managers.items():
            if other_key != mk:
                other["set"] -= fields
        entry = managers.setdefault(mk, {"operation": operation, "set": set(), "subresource": subresource})
        entry["set"] = set(fields) if replace else entry["set"] | fields
        entry["time"] = now_rfc3339()

    def create_internal(self, res: Resource, obj: dict, manager: str) -> dict:
        md = obj.setdefault("metadata", {})
        md.setdefault("uid", str(uuid.uuid4()))
        md.setdefault("creationTimestamp", now_rfc3339())
        if res.namespaced:
            md.setdefault("namespace", "default")
        if res.generation:
            md["generation"] = 1
        obj.setdefault("apiVersion", res.group_version)
        obj.setdefault("kind", res.kind)
        fields = ks.fieldset(self.schemas, self.schemas.root(res), _user_fields(obj))
        k = key_of(res, md.get("namespace", ""), md["name"])
        self.managers[k] = {}
        self.own(res, obj, manager, "Update", fields)
        return self.write(res, obj, None)

    # -- Services
    def allocate_service(self, svc: dict, old: dict | None) -> None:
        spec = svc.setdefault("spec", {})
        if spec.get("type") == "ExternalName":
            return
        cidr = ipaddress.ip_network((getattr(self.cluster, "kubernetes_network_config", None) or {}).get("serviceIpv4Cidr") or "172.20.0.0/16", strict=False)
        if old is not None:
            ospec = old.get("spec") or {}
            spec.setdefault("clusterIP", ospec.get("clusterIP"))
            spec.setdefault("clusterIPs", ospec.get("clusterIPs"))
        ip = spec.get("clusterIP")
        if ip == "None":
            spec["clusterIPs"] = ["None"]
        elif ip:
            if old is None or ip not in ((old.get("spec") or {}).get("clusterIPs") or []):
                try:
                    inside = ipaddress.ip_address(ip) in cidr
                except ValueError:
                    inside = False
                name = (svc.get("metadata") or {}).get("name", "")
                res = ks.BY_KIND[("", "Service")]
                if not inside:
                    raise ks.invalid(res, name, [ks.FieldError("Invalid", "spec.clusterIPs", [ip], f"failed to allocate IP {ip}: provided IP is not in the valid range. The range of valid IPs is {cidr}")])
                if ip in self.service_ips:
                    raise ks.invalid(res, name, [ks.FieldError("Invalid", "spec.clusterIPs", [ip], f"failed to allocate IP {ip}: provided IP is already allocated")])
                self.service_ips.add(ip)
            spec["clusterIPs"] = [ip]
        else:
            hosts = cidr.num_addresses
            for _ in range(1000):
                cand = str(cidr.network_address + random.randrange(10, max(11, hosts - 1)))
                if cand not in self.service_ips:
                    break
            if (svc["metadata"].get("namespace"), svc["metadata"].get("name")) == ("default", "kubernetes"):
                cand = str(cidr.network_address + 1)
            self.service_ips.add(cand)
            spec["clusterIP"] = cand
            spec["clusterIPs"] = [cand]
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            old_ports = {(p.get("port"), p.get("protocol")): p.get("nodePort") for p in ((old or {}).get("spec") or {}).get("ports") or []}
            for p in spec.get("ports") or []:
                if p.get("nodePort"):
                    np = p["nodePort"]
                    if not 30000 <= np <= 32767:
                        raise ks.invalid(ks.BY_KIND[("", "Service")], svc["metadata"].get("name", ""), [ks.FieldError("Invalid", "spec.ports[0].nodePort", np, "provided port is not in the valid range. The range of valid ports is 30000-32767")])
                    self.node_ports.add(np)
                    continue
                keep = old_ports.get((p.get("port"), p.get("protocol")))
                if keep:
                    p["nodePort"] = keep
                    continue
                while True:
                    np = random.randint(30000, 32767)
                    if np not in self.node_ports:
                        self.node_ports.add(np)
                        p["nodePort"] = np
                        break


def _user_fields(obj: dict) -> dict:
    """The object without server-managed metadata and without status: what managers own."""
    out = {k: v for k, v in obj.items() if k not in ("status", "apiVersion", "kind")}
    md = {k: v for k, v in (obj.get("metadata") or {}).items() if k in ("labels", "annotations", "finalizers", "ownerReferences")}
    out["metadata"] = md
    return out


KICK = threading.Event()  # set on every write: the controllers run at once


class Registry:
    """The stores of every EKS cluster of the moto process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stores: dict[str, Store] = {}

    def _moto_cluster(self, region: str, name: str) -> tuple[str, Any] | None:
        from moto.eks.models import eks_backends

        for account in list(eks_backends.keys()):
            try:
                backend = eks_backends[account][region]
            except KeyError:
                continue
            cluster = backend.clusters.get(name)
            if cluster is not None:
                return account, cluster
        return None

    def find(self, region: str, name: str) -> Store | None:
        found = self._moto_cluster(region, name)
        if found is None:
            self.drop(region, name)
            return None
        account, cluster = found
        k = f"{region}/{name}"
        with self.lock:
            store = self.stores.get(k)
            if store is not None and store.cluster is not cluster:
                store.dead = True
                store = None
            if store is None:
                store = Store(cluster, account, region)
                self.stores[k] = store
            return store

    def drop(self, region: str, name: str) -> None:
        with self.lock:
            store = self.stores.pop(f"{region}/{name}", None)
        if store is not None:
            store.dead = True
            with store.lock:
                store.changed.notify_all()

    def all(self) -> list[Store]:
        with self.lock:
            stores = list(self.stores.values())
        out = []
        for s in stores:
            found = self._moto_cluster(s.region, s.name)
            if found is None or found[1] is not s.cluster:
                self.drop(s.region, s.name)
            else:
                out.append(s)
        return out

    def reset(self) -> None:
        with self.lock:
            stores = list(self.stores.values())
            self.stores.clear()
        for s in stores:
            s.dead = True
            with s.lock:
                s.changed.notify_all()


REGISTRY = Registry()


# ---- selectors --------------------------------------------------------------------------------


def parse_label_selector(text: str) -> list[tuple[str, str, list[str]]]:
    """k8s.io/apimachinery/pkg/labels Parse: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
    `a notin (x)`, `a`, `!a`; raises 400 on anything else."""
    out: list[tuple[str, str, list[str]]] = []
    text = text.strip()
    if not text:
        return out
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    import re

    for p in parts:
        p = p.strip()
        m = re.fullmatch(r"([A-Za-z0-9./_-]+)\s+(in|notin)\s+\(([^)]*)\)", p)
        if m:
            out.append((m.group(1), m.group(2), [v.strip() for v in m.group(3).split(",") if v.strip()]))
            continue
        m = re.fullmatch(r"([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)", p)
        if m:
            out.append((m.group(1), "!=" if m.group(2) == "!=" else "=", [m.group(3)]))
            continue
        m = re.fullmatch(r"(!?)([A-Za-z0-9./_-]+)", p)
        if m:
            out.append((m.group(2), "!" if m.group(1) else "exists", []))
            continue
        raise ApiError(400, "BadRequest", f"unable to parse requirement: found '{p}', expected: identifier")
    return out


def label_match(reqs: list, labels: dict | None) -> bool:
    labels = labels or {}
    for k, op, vals in reqs:
        if op == "=" and labels.get(k) != vals[0]:
            return False
        if op == "!=" and labels.get(k) == vals[0]:
            return False
        if op == "in" and labels.get(k) not in vals:
            return False
        if op == "notin" and labels.get(k) in vals:
            return False
        if op == "exists" and k not in labels:
            return False
        if op == "!" and k in labels:
            return False
    return True


FIELD_LABELS = {
    "pods": ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"],
    "events": ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"],
    "secrets": ["type"],
    "namespaces": ["status.phase"],
    "nodes": ["spec.unschedulable"],
    "replicasets": ["status.replicas"],
    "jobs": ["status.successful"],
}


def parse_field_selector(res: Resource, text: str) -> list[tuple[str, bool, str]]:
    out = []
    for p in [x.strip() for x in text.split(",") if x.strip()]:
        if "!=" in p:
            f, v = p.split("!=", 1)
            neg = True
        elif "==" in p:
            f, v = p.split("==", 1)
            neg = False
        elif "=" in p:
            f, v = p.split("=", 1)
            neg = False
        else:
            raise ApiError(400, "BadRequest", f"invalid selector: '{text}'; can't understand '{p}'")
        allowed = ["metadata.name", "metadata.namespace"] + FIELD_LABELS.get(res.plural, [])
        if f not in allowed:
            raise ApiError(400, "BadRequest", f'field label not supported: {f}')
        out.append((f, neg, v))
    return out


def field_match(reqs: list, obj: dict) -> bool:
    for f, neg, v in reqs:
        cur: Any = obj
        for part in f.split("."):
            cur = cur.get(part) if isinstance(cur, dict) else None
        have = "" if cur is None else (str(cur).lower() if isinstance(cur, bool) else str(cur))
        if (have == v) == neg:
            return False
    return True


# ---- the HTTP front ------------------------------------------------------------------------------


class Request:
    def __init__(self, handler: "Handler", method: str, path: str, query: dict[str, list[str]], body: bytes):
        self.h = handler
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.headers = handler.headers

    def q(self, name: str, default: str = "") -> str:
        v = self.query.get(name)
        return v[0] if v else default

    def flag(self, name: str) -> bool:
        return self.q(name).lower() in ("true", "1")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "carbonc-kube-api-emulator"
    sys_version = ""

    def log_message(self, fmt: str, *args: Any) -> None:
        if os.environ.get("CARBONC_KUBE_API_LOG"):
            log(f"{self.address_string()} {fmt % args}")

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, ssl.SSLError, socket.timeout, OSError):
            self.close_connection = True

    def _serve(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        req = Request(self, self.command, urllib.parse.unquote(parsed.path), query, body)
        try:
            SERVER.dispatch(req)
        except ApiError as e:
            self.send_json(e.code, e.status(), e.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # an emulator bug: say so as a 500, and in the log
            log("internal error: " + "".join(traceback.format_exception(e)))
            self.send_json(500, ApiError(500, "InternalError", f"Internal error occurred: emulator: {e!r}").status())

    def _read_chunked(self) -> bytes:
        out = b""
        while True:
            size = int(self.rfile.readline().strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return out
            out += self.rfile.read(size)
            self.rfile.readline()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def send_json(self, code: int, doc: Any, headers: dict | None = None) -> None:
        data = json.dumps(doc, separators=(",", ":")).encode() + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            if isinstance(v, list):
                for x in v:
                    self.send_header(k, x)
            else:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_text(self, code: int, text: str, ctype: str = "text/plain; charset=utf-8") -> None:
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # -- streaming (watch)
    def start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def chunk(self, doc: Any) -> None:
        data = json.dumps(doc, separators=(",", ":")).encode() + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def end_stream(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def client_gone(self) -> bool:
        """Whether the client closed a connection we are streaming on."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            self.connection.setblocking(False)
            try:
                data = self.connection.recv(1)
            finally:
                self.connection.setblocking(True)
            return data == b""
        except ssl.SSLWantReadError:
            return False
        except (OSError, ValueError):
            return True


class ThreadingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], context: ssl.SSLContext):
        super().__init__(addr, Handler)
        self.context = context

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        return sock, addr

    def process_request_thread(self, request: socket.socket, client_address: Any) -> None:
        try:
            request.settimeout(30)
            tls = self.context.wrap_socket(request, server_side=True)
            tls.settimeout(None)
        except (ssl.SSLError, OSError):
            self.shutdown_request(request)
            return
        super().process_request_thread(tls, client_address)


# ---- the server ------------------------------------------------------------------------------------


class KubeApi:
    def __init__(self, sts_address: str):
        self.verifier = kube_auth.Verifier(sts_address)
        self.ca_pem, cert_pem, key_pem = make_certificates()
        self._tmp = tempfile.mkdtemp(prefix="carbonc-kube-api-")
        cert_file, key_file = os.path.join(self._tmp, "tls.crt"), os.path.join(self._tmp, "tls.key")
        with open(cert_file, "wb") as f:
            f.write(cert_pem)
        with open(key_file, "wb") as f:
            f.write(key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert_file, key_file)
        context.set_alpn_protocols(["http/1.1"])
        self.httpd = ThreadingServer(("127.0.0.1", 0), context)
        self.port = self.httpd.server_address[1]

    def endpoint(self, region: str, name: str) -> str:
        return f"https://127.0.0.1:{self.port}/clusters/{region}/{name}"

    def start(self) -> None:
        threading.Thread(target=self.httpd.serve_forever, name="kube-api", daemon=True).start()
        import kube_controllers

        threading.Thread(target=kube_controllers.run_forever, args=(REGISTRY,), name="kube-controllers", daemon=True).start()

    # -- routing
    def dispatch(self, req: Request) -> None:
        parts = req.path.split("/")
        if len(parts) < 4 or parts[1] != "clusters":
            req.h.send_text(404, "404 page not found\n")
            return
        region, name = parts[2], parts[3]
        rest = "/" + "/".join(parts[4:])
        store = REGISTRY.find(region, name)
        if store is None:
            # No such cluster: as a host that does not answer.
            req.h.send_text(404, "404 page not found\n")
            return
        if getattr(store.cluster, "status", "ACTIVE") not in ("ACTIVE", "UPDATING"):
            raise ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request")
        user = self.authenticate(req, store)
        req.user = user
        if rest.rstrip("/") in ("", "/"):
            rest = "/"
        self.route(req, store, rest)

    def authenticate(self, req: Request, store: Store) -> kube_auth.User:
        auth = req.headers.get("Authorization")
        if not auth:
            return kube_auth.ANONYMOUS
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Unauthorized", "Unauthorized")
        try:
            ident = self.verifier.verify(token.strip(), store.name)
            with store.lock:
                aws_auth = store.get(ks.BY_KIND[("", "ConfigMap")], "kube-system", "aws-auth")
            return kube_auth.map_identity(store.cluster, ident, aws_auth, lambda arn: principal_id(store.account, arn))
        except kube_auth.Unauthorized as e:
            log(f"cluster {store.name}: 401: {e}")
            raise ApiError(401, "Unauthorized", "Unauthorized")

    def authorize(self, req: Request, store: Store, a: kube_auth.Attributes) -> None:
        def list_objects(plural: str, namespace: str | None) -> list[dict]:
            with store.lock:
                return store.list_plural(plural, namespace)

        if kube_auth.authorize(req.user, a, list_objects):
            return
        msg = kube_auth.forbidden_message(req.user, a)
        if not a.resource_request:
            raise ApiError(403, "Forbidden", f"forbidden: {msg}", {})
        res = a.resource + (f".{a.group}" if a.group else "")
        text = f'{res} "{a.name}" is forbidden: {msg}' if a.name else f"{res} is forbidden: {msg}"
        raise ApiError(403, "Forbidden", text, {"name": a.name, "group": a.group, "kind": a.resource} if a.name else {"group": a.group, "kind": a.resource})

    def route(self, req: Request, store: Store, rest: str) -> None:
        segs = [s for s in rest.split("/") if s]
        if segs[:1] == ["api"] and len(segs) >= 3:
            group, version, tail = "", segs[1], segs[2:]
        elif segs[:1] == ["apis"] and len(segs) >= 4:
            group, version, tail = segs[1], segs[2], segs[3:]
        else:
            # discovery, /version, /openapi, health checks, and unknown paths
            self.nonresource(req, store, rest, segs)
            return
        if group not in ks.GROUPS or version not in ks.GROUPS[group]:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        self.resource(req, store, group, version, tail)

    # -- non-resource URLs
    def nonresource(self, req: Request, store: Store, rest: str, segs: list[str]) -> None:
        verb = {"GET": "get", "HEAD": "head", "POST": "post", "PUT": "put", "DELETE": "delete", "PATCH": "patch"}.get(req.method, req.method.lower())
        path = rest if rest == "/" else rest.rstrip("/")
        self.authorize(req, store, kube_auth.Attributes(verb=verb, resource_request=False, path=path))
        if req.method not in ("GET", "HEAD"):
            raise ApiError(405, "MethodNotAllowed", f"the server does not allow this method on the requested resource", {})
        if segs[:1] == ["version"]:
            minor = store.minor
            req.h.send_json(200, {
                "major": "1", "minor": str(minor), "emulationMajor": "1", "emulationMinor": str(minor),
                "minCompatibilityMajor": "1", "minCompatibilityMinor": str(max(0, minor - 1)),
                "gitVersion": f"v1.{minor}.5-eks-{hashlib.sha1(store.name.encode()).hexdigest()[:7]}",
                "gitCommit": hashlib.sha1(f"{minor}".encode()).hexdigest(), "gitTreeState": "clean",
                "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24.9", "compiler": "gc", "platform": "linux/amd64",
            })
            return
        if segs[:1] in (["healthz"], ["livez"], ["readyz"]):
            req.h.send_text(200, "ok")
            return
        if segs[:1] == ["openapi"]:
            self.openapi(req, store, segs[1:])
            return
        if path == "/api":
            req.h.send_json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:443"}]})
            return
        if path == "/api/v1":
            req.h.send_json(200, self.resource_list("", "v1"))
            return
        if path == "/apis":
            groups = []
            for g, versions in ks.GROUPS.items():
                if not g:
                    continue
                vs = [{"groupVersion": f"{g}/{v}", "version": v} for v in versions]
                groups.append({"name": g, "versions": vs, "preferredVersion": vs[0]})
            req.h.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
            return
        if len(segs) == 2 and segs[0] == "apis" and segs[1] in ks.GROUPS and segs[1]:
            vs = [{"groupVersion": f"{segs[1]}/{v}", "version": v} for v in ks.GROUPS[segs[1]]]
            req.h.send_json(200, {"kind": "APIGroup", "apiVersion": "v1", "name": segs[1], "versions": vs, "preferredVersion": vs[0]})
            return
        if len(segs) == 3 and segs[0] == "apis" and segs[1] in ks.GROUPS and segs[2] in ks.GROUPS[segs[1]]:
            req.h.send_json(200, self.resource_list(segs[1], segs[2]))
            return
        raise ApiError(404, "NotFound", "the server could not find the requested resource", {})

    def resource_list(self, group: str, version: str) -> dict:
        resources = []
        for r in ks.RESOURCES:
            if r.group != group or r.version != version:
                continue
            entry = {"name": r.plural, "singularName": r.kind.lower(), "namespaced": r.namespaced, "kind": r.kind, "verbs": r.verbs,
                     "storageVersionHash": base64.b64encode(hashlib.sha256(f"{r.group_version}/{r.kind}".encode()).digest()[:8]).decode()}
            if r.short_names:
                entry["shortNames"] = list(r.short_names)
            if r.categories:
                entry["categories"] = list(r.categories)
            resources.append(entry)
            for sub in r.subresources:
                resources.append({"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced, "kind": r.kind, "verbs": ["get", "patch", "update"]})
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}" if group else version, "resources": resources}

    def openapi(self, req: Request, store: Store, segs: list[str]) -> None:
        if segs[:1] != ["v3"]:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        import kube_openapi

        if len(segs) == 1:
            req.h.send_json(200, kube_openapi.index(store.version))
            return
        gv = "/".join(segs[1:])
        doc = kube_openapi.document(store.version, gv)
        if doc is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        req.h.send_json(200, doc, {"Etag": '"' + kube_openapi.doc_hash(store.version, gv) + '"'})

    # -- resources
    def resource(self, req: Request, store: Store, group: str, version: str, tail: list[str]) -> None:
        namespace = ""
        if len(tail) >= 3 and tail[0] == "namespaces" and (group, version, tail[2]) in ks.BY_PATH:
            namespace, tail = tail[1], tail[2:]
        if not tail:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        res = ks.BY_PATH.get((group, version, tail[0]))
        if res is None or (namespace and not res.namespaced):
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        name = tail[1] if len(tail) > 1 else ""
        sub = tail[2] if len(tail) > 2 else ""
        if len(tail) > 3 or (sub and sub not in res.subresources):
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        if res.namespaced and not namespace and name:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        m = req.method
        if m == "GET":
            verb = "get" if name else ("watch" if req.flag("watch") else "list")
        elif m == "POST":
            verb = "create"
        elif m == "PUT":
            verb = "update"
        elif m == "PATCH":
            verb = "patch"
        elif m == "DELETE":
            verb = "delete" if name else "deletecollection"
        else:
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})
        attrs = kube_auth.Attributes(verb=verb, resource_request=True, group=group, version=version, resource=res.plural,
                                     subresource=sub, namespace=namespace, name=name)
        self.authorize(req, store, attrs)
        if res.read_only and verb not in ("get", "list", "watch"):
            raise ApiError(405, "MethodNotAllowed", f"the server does not allow this method on the requested resource", {})
        if (m == "POST" and name) or (m in ("PUT", "PATCH") and not name):
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})
        import kube_ops

        ops = kube_ops.Ops(store, res, namespace, req)
        if verb == "get":
            ops.get(name, sub)
        elif verb == "list":
            ops.list()
        elif verb == "watch":
            ops.watch()
        elif verb == "create":
            ops.create()
        elif verb == "update":
            ops.update(name, sub)
        elif verb == "patch":
            ops.patch(name, sub)
        elif verb == "delete":
            ops.delete(name)
        else:
            ops.delete_collection()


def principal_id(account: str, arn: str) -> str | None:
    """The IAM id of the user or role an ARN names now (None: gone)."""
    from moto.iam import models as iam_models

    kind, _, rest = arn.split(":")[-1].partition("/")
    short = rest.rsplit("/", 1)[-1]
    try:
        iam = iam_models.iam_backends[arn.split(":")[4] or account]["global"]
    except KeyError:
        return None
    if kind == "user":
        u = next((u for u in list(iam.users.values()) if u.name == short), None)
        return u.id if u else None
    if kind == "role":
        r = next((r for r in list(iam.roles.values()) if r.name == short), None)
        return r.id if r else None
    return None


SERVER: KubeApi = None  # type: ignore[assignment]


def start(sts_address: str) -> KubeApi:
    global SERVER
    SERVER = KubeApi(sts_address)
    SERVER.start()
    return SERVER
