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
- a secondary inherits node type, engine version and cluster mode from the primary, and may not
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
  description; refused with InvalidGlobalReplicationGroupState unless the datastore is settled;
  makes it `modifying` for `aws_delays.BASE["datastore_modify"]` seconds, after which every member
  has the new node type and version (model elasticache: ModifyGlobalReplicationGroup);
- ModifyReplicationGroup of a member with CacheNodeType, EngineVersion or CacheParameterGroupName:
  InvalidParameterValue "Cluster [ID] is part of a global cluster [GID]. Request rejected."
  (hashicorp/terraform-provider-aws#19929, #27875); of a standalone group, EngineVersion is applied.

Also a bug: `DeleteReplicationGroup` marks the group `deleting` and never removes it, so it stays
listed (and its subnet group in use) forever; here the deletion completes at once, as it does in
AWS a few minutes later.
"""

import time
from typing import Any

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

    store[gid].setdefault("apply", []).append((at, apply))
    return ActionResult({"GlobalReplicationGroup": _describe(self.current_account, gid)})


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
        shared = [p for p in ("CacheNodeType", "EngineVersion", "CacheParameterGroupName") if self._get_param(p) is not None]
        if gid and shared:
            raise InvalidParameterValueException(f"Cluster [{rg_id}] is part of a global cluster [{gid}]. Request rejected.")
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
