"""RDS: tags on Aurora global clusters.

The gap (moto 5.2.5, `moto/rds/responses.py` `create_global_cluster`, `moto/rds/models.py`
`RDSBackend._get_resource_for_tagging`): CreateGlobalCluster drops its `Tags`, so
DescribeGlobalClusters never reports a `TagList`; and the tag APIs (AddTagsToResource,
RemoveTagsFromResource, ListTagsForResource) answer InvalidParameterValue "Invalid resource
name" for a global cluster's ARN, which has no region (`arn:aws:rds::ACCOUNT:global-cluster:ID`).

On AWS, global clusters take tags since October 2024 ("Amazon Aurora Global Database now
supports tagging global clusters", AWS What's New, 2024-10): `CreateGlobalCluster.Tags` (model
rds), `TagList` in DescribeGlobalClusters' `GlobalCluster`, and the tag APIs with the global
cluster's regionless ARN from any region (TF internal/service/rds/global_cluster.go tags it
through them since hashicorp/terraform-provider-aws#40470). moto keeps global clusters in its
us-east-1 backend, so that is where the ARN is looked up, whichever region is called.
"""

import re
from typing import Any

from moto.rds import models, responses
from moto.rds.exceptions import RDSClientError

WRITTEN_FOR = "5.2.5"

GLOBAL_ARN = re.compile(r"^arn:aws[a-z-]*:rds::(\d+):global-cluster:(.+)$")


def register() -> None:
    backend = models.RDSBackend
    original_find = backend._get_resource_for_tagging
    if getattr(original_find, "_carbonc_plugin", None) == __name__:
        return

    def find_for_tagging(self: Any, arn: str) -> Any:
        m = GLOBAL_ARN.match(arn)
        if m is None:
            return original_find(self, arn)
        account, identifier = m.groups()
        found = models.rds_backends[account]["us-east-1"].global_clusters.get(identifier)
        if found is None:
            raise RDSClientError("GlobalClusterNotFoundFault", f"Global cluster {identifier} not found.")
        return found

    find_for_tagging._carbonc_plugin = __name__  # type: ignore[attr-defined]
    backend._get_resource_for_tagging = find_for_tagging

    cls = responses.RDSResponse
    original_create = cls.create_global_cluster

    def create_global_cluster(self: Any) -> Any:
        result = original_create(self)
        tags = self.params.get("Tags") or []
        if tags:
            identifier = self.params["GlobalClusterIdentifier"]
            self.global_backend.global_clusters[identifier].add_tags(tags)
        return result

    cls.create_global_cluster = create_global_cluster
