//! Orderings AWS requires that no reference in the program expresses, as a table of rules.
//!
//! A resource graph built from references alone misses some orders that AWS enforces: EKS checks a
//! role's policy attachments when a cluster is created, a NAT gateway fails in a VPC whose
//! internet gateway is not attached yet, an Aurora secondary can only join once the primary has a
//! writer instance. Each rule below adds such edges, and since destroy walks the graph backwards,
//! the same edge puts the teardown in AWS's order too. The rules are data: adding one touches this
//! table, never `graph.rs`. `docs/aws.md` explains each with its AWS or Terraform source.

use std::collections::BTreeMap;

use crate::eval::{Instance, Program};
use crate::value::Value;

/// A path from an instance along reference fields: `["subnet", "vpc"]` is the VPC of the subnet
/// of the instance. The last step may hold any value (it is compared, not followed).
type Path = &'static [&'static str];

/// A field (possibly along a path) that must hold an enum variant.
type Guard = Option<(Path, &'static str)>;

pub enum Rule {
    /// Whatever refers to an instance of `target` also waits for every instance of `companion`
    /// whose `field` refers to that same instance (`role` -> its `RolePolicyAttachment`s).
    Companions {
        target: &'static str,
        companion: &'static str,
        field: &'static str,
    },
    /// An instance of `ty` (passing `guard`) waits for every instance of `other` (passing
    /// `other_guard`) whose value at `other_path` equals its own at `path`.
    Joined {
        ty: &'static str,
        guard: Guard,
        path: Path,
        other: &'static str,
        other_guard: Guard,
        other_path: Path,
    },
}

/// An instance of `ty` waits for every `other` whose value at `other_path` is its `cluster`.
const fn on_cluster(ty: &'static str, other: &'static str, other_path: Path) -> Rule {
    Rule::Joined {
        ty,
        guard: None,
        path: &["cluster"],
        other,
        other_guard: None,
        other_path,
    }
}

/// What makes a cluster ready for what runs inside it: nodes to run on, the add-ons (the VPC CNI
/// that gives pods addresses and enforces policies, CoreDNS, the Pod Identity agent), the access
/// entries and policies that let the deployer in, and the pods' IAM roles.
const fn ready(ty: &'static str) -> [Rule; 5] {
    [
        on_cluster(ty, "aws.eks.NodeGroup", &["cluster"]),
        on_cluster(ty, "aws.eks.Addon", &["cluster"]),
        on_cluster(ty, "aws.eks.AccessEntry", &["cluster"]),
        on_cluster(ty, "aws.eks.AccessPolicyAssociation", &["entry", "cluster"]),
        on_cluster(ty, "aws.eks.PodIdentityAssociation", &["cluster"]),
    ]
}

/// Kubernetes objects are installed once their cluster is ready ("services per region using Helm
/// once clusters are ready"), and removed before it is taken apart.
const IN_CLUSTER: [[Rule; 5]; 3] = [
    ready("k8s.HelmRelease"),
    ready("k8s.NetworkPolicy"),
    ready("k8s.ClickHouseCluster"),
];

/// Every rule: the table below, then the in-cluster ones.
pub fn rules() -> impl Iterator<Item = &'static Rule> {
    RULES.iter().chain(IN_CLUSTER.iter().flatten())
}

pub const RULES: &[Rule] = &[
    // EKS validates a cluster's or node group's role, policies included, when it is created, and
    // deletes its network interfaces with the role's permissions (Terraform documents
    // `depends_on` on the attachments for both reasons: aws_eks_cluster, aws_eks_node_group).
    Rule::Companions {
        target: "aws.iam.Role",
        companion: "aws.iam.RolePolicyAttachment",
        field: "role",
    },
    // So are its inline policies: what runs as the role (a canary, an EBS CSI driver's or a
    // backup job's pods through a Pod Identity association) needs them from its first call, and
    // IAM is eventually consistent (Terraform documents the same `depends_on` on
    // `aws_iam_role_policy`).
    Rule::Companions {
        target: "aws.iam.Role",
        companion: "aws.iam.RolePolicy",
        field: "role",
    },
    // A secondary Aurora cluster joins a global database through its primary (CreateDBCluster
    // fails before the primary is a member) ...
    Rule::Joined {
        ty: "aws.rds.Cluster",
        guard: Some((&["global_role"], "secondary")),
        path: &["global_cluster"],
        other: "aws.rds.Cluster",
        other_guard: Some((&["global_role"], "primary")),
        other_path: &["global_cluster"],
    },
    // ... and replicates from the primary's writer instance ("Source cluster ... is in a state
    // which is not valid for physical replication" before it exists); on destroy the secondaries
    // go first, since AWS refuses to delete "the last instance of the master cluster" while they
    // exist.
    Rule::Joined {
        ty: "aws.rds.Cluster",
        guard: Some((&["global_role"], "secondary")),
        path: &["global_cluster"],
        other: "aws.rds.ClusterInstance",
        other_guard: Some((&["cluster", "global_role"], "primary")),
        other_path: &["cluster", "global_cluster"],
    },
    // A public NAT gateway needs its VPC's internet gateway attached (else it fails with
    // Gateway.NotAttached), and the gateway cannot be detached while the NAT maps its address.
    Rule::Joined {
        ty: "aws.ec2.NatGateway",
        guard: None,
        path: &["subnet", "vpc"],
        other: "aws.ec2.InternetGateway",
        other_guard: None,
        other_path: &["vpc"],
    },
];

/// Values are compared by their printed form (a `Value` is not `Ord`); equal values print alike.
/// Whether an instance of type `ty` waits on something by an ordering whatever it refers to.
pub fn is_source(ty: &str) -> bool {
    rules().any(|r| matches!(r, Rule::Joined { ty: t, .. } if *t == ty))
}

/// Whether referring to an instance of type `ty` can make the referrer wait on its companions.
pub fn is_target(ty: &str) -> bool {
    rules().any(|r| matches!(r, Rule::Companions { target, .. } if *target == ty))
}

fn key(v: &Value) -> String {
    format!("{v:?}")
}

/// The addresses `inst` must wait for under `RULES`, beyond its references.
pub struct Orderings<'p> {
    program: &'p Program,
    /// Per rule, for `Joined`: the other instances grouped by their value at `other_path`;
    /// for `Companions`: the companions grouped by the address in `field`.
    index: Vec<BTreeMap<String, Vec<&'p str>>>,
}

impl<'p> Orderings<'p> {
    pub fn new(program: &'p Program) -> Orderings<'p> {
        let mut o = Orderings {
            program,
            index: Vec::new(),
        };
        o.index = rules()
            .map(|rule| {
                let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
                for inst in &o.program.instances {
                    let key = match rule {
                        Rule::Companions {
                            companion, field, ..
                        } if inst.ty == *companion => inst.get(field).map(key),
                        Rule::Joined {
                            other,
                            other_guard,
                            other_path,
                            ..
                        } if inst.ty == *other && o.passes(inst, *other_guard) => {
                            o.at(inst, other_path).map(key)
                        }
                        _ => None,
                    };
                    if let Some(k) = key {
                        groups.entry(k).or_default().push(inst.address.as_str());
                    }
                }
                groups
            })
            .collect();
        o
    }

    /// The value at the end of `path` from `inst`, following references.
    fn at<'a>(&'a self, inst: &'a Instance, path: &[&str]) -> Option<&'a Value> {
        let (last, steps) = path.split_last()?;
        let mut here = inst;
        for step in steps {
            match here.get(step)? {
                Value::Ref { addr } => here = self.program.instance(addr)?,
                _ => return None,
            }
        }
        here.get(last)
    }

    fn passes(&self, inst: &Instance, guard: Guard) -> bool {
        match guard {
            None => true,
            Some((path, variant)) => self.at(inst, path).and_then(Value::variant) == Some(variant),
        }
    }

    /// The addresses `inst` waits for; `refs` are the addresses it refers to.
    pub fn deps(&self, inst: &Instance, refs: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for (rule, groups) in rules().zip(&self.index) {
            match rule {
                Rule::Companions { target, .. } => {
                    // A companion of a target (an attachment, an inline policy) does not wait
                    // for the target's other companions.
                    let is_companion = rules().any(|r| {
                        matches!(r, Rule::Companions { target: t, companion: c, .. }
                            if t == target && inst.ty == *c)
                    });
                    if is_companion {
                        continue;
                    }
                    for addr in refs {
                        let is_target =
                            self.program.instance(addr).is_some_and(|t| t.ty == *target);
                        if is_target
                            && let Some(found) =
                                groups.get(&key(&Value::Ref { addr: addr.clone() }))
                        {
                            out.extend(found.iter().map(|a| a.to_string()));
                        }
                    }
                }
                Rule::Joined {
                    ty, guard, path, ..
                } => {
                    if inst.ty != *ty || !self.passes(inst, *guard) {
                        continue;
                    }
                    if let Some(found) = self.at(inst, path).and_then(|v| groups.get(&key(v))) {
                        out.extend(
                            found
                                .iter()
                                .filter(|a| **a != inst.address)
                                .map(|a| a.to_string()),
                        );
                    }
                }
            }
        }
        out
    }
}
