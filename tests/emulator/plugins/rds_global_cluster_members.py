"""RDS: RemoveFromGlobalCluster across regions, and by ARN.

The bug (moto 5.2.5): `moto/rds/models.py`, `RDSBackend.remove_from_global_cluster` looks up
both the global cluster and the member in the backend of the region the call is made in,
accepts only a cluster identifier, and ignores every failure (`except: pass`). A global cluster
lives in the region where it was created, while its members are clusters of other regions
(`create_db_cluster` does search all regions to join one). So removing the eu-west-1 secondary
from a global cluster created through us-east-1 silently does nothing, whichever region is
called, and DeleteGlobalCluster then fails with InvalidGlobalClusterStateFault ("is not empty").
AWS documents `DbClusterIdentifier` of RemoveFromGlobalCluster as the member's ARN.

The fix replaces that method. As AWS does, it finds the global cluster in any region of the
account (GlobalClusterNotFoundFault otherwise) and the member among its members by ARN or
identifier, removes it, and makes it a standalone (writer) cluster. A cluster that does not
exist is DBClusterNotFoundFault; one that exists but is not a member (a removal that already
finished) is InvalidParameterValue "... is not found in global cluster ...", the answer TF's
`removeClusterFromGlobalCluster` (internal/service/rds, docdb, neptune) treats as already removed.
Nothing else changes.

The gap (moto 5.2.5): ModifyGlobalCluster is not implemented (HTML 500), so deletion protection
cannot be switched off before a destroy, nor the engine upgraded. Added, after AWS's API
reference: the global cluster is found in any region (GlobalClusterNotFoundFault otherwise);
`DeletionProtection` is set; `EngineVersion` moves the global cluster and its members, refused
with InvalidParameterCombination when it is lower, or a new major version without
`AllowMajorVersionUpgrade`, and with InvalidParameterValue when it is a minor upgrade (which
goes member by member, see `rds_modifications.py`); `NewGlobalClusterIdentifier` renames it
(GlobalClusterAlreadyExistsFault when taken). It answers the GlobalCluster.

Asynchronous removal, as on AWS (the phase lasts `aws_delays.BASE["aurora_promotion"]` seconds
times `CARBONC_EMULATOR_DELAY_SCALE`): after RemoveFromGlobalCluster the cluster is `promoting`
and still listed among the global cluster's members until the phase ends (TF waits for this,
internal/service/rds/cluster.go `resourceClusterDelete` -> `waitDBClusterAvailable` after
`RemoveFromGlobalCluster`; hashicorp/terraform-provider-aws#40333). And AWS's refusals that moto
lacks:
- DeleteDBCluster of a cluster that is not `available`: InvalidDBClusterStateFault ("Can't create
  a snapshot because the database cluster ... isn't currently in the available state" when a
  final snapshot is asked for), and of a cluster that is still a member of a global cluster:
  InvalidDBClusterStateFault ("This cluster is a part of a global cluster, please remove it from
  globalcluster first"; a primary with other members: InvalidGlobalClusterStateFault, "Unable to
  delete cluster that is a primary member of global cluster while there are other global cluster
  members", hashicorp/terraform-provider-aws#26236);
- DeleteDBInstance of the last instance of a global cluster's primary while secondaries exist:
  InvalidDBClusterStateFault "Cannot delete the last instance of the master cluster. Delete the
  replica cluster before deleting the last master cluster instance." (rebuy-de/aws-nuke#570,
  hashicorp/terraform-provider-aws#29147);
- CreateDBCluster of a secondary while the primary cluster has no instance (no writer):
  InvalidDBClusterStateFault "Source cluster ... is in a state which is not valid for physical
  replication" (hashicorp/terraform-provider-aws#28546);
- CreateDBCluster joining a global database with ManageMasterUserPassword=true:
  InvalidParameterCombination (Aurora User Guide, "Password management with Amazon Aurora and AWS
  Secrets Manager", Limitations: not supported for "DB clusters that are part of an Aurora global
  database");
- DeleteGlobalCluster while members remain (also those still leaving): InvalidGlobalClusterStateFault.
"""

import time
from typing import Any

import aws_delays
from moto.core.responses import ActionResult
from moto.rds import models, responses
from moto.rds.exceptions import (
    DBClusterNotFoundError,
    InvalidParameterCombination,
    RDSClientError,
)

WRITTEN_FOR = "5.2.5"


class GlobalClusterNotFoundFault(RDSClientError):
    def __init__(self, identifier: str):
        super().__init__("GlobalClusterNotFoundFault", f"Global cluster {identifier} not found.")


# (account, cluster ARN) -> (global cluster, cluster, monotonic time the promotion ends)
_LEAVING: dict[tuple[str, str], tuple[Any, Any, float]] = {}


def _settle(account_id: str) -> None:
    """Completes every removal whose promotion is over."""
    now = time.monotonic()
    for key, (global_cluster, member, at) in list(_LEAVING.items()):
        if key[0] != account_id or now < at:
            continue
        del _LEAVING[key]
        if member in global_cluster.members:
            global_cluster.members.remove(member)
        member.is_writer = True
        member.global_cluster_identifier = None
        if member._status == "promoting":
            member.status = "available"


def _global_of(account_id: str, cluster: Any) -> Any:
    """The global cluster (any region) that lists `cluster` as a member, or None."""
    for backend in models.rds_backends[account_id].values():
        for g in backend.global_clusters.values():
            if cluster in g.members:
                return g
    return None


def remove_from_global_cluster(self: Any, global_cluster_identifier: str, db_cluster_identifier: str) -> Any:
    _settle(self.account_id)
    for backend in models.rds_backends[self.account_id].values():
        global_cluster = backend.global_clusters.get(global_cluster_identifier)
        if global_cluster is None:
            continue
        for member in list(global_cluster.members):
            if db_cluster_identifier in (member.db_cluster_arn, member.db_cluster_identifier):
                key = (self.account_id, member.db_cluster_arn)
                if key not in _LEAVING:
                    member.status = "promoting"
                    _LEAVING[key] = (global_cluster, member, aws_delays.deadline("aurora_promotion"))
                return global_cluster
        if not _cluster_exists(self.account_id, db_cluster_identifier):
            raise DBClusterNotFoundError(db_cluster_identifier)
        # A cluster that exists but is not (or no longer) a member: AWS answers a generic
        # InvalidParameterValue (TF internal/service/rds/global_cluster.go and docdb's
        # `removeClusterFromGlobalCluster` match its message, "is not found in global cluster").
        raise RDSClientError(
            "InvalidParameterValue",
            f"The specified DB cluster {db_cluster_identifier} is not found in global cluster "
            f"{global_cluster_identifier}.",
        )
    raise GlobalClusterNotFoundFault(global_cluster_identifier)


def _cluster_exists(account_id: str, identifier: str) -> bool:
    """Whether a cluster of this identifier or ARN exists in any region of the account."""
    for backend in models.rds_backends[account_id].values():
        for cluster in backend.clusters.values():
            if identifier in (cluster.db_cluster_arn, cluster.db_cluster_identifier):
                return True
    return False


def _find_global(account_id: str, identifier: str) -> tuple[Any, Any]:
    for backend in models.rds_backends[account_id].values():
        global_cluster = backend.global_clusters.get(identifier)
        if global_cluster is not None:
            return backend, global_cluster
    raise GlobalClusterNotFoundFault(identifier)


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split(".") if p.isdigit())


def modify_global_cluster(self: Any) -> ActionResult:
    params = self.params
    backend, global_cluster = _find_global(self.current_account, params["GlobalClusterIdentifier"])
    new_version = params.get("EngineVersion")
    if new_version and new_version != global_cluster.engine_version:
        old, new = _version(global_cluster.engine_version), _version(new_version)
        if new < old:
            raise InvalidParameterCombination(
                f"Cannot upgrade {global_cluster.engine} from {global_cluster.engine_version} to {new_version}"
            )
        if new[:1] != old[:1] and str(params.get("AllowMajorVersionUpgrade")).lower() != "true":
            raise InvalidParameterCombination(
                "The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version."
            )
        if new[:1] == old[:1]:
            # Minor upgrades of a global database go member by member, secondaries first (TF
            # internal/service/rds/global_cluster.go `globalClusterUpgradeMinorEngineVersion`).
            raise RDSClientError(
                "InvalidParameterValue",
                f"The target engine version {new_version} is a minor version upgrade: ModifyGlobalCluster "
                "only supports Major Version Upgrades. Upgrade each member cluster with ModifyDBCluster, "
                "secondaries first.",
            )
    new_id = params.get("NewGlobalClusterIdentifier")
    if new_id and new_id != global_cluster.global_cluster_identifier:
        for b in models.rds_backends[self.current_account].values():
            if new_id in b.global_clusters:
                raise RDSClientError(
                    "GlobalClusterAlreadyExistsFault", f"Global cluster {new_id} already exists"
                )
    if "DeletionProtection" in params:
        global_cluster.deletion_protection = str(params["DeletionProtection"]).lower() == "true"
    if new_version:
        global_cluster.engine_version = new_version
        for member in global_cluster.members:
            member.engine_version = new_version
    if new_id:
        backend.global_clusters.pop(global_cluster.global_cluster_identifier)
        global_cluster.global_cluster_identifier = new_id
        backend.global_clusters[new_id] = global_cluster
    return ActionResult({"GlobalCluster": global_cluster})


def _wrap(name: str, before: Any) -> None:
    """Runs `before(backend, *args, **kwargs)` ahead of RDSBackend.<name>."""
    original = getattr(models.RDSBackend, name)

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        before(self, *args, **kwargs)
        return original(self, *args, **kwargs)

    setattr(models.RDSBackend, name, wrapper)


def _before_delete_cluster(self: Any, cluster_identifier: str, snapshot_name: str | None = None, *_: Any) -> None:
    _settle(self.account_id)
    cluster = self.clusters.get(cluster_identifier)
    if cluster is None:
        return
    g = _global_of(self.account_id, cluster)
    if g is not None and (self.account_id, cluster.db_cluster_arn) not in _LEAVING:
        if cluster.is_writer and len(g.members) > 1:
            raise RDSClientError(
                "InvalidGlobalClusterStateFault",
                "Unable to delete cluster that is a primary member of global cluster while there are "
                "other global cluster members",
            )
        raise RDSClientError(
            "InvalidDBClusterStateFault",
            "This cluster is a part of a global cluster, please remove it from globalcluster first",
        )
    status = cluster._status
    if status not in ("available", "stopped", "failed", "creating"):
        if snapshot_name:
            raise RDSClientError(
                "InvalidDBClusterStateFault",
                f"Can't create a snapshot because the database cluster {cluster_identifier} isn't "
                "currently in the available state.",
            )
        raise RDSClientError(
            "InvalidDBClusterStateFault",
            f"DB cluster {cluster_identifier} is {status}, not available.",
        )


def _before_delete_instance(self: Any, db_instance_identifier: str, *_: Any, **__: Any) -> None:
    _settle(self.account_id)
    instance = self.databases.get(db_instance_identifier)
    cluster_id = getattr(instance, "db_cluster_identifier", None)
    cluster = self.clusters.get(cluster_id) if cluster_id else None
    if cluster is None:
        return
    g = _global_of(self.account_id, cluster)
    others = [
        d
        for d in self.databases.values()
        if d is not instance and getattr(d, "db_cluster_identifier", None) == cluster_id
    ]
    if g is not None and cluster.is_writer and len(g.members) > 1 and not others:
        raise RDSClientError(
            "InvalidDBClusterStateFault",
            "Cannot delete the last instance of the master cluster. Delete the replica cluster "
            "before deleting the last master cluster instance.",
        )


def _before_create_cluster(self: Any, kwargs: dict[str, Any], *_: Any) -> None:
    gid = kwargs.get("global_cluster_identifier")
    if not gid:
        return
    if kwargs.get("manage_master_user_password"):
        # Aurora User Guide, "Password management with Amazon Aurora and AWS Secrets Manager",
        # Limitations: not supported for "DB clusters that are part of an Aurora global database".
        raise RDSClientError(
            "InvalidParameterCombination",
            "ManageMasterUserPassword is not supported for a DB cluster in an Aurora global database.",
        )
    _settle(self.account_id)
    for backend in models.rds_backends[self.account_id].values():
        g = backend.global_clusters.get(gid)
        if g is None:
            continue
        for member in g.members:
            if not member.is_writer:
                continue
            owner = models.rds_backends[self.account_id][member.region]
            writers = [
                d
                for d in owner.databases.values()
                if getattr(d, "db_cluster_identifier", None) == member.db_cluster_identifier
            ]
            if not writers:
                raise RDSClientError(
                    "InvalidDBClusterStateFault",
                    f"Source cluster: {member.db_cluster_arn} is in a state which is not valid for "
                    "physical replication.",
                )


def _before_settle(self: Any, *_: Any, **__: Any) -> None:
    _settle(self.account_id)


def register() -> None:
    models.RDSBackend.remove_from_global_cluster = remove_from_global_cluster
    _wrap("delete_db_cluster", _before_delete_cluster)
    _wrap("delete_db_instance", _before_delete_instance)
    _wrap("create_db_cluster", _before_create_cluster)
    for name in ("describe_db_clusters", "describe_global_clusters", "delete_global_cluster"):
        _wrap(name, _before_settle)
    responses.RDSResponse.modify_global_cluster = modify_global_cluster
