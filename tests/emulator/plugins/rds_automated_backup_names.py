"""RDS: re-creating a cluster or instance under the same identifier within a minute.

The bug (moto 5.2.5): `moto/rds/models.py`, `DBCluster.save_automated_backup` (and
`DBInstance.save_automated_backup`) runs when a cluster is created and names an automated snapshot
`rds:<identifier>-<yyyy-mm-dd-hh-mm>`. Deleting the cluster keeps that snapshot, so a cluster
created again with the same identifier in the same minute (`carbonc destroy` then `apply`, or a
replacement) fails with DBClusterSnapshotAlreadyExistsFault, after moto has already stored the
new cluster but before it joined its global cluster: a half-made cluster that AWS never produces.
In AWS, automated backups belong to the cluster (its resource id), are named by AWS, and a new
cluster with a previous cluster's identifier starts cleanly.

The fix: when a cluster (or instance) is created, an automated snapshot of the name its first
backup takes is a previous cluster's (moto takes it only at creation, and identifiers are unique)
and is dropped, as AWS drops the automated backups of a deleted cluster. Manual snapshots and snapshots of live clusters are untouched, so
CreateDBClusterSnapshot keeps its AlreadyExists validation.
"""

from typing import Any

from moto.rds import models

WRITTEN_FOR = "5.2.5"

_cluster_save = models.DBCluster.save_automated_backup
_instance_save = models.DBInstance.save_automated_backup


def cluster_save_automated_backup(self: Any) -> None:
    # Called only by CreateDBCluster, right after the new cluster is stored: an automated snapshot
    # of this name can only be a previous cluster's with the same identifier.
    stamp = models.utcnow().strftime("%Y-%m-%d-%H-%M")
    old = self.backend.cluster_snapshots.get(f"rds:{self.db_cluster_identifier}-{stamp}")
    if old is not None and old.snapshot_type == "automated":
        del self.backend.cluster_snapshots[old.db_cluster_snapshot_identifier]
    _cluster_save(self)


def instance_save_automated_backup(self: Any) -> None:
    # Likewise, called only by CreateDBInstance.
    stamp = models.utcnow().strftime("%Y-%m-%d-%H-%M")
    old = self.backend.database_snapshots.get(f"rds:{self.db_instance_identifier}-{stamp}")
    if old is not None and old.snapshot_type == "automated":
        del self.backend.database_snapshots[old.db_snapshot_identifier]
    _instance_save(self)


def register() -> None:
    models.DBCluster.save_automated_backup = cluster_save_automated_backup
    models.DBInstance.save_automated_backup = instance_save_automated_backup
