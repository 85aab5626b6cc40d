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

Also a bug: `DeleteReplicationGroup` marks the group `deleting` and never removes it, so it stays
listed (and its subnet group in use) forever; here the deletion completes at once, as it does in
AWS a few minutes later.
"""

from typing import Any

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
        "Status": "available",
        "CacheNodeType": getattr(primary_rg, "cache_node_type", None),
        "Engine": "redis",
        "EngineVersion": getattr(primary_rg, "engine_version", None),
        "Members": [
            {
                "ReplicationGroupId": rg.replication_group_id,
                "ReplicationGroupRegion": region,
                "Role": "PRIMARY" if (region, rg.replication_group_id) == g["primary"] else "SECONDARY",
                "AutomaticFailover": "enabled",
                "Status": "associated",
            }
            for region, rg in members
        ],
        "ClusterEnabled": False,
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
    store[gid] = {"description": description, "primary": (self.region, primary)}
    rg.global_replication_group_id = gid
    rg.global_replication_group_member_role = "PRIMARY"
    return ActionResult({"GlobalReplicationGroup": _describe(self.current_account, gid)})


def describe_global_replication_groups(self: Any) -> ActionResult:
    gid = self._get_param("GlobalReplicationGroupId")
    store = _store(self.current_account)
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
    for r, rg in _members(self.current_account, gid):
        if (r, rg.replication_group_id) == (region, rg_id):
            rg.global_replication_group_id = ""
            rg.global_replication_group_member_role = None
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
    members = _members(self.current_account, gid)
    if any((r, rg.replication_group_id) != store[gid]["primary"] for r, rg in members):
        raise _Fault("InvalidGlobalReplicationGroupState", f"Global Datastore {gid} still has secondary members; disassociate them first.")
    described = _describe(self.current_account, gid)
    for _, rg in members:
        rg.global_replication_group_id = ""
        rg.global_replication_group_member_role = None
    del store[gid]
    described["Status"] = "deleting"
    return ActionResult({"GlobalReplicationGroup": described})


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
        return original_create(self, *args, **kwargs)

    create_replication_group._carbonc_plugin = __name__  # type: ignore[attr-defined]
    models.ElastiCacheBackend.create_replication_group = create_replication_group
    original_delete = models.ElastiCacheBackend.delete_replication_group

    def delete_replication_group(self: Any, replication_group_id: str, retain_primary_cluster: Any) -> Any:
        rg = self.replication_groups.get(replication_group_id)
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
    cls.create_global_replication_group = create_global_replication_group
    cls.describe_global_replication_groups = describe_global_replication_groups
    cls.disassociate_global_replication_group = disassociate_global_replication_group
    cls.delete_global_replication_group = delete_global_replication_group
    cls.delete_cache_subnet_group = delete_cache_subnet_group
