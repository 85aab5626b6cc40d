"""How long the emulator's asynchronous AWS phases last.

AWS does many things in the background: an Aurora cluster removed from a global database is
`promoting` for minutes, a Global Datastore is `modifying` after every membership change, an
IAM policy attachment takes seconds to reach EKS. The plugins model these phases with real
wall-clock deadlines, scaled by `CARBONC_EMULATOR_DELAY_SCALE` (default 1: a few seconds per
phase, so the suite stays fast; `scripts/test-aws-slow` runs the same tests with 20, closer to
AWS). A scale of 0 makes every phase end at once, as plain moto does, which is how a test shows
that a fix is needed: the same test fails with phases on.

Base durations, in seconds at scale 1, are named here so that the README can cite them.
"""

import os
import time

BASE = {
    "aurora_promotion": 3.0,  # RemoveFromGlobalCluster: `promoting`, still a member
    "datastore_creating": 2.0,  # CreateGlobalReplicationGroup: `creating`
    "datastore_modifying": 3.0,  # a member added or disassociated: `modifying`
    "iam_propagation": 2.0,  # an attached managed policy reaches EKS
    "waf_propagation": 1.5,  # a new IP set can be referenced by a web ACL
    "eni_release": 3.0,  # ENIs of EKS, RDS, ElastiCache, NAT linger in their subnets
    "eks_update": 2.0,  # an EKS cluster, node group or add-on update runs
    "eks_addon": 1.5,  # CreateAddon: CREATING; DeleteAddon: DELETING
    "rds_pending": 0.5,  # a modification is only listed in PendingModifiedValues
    "rds_modify": 2.5,  # a modification (engine version, instance class) runs to its end
    "datastore_modify": 3.0,  # ModifyGlobalReplicationGroup, a datastore's shard count change
    "elasticache_modify": 2.0,  # a replication group's shards, replicas or AUTH token change
    "route53_change": 1.0,  # a record change propagates to Route 53's DNS servers (PENDING)
    "canary_creating": 2.0,  # CreateCanary: CREATING while Synthetics makes its Lambda function
    "canary_transition": 1.0,  # a canary STARTING, UPDATING, STOPPING or DELETING
    "eks_access_propagation": 1.0,  # an EKS access entry or access policy association takes effect
    # One second of a Kubernetes controller's timeline in the Kubernetes API emulator
    # (kube_controllers.py): pod start-up, progressDeadlineSeconds, grace periods and the like are
    # counted in these, so that a Deployment's default 600 s progress deadline lasts 6 s at scale 1.
    "k8s_second": 0.01,
}


def scale() -> float:
    try:
        return max(0.0, float(os.environ.get("CARBONC_EMULATOR_DELAY_SCALE", "1")))
    except ValueError:
        return 1.0


def deadline(phase: str) -> float:
    """The monotonic time at which `phase`, starting now, is over."""
    return time.monotonic() + BASE[phase] * scale()


def over(at: float) -> bool:
    return time.monotonic() >= at
