"""EKS: updates as AWS runs them: UpdateClusterVersion, UpdateClusterConfig, UpdateNodegroupVersion,
UpdateNodegroupConfig, each an asynchronous Update tracked by DescribeUpdate and ListUpdates.

The gaps (moto 5.2.5): `moto/eks/urls.py` has no `/clusters/{name}/updates` path, so
UpdateClusterVersion, ListUpdates and DescribeUpdate answer 404, and neither
`/node-groups/{name}/update-version` (UpdateNodegroupVersion); UpdateClusterConfig applies the
change at once and answers `{"cluster": ...}` where AWS answers `{"update": ...}` (model eks:
UpdateClusterConfigResponse).

What this does, after AWS's API reference (model eks: UpdateClusterVersion, UpdateClusterConfig,
UpdateNodegroupVersion, UpdateNodegroupConfig, DescribeUpdate, Update, ErrorDetail):
- Every update answers an Update (`id`, `status` InProgress, `type`, `params`) and is tracked by
  DescribeUpdate (`name`, `updateId`, `nodegroupName` for a node group's) and ListUpdates. A
  repeated clientRequestToken returns the first update.
- Updates are asynchronous: the cluster (or node group) keeps answering ACTIVE for a moment
  ("the cluster status moves to UPDATING (this status transition is eventually consistent)",
  model eks: UpdateClusterVersion), then UPDATING, and the update ends after
  `aws_delays.BASE["eks_update"]` seconds times `CARBONC_EMULATOR_DELAY_SCALE`, Successful, or
  Failed with `errors` for the clusters named in `CARBONC_EMULATOR_FAIL_EKS_UPDATES`
  (comma-separated cluster names): a failed update leaves the old version or configuration, and
  the cluster ends ACTIVE either way, as on AWS. The change itself is made only on success.
- ResourceInUseException while another update of the same cluster or node group is under way.
- UpdateClusterVersion: InvalidParameterException unless `version` is exactly one minor version
  above the cluster's ("Unsupported Kubernetes minor version update from 1.30 to 1.32"), and
  while a managed node group is not at the cluster's version ("Nodegroups X must be updated to
  match cluster version 1.31 before updating cluster version", hashicorp/terraform-provider-aws#19478;
  model eks: UpdateClusterVersion, "all of your node groups' Kubernetes versions must match the
  cluster's Kubernetes version in order to update the cluster").
- UpdateNodegroupVersion: the version may not be above the cluster's (InvalidParameterException),
  and cannot be combined with a release version change in another update at the same time.
"""

import os
import re
import time
import uuid
from typing import Any

import aws_delays
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.eks import models, responses, urls
from moto.eks.exceptions import (
    InvalidParameterException,
    ResourceInUseException,
    ResourceNotFoundException,
)

WRITTEN_FOR = "5.2.5"
# How long a new update leaves the status as it was (the eventually consistent transition).
VISIBLE_AFTER = 0.3


def _not_found(name: str, nodegroup: str | None = None, what: str = "cluster") -> ResourceNotFoundException:
    return ResourceNotFoundException(
        clusterName=name,
        nodegroupName=nodegroup,
        fargateProfileName=None,
        addonName=None,
        message=f"No {what} found for name: {nodegroup or name}.",
    )


def _invalid(name: str, message: str, nodegroup: str | None = None) -> InvalidParameterException:
    return InvalidParameterException(
        clusterName=name, nodegroupName=nodegroup, fargateProfileName=None, addonName=None, message=message
    )


def _cluster(backend: Any, name: str) -> Any:
    cluster = backend.clusters.get(name)
    if cluster is None:
        raise _not_found(name)
    return cluster


def _nodegroup(cluster: Any, name: str, nodegroup: str) -> Any:
    ng = cluster.nodegroups.get(nodegroup)
    if ng is None:
        raise _not_found(name, nodegroup, "node group")
    return ng


def _updates(obj: Any) -> list:
    if not hasattr(obj, "carbonc_updates"):
        obj.carbonc_updates = []
    return obj.carbonc_updates


def _failing(cluster_name: str) -> bool:
    names = os.environ.get("CARBONC_EMULATOR_FAIL_EKS_UPDATES", "")
    return cluster_name in [n.strip() for n in names.split(",") if n.strip()]


def _settle(obj: Any, cluster_name: str) -> None:
    """Moves the updates of a cluster or node group along the clock."""
    now = time.monotonic()
    busy = False
    for u in _updates(obj):
        if u["status"] != "InProgress":
            continue
        if now < u["_ends"]:
            busy = busy or now >= u["_visible"]
            continue
        if _failing(cluster_name):
            u["status"] = "Failed"
            u["errors"] = [
                {
                    "errorCode": "NodeCreationFailure" if u["_nodegroup"] else "Unknown",
                    "errorMessage": f"the emulator fails updates of {cluster_name} (CARBONC_EMULATOR_FAIL_EKS_UPDATES)",
                    "resourceIds": [u["_nodegroup"] or cluster_name],
                }
            ]
        else:
            u["status"] = "Successful"
            u["_apply"]()
    obj.status = "UPDATING" if busy else "ACTIVE"


def _start(obj: Any, cluster_name: str, nodegroup: str | None, kind: str, params: list, token: str | None, apply: Any) -> dict:
    _settle(obj, cluster_name)
    for u in _updates(obj):
        if token and u.get("_token") == token:
            return u
    if any(u["status"] == "InProgress" for u in _updates(obj)) or obj.status not in ("ACTIVE",):
        raise ResourceInUseException(
            clusterName=cluster_name,
            nodegroupName=nodegroup,
            addonName=None,
            message=f"{'Nodegroup ' + nodegroup if nodegroup else 'Cluster ' + cluster_name} has an update in progress",
        )
    now = time.monotonic()
    update = {
        "id": str(uuid.uuid4()),
        "status": "InProgress",
        "type": kind,
        "params": params,
        "createdAt": utcnow().timestamp(),
        "errors": [],
        "_token": token,
        "_nodegroup": nodegroup,
        "_visible": now + VISIBLE_AFTER * aws_delays.scale(),
        "_ends": now + aws_delays.BASE["eks_update"] * aws_delays.scale(),
        "_apply": apply,
    }
    _updates(obj).append(update)
    return update


def _public(update: dict) -> dict:
    return {k: v for k, v in update.items() if not k.startswith("_")}


def _minor(version: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"(\d+)\.(\d+)", version or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def update_cluster_version(self: Any) -> ActionResult:
    name = self._get_param("name")
    version = self._get_param("version")
    cluster = _cluster(self.eks_backend, name)
    _settle(cluster, name)
    now, want = _minor(cluster.version), _minor(version)
    if now is None or want is None or want != (now[0], now[1] + 1):
        raise _invalid(name, f"Unsupported Kubernetes minor version update from {cluster.version} to {version}")
    lagging = [n for n, ng in cluster.nodegroups.items() if ng.version != cluster.version]
    if lagging:
        raise _invalid(
            name,
            f"Nodegroups {', '.join(sorted(lagging))} must be updated to match cluster version "
            f"{cluster.version} before updating cluster version",
        )

    def apply() -> None:
        cluster.version = version

    update = _start(
        cluster,
        name,
        None,
        "VersionUpdate",
        [{"type": "Version", "value": version}, {"type": "PlatformVersion", "value": "eks.1"}],
        self._get_param("clientRequestToken"),
        apply,
    )
    return ActionResult({"update": _public(update)})


_MODES = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]


def update_cluster_config(self: Any) -> ActionResult:
    name = self._get_param("name")
    vpc = self._get_param("resourcesVpcConfig")
    logging = self._get_param("logging")
    access = self._get_param("accessConfig")
    cluster = _cluster(self.eks_backend, name)
    if sum(1 for x in (vpc, logging, access) if x) > 1:
        raise _invalid(name, "Only one type of update can be allowed.")
    if access:
        return _update_access_config(self, name, cluster, access)
    if not vpc and not logging:
        raise _invalid(name, "No changes needed for the logging config provided")
    kind = "EndpointAccessUpdate" if vpc else "LoggingUpdate"
    params = [{"type": "ClusterLogging", "value": str(logging)}] if logging else [
        {"type": k[0].upper() + k[1:], "value": str(v)} for k, v in vpc.items()
    ]

    def apply() -> None:
        self.eks_backend.update_cluster_config(name=name, resources_vpc_config=vpc, logging=logging)

    update = _start(cluster, name, None, kind, params, self._get_param("clientRequestToken"), apply)
    return ActionResult({"update": _public(update)})


def _update_access_config(self: Any, name: str, cluster: Any, access: dict) -> ActionResult:
    """An AccessConfigUpdate: the authentication mode moves towards API only (model eks:
    UpdateAccessConfigRequest.authenticationMode; EKS User Guide, "Change authentication mode to
    use access entries": "you can't change the authentication mode back")."""
    config = getattr(cluster, "access_config", None) or {"authenticationMode": "CONFIG_MAP"}
    now, want = config.get("authenticationMode", "CONFIG_MAP"), access.get("authenticationMode")
    if want not in _MODES:
        raise _invalid(name, f"Unsupported authentication mode {want}")
    if want == now:
        raise _invalid(name, f"Unsupported authentication mode update from {now} to {want}")
    if _MODES.index(want) < _MODES.index(now):
        raise _invalid(name, f"Unsupported authentication mode update from {now} to {want}")

    def apply() -> None:
        cluster.access_config = {**config, "authenticationMode": want}
        # the creator's CONFIG_MAP-era admin permissions become an access entry
        # (`eks_addons_access.bootstrap_creator`)
        import sys

        sys.modules["carbonc_emulator_plugins.eks_addons_access"].bootstrap_creator(cluster)

    update = _start(
        cluster,
        name,
        None,
        "AccessConfigUpdate",
        [{"type": "AuthenticationMode", "value": want}],
        self._get_param("clientRequestToken"),
        apply,
    )
    return ActionResult({"update": _public(update)})


def update_nodegroup_version(self: Any) -> ActionResult:
    name = self._get_param("name")
    nodegroup = self._get_param("nodegroupName")
    version = self._get_param("version")
    cluster = _cluster(self.eks_backend, name)
    ng = _nodegroup(cluster, name, nodegroup)
    _settle(cluster, name)
    target = version or cluster.version
    if _minor(target) is None or _minor(target) > _minor(cluster.version):
        raise _invalid(
            name,
            f"Requested Kubernetes version {target} is not supported: the node group's version cannot be "
            f"above its cluster's ({cluster.version})",
            nodegroup,
        )

    def apply() -> None:
        ng.version = target

    update = _start(
        ng,
        name,
        nodegroup,
        "VersionUpdate",
        [{"type": "Version", "value": target}],
        self._get_param("clientRequestToken"),
        apply,
    )
    return ActionResult({"update": _public(update)})


def update_nodegroup_config(self: Any) -> ActionResult:
    name = self._get_param("name")
    nodegroup = self._get_param("nodegroupName")
    cluster = _cluster(self.eks_backend, name)
    ng = _nodegroup(cluster, name, nodegroup)
    kwargs = {
        "cluster_name": name,
        "nodegroup_name": nodegroup,
        "labels": self._get_param("labels"),
        "taints": self._get_param("taints"),
        "scaling_config": self._get_param("scalingConfig"),
        "update_config": self._get_param("updateConfig"),
        "node_repair_config": self._get_param("nodeRepairConfig"),
    }

    def apply() -> None:
        self.eks_backend.update_nodegroup_config(**kwargs)

    params = [{"type": k, "value": str(v)} for k, v in kwargs.items() if k not in ("cluster_name", "nodegroup_name") and v]
    update = _start(ng, name, nodegroup, "ConfigUpdate", params, self._get_param("clientRequestToken"), apply)
    return ActionResult({"update": _public(update)})


def describe_update(self: Any) -> ActionResult:
    name = self._get_param("name")
    update_id = self._get_param("updateId")
    nodegroup = self._get_param("nodegroupName")
    addon = self._get_param("addonName")
    cluster = _cluster(self.eks_backend, name)
    if addon:
        # An add-on's updates (`eks_addons_access.py`).
        obj = getattr(cluster, "carbonc_addons", {}).get(addon)
        if obj is None:
            raise _not_found(name, addon, "addon")
        obj.settle()
    else:
        obj = _nodegroup(cluster, name, nodegroup) if nodegroup else cluster
        _settle(obj, name)
    for u in _updates(obj):
        if u["id"] == update_id:
            return ActionResult({"update": _public(u)})
    raise ResourceNotFoundException(
        clusterName=name,
        nodegroupName=nodegroup,
        fargateProfileName=None,
        addonName=None,
        message=f"No update found for ID: {update_id}.",
    )


def list_updates(self: Any) -> ActionResult:
    name = self._get_param("name")
    nodegroup = self._get_param("nodegroupName")
    cluster = _cluster(self.eks_backend, name)
    obj = _nodegroup(cluster, name, nodegroup) if nodegroup else cluster
    return ActionResult({"updateIds": [u["id"] for u in _updates(obj)]})


_describe_cluster = models.EKSBackend.describe_cluster
_describe_nodegroup = models.EKSBackend.describe_nodegroup


def describe_cluster(self: Any, name: str) -> Any:
    cluster = _describe_cluster(self, name)
    _settle(cluster, name)
    return cluster


def describe_nodegroup(self: Any, cluster_name: str, nodegroup_name: str) -> Any:
    ng = _describe_nodegroup(self, cluster_name, nodegroup_name)
    _settle(ng, cluster_name)
    return ng


def register() -> None:
    urls.url_paths["{0}/clusters/(?P<name>[^/]+)/updates$"] = urls.response.dispatch
    urls.url_paths["{0}/clusters/(?P<name>[^/]+)/updates/(?P<updateId>[^/]+)$"] = urls.response.dispatch
    urls.url_paths["{0}/clusters/(?P<name>[^/]+)/node-groups/(?P<nodegroupName>[^/]+)/update-version$"] = (
        urls.response.dispatch
    )
    responses.EKSResponse.update_cluster_version = update_cluster_version
    responses.EKSResponse.update_cluster_config = update_cluster_config
    responses.EKSResponse.update_nodegroup_version = update_nodegroup_version
    responses.EKSResponse.update_nodegroup_config = update_nodegroup_config
    responses.EKSResponse.describe_update = describe_update
    responses.EKSResponse.list_updates = list_updates
    models.EKSBackend.describe_cluster = describe_cluster
    models.EKSBackend.describe_nodegroup = describe_nodegroup
