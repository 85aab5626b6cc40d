"""EKS: UpdateClusterVersion, DescribeUpdate and ListUpdates for cluster version upgrades.

The gap (moto 5.2.5): `moto/eks/urls.py` has no `/clusters/{name}/updates` path, so
UpdateClusterVersion (POST), ListUpdates (GET) and DescribeUpdate (GET .../updates/{updateId})
answer 404, and a Kubernetes version upgrade, which carbonc applies in place, cannot run.

What this adds, after AWS's API reference for these operations:
- UpdateClusterVersion `{version, clientRequestToken?, force?}`: ResourceNotFoundException for an
  unknown cluster; ResourceInUseException unless the cluster is ACTIVE (an update is under way);
  InvalidParameterException unless `version` is exactly one minor version above the cluster's
  ("Unsupported Kubernetes minor version update from 1.30 to 1.32"): no skips, no downgrades, no
  same-version update. A repeated clientRequestToken returns the first update. It answers the
  Update (`type` VersionUpdate, `status` InProgress, `params` Version and PlatformVersion) and
  puts the cluster in UPDATING.
- As moto does for its other transitions, the next DescribeCluster (or DescribeUpdate) finishes
  the update: the cluster is ACTIVE at the new version, the update Successful.
- DescribeUpdate and ListUpdates (update ids, newest last).
"""

import re
import uuid
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.eks import models, responses, urls
from moto.eks.exceptions import (
    InvalidParameterException,
    ResourceInUseException,
    ResourceNotFoundException,
)

WRITTEN_FOR = "5.2.5"


def _cluster(backend: Any, name: str) -> Any:
    cluster = backend.clusters.get(name)
    if cluster is None:
        raise ResourceNotFoundException(
            clusterName=name,
            nodegroupName=None,
            fargateProfileName=None,
            addonName=None,
            message=f"No cluster found for name: {name}.",
        )
    return cluster


def _updates(cluster: Any) -> list:
    if not hasattr(cluster, "carbonc_updates"):
        cluster.carbonc_updates = []
    return cluster.carbonc_updates


def _settle(cluster: Any) -> None:
    """Finishes an update under way: the one-describe transition."""
    for u in _updates(cluster):
        if u["status"] == "InProgress":
            u["status"] = "Successful"
            cluster.version = u["params"][0]["value"]
            cluster.status = "ACTIVE"


def _minor(version: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"(\d+)\.(\d+)", version or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def update_cluster_version(self: Any) -> ActionResult:
    name = self._get_param("name")
    version = self._get_param("version")
    token = self._get_param("clientRequestToken")
    cluster = _cluster(self.eks_backend, name)
    for u in _updates(cluster):
        if token and u.get("clientRequestToken") == token:
            return ActionResult({"update": _public(u)})
    if cluster.status != "ACTIVE":
        raise ResourceInUseException(
            clusterName=name,
            nodegroupName=None,
            addonName=None,
            message=f"Cluster {name} is {cluster.status}; an update can start only when it is ACTIVE.",
        )
    now, want = _minor(cluster.version), _minor(version)
    if now is None or want is None or want != (now[0], now[1] + 1):
        raise InvalidParameterException(
            clusterName=name,
            nodegroupName=None,
            fargateProfileName=None,
            addonName=None,
            message=f"Unsupported Kubernetes minor version update from {cluster.version} to {version}",
        )
    update = {
        "id": str(uuid.uuid4()),
        "status": "InProgress",
        "type": "VersionUpdate",
        "params": [
            {"type": "Version", "value": version},
            {"type": "PlatformVersion", "value": "eks.1"},
        ],
        "createdAt": utcnow().timestamp(),
        "errors": [],
        "clientRequestToken": token,
    }
    _updates(cluster).append(update)
    cluster.status = "UPDATING"
    return ActionResult({"update": _public(update)})


def _public(update: dict) -> dict:
    return {k: v for k, v in update.items() if k != "clientRequestToken"}


def describe_update(self: Any) -> ActionResult:
    name = self._get_param("name")
    update_id = self._get_param("updateId")
    cluster = _cluster(self.eks_backend, name)
    _settle(cluster)
    for u in _updates(cluster):
        if u["id"] == update_id:
            return ActionResult({"update": _public(u)})
    raise ResourceNotFoundException(
        clusterName=name,
        nodegroupName=None,
        fargateProfileName=None,
        addonName=None,
        message=f"No update found for ID: {update_id}.",
    )


def list_updates(self: Any) -> ActionResult:
    name = self._get_param("name")
    cluster = _cluster(self.eks_backend, name)
    return ActionResult({"updateIds": [u["id"] for u in _updates(cluster)]})


_describe_cluster = models.EKSBackend.describe_cluster


def describe_cluster(self: Any, name: str) -> Any:
    cluster = _describe_cluster(self, name)
    _settle(cluster)
    return cluster


def register() -> None:
    urls.url_paths["{0}/clusters/(?P<name>[^/]+)/updates$"] = urls.response.dispatch
    urls.url_paths["{0}/clusters/(?P<name>[^/]+)/updates/(?P<updateId>[^/]+)$"] = urls.response.dispatch
    responses.EKSResponse.update_cluster_version = update_cluster_version
    responses.EKSResponse.describe_update = describe_update
    responses.EKSResponse.list_updates = list_updates
    models.EKSBackend.describe_cluster = describe_cluster
