"""Authentication and authorization of the Kubernetes API emulator, as EKS does them.

Part of the harness-owned Kubernetes API emulator (`kube_api.py`).

**Authentication** follows aws-iam-authenticator's token verifier
(kubernetes-sigs/aws-iam-authenticator, pkg/token/token.go `tokenVerifier.Verify`, and
pkg/arn/arn.go `Canonicalize`), which EKS runs as the API server's token webhook:
- the bearer token is at most 4096 bytes, starts with `k8s-aws-v1.`, and the rest is base64url
  without padding of a URL;
- the URL is `https` on an STS host (`sts.amazonaws.com`, `sts.REGION.amazonaws.com`, their FIPS
  and dual-stack forms) with path `/`, no duplicate, multi-valued or unknown query parameters
  (only Action, Version and the X-Amz-* signing ones), `Action=GetCallerIdentity`,
  `x-k8s-aws-id` among `X-Amz-SignedHeaders`, `X-Amz-Expires` between 0 and 900, and an
  `X-Amz-Date` less than 15 minutes old;
- the verifier then GETs that URL with `x-k8s-aws-id: <this cluster's name>` and
  `accept: application/json`; STS checks the signature, so a token made for another cluster
  fails there; a non-200 answer fails;
- the caller's ARN is canonicalized: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` becomes
  `arn:aws:iam::ACCOUNT:role/ROLE`; IAM users, roles, root and federated users are taken as they
  are; anything else (moto's made-up `arn:aws:sts::ACCOUNT:user/moto` for unknown access keys)
  fails.
Every failure is `401 Unauthorized` to the client (the reason goes to the server log, as the
authenticator logs it). The emulator's one liberty: the URL may also be the moto server's own
`http://127.0.0.1:PORT/` (the emulator's STS, as `AWS_ENDPOINT_URL` makes it the SDK's), and a
real STS host is answered by that same server (the emulator does not call AWS).
A request without an `Authorization` header is anonymous (`system:anonymous`, group
`system:unauthenticated`), as with kube-apiserver's default `--anonymous-auth=true`, which EKS
keeps: it may read only `/version`, `/healthz`, `/livez` and `/readyz` (the
`system:public-info-viewer` binding); anything else is 403.

**Mapping to a Kubernetes user** follows the EKS User Guide ("Grant IAM users access to
Kubernetes with EKS access entries", "Create access entries", "Migrating existing aws-auth
ConfigMap entries to access entries"):
- with authentication mode API or API_AND_CONFIG_MAP, the IAM principal's access entry (a role's
  entry matches its assumed-role sessions; a path in the entry's ARN is ignored) gives the
  username (default the user ARN, or `arn:aws:sts::ACCOUNT:assumed-role/ROLE/{{SessionName}}`
  for a role) and the Kubernetes groups; an entry takes effect a moment after it is created
  (access entries are eventually consistent: `aws_delays.BASE["eks_access_propagation"]`), and
  an entry made for an IAM principal that was since deleted and re-created (same ARN, new
  user or role id) does not match, as EKS stores the principal's id;
- with CONFIG_MAP or API_AND_CONFIG_MAP, the `aws-auth` ConfigMap in `kube-system`
  (`mapRoles` / `mapUsers`: rolearn/userarn, username, groups), an access entry winning over it;
- in CONFIG_MAP mode the cluster creator (when `bootstrapClusterCreatorAdminPermissions`) is
  `kubernetes-admin` in `system:masters`, an identity no ConfigMap shows;
- anyone else is 401.

**Authorization** is the union of EKS access policies (the webhook authorizer) and RBAC:
- `system:masters` may do anything;
- each access policy associated with the entry grants its rules (EKS User Guide, "Review access
  policy permissions": AmazonEKSClusterAdminPolicy everything, AmazonEKSAdminViewPolicy get,
  list and watch of everything, AmazonEKSAdminPolicy, AmazonEKSEditPolicy, AmazonEKSViewPolicy
  and AmazonEKSSecretReaderPolicy their tables) within its scope: `cluster`, or the listed
  namespaces only (never cluster-scoped resources), a moment after the association;
- RBAC: the Roles, ClusterRoles, RoleBindings and ClusterRoleBindings stored in the emulator,
  including the bootstrap ones every cluster has (`cluster-admin`, `system:discovery`,
  `system:basic-user`, `system:public-info-viewer`);
- a refusal is 403 with kube-apiserver's wording (k8s.io/apiserver/pkg/endpoints/handlers/
  responsewriters/errors.go `forbiddenMessage`): `deployments.apps "api" is forbidden: User
  "ARN" cannot get resource "deployments" in API group "apps" in the namespace "default"`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable
from xml.etree import ElementTree

import aws_delays

V1_PREFIX = "k8s-aws-v1."
MAX_TOKEN = 4096
CLUSTER_ID_HEADER = "x-k8s-aws-id"
PRESIGNED_EXPIRATION = 15 * 60
ALLOWED_PARAMS = {
    "action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires",
    "x-amz-security-token", "x-amz-signature", "x-amz-signedheaders",
}
STS_HOST = re.compile(r"^sts(-fips)?(\.[a-z0-9-]+)?\.(amazonaws\.com|api\.aws)$")
# kube-apiserver caches a webhook's successful answer for --authentication-token-webhook-cache-ttl
# (2 minutes by default).
CACHE_TTL = 120.0


class Unauthorized(Exception):
    pass


@dataclass
class Identity:
    arn: str
    canonical: str
    account: str
    user_id: str
    session: str = ""


@dataclass
class User:
    name: str
    groups: list[str]
    entry: dict | None = None  # the access entry it came through (access policies)
    extra: dict = field(default_factory=dict)


ANONYMOUS = User("system:anonymous", ["system:unauthenticated"])


def log(msg: str) -> None:
    print(f"carbonc kube-api: {msg}", file=sys.stderr, flush=True)


# ---- SigV4 (for the STS side: presigned GetCallerIdentity) ------------------------------------------


def _enc(s: str) -> str:
    return urllib.parse.quote(s, safe="-_.~")


def presigned_signature(method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str],
                        signed: list[str], secret: str, payload_hash: str) -> str:
    """The SigV4 signature of a presigned request (AWS General Reference, "Create a signed AWS API
    request": canonical request, string to sign, signing key)."""
    params = {k: v for k, v in query}
    amz_date = params["X-Amz-Date"]
    scope = params["X-Amz-Credential"].split("/", 1)[1]
    canonical_query = "&".join(
        f"{_enc(k)}={_enc(v)}" for k, v in sorted((k, v) for k, v in query if k != "X-Amz-Signature")
    )
    lower = {k.lower(): v for k, v in headers.items()}
    canonical_headers = "".join(f"{h}:{' '.join((lower.get(h) or '').split())}\n" for h in signed)
    canonical = "\n".join([method, path or "/", canonical_query, canonical_headers, ";".join(signed), payload_hash])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    date, region, service, _ = scope.split("/")
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


# ---- the token verifier ------------------------------------------------------------------------------


def canonicalize(arn: str) -> tuple[str, str]:
    """pkg/arn Canonicalize: (principal type, canonical ARN); raises Unauthorized."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise Unauthorized(f"arn '{arn}' is invalid")
    _, partition, service, _, account, resource = parts
    if partition not in ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"):
        raise Unauthorized(f"arn '{arn}' does not have a recognized partition")
    pieces = resource.split("/")
    if service == "sts":
        if pieces[0] == "federated-user":
            return "federated-user", arn
        if pieces[0] == "assumed-role":
            if len(pieces) < 3:
                raise Unauthorized(f"assumed-role arn '{arn}' does not have a role")
            return "assumed-role", f"arn:{partition}:iam::{account}:role/{'/'.join(pieces[1:-1])}"
        raise Unauthorized(f"unrecognized resource {resource} for service sts")
    if service == "iam":
        if pieces[0] in ("role", "user", "root"):
            return pieces[0], arn
        raise Unauthorized(f"unrecognized resource {resource} for service iam")
    raise Unauthorized(f"service {service} in arn {arn} is not a valid service for identities")


class Verifier:
    """Verifies EKS tokens for the clusters of one emulator (one moto server)."""

    def __init__(self, sts_address: str):
        # host:port of the moto server, which answers STS for the emulator
        self.sts_address = sts_address
        self._cache: dict[tuple[str, str], tuple[float, Identity]] = {}

    def verify(self, token: str, cluster_name: str) -> Identity:
        key = (token, cluster_name)
        hit = self._cache.get(key)
        if hit and time.monotonic() < hit[0]:
            return hit[1]
        ident = self._verify(token, cluster_name)
        self._cache[key] = (time.monotonic() + CACHE_TTL, ident)
        if len(self._cache) > 1000:
            now = time.monotonic()
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        return ident

    def _verify(self, token: str, cluster_name: str) -> Identity:
        if len(token) > MAX_TOKEN:
            raise Unauthorized("input token was not properly formatted: token is too large")
        if not token.startswith(V1_PREFIX):
            raise Unauthorized(f'input token was not properly formatted: token is missing expected "{V1_PREFIX}" prefix')
        body = token[len(V1_PREFIX):]
        if "=" in body or not re.fullmatch(r"[A-Za-z0-9_-]*", body):
            raise Unauthorized("input token was not properly formatted: illegal base64 data")
        try:
            url = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        except Exception as e:
            raise Unauthorized(f"input token was not properly formatted: {e}")
        parsed = urllib.parse.urlsplit(url)
        local = parsed.netloc in (self.sts_address, self.sts_address.replace("127.0.0.1", "localhost"))
        if parsed.scheme != "https" and not (local and parsed.scheme == "http"):
            raise Unauthorized(f'input token was not properly formatted: unexpected scheme "{parsed.scheme}" in pre-signed URL')
        if not local and not STS_HOST.match(parsed.hostname or ""):
            raise Unauthorized(f'input token was not properly formatted: unexpected hostname "{parsed.netloc}" in pre-signed URL')
        if parsed.path != "/":
            raise Unauthorized("input token was not properly formatted: unexpected path in pre-signed URL")
        try:
            pairs = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            raise Unauthorized("input token was not properly formatted: malformed query parameter")
        lower: dict[str, str] = {}
        for k, v in pairs:
            if k.lower() in lower:
                raise Unauthorized(f'input token was not properly formatted: duplicate query parameter found: "{k}"')
            if k.lower() not in ALLOWED_PARAMS:
                raise Unauthorized(f'input token was not properly formatted: non-whitelisted query parameter "{k}"')
            lower[k.lower()] = v
        if lower.get("action") != "GetCallerIdentity":
            raise Unauthorized("input token was not properly formatted: unexpected action parameter in pre-signed URL")
        if CLUSTER_ID_HEADER not in [h.lower() for h in lower.get("x-amz-signedheaders", "").split(";")]:
            raise Unauthorized(f"input token was not properly formatted: client did not sign the {CLUSTER_ID_HEADER} header in the pre-signed URL")
        try:
            expires = int(lower.get("x-amz-expires", ""))
        except ValueError:
            expires = -1
        if not 0 <= expires <= 900:
            raise Unauthorized(f"input token was not properly formatted: invalid X-Amz-Expires parameter in pre-signed URL: {expires}")
        date = lower.get("x-amz-date")
        if not date:
            raise Unauthorized("input token was not properly formatted: X-Amz-Date parameter must be present in pre-signed URL")
        try:
            signed_at = time.mktime(time.strptime(date, "%Y%m%dT%H%M%SZ")) - time.timezone
        except ValueError:
            raise Unauthorized(f"input token was not properly formatted: error parsing X-Amz-Date parameter {date}")
        if time.time() > signed_at + PRESIGNED_EXPIRATION:
            raise Unauthorized("input token was not properly formatted: X-Amz-Date parameter is expired (15 minute expiration)")
        # The GET to STS. A real STS host is answered by the emulator's own STS (the moto server).
        target = urllib.parse.urlunsplit(("http", self.sts_address, parsed.path, parsed.query, ""))
        request = urllib.request.Request(
            target, headers={"Host": parsed.netloc, CLUSTER_ID_HEADER: cluster_name, "accept": "application/json"}
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        except OSError as e:
            raise Unauthorized(f"sts getCallerIdentity failed: error during GET: {e}")
        if status != 200:
            raise Unauthorized(f"sts getCallerIdentity failed: error from AWS (expected 200, got {status}). Body: {raw[:300]!r}")
        arn, account, user_id = _caller(raw)
        kind, canonical = canonicalize(arn)
        session = ""
        if kind == "assumed-role":
            parts = user_id.split(":")
            if len(parts) != 2:
                raise Unauthorized(f'sts getCallerIdentity failed: malformed UserID "{user_id}"')
            user_id, session = parts
        return Identity(arn=arn, canonical=canonical, account=account, user_id=user_id, session=session)


def _caller(raw: bytes) -> tuple[str, str, str]:
    """Arn, Account, UserId from GetCallerIdentity's answer: JSON as STS answers
    `accept: application/json`, or the query protocol's XML (moto answers XML)."""
    try:
        doc = json.loads(raw)
        r = doc["GetCallerIdentityResponse"]["GetCallerIdentityResult"]
        return r["Arn"], r["Account"], r["UserId"]
    except (ValueError, KeyError, TypeError):
        pass
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError:
        raise Unauthorized(f"sts getCallerIdentity failed: unreadable answer {raw[:200]!r}")
    found = {el.tag.rsplit("}", 1)[-1]: (el.text or "") for el in root.iter()}
    if not found.get("Arn"):
        raise Unauthorized(f"sts getCallerIdentity failed: no Arn in {raw[:200]!r}")
    return found["Arn"], found.get("Account", ""), found.get("UserId", "")


# ---- identity -> Kubernetes user ----------------------------------------------------------------------


def _same_principal(entry_arn: str, canonical: str) -> bool:
    """A role's entry ARN may carry a path; the assumed-role ARN never does."""
    def norm(a: str) -> str:
        head, _, res = a.partition(":iam::")
        account, _, rest = res.partition(":")
        kind, _, name = rest.partition("/")
        return f"{account}:{kind}/{name.rsplit('/', 1)[-1]}" if kind == "role" else f"{account}:{rest}"
    return norm(entry_arn) == norm(canonical)


def _template(username: str, ident: Identity) -> str:
    return (
        username.replace("{{SessionName}}", ident.session.replace("@", "-"))
        .replace("{{SessionNameRaw}}", ident.session)
        .replace("{{AccountID}}", ident.account)
    )


def map_identity(cluster: Any, ident: Identity, aws_auth: dict | None, principal_id: Callable[[str], str | None]) -> User:
    """The Kubernetes user an IAM identity is on this cluster; raises Unauthorized."""
    config = getattr(cluster, "access_config", None) or {"authenticationMode": "CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True}
    mode = config.get("authenticationMode", "CONFIG_MAP")
    if mode in ("API", "API_AND_CONFIG_MAP"):
        for arn, entry in list((getattr(cluster, "carbonc_access_entries", None) or {}).items()):
            if not _same_principal(arn, ident.canonical):
                continue
            if time.monotonic() < entry.get("_effective", 0):
                log(f"access entry {arn} of {cluster.name} is not in effect yet (eventually consistent)")
                continue
            want = entry.get("_principal_id")
            if want and principal_id(ident.canonical) != want:
                log(f"access entry {arn} of {cluster.name} was made for an earlier principal of that ARN")
                continue
            if entry.get("type", "STANDARD") != "STANDARD":
                continue
            return User(_template(entry["username"], ident), list(entry.get("kubernetesGroups") or []) + ["system:authenticated"], entry)
    if mode in ("CONFIG_MAP", "API_AND_CONFIG_MAP"):
        creator = getattr(cluster, "carbonc_creator", None)
        if mode == "CONFIG_MAP" and creator and config.get("bootstrapClusterCreatorAdminPermissions", True) and _same_principal(creator["arn"], ident.canonical):
            return User("kubernetes-admin", ["system:masters", "system:authenticated"])
        mapped = _aws_auth(aws_auth, ident)
        if mapped is not None:
            return mapped
    raise Unauthorized(f"identity {ident.arn} has no access entry or aws-auth mapping on cluster {cluster.name} ({mode})")


def _aws_auth(cm: dict | None, ident: Identity) -> User | None:
    if not cm:
        return None
    import yaml

    data = cm.get("data") or {}
    try:
        roles = yaml.safe_load(data.get("mapRoles") or "[]") or []
        users = yaml.safe_load(data.get("mapUsers") or "[]") or []
    except yaml.YAMLError as e:
        log(f"aws-auth ConfigMap does not parse: {e}")
        return None
    for row in (roles if isinstance(roles, list) else []):
        if isinstance(row, dict) and row.get("rolearn") == ident.canonical:
            return User(_template(row.get("username") or ident.arn, ident), list(row.get("groups") or []) + ["system:authenticated"])
    for row in (users if isinstance(users, list) else []):
        if isinstance(row, dict) and row.get("userarn") == ident.canonical:
            return User(_template(row.get("username") or ident.arn, ident), list(row.get("groups") or []) + ["system:authenticated"])
    return None


# ---- authorization ------------------------------------------------------------------------------------


@dataclass
class Attributes:
    verb: str
    resource_request: bool
    path: str = ""
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""


_R = tuple[list[str], list[str], list[str]]  # api groups, resources, verbs
_RW = ["create", "delete", "deletecollection", "patch", "update"]
_RO = ["get", "list", "watch"]
# EKS User Guide, "Review access policy permissions" (the tables of each policy).
_EDIT: list[_R] = [
    (["apps"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"], _RW),
    (["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"], _RO),
    (["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], _RO),
    (["autoscaling"], ["horizontalpodautoscalers"], _RW),
    (["batch"], ["cronjobs", "jobs"], _RW),
    (["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], _RO),
    (["discovery.k8s.io"], ["endpointslices"], _RO),
    (["networking.k8s.io"], ["ingresses", "networkpolicies"], _RW),
    (["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"], _RO),
    (["policy"], ["poddisruptionbudgets"], _RW),
    (["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"], _RO),
    ([""], ["namespaces"], _RO),
    ([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], _RO),
    ([""], ["serviceaccounts"], ["impersonate"]),
    ([""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], _RW),
    ([""], ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"], _RW),
    ([""], ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"], _RO),
    ([""], ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status", "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"], _RO),
]
_ADMIN: list[_R] = _EDIT + [
    (["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
    (["rbac.authorization.k8s.io"], ["rolebindings", "roles"], _RW + _RO),
]
_VIEW: list[_R] = [
    (["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"], _RO),
    (["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], _RO),
    (["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], _RO),
    (["discovery.k8s.io"], ["endpointslices"], _RO),
    (["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"], _RO),
    (["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"], _RO),
    ([""], ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"], _RO),
    ([""], ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status", "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"], _RO),
    ([""], ["namespaces"], _RO),
]
POLICIES: dict[str, list[_R]] = {
    "AmazonEKSClusterAdminPolicy": [(["*"], ["*"], ["*"])],
    "AmazonEKSAdminViewPolicy": [(["*"], ["*"], _RO)],
    "AmazonEKSAdminPolicy": _ADMIN,
    "AmazonEKSEditPolicy": _EDIT,
    "AmazonEKSViewPolicy": _VIEW,
    "AmazonEKSSecretReaderPolicy": [([""], ["secrets"], _RO)],
}
# Non-resource URLs of AmazonEKSClusterAdminPolicy; the other policies have none.
ADMIN_NONRESOURCE = ["*"]


def _rule_allows(groups: list[str], resources: list[str], verbs: list[str], names: list[str] | None, a: Attributes) -> bool:
    if "*" not in verbs and a.verb not in verbs:
        return False
    if "*" not in groups and a.group not in groups:
        return False
    res = a.resource + (f"/{a.subresource}" if a.subresource else "")
    ok = "*" in resources or res in resources
    if a.subresource:
        ok = ok or f"{a.resource}/*" in resources or f"*/{a.subresource}" in resources
    if not ok:
        return False
    if names:
        return bool(a.name) and a.name in names
    return True


def _nonresource_allows(urls: list[str], verbs: list[str], a: Attributes) -> bool:
    if "*" not in verbs and a.verb not in verbs:
        return False
    for u in urls:
        if u == "*" or u == a.path or (u.endswith("*") and a.path.startswith(u[:-1])):
            return True
    return False


def rbac_rule_allows(rule: dict, a: Attributes) -> bool:
    if a.resource_request:
        if not rule.get("resources"):
            return False
        return _rule_allows(rule.get("apiGroups") or [], rule.get("resources") or [], rule.get("verbs") or [], rule.get("resourceNames"), a)
    if not rule.get("nonResourceURLs"):
        return False
    return _nonresource_allows(rule["nonResourceURLs"], rule.get("verbs") or [], a)


def policy_allows(user: User, a: Attributes) -> bool:
    """EKS access policies associated with the user's access entry, within their scopes."""
    entry = user.entry
    if not entry:
        return False
    for arn, assoc in list((entry.get("_policies") or {}).items()):
        if time.monotonic() < assoc.get("_effective", 0):
            continue
        name = arn.rsplit("/", 1)[-1]
        rules = POLICIES.get(name)
        if rules is None:
            continue
        scope = assoc.get("accessScope") or {}
        if scope.get("type") == "namespace":
            if not a.resource_request or not a.namespace or a.namespace not in (scope.get("namespaces") or []):
                continue
        if not a.resource_request:
            if name == "AmazonEKSClusterAdminPolicy" and scope.get("type") == "cluster":
                return True
            continue
        for g, r, v in rules:
            if _rule_allows(g, r, v, None, a):
                return True
    return False


def rbac_allows(user: User, a: Attributes, list_objects: Callable[[str, str | None], list[dict]]) -> bool:
    """RBAC (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac): bindings whose subjects name the
    user or one of its groups, the rules of the role they reference."""
    def subject_matches(s: dict) -> bool:
        kind = s.get("kind")
        if kind == "User":
            return s.get("name") == user.name
        if kind == "Group":
            return s.get("name") in user.groups
        if kind == "ServiceAccount":
            return user.name == f"system:serviceaccount:{s.get('namespace')}:{s.get('name')}"
        return False

    def role_rules(ref: dict, namespace: str | None) -> list[dict]:
        if ref.get("kind") == "ClusterRole":
            found = [o for o in list_objects("clusterroles", None) if o["metadata"]["name"] == ref.get("name")]
        else:
            found = [o for o in list_objects("roles", namespace) if o["metadata"]["name"] == ref.get("name")]
        return (found[0].get("rules") or []) if found else []

    for b in list_objects("clusterrolebindings", None):
        if any(subject_matches(s) for s in b.get("subjects") or []):
            if any(rbac_rule_allows(r, a) for r in role_rules(b.get("roleRef") or {}, None)):
                return True
    if a.resource_request and a.namespace:
        for b in list_objects("rolebindings", a.namespace):
            if any(subject_matches(s) for s in b.get("subjects") or []):
                if any(rbac_rule_allows(r, a) for r in role_rules(b.get("roleRef") or {}, a.namespace)):
                    return True
    return False


def authorize(user: User, a: Attributes, list_objects: Callable[[str, str | None], list[dict]]) -> bool:
    if "system:masters" in user.groups:
        return True
    return policy_allows(user, a) or rbac_allows(user, a, list_objects)


def forbidden_message(user: User, a: Attributes) -> str:
    if not a.resource_request:
        return f'User "{user.name}" cannot {a.verb} path "{a.path}"'
    res = a.resource + (f"/{a.subresource}" if a.subresource else "")
    if a.namespace:
        return f'User "{user.name}" cannot {a.verb} resource "{res}" in API group "{a.group}" in the namespace "{a.namespace}"'
    return f'User "{user.name}" cannot {a.verb} resource "{res}" in API group "{a.group}" at the cluster scope'


def bootstrap_rbac() -> list[dict]:
    """The bootstrap ClusterRoles and ClusterRoleBindings the authorizer reads (a subset of
    kube-apiserver's plugin/pkg/auth/authorizer/rbac/bootstrappolicy)."""
    def role(name: str, rules: list[dict]) -> dict:
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                             "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
                "rules": rules}

    def binding(name: str, role_name: str, kind: str, subject: str) -> dict:
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": name, "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                             "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_name},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": subject}]}

    def table(rules: list[_R]) -> list[dict]:
        return [{"apiGroups": g, "resources": r, "verbs": v} for g, r, v in rules]

    return [
        role("cluster-admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}]),
        role("admin", table(_ADMIN)),
        role("edit", table(_EDIT)),
        role("view", table(_VIEW)),
        role("system:discovery", [{"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"], "verbs": ["get"]}]),
        role("system:basic-user", [{"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], "verbs": ["create"]},
                                   {"apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"], "verbs": ["create"]}]),
        role("system:public-info-viewer", [{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"], "verbs": ["get"]}]),
        binding("cluster-admin", "cluster-admin", "Group", "system:masters"),
        binding("system:discovery", "system:discovery", "Group", "system:authenticated"),
        binding("system:basic-user", "system:basic-user", "Group", "system:authenticated"),
        {**binding("system:public-info-viewer", "system:public-info-viewer", "Group", "system:authenticated"),
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"},
                      {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:unauthenticated"}]},
    ]


def propagation_deadline() -> float:
    """When an access entry or association made now takes effect."""
    return time.monotonic() + aws_delays.BASE["eks_access_propagation"] * aws_delays.scale()
