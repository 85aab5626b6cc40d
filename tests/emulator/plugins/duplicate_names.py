"""Creates under a name that is taken: refused, as AWS refuses them.

The gap (moto 5.2.5): four creates that carbonc sends replace an existing resource of the same
name instead of refusing: `RDSBackend.create_subnet_group`, `create_db_cluster` and
`create_global_cluster` (`moto/rds/models.py`) and `WAFV2Backend.create_ip_set`
(`moto/wafv2/models.py`). So a program that names its subnet group like someone else's silently
takes it over, and a test of "a same-named resource of someone else's is not adopted" cannot
fail. moto also answers a duplicate web ACL or rule group with the code `WafV2DuplicateItem`,
which is not AWS's.

On AWS (model rds: CreateDBSubnetGroup, CreateDBCluster, CreateGlobalCluster; model wafv2:
CreateIPSet, CreateWebACL, CreateRuleGroup):
- CreateDBSubnetGroup of a name the region has: DBSubnetGroupAlreadyExists (HTTP 400);
- CreateDBCluster of an identifier the region has: DBClusterAlreadyExistsFault (HTTP 400);
- CreateGlobalCluster of an identifier the account has (global clusters are named account-wide):
  GlobalClusterAlreadyExistsFault (HTTP 400);
- CreateIPSet, CreateWebACL, CreateRuleGroup of a name the scope has in the region:
  WAFDuplicateItemException.
"""

from typing import Any

from moto.rds import models as rds_models
from moto.rds.exceptions import RDSClientError
from moto.wafv2 import exceptions as waf_exceptions
from moto.wafv2 import models as waf_models

WRITTEN_FOR = "5.2.5"


class WAFDuplicateItemException(waf_exceptions.WAFv2ClientError):
    def __init__(self, what: str = "resource") -> None:
        super().__init__(
            "WAFDuplicateItemException",
            f"AWS WAF couldn't perform the operation because some {what} in your request is a duplicate of an existing one.",
        )


def register() -> None:
    backend = rds_models.RDSBackend
    if getattr(backend.create_subnet_group, "_carbonc_plugin", None) == __name__:
        return
    create_subnet_group = backend.create_subnet_group
    create_db_cluster = backend.create_db_cluster
    create_global_cluster = backend.create_global_cluster

    def subnet_group(self: Any, subnet_name: str, *args: Any, **kwargs: Any) -> Any:
        if subnet_name in self.subnet_groups:
            raise RDSClientError("DBSubnetGroupAlreadyExists", f"The DB subnet group '{subnet_name}' already exists.")
        return create_subnet_group(self, subnet_name, *args, **kwargs)

    def db_cluster(self: Any, kwargs: dict[str, Any]) -> Any:
        cid = kwargs.get("db_cluster_identifier")
        if cid in self.clusters:
            raise RDSClientError("DBClusterAlreadyExistsFault", f"DB cluster {cid} already exists.")
        return create_db_cluster(self, kwargs)

    def global_cluster(self: Any, global_cluster_identifier: str, *args: Any, **kwargs: Any) -> Any:
        for regional in rds_models.rds_backends[self.account_id].values():
            if global_cluster_identifier in regional.global_clusters:
                raise RDSClientError(
                    "GlobalClusterAlreadyExistsFault",
                    f"Global cluster {global_cluster_identifier} already exists.",
                )
        return create_global_cluster(self, global_cluster_identifier, *args, **kwargs)

    subnet_group._carbonc_plugin = __name__  # type: ignore[attr-defined]
    backend.create_subnet_group = subnet_group
    backend.create_db_cluster = db_cluster
    backend.create_global_cluster = global_cluster

    create_ip_set = waf_models.WAFV2Backend.create_ip_set

    def ip_set(self: Any, name: str, scope: str, *args: Any, **kwargs: Any) -> Any:
        if any(s.name == name and s.scope == scope for s in self.ip_sets.values()):
            raise WAFDuplicateItemException("IP set")
        return create_ip_set(self, name, scope, *args, **kwargs)

    waf_models.WAFV2Backend.create_ip_set = ip_set
    # moto raises its own duplicate exception for web ACLs and rule groups; AWS's code instead.
    waf_models.WAFV2DuplicateItemException = WAFDuplicateItemException
