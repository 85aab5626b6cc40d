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
"""

from typing import Any

from moto.rds import models
from moto.rds.exceptions import DBClusterNotFoundError, RDSClientError

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


def register() -> None:
    models.RDSBackend.remove_from_global_cluster = remove_from_global_cluster
