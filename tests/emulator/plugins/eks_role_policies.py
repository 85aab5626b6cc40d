"""EKS: CreateCluster and CreateNodegroup check their IAM role as AWS does, IAM propagation included.

The gap (moto 5.2.5): `moto/eks/models.py` `EKSBackend.create_cluster` and `create_nodegroup`
accept any role ARN, even one that does not exist or has no policy attached, at once.

AWS validates the role when the call is made (the Amazon EKS User Guide, "Amazon EKS cluster IAM
role" and "Amazon EKS node IAM role"), and IAM is eventually consistent, so a role or a policy
attachment made a moment ago is not seen yet. The messages below are AWS's, as Terraform's
provider lists them for its IAM-propagation retry (TF internal/service/eks/cluster.go
`resourceClusterCreate`, node_group.go `resourceNodeGroupCreate`), all InvalidParameterException:
- the role does not exist (or was created less than a propagation delay ago):
  "Role with arn: ARN, does not exist";
- its trust policy does not let the service assume it (`eks.amazonaws.com` for a cluster,
  `ec2.amazonaws.com` for nodes): "Role could not be assumed because the trusted entity is not correct";
- a required managed policy is not attached, or was attached less than a propagation delay ago:
  "The provided role doesn't have the Amazon EKS Managed Policies associated with it. Please
  ensure the following policy is attached: POLICY" (cluster: AmazonEKSClusterPolicy; nodes:
  AmazonEKSWorkerNodePolicy and AmazonEC2ContainerRegistryReadOnly).
The propagation delay is `aws_delays.BASE["iam_propagation"]` times `CARBONC_EMULATOR_DELAY_SCALE`.
"""

import json
import time
from typing import Any

import aws_delays
from moto.eks import models as eks_models
from moto.eks.exceptions import InvalidParameterException
from moto.iam import models as iam_models

WRITTEN_FOR = "5.2.5"

CLUSTER_POLICIES = ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]
NODE_POLICIES = [
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
]
# (account, role name) -> when it was created; (account, role name, policy ARN) -> when attached
_SEEN: dict[tuple[str, ...], float] = {}


def _visible(key: tuple[str, ...]) -> bool:
    """Whether IAM has propagated what happened at _SEEN[key] (unknown: long ago, e.g. before a restart)."""
    at = _SEEN.get(key)
    return at is None or aws_delays.over(at + aws_delays.BASE["iam_propagation"] * aws_delays.scale())


def _check(account: str, role_arn: str, service: str, policies: list[str]) -> None:
    name = role_arn.rsplit("/", 1)[-1]
    iam = iam_models.iam_backends[account]["global"]
    role = next((r for r in iam.roles.values() if r.name == name), None)
    if role is None or not _visible((account, name)):
        raise InvalidParameterException(message=f"Role with arn: {role_arn}, does not exist")
    try:
        trust = json.loads(role.assume_role_policy_document)
    except (TypeError, ValueError):
        trust = {}
    statements = trust.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    principals = []
    for st in statements:
        if st.get("Effect") != "Allow":
            continue
        svc = (st.get("Principal") or {}).get("Service", [])
        principals += [svc] if isinstance(svc, str) else list(svc)
    if service not in principals:
        raise InvalidParameterException(message="Role could not be assumed because the trusted entity is not correct")
    attached = set(role.managed_policies)
    missing = [p for p in policies if p not in attached or not _visible((account, name, p))]
    if missing:
        raise InvalidParameterException(
            message="The provided role doesn't have the Amazon EKS Managed Policies associated with it. "
            f"Please ensure the following policy is attached: {', '.join(missing)}"
        )


def register() -> None:
    backend = iam_models.IAMBackend
    original_create_role = backend.create_role
    original_attach = backend.attach_role_policy

    def create_role(self: Any, role_name: str, *args: Any, **kwargs: Any) -> Any:
        role = original_create_role(self, role_name, *args, **kwargs)
        _SEEN[(self.account_id, role_name)] = time.monotonic()
        return role

    def attach_role_policy(self: Any, policy_arn: str, role_name: str) -> None:
        original_attach(self, policy_arn, role_name)
        _SEEN[(self.account_id, role_name, policy_arn)] = time.monotonic()

    backend.create_role = create_role
    backend.attach_role_policy = attach_role_policy

    eks = eks_models.EKSBackend
    original_cluster = eks.create_cluster
    original_nodegroup = eks.create_nodegroup

    def create_cluster(self: Any, name: str, role_arn: str, *args: Any, **kwargs: Any) -> Any:
        _check(self.account_id, role_arn, "eks.amazonaws.com", CLUSTER_POLICIES)
        return original_cluster(self, name, role_arn, *args, **kwargs)

    def create_nodegroup(self: Any, cluster_name: str, node_role: str, *args: Any, **kwargs: Any) -> Any:
        _check(self.account_id, node_role, "ec2.amazonaws.com", NODE_POLICIES)
        return original_nodegroup(self, cluster_name, node_role, *args, **kwargs)

    eks.create_cluster = create_cluster
    eks.create_nodegroup = create_nodegroup
