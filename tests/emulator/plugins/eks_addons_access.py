"""EKS: add-ons, access entries with their access policies, Pod Identity associations, and the
cluster's access configuration.

The gaps (moto 5.2.5): `moto/eks/urls.py` has no `/clusters/{name}/addons`,
`/clusters/{name}/access-entries`, `/clusters/{name}/pod-identity-associations`,
`/addons/supported-versions` or `/access-policies` path (404 for all of them), and
`EKSResponse.create_cluster` drops `accessConfig`, so DescribeCluster never reports an
authentication mode.

What this does, after AWS's API reference (botocore model eks 2017-11-01: CreateAddon, UpdateAddon,
DeleteAddon, DescribeAddonVersions, Addon, AddonStatus, CreateAccessEntry, AssociateAccessPolicy,
AccessScope, CreatePodIdentityAssociation, CreateAccessConfigRequest, UpdateAccessConfigRequest)
and Terraform's provider (internal/service/eks/addon.go, wait.go, access_entry.go,
access_policy_association.go, pod_identity_association.go):
- **The cluster's access configuration.** CreateCluster keeps `accessConfig`; an API create
  without one gets `CONFIG_MAP` ("If you create a cluster by using the EKS API ... the default is
  CONFIG_MAP", model eks: CreateAccessConfigRequest.authenticationMode). UpdateClusterConfig
  with `accessConfig` is an asynchronous `AccessConfigUpdate` (in `eks_update_cluster_version.py`)
  that only moves towards API: CONFIG_MAP -> API_AND_CONFIG_MAP -> API.
- **Add-ons** are asynchronous: CREATING, then ACTIVE after `aws_delays.BASE["eks_addon"]`
  seconds; DELETING, then gone; UpdateAddon answers an `AddonUpdate` tracked by DescribeUpdate
  with `addonName`, the add-on UPDATING meanwhile. Refused as AWS refuses them: the cluster
  missing (ResourceNotFoundException) or not ACTIVE (InvalidRequestException), the add-on already
  there (ResourceInUseException), a name EKS does not publish, a version not compatible with the
  cluster's Kubernetes version, a configuration that is not a JSON object or does not validate
  against the add-on's configuration schema (InvalidParameterException, with the JSON schema
  validator's wording), an update while another runs (ResourceInUseException). A version left
  out is the default version for the cluster's Kubernetes version (DescribeAddonVersions).
  The catalogue below is shaped like DescribeAddonVersions' answer; its version numbers are the
  emulator's, not a copy of AWS's current list.
- **The cluster creator** (the IAM principal calling CreateCluster, an assumed role taken as
  its role) gets, with `bootstrapClusterCreatorAdminPermissions` (default true) and an
  authentication mode with access entries, an access entry with AmazonEKSClusterAdminPolicy at
  cluster scope; in CONFIG_MAP mode its admin permissions are implicit (the Kubernetes API
  emulator, `kube_auth.py`, honours them) and become that entry when the mode moves to access
  entries. moto's made-up identity of an unknown access key (`user/moto`, the "testing"
  credentials) is not an IAM principal and gets nothing.
- **Access entries** are refused while the cluster's authentication mode is CONFIG_MAP
  (InvalidRequestException), for a principal that is not an existing IAM role or user
  (InvalidParameterException), twice for one principal (ResourceInUseException), and with a
  Kubernetes group starting with `system:` (InvalidParameterException). Deleting an entry
  removes its policy associations. Entries and associations take effect in the cluster's
  Kubernetes API `aws_delays.BASE["eks_access_propagation"]` seconds later (eventually
  consistent), for the principal that has the ARN at creation only.
- **Access policy associations** need the entry (ResourceNotFoundException) and one of the
  AWS-managed access policies (ResourceNotFoundException for another ARN); a `namespace` scope
  needs namespaces and a `cluster` scope takes none (InvalidParameterException). Associating a
  policy again replaces its scope, as on AWS.
- **Pod Identity associations**: one per namespace and service account (ResourceInUseException),
  a role that exists (InvalidParameterException), ids `a-` and 17 characters.
- TagResource, UntagResource and ListTagsForResource take the ARNs of all three (moto: clusters
  only).
"""

import json
import random
import string
import sys
import time
import urllib.parse
from typing import Any

import aws_delays
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.eks import models, responses, urls
from moto.eks.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from moto.iam import models as iam_models

WRITTEN_FOR = "5.2.5"

# Add-on -> [(version, oldest and newest Kubernetes minor it runs on)], oldest version first; the
# default for a Kubernetes version is the newest compatible one.
CATALOGUE: dict[str, list[tuple[str, int, int]]] = {
    "vpc-cni": [("v1.19.6-eksbuild.7", 28, 34), ("v1.20.4-eksbuild.2", 30, 37)],
    "coredns": [
        ("v1.11.4-eksbuild.14", 29, 33),
        ("v1.12.1-eksbuild.2", 32, 35),
        ("v1.12.4-eksbuild.1", 34, 37),
    ],
    "kube-proxy": [(f"v1.{m}.0-eksbuild.1", m, m) for m in range(28, 38)],
    "aws-ebs-csi-driver": [("v1.45.0-eksbuild.2", 28, 36), ("v1.48.0-eksbuild.1", 30, 37)],
    "eks-pod-identity-agent": [("v1.3.8-eksbuild.2", 28, 37)],
}
# The top-level properties of each add-on's configuration schema (DescribeAddonConfiguration;
# every one of these schemas sets `"additionalProperties": false`), and the types of the ones
# checked further.
SCHEMA: dict[str, dict[str, Any]] = {
    "vpc-cni": {
        "affinity": dict,
        "enableNetworkPolicy": ("true", "false"),
        "enableWindowsIpam": ("true", "false"),
        "enableWindowsPrefixDelegation": ("true", "false"),
        "env": dict,
        "eniConfig": dict,
        "init": dict,
        "livenessProbeTimeoutSeconds": int,
        "nodeAgent": dict,
        "podAnnotations": dict,
        "podLabels": dict,
        "readinessProbeTimeoutSeconds": int,
        "resources": dict,
        "tolerations": list,
    },
    "coredns": {
        "affinity": dict,
        "autoScaling": dict,
        "computeType": str,
        "corefile": str,
        "nodeSelector": dict,
        "podAnnotations": dict,
        "podDisruptionBudget": dict,
        "podLabels": dict,
        "replicaCount": int,
        "resources": dict,
        "tolerations": list,
        "topologySpreadConstraints": list,
    },
    "kube-proxy": {"ipvs": dict, "mode": ("iptables", "ipvs"), "podAnnotations": dict, "podLabels": dict, "resources": dict},
    "aws-ebs-csi-driver": {"controller": dict, "defaultStorageClass": dict, "node": dict, "sidecars": dict},
    "eks-pod-identity-agent": {
        "affinity": dict,
        "agent": dict,
        "nodeSelector": dict,
        "podAnnotations": dict,
        "podLabels": dict,
        "priorityClassName": str,
        "resources": dict,
        "tolerations": list,
        "updateStrategy": dict,
    },
}
# ListAccessPolicies (EKS User Guide, "Review access policy permissions").
ACCESS_POLICIES = [
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSAutoNodePolicy",
    "AmazonEKSBlockStorageClusterPolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSComputeClusterPolicy",
    "AmazonEKSComputePolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSHybridPolicy",
    "AmazonEKSLoadBalancingClusterPolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingClusterPolicy",
    "AmazonEKSNetworkingPolicy",
    "AmazonEKSViewPolicy",
]
POLICY_ARN = "arn:aws:eks::aws:cluster-access-policy/{}"


def _updates_plugin() -> Any:
    """`eks_update_cluster_version.py`, which runs every EKS update (loaded by then)."""
    return sys.modules["carbonc_emulator_plugins.eks_update_cluster_version"]


def _cluster(backend: Any, name: str) -> Any:
    """The cluster, its updates settled (`describe_cluster` is `eks_update_cluster_version.py`'s)."""
    return backend.describe_cluster(name)


def _active(cluster: Any) -> None:
    if cluster.status != "ACTIVE":
        raise InvalidRequestException(
            clusterName=cluster.name, nodegroupName=None, addonName=None,
            message=f"Cluster '{cluster.name}' is not in ACTIVE status",
        )


def _not_found(cluster: str, message: str, addon: str | None = None) -> ResourceNotFoundException:
    return ResourceNotFoundException(
        clusterName=cluster, nodegroupName=None, fargateProfileName=None, addonName=addon, message=message
    )


def _in_use(cluster: str, message: str, addon: str | None = None) -> ResourceInUseException:
    return ResourceInUseException(clusterName=cluster, nodegroupName=None, addonName=addon, message=message)


def _invalid(message: str, cluster: str | None = None, addon: str | None = None) -> InvalidParameterException:
    return InvalidParameterException(
        clusterName=cluster, nodegroupName=None, fargateProfileName=None, addonName=addon, message=message
    )


def _now() -> float:
    return utcnow().timestamp()


def _minor(version: str) -> int | None:
    parts = (version or "").split(".")
    return int(parts[1]) if len(parts) == 2 and parts[0] == "1" and parts[1].isdigit() else None


# ---- the cluster's access configuration ---------------------------------------------------------


def _access(cluster: Any) -> dict:
    if not hasattr(cluster, "access_config"):
        cluster.access_config = {"authenticationMode": "CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True}
    return cluster.access_config


# ---- add-ons ----------------------------------------------------------------------------------


class Addon:
    """An add-on; `status` is settled from the clock whenever it is read."""

    def __init__(self, cluster: Any, name: str, version: str, **fields: Any) -> None:
        now = time.monotonic()
        self.addon_name = name
        self.cluster_name = cluster.name
        self.addon_version = version
        self.addon_arn = (
            f"arn:aws:eks:{cluster.arn.split(':')[3]}:{cluster.arn.split(':')[4]}:addon/"
            f"{cluster.name}/{name}/{''.join(random.choices(string.hexdigits.lower(), k=32))}"
        )
        self.created_at = self.modified_at = _now()
        self.health = {"issues": []}
        self.status = "CREATING"
        self.carbonc_ready = now + aws_delays.BASE["eks_addon"] * aws_delays.scale()
        self.carbonc_gone: float | None = None
        self.service_account_role_arn = fields.get("service_account_role_arn")
        self.configuration_values = fields.get("configuration_values")
        self.tags = fields.get("tags") or {}
        self.pod_identity_associations: list[str] = []

    def settle(self) -> None:
        if self.status == "CREATING" and aws_delays.over(self.carbonc_ready):
            self.status = "ACTIVE"
        if self.status in ("ACTIVE", "UPDATING"):
            _updates_plugin()._settle(self, self.cluster_name)

    def view(self) -> dict:
        self.settle()
        out = {
            "addonName": self.addon_name,
            "clusterName": self.cluster_name,
            "status": self.status,
            "addonVersion": self.addon_version,
            "health": self.health,
            "addonArn": self.addon_arn,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
            "tags": self.tags,
            "podIdentityAssociations": self.pod_identity_associations,
        }
        if self.service_account_role_arn:
            out["serviceAccountRoleArn"] = self.service_account_role_arn
        if self.configuration_values:
            out["configurationValues"] = self.configuration_values
        return out


def _addons(cluster: Any) -> dict[str, Addon]:
    if not hasattr(cluster, "carbonc_addons"):
        cluster.carbonc_addons = {}
    # Deleted add-ons leave once their DELETING phase is over.
    for name, a in list(cluster.carbonc_addons.items()):
        if a.carbonc_gone is not None and aws_delays.over(a.carbonc_gone):
            del cluster.carbonc_addons[name]
    return cluster.carbonc_addons


def _addon(cluster: Any, name: str) -> Addon:
    a = _addons(cluster).get(name)
    if a is None:
        raise _not_found(cluster.name, f"No addon: {name} found in cluster: {cluster.name}", name)
    return a


def _version(cluster: Any, name: str, version: str | None) -> str:
    """The add-on version to install: the one asked for if it runs on the cluster's Kubernetes
    version, else the default for it."""
    versions = CATALOGUE.get(name)
    if versions is None:
        raise _invalid("Addon specified is not supported", cluster.name, name)
    minor = _minor(cluster.version)
    fits = [v for v, lo, hi in versions if minor is not None and lo <= minor <= hi]
    if version is None:
        if not fits:
            raise _invalid(f"Addon {name} has no version compatible with Kubernetes {cluster.version}", cluster.name, name)
        return fits[-1]
    if version not in [v for v, _, _ in versions]:
        raise _invalid("Addon version specified is not supported", cluster.name, name)
    if version not in fits:
        raise _invalid("Addon version specified is not supported", cluster.name, name)
    return version


def _configuration(cluster: Any, name: str, text: str | None) -> str | None:
    """Checks `configurationValues` against the add-on's configuration schema, as EKS does (its
    messages come from the JSON schema validator it runs)."""
    if text is None or text == "":
        return text
    try:
        doc = json.loads(text)
    except ValueError:
        raise _invalid(
            "ConfigurationValue provided in request is not supported: Json schema validation failed with error: "
            "[$: is not a valid JSON or YAML document]",
            cluster.name,
            name,
        )
    if not isinstance(doc, dict):
        raise _invalid(
            "ConfigurationValue provided in request is not supported: Json schema validation failed with error: "
            f"[$: {type(doc).__name__} found, object expected]",
            cluster.name,
            name,
        )
    schema = SCHEMA.get(name, {})
    problems = []
    for key, value in doc.items():
        want = schema.get(key)
        if want is None:
            problems.append(f"$.{key}: is not defined in the schema and the schema does not allow additional properties")
        elif isinstance(want, tuple):
            if value not in want:
                problems.append(f"$.{key}: does not have a value in the enumeration [{', '.join(want)}]")
        elif want is int and (not isinstance(value, int) or isinstance(value, bool)):
            problems.append(f"$.{key}: {type(value).__name__} found, integer expected")
        elif want is not int and not isinstance(value, want):
            problems.append(f"$.{key}: {type(value).__name__} found, {want.__name__} expected")
    if problems:
        raise _invalid(
            "ConfigurationValue provided in request is not supported: Json schema validation failed with error: "
            f"[{', '.join(problems)}]",
            cluster.name,
            name,
        )
    return text


def _iam(account: str, arn: str) -> Any:
    """The IAM role or user an ARN names, once IAM has propagated it to EKS (None: not there yet,
    not there, or not an IAM principal). The propagation clock is `eks_role_policies.py`'s."""
    kind, _, name = arn.split(":")[-1].partition("/")
    if not arn.startswith("arn:aws:iam::") or "/aws-service-role/" in arn:
        return None
    iam = iam_models.iam_backends[account]["global"]
    short = name.rsplit("/", 1)[-1]
    if kind == "role":
        if not sys.modules["carbonc_emulator_plugins.eks_role_policies"]._visible((account, short)):
            return None
        return next((r for r in iam.roles.values() if r.name == short), None)
    if kind == "user":
        return next((u for u in iam.users.values() if u.name == short), None)
    return None


def _service_role(account: str, arn: str | None) -> None:
    """An add-on's service account role must exist (it is assumed through IRSA)."""
    if arn and _iam(account, arn) is None:
        raise _invalid("Role provided in the request does not exist")


def _trusts_pods(role: Any) -> bool:
    """Whether a role's trust policy lets EKS Pod Identity assume it and tag the session."""
    try:
        trust = json.loads(role.assume_role_policy_document)
    except (TypeError, ValueError):
        return False
    statements = trust.get("Statement", [])
    for st in [statements] if isinstance(statements, dict) else statements:
        service = (st.get("Principal") or {}).get("Service", []) if isinstance(st.get("Principal"), dict) else []
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if (
            st.get("Effect") == "Allow"
            and "pods.eks.amazonaws.com" in ([service] if isinstance(service, str) else service)
            and {"sts:AssumeRole", "sts:TagSession"} <= set(actions)
        ):
            return True
    return False


def create_addon(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    name = self._get_param("addonName")
    token = self._get_param("clientRequestToken")
    existing = _addons(cluster).get(name)
    if existing is not None:
        if token and getattr(existing, "carbonc_token", None) == token:
            return ActionResult({"addon": existing.view()})
        raise _in_use(cluster.name, "Addon already exists.", name)
    _active(cluster)
    version = _version(cluster, name, self._get_param("addonVersion"))
    config = _configuration(cluster, name, self._get_param("configurationValues"))
    role = self._get_param("serviceAccountRoleArn")
    _service_role(self.current_account, role)
    if self._get_param("resolveConflicts") == "PRESERVE":
        # hashicorp/terraform-provider-aws#27481; Terraform still allows only NONE and OVERWRITE.
        raise _invalid("Resolve conflicts option PRESERVE is not supported for operation CreateAddon", cluster.name, name)
    addon = Addon(
        cluster, name, version, service_account_role_arn=role, configuration_values=config, tags=self._get_param("tags")
    )
    addon.carbonc_token = token
    _addons(cluster)[name] = addon
    return ActionResult({"addon": addon.view()})


def describe_addon(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    return ActionResult({"addon": _addon(cluster, self._get_param("addonName")).view()})


def list_addons(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    return ActionResult({"addons": sorted(_addons(cluster))})


def update_addon(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    name = self._get_param("addonName")
    addon = _addon(cluster, name)
    addon.settle()
    if addon.status != "ACTIVE":
        raise _in_use(cluster.name, f"Addon {name} is in {addon.status} status and cannot be updated", name)
    version = self._get_param("addonVersion")
    version = _version(cluster, name, version) if version else addon.addon_version
    config = self._get_param("configurationValues")
    if config is not None:
        _configuration(cluster, name, config)
    role = self._get_param("serviceAccountRoleArn")
    _service_role(self.current_account, role)
    params = [{"type": "AddonVersion", "value": version}]
    if config is not None:
        params.append({"type": "ConfigurationValues", "value": config})
    if role is not None:
        params.append({"type": "ServiceAccountRoleArn", "value": role})
    if self._get_param("resolveConflicts"):
        params.append({"type": "ResolveConflicts", "value": self._get_param("resolveConflicts")})

    def apply() -> None:
        addon.addon_version = version
        if config is not None:
            addon.configuration_values = config or None
        if role is not None:
            addon.service_account_role_arn = role or None
        addon.modified_at = _now()

    upd = _updates_plugin()
    update = upd._start(addon, cluster.name, None, "AddonUpdate", params, self._get_param("clientRequestToken"), apply)
    return ActionResult({"update": upd._public(update)})


def delete_addon(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    addon = _addon(cluster, self._get_param("addonName"))
    addon.settle()
    if addon.carbonc_gone is None:
        addon.status = "DELETING"
        addon.carbonc_gone = time.monotonic() + aws_delays.BASE["eks_addon"] * aws_delays.scale()
    return ActionResult({"addon": addon.view()})


def describe_addon_versions(self: Any) -> ActionResult:
    wanted = self._get_param("addonName")
    minor = _minor(self._get_param("kubernetesVersion") or "")
    addons = []
    for name, versions in sorted(CATALOGUE.items()):
        if wanted and name != wanted:
            continue
        infos = []
        for version, lo, hi in reversed(versions):
            if minor is not None and not lo <= minor <= hi:
                continue
            compat = []
            for m in range(lo, hi + 1):
                newest = [v for v, a, b in versions if a <= m <= b][-1]
                compat.append({"clusterVersion": f"1.{m}", "platformVersions": ["*"], "defaultVersion": newest == version})
            infos.append(
                {"addonVersion": version, "architecture": ["amd64", "arm64"], "compatibilities": compat,
                 "requiresConfiguration": False, "requiresIamPermissions": name in ("vpc-cni", "aws-ebs-csi-driver")}
            )
        addons.append({"addonName": name, "type": "networking" if name in ("vpc-cni", "coredns", "kube-proxy") else "storage" if name == "aws-ebs-csi-driver" else "security", "addonVersions": infos, "owner": "aws", "publisher": "eks"})
    return ActionResult({"addons": addons})


# ---- access entries and access policies ---------------------------------------------------------


def _entries(cluster: Any) -> dict[str, dict]:
    """The cluster's access entries; every access entry call is refused while the cluster
    authenticates through the `aws-auth` ConfigMap alone."""
    if _access(cluster)["authenticationMode"] == "CONFIG_MAP":
        raise InvalidRequestException(
            clusterName=cluster.name, nodegroupName=None, addonName=None,
            message="The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
        )
    if not hasattr(cluster, "carbonc_access_entries"):
        cluster.carbonc_access_entries = {}
    return cluster.carbonc_access_entries


def _principal(self: Any) -> str:
    """The principal ARN of the path: it arrives decoded, slashes and all (a role's `role/NAME`)."""
    rest = urllib.parse.unquote(self.path.split("/access-entries/", 1)[1].split("?")[0])
    return rest.split("/access-policies", 1)[0]


def _entry(cluster: Any, principal: str) -> dict:
    e = _entries(cluster).get(principal)
    if e is None:
        raise _not_found(cluster.name, "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.")
    return e


def _entry_view(e: dict) -> dict:
    return {k: v for k, v in e.items() if not k.startswith("_")}


def _groups(groups: list[str] | None) -> list[str]:
    for g in groups or []:
        if g.startswith("system:"):
            raise _invalid(f"The kubernetes group name {g} is invalid, it cannot start with system:")
    return list(groups or [])


def _new_entry(cluster: Any, principal: str, kind: str, username: str | None, groups: list[str], tags: dict, token: str | None) -> dict:
    """An access entry. It takes effect in the cluster's Kubernetes API a moment later (access
    entries are eventually consistent: EKS User Guide, "Create access entries"), and only for the
    IAM principal that has this ARN now: EKS keeps the principal's id, so a user or role deleted
    and created again under the same ARN does not match ("the access entry won't work")."""
    import kube_auth

    region, account = cluster.arn.split(":")[3], cluster.arn.split(":")[4]
    role_kind, _, role_name = principal.split(":")[-1].partition("/")
    principal_account = principal.split(":")[4]
    found = _iam(principal_account, principal)
    return {
        "clusterName": cluster.name,
        "principalArn": principal,
        "kubernetesGroups": groups,
        "accessEntryArn": f"arn:aws:eks:{region}:{account}:access-entry/{cluster.name}/{role_kind}/{account}/{role_name}/"
        + "".join(random.choices(string.hexdigits.lower(), k=32)),
        "createdAt": _now(),
        "modifiedAt": _now(),
        "tags": tags or {},
        "username": username
        or (principal if role_kind == "user" else f"arn:aws:sts::{principal_account}:assumed-role/{role_name.rsplit('/', 1)[-1]}/{{{{SessionName}}}}"),
        "type": kind,
        "_token": token,
        "_policies": {},
        "_effective": kube_auth.propagation_deadline(),
        "_principal_id": getattr(found, "id", None),
    }


def create_access_entry(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    principal = self._get_param("principalArn")
    token = self._get_param("clientRequestToken")
    existing = _entries(cluster).get(principal)
    if existing is not None:
        if token and existing.get("_token") == token:
            return ActionResult({"accessEntry": _entry_view(existing)})
        raise _in_use(cluster.name, "The specified access entry resource is already in use on this cluster.")
    if _iam(self.current_account, principal) is None:
        raise _invalid("The specified principalArn is invalid: invalid principal")
    entry = _new_entry(
        cluster, principal, self._get_param("type") or "STANDARD", self._get_param("username"),
        _groups(self._get_param("kubernetesGroups")), self._get_param("tags"), token,
    )
    _entries(cluster)[principal] = entry
    return ActionResult({"accessEntry": _entry_view(entry)})


def _associate(entry: dict, policy: str, scope: dict) -> dict:
    import kube_auth

    had = entry["_policies"].get(policy)
    now = _now()
    entry["_policies"][policy] = {
        "policyArn": policy,
        "accessScope": scope,
        "associatedAt": had["associatedAt"] if had else now,
        "modifiedAt": now,
        # effective in the Kubernetes API a moment later (eventually consistent, as the entry)
        "_effective": kube_auth.propagation_deadline(),
    }
    return entry["_policies"][policy]


def _assoc_view(a: dict) -> dict:
    return {k: v for k, v in a.items() if not k.startswith("_")}


def _creator(self: Any) -> dict | None:
    """The IAM principal calling CreateCluster (its canonical ARN, as aws-iam-authenticator
    canonicalizes an assumed role to its role), or None when the caller is not an IAM principal
    (moto's made-up identity of an unknown access key)."""
    import kube_auth
    from moto.sts.models import sts_backends

    try:
        sts = sts_backends[self.current_account]["aws"]
        user_id, arn, _account = sts.get_caller_identity(self.get_access_key(), self.region)
        kind, canonical = kube_auth.canonicalize(arn)
    except Exception:
        return None
    if kind not in ("user", "role", "assumed-role"):
        return None
    return {"arn": canonical, "caller": arn}


def bootstrap_creator(cluster: Any) -> None:
    """bootstrapClusterCreatorAdminPermissions (model eks: CreateAccessConfigRequest; EKS User
    Guide, "Grant IAM users access to Kubernetes with EKS access entries"): with access entries
    enabled, the cluster creator gets an access entry with AmazonEKSClusterAdminPolicy at cluster
    scope, which ListAccessEntries shows and which can be deleted; in CONFIG_MAP mode the creator
    is an administrator no ConfigMap shows (`kube_auth.map_identity`), and switching to access
    entries turns that into this entry ("Legacy cluster access configuration")."""
    creator = getattr(cluster, "carbonc_creator", None)
    config = _access(cluster)
    if not creator or not config.get("bootstrapClusterCreatorAdminPermissions", True):
        return
    if config["authenticationMode"] == "CONFIG_MAP" or getattr(cluster, "carbonc_creator_bootstrapped", False):
        return
    cluster.carbonc_creator_bootstrapped = True
    entries = _entries(cluster)
    if creator["arn"] in entries:
        return
    entry = _new_entry(cluster, creator["arn"], "STANDARD", None, [], {}, None)
    entry["_effective"] = 0  # in effect from the start, as the cluster comes up with it
    _associate(entry, POLICY_ARN.format("AmazonEKSClusterAdminPolicy"), {"type": "cluster", "namespaces": []})
    entry["_policies"][POLICY_ARN.format("AmazonEKSClusterAdminPolicy")]["_effective"] = 0
    entries[creator["arn"]] = entry


def describe_access_entry(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    return ActionResult({"accessEntry": _entry_view(_entry(cluster, _principal(self)))})


def update_access_entry(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    entry = _entry(cluster, _principal(self))
    groups = self._get_param("kubernetesGroups")
    if groups is not None:
        entry["kubernetesGroups"] = _groups(groups)
    if self._get_param("username"):
        entry["username"] = self._get_param("username")
    entry["modifiedAt"] = _now()
    return ActionResult({"accessEntry": _entry_view(entry)})


def delete_access_entry(self: Any) -> EmptyResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    principal = _principal(self)
    _entry(cluster, principal)
    del _entries(cluster)[principal]
    return EmptyResult()


def list_access_entries(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    return ActionResult({"accessEntries": sorted(_entries(cluster))})


def _scope(scope: dict | None) -> dict:
    scope = scope or {}
    kind, namespaces = scope.get("type"), scope.get("namespaces") or []
    if kind == "namespace" and not namespaces:
        raise _invalid("At least one namespace must be specified when the access scope type is namespace")
    if kind == "cluster" and namespaces:
        raise _invalid("Namespaces cannot be specified when the access scope type is cluster")
    return {"type": kind, "namespaces": list(namespaces)}


def associate_access_policy(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    principal = _principal(self)
    entry = _entry(cluster, principal)
    policy = self._get_param("policyArn")
    if policy not in [POLICY_ARN.format(p) for p in ACCESS_POLICIES]:
        raise _not_found(cluster.name, f"The specified policyArn {policy} could not be found. You can view available access policies with 'list-access-policies'.")
    scope = _scope(self._get_param("accessScope"))
    assoc = _associate(entry, policy, scope)
    return ActionResult(
        {"clusterName": cluster.name, "principalArn": principal, "associatedAccessPolicy": _assoc_view(assoc)}
    )


def disassociate_access_policy(self: Any) -> EmptyResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    entry = _entry(cluster, _principal(self))
    policy = urllib.parse.unquote(self.path.split("?")[0].rsplit("/access-policies/", 1)[1])
    if policy not in entry["_policies"]:
        raise _not_found(cluster.name, f"The specified policyArn {policy} is not associated with the principal")
    del entry["_policies"][policy]
    return EmptyResult()


def list_associated_access_policies(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    principal = _principal(self)
    entry = _entry(cluster, principal)
    return ActionResult(
        {
            "clusterName": cluster.name,
            "principalArn": principal,
            "associatedAccessPolicies": [_assoc_view(entry["_policies"][p]) for p in sorted(entry["_policies"])],
        }
    )


def list_access_policies(self: Any) -> ActionResult:
    return ActionResult({"accessPolicies": [{"name": p, "arn": POLICY_ARN.format(p)} for p in ACCESS_POLICIES]})


# ---- Pod Identity -------------------------------------------------------------------------------


def _pod_identities(cluster: Any) -> dict[str, dict]:
    if not hasattr(cluster, "carbonc_pod_identities"):
        cluster.carbonc_pod_identities = {}
    return cluster.carbonc_pod_identities


def _pod_identity(cluster: Any, association_id: str) -> dict:
    p = _pod_identities(cluster).get(association_id)
    if p is None:
        raise _not_found(cluster.name, f"Association {association_id} not found.")
    return p


def _association_id(self: Any) -> str:
    association_id = self._get_param("associationId") or self.path.rstrip("/").rsplit("/", 1)[1]
    if len(association_id) != 19:
        raise _invalid("The parameter associationId should be 19 characters long.")
    return association_id


def _pod_role(account: str, arn: str) -> None:
    """The role must exist and trust EKS Pod Identity (hashicorp/terraform-provider-aws#41483:
    a role trusted only through OIDC is refused; EKS User Guide, "Create IAM role with trust
    policy required by EKS Pod Identity")."""
    role = _iam(account, arn)
    if role is None or not arn.split(":")[-1].startswith("role/"):
        raise _invalid("Role provided in the request does not exist")
    if not _trusts_pods(role):
        raise _invalid("Trust policy of the role provided is invalid")


def create_pod_identity_association(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    namespace = self._get_param("namespace")
    account = self._get_param("serviceAccount")
    token = self._get_param("clientRequestToken")
    for p in _pod_identities(cluster).values():
        if p["namespace"] == namespace and p["serviceAccount"] == account:
            if token and p.get("_token") == token:
                return ActionResult({"association": _entry_view(p)})
            raise _in_use(cluster.name, f"Association already exists: {p['associationId']}")
    _pod_role(self.current_account, self._get_param("roleArn"))
    role = self._get_param("roleArn")
    association_id = "a-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=17))
    region, acct = cluster.arn.split(":")[3], cluster.arn.split(":")[4]
    p = {
        "clusterName": cluster.name,
        "namespace": namespace,
        "serviceAccount": account,
        "roleArn": role,
        "associationArn": f"arn:aws:eks:{region}:{acct}:podidentityassociation/{cluster.name}/{association_id}",
        "associationId": association_id,
        "tags": self._get_param("tags") or {},
        "createdAt": _now(),
        "modifiedAt": _now(),
        "disableSessionTags": False,
        "_token": token,
    }
    _pod_identities(cluster)[association_id] = p
    return ActionResult({"association": _entry_view(p)})


def describe_pod_identity_association(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    return ActionResult({"association": _entry_view(_pod_identity(cluster, _association_id(self)))})


def update_pod_identity_association(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    p = _pod_identity(cluster, _association_id(self))
    role = self._get_param("roleArn")
    if role:
        _pod_role(self.current_account, role)
        p["roleArn"] = role
    p["modifiedAt"] = _now()
    return ActionResult({"association": _entry_view(p)})


def delete_pod_identity_association(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    p = _pod_identity(cluster, _association_id(self))
    del _pod_identities(cluster)[p["associationId"]]
    return ActionResult({"association": _entry_view(p)})


def list_pod_identity_associations(self: Any) -> ActionResult:
    cluster = _cluster(self.eks_backend, self._get_param("name"))
    namespace = self._get_param("namespace")
    account = self._get_param("serviceAccount")
    out = [
        {k: p[k] for k in ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId")}
        for p in _pod_identities(cluster).values()
        if (not namespace or p["namespace"] == namespace) and (not account or p["serviceAccount"] == account)
    ]
    return ActionResult({"associations": out})


# ---- tags -----------------------------------------------------------------------------------------


def _tagged(backend: Any, arn: str) -> dict | None:
    """The tags of the add-on, access entry or Pod Identity association with this ARN."""
    for cluster in backend.clusters.values():
        for a in _addons(cluster).values():
            if a.addon_arn == arn:
                return a.tags
        for e in list(_entries(cluster).values()) + list(_pod_identities(cluster).values()):
            if arn in (e.get("accessEntryArn"), e.get("associationArn")):
                return e["tags"]
    return None


def register() -> None:
    paths = {
        "{0}/clusters/(?P<name>[^/]+)/addons$",
        "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)$",
        "{0}/clusters/(?P<name>[^/]+)/addons/(?P<addonName>[^/]+)/update$",
        "{0}/addons/supported-versions$",
        "{0}/clusters/(?P<name>[^/]+)/access-entries$",
        # A principal ARN arrives decoded (moto decodes %2F before matching): `role/NAME` and
        # paths keep their slashes, and so does a policy ARN.
        "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<principalArn>arn:.+?)/access-policies/(?P<policyArn>arn:.+)$",
        "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<principalArn>arn:.+?)/access-policies$",
        "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<principalArn>arn:.+)$",
        "{0}/access-policies$",
        "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations$",
        "{0}/clusters/(?P<name>[^/]+)/pod-identity-associations/(?P<associationId>[^/]+)$",
    }
    for p in paths:
        urls.url_paths[p] = urls.response.dispatch
    for f in (
        create_addon, describe_addon, list_addons, update_addon, delete_addon, describe_addon_versions,
        create_access_entry, describe_access_entry, update_access_entry, delete_access_entry, list_access_entries,
        associate_access_policy, disassociate_access_policy, list_associated_access_policies, list_access_policies,
        create_pod_identity_association, describe_pod_identity_association, update_pod_identity_association,
        delete_pod_identity_association, list_pod_identity_associations,
    ):
        setattr(responses.EKSResponse, f.__name__, f)

    original_create = responses.EKSResponse.create_cluster

    def create_cluster(self: Any) -> ActionResult:
        result = original_create(self)
        cluster = self.eks_backend.clusters[self._get_param("name")]
        config = self._get_param("accessConfig") or {}
        cluster.access_config = {
            "authenticationMode": config.get("authenticationMode") or "CONFIG_MAP",
            "bootstrapClusterCreatorAdminPermissions": config.get("bootstrapClusterCreatorAdminPermissions", True),
        }
        cluster.carbonc_creator = _creator(self)
        bootstrap_creator(cluster)
        return result

    responses.EKSResponse.create_cluster = create_cluster

    backend = models.EKSBackend
    tag, untag, list_tags = backend.tag_resource, backend.untag_resource, backend.list_tags_for_resource

    def tag_resource(self: Any, resource_arn: str, tags: dict[str, str]) -> None:
        have = _tagged(self, resource_arn)
        if have is None:
            return tag(self, resource_arn, tags)
        have.update(tags)

    def untag_resource(self: Any, resource_arn: str, tag_keys: list[str]) -> None:
        have = _tagged(self, resource_arn)
        if have is None:
            return untag(self, resource_arn, tag_keys)
        for k in tag_keys if isinstance(tag_keys, list) else [tag_keys]:
            have.pop(k, None)

    def list_tags_for_resource(self: Any, resource_arn: str) -> dict[str, str]:
        have = _tagged(self, resource_arn)
        return list_tags(self, resource_arn) if have is None else have

    backend.tag_resource = tag_resource
    backend.untag_resource = untag_resource
    backend.list_tags_for_resource = list_tags_for_resource
