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
identifier (DBClusterNotFoundFault when it is not a member), removes it, and makes it a
standalone (writer) cluster. Nothing else changes.

The gap (moto 5.2.5): ModifyGlobalCluster is not implemented (HTML 500), so deletion protection
cannot be switched off before a destroy, nor the engine upgraded. Added, after AWS's API
reference: the global cluster is found in any region (GlobalClusterNotFoundFault otherwise);
`DeletionProtection` is set; `EngineVersion` moves the global cluster and its members, refused
with InvalidParameterCombination when it is lower, or a new major version without
`AllowMajorVersionUpgrade`; `NewGlobalClusterIdentifier` renames it
(GlobalClusterAlreadyExistsFault when taken). It answers the GlobalCluster.
"""

from typing import Any

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


def remove_from_global_cluster(self: Any, global_cluster_identifier: str, db_cluster_identifier: str) -> Any:
    for backend in models.rds_backends[self.account_id].values():
        global_cluster = backend.global_clusters.get(global_cluster_identifier)
        if global_cluster is None:
            continue
        for member in list(global_cluster.members):
            if db_cluster_identifier in (member.db_cluster_arn, member.db_cluster_identifier):
                global_cluster.members.remove(member)
                member.is_writer = True
                member.global_cluster_identifier = None
                return global_cluster
        raise DBClusterNotFoundError(db_cluster_identifier)
    raise GlobalClusterNotFoundFault(global_cluster_identifier)


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


def register() -> None:
    models.RDSBackend.remove_from_global_cluster = remove_from_global_cluster
    responses.RDSResponse.modify_global_cluster = modify_global_cluster
