"""RDS: modifications that take time, and Aurora global databases upgraded as AWS allows.

The gaps (moto 5.2.5, `moto/rds/models.py` `RDSBackend.modify_db_cluster`, `modify_db_instance`):
a new engine version or instance class is in place the instant the call returns, and no
`PendingModifiedValues` are ever reported; a member of a global database can be moved to any
version, in any order.

On AWS (model rds: ModifyDBCluster, ModifyDBInstance, PendingModifiedValues,
ClusterPendingModifiedValues; TF internal/service/rds/cluster.go `waitDBClusterUpdated`, which
polls with a delay and treats `available` with pending modified values as not done):
- the cluster or instance first still answers `available`, with the change listed in
  `PendingModifiedValues`; then it is `upgrading` (an engine version) or `modifying` (an instance
  class); only when that ends does it report the new value, `available` again. Here the first
  phase lasts `aws_delays.BASE["rds_pending"]` and the whole change `aws_delays.BASE["rds_modify"]`
  seconds, times `CARBONC_EMULATOR_DELAY_SCALE`;
- a change while another runs is refused: InvalidDBClusterStateFault / InvalidDBInstanceState;
- a member of a global database takes minor version upgrades one cluster at a time, secondaries
  first: upgrading the primary while a secondary runs an older version is refused
  (InvalidParameterCombination; TF internal/service/rds/global_cluster.go
  `globalClusterUpgradeMinorEngineVersion` upgrades "global replicas first"); a major version
  is refused on a member (it goes through ModifyGlobalCluster, which upgrades every member).

Master password management (moto accepts any combination): ManageMasterUserPassword=true with a
MasterUserPassword, and turning management off without one, are InvalidParameterCombination
(model rds: ModifyDBCluster.ManageMasterUserPassword, "you can't specify MasterUserPassword" /
"you must specify MasterUserPassword"); turning it on for a member of a global database is
refused too ("Managing master user passwords with Secrets Manager isn't supported for ... DB
clusters that are part of an Aurora global database", Aurora User Guide, "Password management
with Amazon Aurora and AWS Secrets Manager", Limitations).
"""

import time
from typing import Any

import aws_delays
from moto.rds import models
from moto.rds.exceptions import RDSClientError

WRITTEN_FOR = "5.2.5"

# (account, region, "cluster"|"instance", id) -> {"pending": {...}, "visible": t, "ends": t, "apply": fn, "status": s}
_CHANGES: dict[tuple[str, str, str, str], dict[str, Any]] = {}


def _settle(backend: Any) -> None:
    now = time.monotonic()
    for key, change in list(_CHANGES.items()):
        if key[:2] != (backend.account_id, backend.region_name):
            continue
        obj = change["obj"]
        if now >= change["ends"]:
            del _CHANGES[key]
            change["apply"]()
            obj.status = "available"
            obj.pending_modified_values = None
        elif now >= change["visible"] and obj.status == "available":
            obj.status = change["status"]


def _major(v: str) -> str:
    return (v or "").split(".")[0]


def _global_of(account: str, cluster: Any) -> Any:
    for backend in models.rds_backends[account].values():
        for g in backend.global_clusters.values():
            if cluster in g.members:
                return g
    return None


def _begin(backend: Any, kind: str, obj_id: str, obj: Any, pending: dict, status: str, apply: Any) -> None:
    now = time.monotonic()
    obj.pending_modified_values = pending
    _CHANGES[(backend.account_id, backend.region_name, kind, obj_id)] = {
        "obj": obj,
        "pending": pending,
        "status": status,
        "visible": now + aws_delays.BASE["rds_pending"] * aws_delays.scale(),
        "ends": now + aws_delays.BASE["rds_modify"] * aws_delays.scale(),
        "apply": apply,
    }


def register() -> None:
    modify_cluster = models.RDSBackend.modify_db_cluster
    modify_instance = models.RDSBackend.modify_db_instance
    describe_clusters = models.RDSBackend.describe_db_clusters
    describe_instances = models.RDSBackend.describe_db_instances

    def modify_db_cluster(self: Any, kwargs: dict[str, Any]) -> Any:
        _settle(self)
        cid = kwargs["db_cluster_identifier"]
        cluster = self.clusters.get(cid)
        version = kwargs.get("engine_version")
        manage = kwargs.get("manage_master_user_password")
        if cluster is not None and manage is not None:
            if manage and kwargs.get("master_user_password"):
                raise RDSClientError(
                    "InvalidParameterCombination",
                    "You can't specify MasterUserPassword when ManageMasterUserPassword is turned on.",
                )
            if not manage and getattr(cluster, "manage_master_user_password", False) and not kwargs.get("master_user_password"):
                raise RDSClientError(
                    "InvalidParameterCombination",
                    "To stop managing the master user password with Secrets Manager, specify MasterUserPassword.",
                )
            if manage and _global_of(self.account_id, cluster) is not None:
                raise RDSClientError(
                    "InvalidParameterCombination",
                    f"DB cluster {cid} is part of an Aurora global database, whose master user password "
                    "cannot be managed with Secrets Manager.",
                )
        if cluster is not None and (self.account_id, self.region_name, "cluster", cid) in _CHANGES:
            raise RDSClientError(
                "InvalidDBClusterStateFault",
                f"DB cluster {cid} is {cluster.status} with pending modifications; wait until it is available.",
            )
        if cluster is not None and version and version != cluster.engine_version:
            g = _global_of(self.account_id, cluster)
            if g is not None:
                if _major(version) != _major(cluster.engine_version):
                    raise RDSClientError(
                        "InvalidParameterCombination",
                        f"DB cluster {cid} is a member of global cluster {g.global_cluster_identifier}: "
                        "upgrade its major version with ModifyGlobalCluster.",
                    )
                if cluster.is_writer and any(
                    m is not cluster and m.engine_version != version for m in g.members
                ):
                    raise RDSClientError(
                        "InvalidParameterCombination",
                        f"The primary cluster of global cluster {g.global_cluster_identifier} can be upgraded "
                        f"to {version} only after its secondary clusters: upgrade them first.",
                    )
            kwargs = dict(kwargs)
            kwargs.pop("engine_version")
            result = modify_cluster(self, kwargs)
            target = self.clusters[cid]

            def apply() -> None:
                target.engine_version = version
                # A global database reports its primary's version.
                g = _global_of(self.account_id, target)
                if g is not None and target.is_writer:
                    g.engine_version = version

            _begin(self, "cluster", cid, target, {"EngineVersion": version}, "upgrading", apply)
            return result
        return modify_cluster(self, kwargs)

    def modify_db_instance(self: Any, db_instance_identifier: str, db_kwargs: dict[str, Any]) -> Any:
        _settle(self)
        instance = self.databases.get(db_instance_identifier)
        cls = db_kwargs.get("db_instance_class")
        key = (self.account_id, self.region_name, "instance", db_instance_identifier)
        if instance is not None and key in _CHANGES:
            raise RDSClientError(
                "InvalidDBInstanceState",
                f"DB instance {db_instance_identifier} is {instance.status} with pending modifications.",
            )
        if instance is not None and cls and cls != instance.db_instance_class:
            db_kwargs = dict(db_kwargs)
            db_kwargs.pop("db_instance_class")
            result = modify_instance(self, db_instance_identifier, db_kwargs)

            def apply() -> None:
                instance.db_instance_class = cls

            _begin(self, "instance", db_instance_identifier, instance, {"DBInstanceClass": cls}, "modifying", apply)
            return result
        return modify_instance(self, db_instance_identifier, db_kwargs)

    def describe_db_clusters(self: Any, *args: Any, **kwargs: Any) -> Any:
        _settle(self)
        return describe_clusters(self, *args, **kwargs)

    def describe_db_instances(self: Any, *args: Any, **kwargs: Any) -> Any:
        _settle(self)
        return describe_instances(self, *args, **kwargs)

    models.RDSBackend.modify_db_cluster = modify_db_cluster
    models.RDSBackend.modify_db_instance = modify_db_instance
    models.RDSBackend.describe_db_clusters = describe_db_clusters
    models.RDSBackend.describe_db_instances = describe_db_instances
