"""ElastiCache: Global Datastores (global replication groups) and DeleteCacheSubnetGroup.

What moto 5.2.5 lacks: `CreateGlobalReplicationGroup`, `DescribeGlobalReplicationGroups`,
`DisassociateGlobalReplicationGroup` and `DeleteGlobalReplicationGroup` are not implemented (the
server answers them with an HTML 500), and neither is `DeleteCacheSubnetGroup`, so a Redis
Global Datastore cannot be created or torn down. `CreateReplicationGroup` does accept a
`GlobalReplicationGroupId` and marks the group SECONDARY, but checks nothing.

This plugin adds those operations to moto's ElastiCache responses, with AWS's documented
validation:
- CreateGlobalReplicationGroup: the primary must be a replication group of the calling region
  (ReplicationGroupNotFoundFault), not already in a Global Datastore
  (InvalidReplicationGroupState); the id is AWS's: a prefix, a hyphen and the suffix
  (GlobalReplicationGroupAlreadyExistsFault when taken).
- A secondary made by CreateReplicationGroup with GlobalReplicationGroupId must name an existing
  Global Datastore (GlobalReplicationGroupNotFoundFault) in another region than its primary
  (InvalidParameterValue).
- DisassociateGlobalReplicationGroup removes a secondary; the primary cannot be disassociated
  (InvalidParameterValue).
- DeleteGlobalReplicationGroup requires RetainPrimaryReplicationGroup=true and no secondaries left
  (InvalidGlobalReplicationGroupState); the primary becomes a standalone replication group.
- DeleteCacheSubnetGroup: CacheSubnetGroupNotFoundFault when it does not exist, and
  CacheSubnetGroupInUse while a replication group uses it.
Members and their regions are computed from the replication groups of every region, so a
deleted replication group leaves its Global Datastore as AWS's does.

Asynchronous, as on AWS (phases last `aws_delays.BASE` seconds times
`CARBONC_EMULATOR_DELAY_SCALE`), with AWS's status names (model elasticache:
GlobalReplicationGroup.Status; TF internal/service/elasticache/wait.go, whose waiters treat
`creating` and `modifying` as pending and `available` or `primary-only` as done):
- a new Global Datastore is `creating`, then `primary-only` while it has no secondary, and
  `available` once it has one;
- every membership change (a secondary added, a secondary disassociated) makes it `modifying`;
  while it is `creating` or `modifying`, adding or disassociating a member, and deleting it, are
  refused with InvalidGlobalReplicationGroupState (TF retries these on that fault,
  replication_group.go `DisassociateReplicationGroup`, global_replication_group.go);
- a disassociated secondary stays a member (`disassociating`) until the phase ends, and so
  cannot be deleted yet (InvalidReplicationGroupState, TF `deleteReplicationGroup` retries it);
  afterwards it, and the primary left by a deleted Global Datastore, are `modifying` for a
  phase, during which DeleteReplicationGroup is refused the same way;
- a secondary inherits node type, engine version, cluster mode and shards from the primary (its
  replicas per shard are its own, ReplicasPerNodeGroup), and may not
  set what it inherits: node type, engine and its version, parameter group, shard count,
  encryption settings (InvalidParameterCombination
  "Cannot use the given parameters when creating new replication group in an existing global
  replication group", hashicorp/terraform-provider-aws#24854; TF's aws_elasticache_replication_group
  sends none of them when global_replication_group_id is set);
- more than one shard (NumNodeGroups > 1) needs cluster mode: `ClusterMode=enabled` or a
  `*.cluster.on` parameter group (model elasticache: CreateReplicationGroup.CacheParameterGroupName,
  "To create a Valkey or Redis OSS (cluster mode enabled) replication group, use
  CacheParameterGroupName=default.redis6.x.cluster.on"); the datastore reports ClusterEnabled
  from its primary.

Updates (moto lacks ModifyGlobalReplicationGroup, and its ModifyReplicationGroup ignores
EngineVersion and accepts anything on a member):
- ModifyGlobalReplicationGroup (ApplyImmediately required): CacheNodeType, EngineVersion,
  CacheParameterGroupName, AutomaticFailoverEnabled, description; refused with InvalidGlobalReplicationGroupState unless the datastore is settled;
  makes it `modifying` for `aws_delays.BASE["datastore_modify"]` seconds, after which every member
  has the new node type and version (model elasticache: ModifyGlobalReplicationGroup);
- ModifyReplicationGroup of a member with CacheNodeType, EngineVersion, CacheParameterGroupName
  or AutomaticFailoverEnabled: InvalidParameterValue "Cluster [ID] is part of a global cluster
  [GID]. Request rejected." (hashicorp/terraform-provider-aws#19929, #27875; automatic failover
  "is controlled by" the Global Datastore, #47644); of a standalone group, EngineVersion is applied.

Shape and AUTH token changes (moto lacks every shape API, and its ModifyReplicationGroup ignores
AuthToken). Each makes the group (or, for the global variants, the datastore) `modifying` for a
phase, after which the change is visible; while it lasts the group refuses other changes with
InvalidReplicationGroupState, as ModifyReplicationGroup does on AWS for a group that is not
`available`. ApplyImmediately=false is refused where AWS supports only true.
- ModifyReplicationGroupShardConfiguration: cluster mode enabled only (model elasticache:
  ModifyReplicationGroupShardConfiguration, "add shards, remove shards, or rebalance the
  keyspaces"; ElastiCache User Guide, "Scaling clusters in Valkey or Redis OSS (Cluster Mode
  Enabled)"); fewer shards need NodeGroupsToRemove or NodeGroupsToRetain ("If the value of
  NodeGroupCount is less than the current number of node groups (shards), then either
  NodeGroupsToRemove or NodeGroupsToRetain is required", same model); a Global Datastore member
  is refused ("Cluster [..] is part of a global cluster"), its shards change through
  IncreaseNodeGroupsInGlobalReplicationGroup / DecreaseNodeGroupsInGlobalReplicationGroup, which
  need a settled datastore (InvalidGlobalReplicationGroupState), reshape every member, and
  name the shards by their global node group ids (`GlobalNodeGroups` in the description);
- IncreaseReplicaCount / DecreaseReplicaCount with NewReplicaCount: at most 5 replicas per
  shard; the same count is NoOperationFault; fewer than one replica is refused for a
  cluster-mode-disabled group with Multi-AZ or automatic failover (model elasticache:
  DecreaseReplicaCount.NewReplicaCount, "If Multi-AZ is enabled: 1");
- ModifyReplicationGroup with AuthToken needs AuthTokenUpdateStrategy and the other way round
  (model elasticache: ModifyReplicationGroup.AuthToken, "must be specified with the
  auth-token-update-strategy parameter"), transit encryption (InvalidParameterCombination), and
  SET only after a ROTATE; ROTATE keeps the old token valid with the new one (ElastiCache User
  Guide, "Modifying the AUTH token on an existing cluster"; TF replication_group.go sends
  `auth_token_update_strategy`, ROTATE by default).

Also a bug: `DeleteReplicationGroup` marks the group `deleting` and never removes it, so it stays
listed (and its subnet group in use) forever; here the deletion completes at once, as it does in
AWS a few minutes later.
"""

import copy
import datetime
import time
from typing import Any, Callable

import aws_delays

from moto.core.responses import ActionResult, EmptyResult
from moto.elasticache import models, responses
from moto.elasticache.exceptions import (
    CacheSubnetGroupNotFound,
    ElastiCacheException,
    InvalidParameterValueException,
    ReplicationGroupNotFound,
)

WRITTEN_FOR = "5.2.5"
# AWS prefixes a Global Datastore's id with a code of the account's keyspace.
PREFIX = "ldgnf"
# account -> id -> {"id", "description", "primary": (region, replication group id)}
_GLOBALS: dict[str, dict[str, dict[str, Any]]] = {}


class _Fault(ElastiCacheException):
    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


def _store(account: str) -> dict[str, dict[str, Any]]:
    return _GLOBALS.setdefault(account, {})


# (account, region, replication group id) -> monotonic time its `modifying` phase ends
_RG_BUSY: dict[tuple[str, str, str], float] = {}
# (monotonic time, change): replication group changes that take effect when their phase ends
_RG_APPLY: list[tuple[float, Callable[[], None]]] = []


def _settle(account: str) -> None:
    """Ends every phase that is over: disassociations complete, datastores settle."""
    now = time.monotonic()
    for gid, g in _store(account).items():
        for (region, rg_id), at in list(g["leaving"].items()):
            if now >= at:
                del g["leaving"][(region, rg_id)]
                rg = models.elasticache_backends[account][region].replication_groups.get(rg_id)
                if rg is not None and getattr(rg, "global_replication_group_id", "") == gid:
                    rg.global_replication_group_id = ""
                    rg.global_replication_group_member_role = None
                    # Its own `modifying` phase began when the disassociation ended.
                    _RG_BUSY[(account, region, rg_id)] = at + aws_delays.BASE["datastore_modifying"] * aws_delays.scale()
        for item in list(g.get("apply", [])):
            if now >= item[0]:
                g["apply"].remove(item)
                item[1]()
        if g["busy"] and now >= g["busy"][1]:
            g["busy"] = None
    for item in list(_RG_APPLY):
        if now >= item[0]:
            _RG_APPLY.remove(item)
            item[1]()
    for key, at in list(_RG_BUSY.items()):
        if now >= at:
            del _RG_BUSY[key]
    for region, backend in models.elasticache_backends[account].items():
        for rg in backend.replication_groups.values():
            busy = (account, region, rg.replication_group_id) in _RG_BUSY
            if busy and rg.status == "available":
                rg.status = "modifying"
            elif not busy and rg.status == "modifying":
                rg.status = "available"


def _status(account: str, gid: str) -> str:
    g = _store(account)[gid]
    if g["busy"]:
        return g["busy"][0]
    secondaries = [m for m in _members(account, gid) if (m[0], m[1].replication_group_id) != g["primary"]]
    return "available" if secondaries else "primary-only"


def _require_settled(account: str, gid: str, what: str) -> None:
    status = _status(account, gid)
    if status not in ("available", "primary-only"):
        raise _Fault(
            "InvalidGlobalReplicationGroupState",
            f"Global Datastore {gid} is {status}; {what} is possible once it is available.",
        )


def _members(account: str, gid: str) -> list[tuple[str, Any]]:
    """(region, replication group) of every member, the primary first."""
    g = _store(account)[gid]
    out = []
    for region, backend in models.elasticache_backends[account].items():
        for rg in backend.replication_groups.values():
            if (region, rg.replication_group_id) == g["primary"]:
                out.insert(0, (region, rg))
            elif getattr(rg, "global_replication_group_id", "") == gid:
                out.append((region, rg))
    return out


def _describe(account: str, gid: str) -> dict[str, Any]:
    g = _store(account)[gid]
    members = _members(account, gid)
    primary_rg = members[0][1] if members and (members[0][0], members[0][1].replication_group_id) == g["primary"] else None
    return {
        "GlobalReplicationGroupId": gid,
        "GlobalReplicationGroupDescription": g["description"],
        "Status": _status(account, gid),
        "CacheNodeType": getattr(primary_rg, "cache_node_type", None),
        "Engine": "redis",
        "EngineVersion": getattr(primary_rg, "engine_version", None),
        "Members": [
            {
                "ReplicationGroupId": rg.replication_group_id,
                "ReplicationGroupRegion": region,
                "Role": "PRIMARY" if (region, rg.replication_group_id) == g["primary"] else "SECONDARY",
                "AutomaticFailover": "enabled",
                "Status": "disassociating" if (region, rg.replication_group_id) in g["leaving"] else "associated",
            }
            for region, rg in members
        ],
        "ClusterEnabled": bool(getattr(primary_rg, "cluster_enabled", False)),
        "GlobalNodeGroups": [
            {"GlobalNodeGroupId": f"{gid}-{ng['node_group_id']}", "Slots": ng.get("slots", "0-16383")}
            for ng in (primary_rg.node_groups if primary_rg is not None else [])
        ],
        "ARN": f"arn:aws:elasticache::{account}:globalreplicationgroup:{gid}",
    }


def create_global_replication_group(self: Any) -> ActionResult:
    suffix = self._get_param("GlobalReplicationGroupIdSuffix")
    description = self._get_param("GlobalReplicationGroupDescription") or ""
    primary = self._get_param("PrimaryReplicationGroupId")
    backend = self.elasticache_backend
    if primary not in backend.replication_groups:
        raise ReplicationGroupNotFound(primary)
    rg = backend.replication_groups[primary]
    if getattr(rg, "global_replication_group_id", ""):
        raise _Fault("InvalidReplicationGroupState", f"Replication group {primary} is already part of a Global Datastore.")
    gid = f"{PREFIX}-{suffix}"
    store = _store(self.current_account)
    if gid in store:
        raise _Fault("GlobalReplicationGroupAlreadyExistsFault", f"Global Datastore {gid} already exists.")
    store[gid] = {
        "description": description,
        "primary": (self.region, primary),
        "busy": ("creating", aws_delays.deadline("datastore_creating")),
        "leaving": {},
    }
    rg.global_replication_group_id = gid
    rg.global_replication_group_member_role = "PRIMARY"
    return ActionResult({"GlobalReplicationGroup": _describe(self.current_account, gid)})


def describe_global_replication_groups(self: Any) -> ActionResult:
    gid = self._get_param("GlobalReplicationGroupId")
    store = _store(self.current_account)
    _settle(self.current_account)
    if gid and gid not in store:
        raise _Fault("GlobalReplicationGroupNotFoundFault", f"Global Datastore {gid} not found.")
    ids = [gid] if gid else sorted(store)
    return ActionResult({"GlobalReplicationGroups": [_describe(self.current_account, i) for i in ids]})


def disassociate_global_replication_group(self: Any) -> ActionResult:
    gid = self._get_param("GlobalReplicationGroupId")
    rg_id = self._get_param("ReplicationGroupId")
    region = self._get_param("ReplicationGroupRegion")
    store = _store(self.current_account)
    if gid not in store:
        raise _Fault("GlobalReplicationGroupNotFoundFault", f"Global Datastore {gid} not found.")
    if store[gid]["primary"] == (region, rg_id):
        raise InvalidParameterValueException("The primary replication group cannot be disassociated; delete the Global Datastore instead.")
    _settle(self.current_account)
    for r, rg in _members(self.current_account, gid):
        if (r, rg.replication_group_id) == (region, rg_id):
            _require_settled(self.current_account, gid, "disassociating a member")
            store[gid]["leaving"][(region, rg_id)] = aws_delays.deadline("datastore_modifying")
            store[gid]["busy"] = ("modifying", aws_delays.deadline("datastore_modifying"))
            return ActionResult({"GlobalReplicationGroup": _describe(self.current_account, gid)})
    raise ReplicationGroupNotFound(rg_id)


def delete_global_replication_group(self: Any) -> ActionResult:
    gid = self._get_param("GlobalReplicationGroupId")
    retain = self._get_bool_param("RetainPrimaryReplicationGroup")
    store = _store(self.current_account)
    if gid not in store:
        raise _Fault("GlobalReplicationGroupNotFoundFault", f"Global Datastore {gid} not found.")
    if not retain:
        raise InvalidParameterValueException("RetainPrimaryReplicationGroup must be true.")
    _settle(self.current_account)
    _require_settled(self.current_account, gid, "deleting it")
    members = _members(self.current_account, gid)
    if any((r, rg.replication_group_id) != store[gid]["primary"] for r, rg in members):
        raise _Fault("InvalidGlobalReplicationGroupState", f"Global Datastore {gid} still has secondary members; disassociate them first.")
    described = _describe(self.current_account, gid)
    for region, rg in members:
        rg.global_replication_group_id = ""
        rg.global_replication_group_member_role = None
        _RG_BUSY[(self.current_account, region, rg.replication_group_id)] = aws_delays.deadline("datastore_modifying")
    del store[gid]
    described["Status"] = "deleting"
    return ActionResult({"GlobalReplicationGroup": described})


def modify_global_replication_group(self: Any) -> ActionResult:
    gid = self._get_param("GlobalReplicationGroupId")
    store = _store(self.current_account)
    if gid not in store:
        raise _Fault("GlobalReplicationGroupNotFoundFault", f"Global Datastore {gid} not found.")
    if self._get_param("ApplyImmediately") is None:
        raise InvalidParameterValueException("ApplyImmediately is required.")
    _settle(self.current_account)
    _require_settled(self.current_account, gid, "modifying it")
    node_type = self._get_param("CacheNodeType")
    version = self._get_param("EngineVersion")
    parameter_group = self._get_param("CacheParameterGroupName")
    failover = self._get_bool_param("AutomaticFailoverEnabled")
    description = self._get_param("GlobalReplicationGroupDescription")
    if description is not None:
        store[gid]["description"] = description
    at = aws_delays.deadline("datastore_modify")
    store[gid]["busy"] = ("modifying", at)
    members = _members(self.current_account, gid)

    def apply() -> None:
        for _, rg in members:
            if node_type:
                rg.cache_node_type = node_type
            if version:
                rg.engine_version = version
            if parameter_group:
                rg.cache_parameter_group_name = parameter_group
            if failover is not None:
                rg.automatic_failover = "enabled" if failover else "disabled"

    store[gid].setdefault("apply", []).append((at, apply))
    return ActionResult({"GlobalReplicationGroup": _describe(self.current_account, gid)})


def _cluster_id(rg: Any, node_group_id: str, n: int) -> str:
    """A member cache cluster's id, as AWS names them: `RG-SHARD-NNN` in cluster mode, `RG-NNN`."""
    if rg.cluster_enabled:
        return f"{rg.replication_group_id}-{node_group_id}-{n:03}"
    return f"{rg.replication_group_id}-{n:03}"


def _reshape(rg: Any, shards: int | None = None, remove: tuple[str, ...] = (), replicas: int | None = None) -> None:
    """Gives `rg` `shards` node groups (the ones in `remove` taken away first, new ones added
    after the highest id) and `replicas` replicas in each."""
    groups = [ng for ng in rg.node_groups if ng["node_group_id"] not in remove]
    if shards is not None:
        template = groups[0]
        next_id = max(int(ng["node_group_id"]) for ng in rg.node_groups) + 1
        while len(groups) < shards:
            ng = copy.deepcopy(template)
            ng["node_group_id"] = f"{next_id:04}"
            next_id += 1
            for n, member in enumerate(ng["node_group_members"], 1):
                member["cache_cluster_id"] = _cluster_id(rg, ng["node_group_id"], n)
                member["cache_node_id"] = ng["node_group_id"]
            groups.append(ng)
        # The 16,384 hash slots spread over the shards, as a rebalance leaves them.
        per = 16384 // len(groups)
        for i, ng in enumerate(groups):
            if "slots" in ng:
                ng["slots"] = f"{i * per}-{16383 if i == len(groups) - 1 else (i + 1) * per - 1}"
    if replicas is not None:
        for ng in groups:
            members = ng["node_group_members"][: replicas + 1]
            while len(members) < replicas + 1:
                member = copy.deepcopy(members[0])
                member["cache_cluster_id"] = _cluster_id(rg, ng["node_group_id"], len(members) + 1)
                if "current_role" in member:
                    member["current_role"] = "replica"
                members.append(member)
            ng["node_group_members"] = members
    rg.node_groups = groups
    rg.member_clusters = [m["cache_cluster_id"] for ng in groups for m in ng["node_group_members"]]


def _group_for_change(self: Any, operation: str) -> Any:
    """The replication group a shape or token change names, available and applied immediately."""
    _settle(self.current_account)
    rg_id = self._get_param("ReplicationGroupId")
    rg = self.elasticache_backend.replication_groups.get(rg_id)
    if rg is None:
        raise ReplicationGroupNotFound(rg_id)
    if self._get_bool_param("ApplyImmediately") is not True:
        raise InvalidParameterValueException(f"{operation} supports only ApplyImmediately=true.")
    if rg.status != "available":
        raise _Fault("InvalidReplicationGroupState", f"Replication group {rg_id} is {rg.status}, not available.")
    return rg


def _change_later(self: Any, rg: Any, change: Callable[[], None]) -> None:
    """Makes `rg` `modifying` for a phase, at whose end `change` takes effect."""
    at = aws_delays.deadline("elasticache_modify")
    _RG_BUSY[(self.current_account, self.region, rg.replication_group_id)] = at
    _RG_APPLY.append((at, change))
    if at <= time.monotonic():
        _settle(self.current_account)
    else:
        rg.status = "modifying"


def modify_replication_group_shard_configuration(self: Any) -> ActionResult:
    rg = _group_for_change(self, "ModifyReplicationGroupShardConfiguration")
    rg_id = rg.replication_group_id
    gid = getattr(rg, "global_replication_group_id", "")
    if gid:
        raise InvalidParameterValueException(f"Cluster [{rg_id}] is part of a global cluster [{gid}]. Request rejected.")
    if not rg.cluster_enabled:
        raise InvalidParameterValueException(
            f"Replication group {rg_id} has cluster mode disabled; shards can be added or removed only in cluster mode."
        )
    count = self._get_int_param("NodeGroupCount")
    current = [ng["node_group_id"] for ng in rg.node_groups]
    remove = tuple(self._get_param("NodeGroupsToRemove") or [])
    retain = tuple(self._get_param("NodeGroupsToRetain") or [])
    if count is None or count < 1:
        raise InvalidParameterValueException("NodeGroupCount must be at least 1.")
    if count > 500:
        raise _Fault("NodeGroupsPerReplicationGroupQuotaExceeded", "A replication group has at most 500 node groups.")
    if count == len(current):
        raise InvalidParameterValueException(f"Replication group {rg_id} already has {count} node groups.")
    if count < len(current):
        if remove and retain:
            raise _Fault("InvalidParameterCombination", "NodeGroupsToRemove and NodeGroupsToRetain cannot both be given.")
        if not remove and not retain:
            raise InvalidParameterValueException(
                "If the value of NodeGroupCount is less than the current number of node groups (shards), "
                "then either NodeGroupsToRemove or NodeGroupsToRetain is required."
            )
        unknown = [i for i in remove + retain if i not in current]
        if unknown:
            raise InvalidParameterValueException(f"Replication group {rg_id} has no node group {unknown[0]}.")
        if retain:
            remove = tuple(i for i in current if i not in retain)
        if len(current) - len(remove) != count:
            raise InvalidParameterValueException(
                f"Removing {len(remove)} of {len(current)} node groups does not leave NodeGroupCount={count}."
            )
    _change_later(self, rg, lambda: _reshape(rg, shards=count, remove=remove))
    return ActionResult({"ReplicationGroup": rg})


def _replica_count(self: Any, increase: bool) -> ActionResult:
    operation = "IncreaseReplicaCount" if increase else "DecreaseReplicaCount"
    rg = _group_for_change(self, operation)
    new = self._get_int_param("NewReplicaCount")
    if new is None:
        if self._get_param("ReplicaConfiguration"):
            raise InvalidParameterValueException("The emulator models NewReplicaCount only, not ReplicaConfiguration.")
        raise InvalidParameterValueException("Either NewReplicaCount or ReplicaConfiguration is required.")
    current = len(rg.node_groups[0]["node_group_members"]) - 1
    if new == current:
        raise _Fault("NoOperationFault", f"Replication group {rg.replication_group_id} already has {current} replicas per shard.")
    if increase and new < current or not increase and new > current:
        raise InvalidParameterValueException(
            f"{operation}: NewReplicaCount {new} must be {'more' if increase else 'fewer'} than the current {current}."
        )
    if new > 5:
        raise InvalidParameterValueException("A shard has at most 5 replicas.")
    failover = rg.multi_az == "enabled" or rg.automatic_failover == "enabled"
    if new < 1 and not rg.cluster_enabled and failover:
        raise InvalidParameterValueException(
            f"Replication group {rg.replication_group_id} has Multi-AZ or automatic failover enabled, which needs at least 1 replica."
        )
    if new < 0:
        raise InvalidParameterValueException("NewReplicaCount cannot be negative.")
    _change_later(self, rg, lambda: _reshape(rg, replicas=new))
    return ActionResult({"ReplicationGroup": rg})


def increase_replica_count(self: Any) -> ActionResult:
    return _replica_count(self, increase=True)


def decrease_replica_count(self: Any) -> ActionResult:
    return _replica_count(self, increase=False)


def _global_shards(self: Any, increase: bool) -> ActionResult:
    gid = self._get_param("GlobalReplicationGroupId")
    store = _store(self.current_account)
    if gid not in store:
        raise _Fault("GlobalReplicationGroupNotFoundFault", f"Global Datastore {gid} not found.")
    if self._get_bool_param("ApplyImmediately") is not True:
        raise InvalidParameterValueException("Shard count changes of a Global Datastore support only ApplyImmediately=true.")
    _settle(self.current_account)
    _require_settled(self.current_account, gid, "changing its shards")
    members = _members(self.current_account, gid)
    primary = members[0][1]
    if not primary.cluster_enabled:
        raise InvalidParameterValueException(f"Global Datastore {gid} has cluster mode disabled; its shard count cannot change.")
    count = self._get_int_param("NodeGroupCount")
    current = [ng["node_group_id"] for ng in primary.node_groups]
    if count is None or (increase and count <= len(current)) or (not increase and count >= len(current)):
        raise InvalidParameterValueException(
            f"NodeGroupCount {count} must be {'more' if increase else 'fewer'} than the current {len(current)}."
        )
    remove: tuple[str, ...] = ()
    if not increase:
        prefix = f"{gid}-"
        to_remove = self._get_param("GlobalNodeGroupsToRemove") or []
        to_retain = self._get_param("GlobalNodeGroupsToRetain") or []
        if bool(to_remove) == bool(to_retain):
            raise InvalidParameterValueException(
                "If the value of NodeGroupCount is less than the current number of node groups (shards), "
                "then either GlobalNodeGroupsToRemove or GlobalNodeGroupsToRetain is required."
            )
        named = [i.removeprefix(prefix) for i in list(to_remove) + list(to_retain)]
        unknown = [i for i in list(to_remove) + list(to_retain) if not i.startswith(prefix) or i.removeprefix(prefix) not in current]
        if unknown:
            raise InvalidParameterValueException(f"Global Datastore {gid} has no global node group {unknown[0]}.")
        remove = tuple(named) if to_remove else tuple(i for i in current if i not in named)
        if len(current) - len(remove) != count:
            raise InvalidParameterValueException(
                f"Removing {len(remove)} of {len(current)} node groups does not leave NodeGroupCount={count}."
            )
    at = aws_delays.deadline("datastore_modify")
    store[gid]["busy"] = ("modifying", at)

    def apply() -> None:
        for _, rg in members:
            _reshape(rg, shards=count, remove=remove)

    store[gid].setdefault("apply", []).append((at, apply))
    return ActionResult({"GlobalReplicationGroup": _describe(self.current_account, gid)})


def increase_node_groups_in_global_replication_group(self: Any) -> ActionResult:
    return _global_shards(self, increase=True)


def decrease_node_groups_in_global_replication_group(self: Any) -> ActionResult:
    return _global_shards(self, increase=False)


def _change_auth_token(self: Any, rg: Any) -> None:
    """The AuthToken part of a ModifyReplicationGroup (moto ignores it)."""
    token = self._get_param("AuthToken")
    strategy = self._get_param("AuthTokenUpdateStrategy")
    if token is None and strategy is None:
        return
    if (token is None) != (strategy is None) and strategy != "DELETE":
        raise _Fault(
            "InvalidParameterCombination",
            "AuthToken must be specified with AuthTokenUpdateStrategy, and AuthTokenUpdateStrategy with AuthToken.",
        )
    if not rg.transit_encryption_enabled:
        raise _Fault("InvalidParameterCombination", "AuthToken requires TransitEncryptionEnabled.")
    rotating = getattr(rg, "_carbonc_rotated", False)
    if strategy == "SET" and not rotating:
        raise _Fault("InvalidParameterCombination", "AuthTokenUpdateStrategy SET is allowed only after ROTATE.")

    def apply() -> None:
        rg.auth_token_enabled = strategy != "DELETE"
        rg.auth_token_last_modified_date = datetime.datetime.now(datetime.timezone.utc)
        rg._carbonc_rotated = strategy == "ROTATE"

    _change_later(self, rg, apply)


def delete_cache_subnet_group(self: Any) -> EmptyResult:
    name = self._get_param("CacheSubnetGroupName")
    backend = self.elasticache_backend
    if name not in backend.cache_subnet_groups:
        raise CacheSubnetGroupNotFound(name)
    for rg in backend.replication_groups.values():
        if getattr(rg, "cache_subnet_group_name", None) == name:
            raise _Fault("CacheSubnetGroupInUse", f"Cache subnet group {name} is in use by {rg.replication_group_id}.")
    del backend.cache_subnet_groups[name]
    return EmptyResult()


def register() -> None:
    cls = responses.ElastiCacheResponse
    original_create = models.ElastiCacheBackend.create_replication_group
    if getattr(original_create, "_carbonc_plugin", None) == __name__:
        return

    def create_replication_group(self: Any, *args: Any, **kwargs: Any) -> Any:
        gid = kwargs.get("global_replication_group_id")
        if gid:
            store = _store(self.account_id)
            if gid not in store:
                raise _Fault("GlobalReplicationGroupNotFoundFault", f"Global Datastore {gid} not found.")
            if store[gid]["primary"][0] == self.region_name:
                raise InvalidParameterValueException("A secondary must be in another region than the primary.")
            _settle(self.account_id)
            _require_settled(self.account_id, gid, "adding a secondary")
            # A secondary has the primary's shards (its replicas are its own).
            region, primary_id = store[gid]["primary"]
            primary = models.elasticache_backends[self.account_id][region].replication_groups.get(primary_id)
            if primary is not None:
                kwargs["num_node_groups"] = len(primary.node_groups)
                kwargs["cluster_mode"] = primary.cluster_mode
        elif (kwargs.get("num_node_groups") or 1) > 1:
            cluster_mode = (kwargs.get("cluster_mode") or "").lower()
            group = kwargs.get("cache_parameter_group_name") or ""
            if cluster_mode not in ("enabled", "compatible") and not group.endswith(".cluster.on"):
                raise _Fault(
                    "InvalidParameterCombination",
                    "Cluster mode must be enabled (ClusterMode=enabled, or a cluster-enabled parameter "
                    "group such as default.redis7.cluster.on) to create more than one node group.",
                )
            kwargs["cluster_mode"] = "enabled"
        result = original_create(self, *args, **kwargs)
        if gid:
            store = _store(self.account_id)
            store[gid]["busy"] = ("modifying", aws_delays.deadline("datastore_modifying"))
            # A secondary inherits node type, engine version and cluster mode from the primary
            # (moto gave it its own defaults).
            region, primary_id = store[gid]["primary"]
            primary = models.elasticache_backends[self.account_id][region].replication_groups.get(primary_id)
            if primary is not None:
                for attr in ("cache_node_type", "engine_version", "cluster_mode", "cluster_enabled"):
                    if hasattr(primary, attr):
                        setattr(result, attr, getattr(primary, attr))
        return result

    create_replication_group._carbonc_plugin = __name__  # type: ignore[attr-defined]
    models.ElastiCacheBackend.create_replication_group = create_replication_group
    original_delete = models.ElastiCacheBackend.delete_replication_group

    def delete_replication_group(self: Any, replication_group_id: str, retain_primary_cluster: Any) -> Any:
        _settle(self.account_id)
        rg = self.replication_groups.get(replication_group_id)
        if rg is not None and rg.status != "available":
            raise _Fault(
                "InvalidReplicationGroupState",
                f"Replication group {replication_group_id} is {rg.status}, not available.",
            )
        if rg is not None and getattr(rg, "global_replication_group_id", ""):
            raise _Fault(
                "InvalidReplicationGroupState",
                f"Replication group {replication_group_id} is a member of Global Datastore "
                f"{rg.global_replication_group_id}; disassociate it (or delete the Global Datastore) first.",
            )
        result = original_delete(self, replication_group_id, retain_primary_cluster)
        self.replication_groups.pop(replication_group_id, None)
        return result

    models.ElastiCacheBackend.delete_replication_group = delete_replication_group
    original_describe = models.ElastiCacheBackend.describe_replication_groups

    def describe_replication_groups(self: Any, *args: Any, **kwargs: Any) -> Any:
        _settle(self.account_id)
        return original_describe(self, *args, **kwargs)

    models.ElastiCacheBackend.describe_replication_groups = describe_replication_groups
    original_response_create = cls.create_replication_group

    def create_replication_group_response(self: Any) -> Any:
        if self._get_param("GlobalReplicationGroupId"):
            inherited = [
                p
                for p in (
                    "CacheNodeType",
                    "Engine",
                    "EngineVersion",
                    "CacheParameterGroupName",
                    "NumNodeGroups",
                    "AtRestEncryptionEnabled",
                    "TransitEncryptionEnabled",
                )
                if self._get_param(p) is not None
            ]
            if inherited:
                raise _Fault(
                    "InvalidParameterCombination",
                    "Cannot use the given parameters when creating new replication group in an existing "
                    f"global replication group: {', '.join(inherited)}",
                )
        return original_response_create(self)

    cls.create_replication_group = create_replication_group_response
    cls.modify_global_replication_group = modify_global_replication_group
    original_modify = cls.modify_replication_group

    def modify_replication_group_response(self: Any) -> Any:
        _settle(self.current_account)
        rg_id = self._get_param("ReplicationGroupId")
        rg = self.elasticache_backend.replication_groups.get(rg_id)
        gid = getattr(rg, "global_replication_group_id", "") if rg is not None else ""
        shared = [
            p
            for p in ("CacheNodeType", "EngineVersion", "CacheParameterGroupName", "AutomaticFailoverEnabled")
            if self._get_param(p) is not None
        ]
        if gid and shared:
            raise InvalidParameterValueException(f"Cluster [{rg_id}] is part of a global cluster [{gid}]. Request rejected.")
        if rg is not None and rg.status != "available":
            raise _Fault("InvalidReplicationGroupState", f"Replication group {rg_id} is {rg.status}, not available.")
        if rg is not None:
            _change_auth_token(self, rg)
        result = original_modify(self)
        version = self._get_param("EngineVersion")
        if rg is not None and version:
            rg.engine_version = version
        return result

    cls.modify_replication_group = modify_replication_group_response
    cls.create_global_replication_group = create_global_replication_group
    cls.describe_global_replication_groups = describe_global_replication_groups
    cls.disassociate_global_replication_group = disassociate_global_replication_group
    cls.delete_global_replication_group = delete_global_replication_group
    cls.delete_cache_subnet_group = delete_cache_subnet_group
    cls.modify_replication_group_shard_configuration = modify_replication_group_shard_configuration
    cls.increase_replica_count = increase_replica_count
    cls.decrease_replica_count = decrease_replica_count
    cls.increase_node_groups_in_global_replication_group = increase_node_groups_in_global_replication_group
    cls.decrease_node_groups_in_global_replication_group = decrease_node_groups_in_global_replication_group
