"""ElastiCache: the member cache clusters of a replication group, and the member settings that
ModifyReplicationGroup changes.

The gap (moto 5.2.5, `moto/elasticache/models.py` `ElastiCacheBackend.describe_cache_clusters`,
`modify_replication_group`): a replication group lists its members (`MemberClusters`), but
DescribeCacheClusters knows none of them (CacheClusterNotFound); and ModifyReplicationGroup drops
`PreferredMaintenanceWindow`, `SecurityGroupIds` and `CacheParameterGroupName`. So what AWS
reports per member (engine version, parameter group, maintenance window) cannot be read, and a
change of them is accepted and lost.

On AWS (model elasticache: ReplicationGroup.MemberClusters, DescribeCacheClusters, CacheCluster;
ModifyReplicationGroup), every member is a cache cluster that DescribeCacheClusters describes,
with the group's engine version, node type, parameter group (`CacheParameterGroup`, the engine's
default group, `default.redisN` or `default.redisN.cluster.on` in cluster mode, when none was
named), maintenance window, security groups and `ReplicationGroupId`; ModifyReplicationGroup
applies those settings to every member.
"""

from typing import Any

from moto.core.responses import ActionResult
from moto.elasticache import models, responses

WRITTEN_FOR = "5.2.5"


def _parameter_group(rg: Any) -> str:
    if getattr(rg, "cache_parameter_group_name", None):
        return rg.cache_parameter_group_name
    major = (rg.engine_version or "7").split(".")[0]
    return f"default.redis{major}" + (".cluster.on" if rg.cluster_enabled else "")


def _member(region: str, account: str, rg: Any, cluster_id: str) -> dict[str, Any]:
    return {
        "CacheClusterId": cluster_id,
        "ARN": f"arn:aws:elasticache:{region}:{account}:cluster:{cluster_id}",
        "CacheClusterStatus": "available" if rg.status == "available" else "modifying",
        "CacheNodeType": rg.cache_node_type,
        "Engine": rg.engine,
        "EngineVersion": rg.engine_version,
        "NumCacheNodes": 1,
        "CacheParameterGroup": {
            "CacheParameterGroupName": _parameter_group(rg),
            "ParameterApplyStatus": "in-sync",
            "CacheNodeIdsToReboot": [],
        },
        "CacheSubnetGroupName": rg.cache_subnet_group_name,
        "SecurityGroups": [{"SecurityGroupId": sg, "Status": "active"} for sg in rg.security_group_ids or []],
        "PreferredMaintenanceWindow": rg.preferred_maintenance_window,
        "ReplicationGroupId": rg.replication_group_id,
        "TransitEncryptionEnabled": bool(rg.transit_encryption_enabled),
        "AtRestEncryptionEnabled": bool(rg.at_rest_encryption_enabled),
        "AuthTokenEnabled": bool(rg.auth_token_enabled),
    }


def register() -> None:
    cls = responses.ElastiCacheResponse
    original_describe = cls.describe_cache_clusters
    if getattr(original_describe, "_carbonc_plugin", None) == __name__:
        return

    def describe_cache_clusters(self: Any) -> Any:
        cluster_id = self._get_param("CacheClusterId")
        backend = self.elasticache_backend
        if cluster_id and cluster_id not in backend.cache_clusters:
            for rg in backend.replication_groups.values():
                if cluster_id in rg.member_clusters:
                    member = _member(self.region, self.current_account, rg, cluster_id)
                    return ActionResult({"CacheClusters": [member]})
        return original_describe(self)

    describe_cache_clusters._carbonc_plugin = __name__  # type: ignore[attr-defined]
    cls.describe_cache_clusters = describe_cache_clusters
    original_modify = cls.modify_replication_group

    def modify_replication_group(self: Any) -> Any:
        result = original_modify(self)
        rg = self.elasticache_backend.replication_groups.get(self._get_param("ReplicationGroupId"))
        if rg is not None:
            window = self._get_param("PreferredMaintenanceWindow")
            if window is not None:
                rg.preferred_maintenance_window = window
            groups = self._get_param("SecurityGroupIds")
            if groups is not None:
                rg.security_group_ids = list(groups)
            parameter_group = self._get_param("CacheParameterGroupName")
            if parameter_group is not None:
                rg.cache_parameter_group_name = parameter_group
        return result

    cls.modify_replication_group = modify_replication_group
