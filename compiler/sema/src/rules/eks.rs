//! EKS rules (E0801-E0807, W0803).

use carbonc_diagnostics::{Applicability, Diagnostic, Fix};

use super::{describe, fix_or_help, label, set_field, target, variant, warning};
use crate::eval::Program;
use crate::value::Value;

#[derive(PartialEq, Eq, Clone, Copy, Debug)]
enum Arch {
    X86,
    Arm,
}

/// `(architecture, accelerator)` of an instance type, from its family.
fn instance_kind(t: &str) -> (Arch, &'static str) {
    let family = t.split('.').next().unwrap_or(t);
    let letters: String = family
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let rest = &family[letters.len()..];
    let suffix: String = rest.chars().skip_while(|c| c.is_ascii_digit()).collect();
    let arch = if suffix.starts_with('g') {
        Arch::Arm
    } else {
        Arch::X86
    };
    let accel = match letters.as_str() {
        "p" | "g" | "gr" => "gpu",
        "inf" | "trn" => "neuron",
        _ => "none",
    };
    (arch, accel)
}

fn ami_kind(ami: &str) -> Option<(Arch, &'static str)> {
    if ami == "CUSTOM" {
        return None;
    }
    let arch = if ami.contains("ARM") {
        Arch::Arm
    } else {
        Arch::X86
    };
    let accel = if ami.contains("NVIDIA") || ami.ends_with("_GPU") {
        "gpu"
    } else if ami.contains("NEURON") {
        "neuron"
    } else {
        "none"
    };
    Some((arch, accel))
}

pub(crate) fn check(p: &Program, out: &mut Vec<Diagnostic>) {
    for ng in p.of_type("aws.eks.NodeGroup") {
        let Some(ami) = ng.get("ami_type").and_then(Value::variant) else {
            continue;
        };
        let Some((aarch, aaccel)) = ami_kind(ami) else {
            continue;
        };
        let Some(Value::List(types)) = ng.get("instance_types").map(Value::reveal) else {
            continue;
        };
        for t in types.iter().filter_map(Value::as_str) {
            let (iarch, iaccel) = instance_kind(t);
            if iarch == aarch && iaccel == aaccel {
                continue;
            }
            let want = match (iarch, iaccel) {
                (Arch::X86, "gpu") => "AL2023_x86_64_NVIDIA",
                (Arch::Arm, "gpu") => "AL2023_ARM_64_NVIDIA",
                (_, "neuron") => "AL2023_x86_64_NEURON",
                (Arch::Arm, _) => "AL2023_ARM_64_STANDARD",
                _ => "AL2023_x86_64_STANDARD",
            };
            let what = match iaccel {
                "gpu" => "a GPU instance type",
                "neuron" => "an Inferentia/Trainium instance type",
                _ if iarch == Arch::Arm => "a Graviton (ARM) instance type",
                _ => "an x86 instance type without accelerators",
            };
            let d = Diagnostic::error(
                "E0801",
                format!("AMI type `{ami}` does not fit instance type `{t}`"),
                label(ng, "instance_types", format!("`{t}` is {what}")),
            )
            .with_label(label(
                ng,
                "ami_type",
                format!("but {} uses `{ami}`", describe(p, ng)),
            ));
            // A module that fixes the AMI type and takes the instance type: what the user
            // chose is the instance type.
            let d = if ng.set_by_module("ami_type") {
                let example = match (aarch, aaccel) {
                    (Arch::X86, "gpu") => "g5.2xlarge",
                    (Arch::Arm, "gpu") => "g5g.2xlarge",
                    (_, "neuron") => "inf2.xlarge",
                    (Arch::Arm, _) => "m7g.xlarge",
                    _ => "m7i.xlarge",
                };
                let help = format!(
                    "the module runs `{ami}`: give it an instance type that fits, such as `{example}`"
                );
                // The one instance type passed in, written by the user: offered, since which
                // instance type is wanted is theirs to say.
                let passed = ng
                    .fields
                    .get("instance_types")
                    .filter(|f| types.len() == 1 && f.literal)
                    .and_then(|f| f.written_at.as_deref().cloned());
                match passed {
                    Some((file, span)) => d.with_fix(Fix::replace(
                        help,
                        file,
                        span,
                        format!("\"{example}\""),
                        Applicability::MaybeIncorrect,
                    )),
                    None => d.with_help(help),
                }
            } else {
                let help = format!("use `ami_type = .{want}`");
                let fix = set_field(p, ng, "ami_type", &variant(want), help.clone(), true);
                fix_or_help(d, fix, help)
            };
            out.push(d);
        }
    }
    for c in p.of_type("aws.eks.Cluster") {
        let Some(key) = target(p, c, "secrets_kms_key") else {
            continue;
        };
        let spec = key
            .get("key_spec")
            .and_then(Value::variant)
            .unwrap_or("SYMMETRIC_DEFAULT");
        let usage = key
            .get("key_usage")
            .and_then(Value::variant)
            .unwrap_or("ENCRYPT_DECRYPT");
        if spec != "SYMMETRIC_DEFAULT" || usage != "ENCRYPT_DECRYPT" {
            out.push(
                Diagnostic::error("E0802", "EKS secrets encryption needs a symmetric KMS key", label(c, "secrets_kms_key", format!("{} encrypts secrets with this key", describe(p, c))))
                    .with_label(label(key, "key_spec", format!("`{}` is {spec} / {usage}", key.address)))
                    .with_help("use a key with `key_spec = .SYMMETRIC_DEFAULT` and `key_usage = .ENCRYPT_DECRYPT`"),
            );
        }
    }
}

/// The cluster side of the door: access entries need a cluster that takes them (E0803), an
/// add-on's configuration is a JSON object and the VPC CNI's network-policy switch a string
/// (E0804), and a Pod Identity association works only with the agent on the cluster (W0803).
pub(crate) fn check_access(p: &Program, out: &mut Vec<Diagnostic>) {
    for e in p.of_type("aws.eks.AccessEntry") {
        let Some(cluster) = target(p, e, "cluster") else {
            continue;
        };
        if cluster.get("authentication_mode").and_then(Value::variant) != Some("CONFIG_MAP") {
            continue;
        }
        let d = Diagnostic::error(
            "E0803",
            format!(
                "{} authenticates only through the `aws-auth` ConfigMap: EKS refuses access entries",
                describe(p, cluster)
            ),
            label(e, "cluster", format!("`{}` is an access entry of this cluster", e.address)),
        )
        .with_label(label(
            cluster,
            "authentication_mode",
            "`.CONFIG_MAP` takes no access entries",
        ))
        .with_note(
            "the mode only moves towards `.API`: `.API_AND_CONFIG_MAP` keeps the ConfigMap working while entries are added",
        );
        let help = "use `authentication_mode = .API_AND_CONFIG_MAP`";
        let fix = set_field(
            p,
            cluster,
            "authentication_mode",
            &variant("API_AND_CONFIG_MAP"),
            help,
            true,
        );
        out.push(fix_or_help(d, fix, help));
    }
    for a in p.of_type("aws.eks.Addon") {
        let Some(Value::Str(text)) = a.get("configuration").map(Value::reveal) else {
            continue;
        };
        let name = a.get("name").and_then(Value::as_str).unwrap_or("");
        let problem = match serde_json::from_str::<serde_json::Value>(text) {
            Err(e) => Some(format!("the configuration is not JSON ({e})")),
            Ok(serde_json::Value::Object(doc)) => match doc.get("enableNetworkPolicy") {
                Some(serde_json::Value::String(v)) if v == "true" || v == "false" => None,
                Some(v) if name == "vpc-cni" => Some(format!(
                    "`enableNetworkPolicy` is {v}, where the VPC CNI's configuration schema takes the string \"true\" or \"false\""
                )),
                _ => None,
            },
            Ok(_) => Some("the configuration is not a JSON object".to_string()),
        };
        if let Some(problem) = problem {
            out.push(
                Diagnostic::error(
                    "E0804",
                    format!("EKS would refuse the configuration of add-on `{name}`"),
                    label(a, "configuration", problem),
                )
                .with_help(if name == "vpc-cni" {
                    "write `json({ enableNetworkPolicy = \"true\" })`: a string, not a boolean"
                } else {
                    "give `configuration` a JSON object, such as `json({ ... })`"
                }),
            );
        }
    }
    duplicates(p, out);
    refused_access(p, out);
    foreign_configuration(p, out);
    // The clusters that run the agent, found once (not once per association).
    let agents: rustc_hash::FxHashSet<&str> = p
        .of_type("aws.eks.Addon")
        .filter(|a| a.get("name").and_then(Value::as_str) == Some("eks-pod-identity-agent"))
        .filter_map(|a| target(p, a, "cluster"))
        .map(|c| c.address.as_str())
        .collect();
    for pia in p.of_type("aws.eks.PodIdentityAssociation") {
        let Some(cluster) = target(p, pia, "cluster") else {
            continue;
        };
        if agents.contains(cluster.address.as_str()) {
            continue;
        }
        let who = format!(
            "{}/{}",
            pia.get("namespace").and_then(Value::as_str).unwrap_or("?"),
            pia.get("service_account")
                .and_then(Value::as_str)
                .unwrap_or("?")
        );
        out.push(
            warning(Diagnostic::error(
                "W0803",
                format!("pods of `{who}` get no credentials: {} runs no Pod Identity agent", describe(p, cluster)),
                label(
                    pia,
                    "cluster",
                    format!(
                        "`{}` is made, but nothing on the cluster hands out its credentials",
                        pia.address
                    ),
                ),
            ))
            .with_help(format!(
                "add `resource aws.eks.Addon ... {{ cluster = {}, name = \"eks-pod-identity-agent\" }}`; if the agent is installed another way, turn W0803 off in carbon.toml",
                cluster.address
            )),
        );
    }
}

/// An add-on runs in its cluster's region, and so must what its configuration names (E0807): the
/// VPC CNI's `eniConfig` with another region's subnets or security groups, a key or a bucket of
/// another region. The configuration is JSON text, so the regions come from the attributes its
/// unknown parts are made of (`json(...)` keeps them).
fn foreign_configuration(p: &Program, out: &mut Vec<Diagnostic>) {
    for a in p.of_type("aws.eks.Addon") {
        let (Some(config), Some(cluster)) = (a.get("configuration"), target(p, a, "cluster"))
        else {
            continue;
        };
        let foreign = foreign_source(p, config, cluster.region);
        let Some((src, from)) = foreign else {
            continue;
        };
        let name = a.get("name").and_then(Value::as_str).unwrap_or("");
        out.push(
            Diagnostic::error(
                "E0807",
                format!(
                    "the configuration of add-on `{name}` on {} uses `{src}`, of {}",
                    describe(p, cluster),
                    p.region_code(from.region)
                ),
                label(
                    a,
                    "configuration",
                    format!("`{}` runs in {}", a.address, p.region_code(cluster.region)),
                ),
            )
            .with_note(format!(
                "`{}` is in {}: the add-on would reach across regions, and stop working when that region fails",
                from.address,
                p.region_code(from.region)
            ))
            .with_help("use the resource of the cluster's own region"),
        );
    }
}

/// The first computed attribute `v` is made of (`json(...)` keeps them in its unknown parts) that
/// belongs to a resource of another region than `region`, with that resource.
pub(crate) fn foreign_source<'p>(
    p: &'p Program,
    v: &'p Value,
    region: Option<usize>,
) -> Option<(&'p String, &'p crate::eval::Instance)> {
    let mut unknowns = Vec::new();
    v.unknowns(&mut unknowns);
    unknowns.into_iter().find_map(|u| match u {
        Value::Unknown {
            origin: crate::value::Origin::AfterApply(sources),
            ..
        } => sources.iter().find_map(|src| {
            let (addr, _) = src.rsplit_once('.')?;
            let from = p.instance(addr)?;
            (from.region.is_some() && from.region != region).then_some((src, from))
        }),
        _ => None,
    })
}

/// What EKS holds once per cluster: an add-on of a name, an access entry of a principal, a Pod
/// Identity association of a service account. A second is refused at apply time
/// (ResourceInUseException); here it is E0805, at the second one, pointing at the first.
fn duplicates(p: &Program, out: &mut Vec<Diagnostic>) {
    let kinds: [(&str, &str, &str); 3] = [
        ("aws.eks.Addon", "name", "an add-on named"),
        ("aws.eks.AccessEntry", "principal", "an access entry for"),
        (
            "aws.eks.PodIdentityAssociation",
            "service_account",
            "a Pod Identity association for",
        ),
    ];
    for (ty, field, what) in kinds {
        let mut seen: rustc_hash::FxHashMap<(String, String), &crate::eval::Instance> =
            rustc_hash::FxHashMap::default();
        for inst in p.of_type(ty) {
            let Some(cluster) = target(p, inst, "cluster") else {
                continue;
            };
            let key = match inst.get(field).map(Value::reveal) {
                Some(Value::Ref { addr }) => addr.to_string(),
                Some(v) => match v.as_str() {
                    Some(s) if field == "service_account" => format!(
                        "{}/{s}",
                        inst.get("namespace").and_then(Value::as_str).unwrap_or("")
                    ),
                    Some(s) => s.to_string(),
                    None => continue,
                },
                None => continue,
            };
            let Some(first) = seen.get(&(cluster.address.clone(), key.clone())) else {
                seen.insert((cluster.address.clone(), key), inst);
                continue;
            };
            out.push(
                Diagnostic::error(
                    "E0805",
                    format!(
                        "{} already has {what} `{key}`: EKS refuses a second one",
                        describe(p, cluster)
                    ),
                    label(inst, field, format!("`{}` is the second", inst.address)),
                )
                .with_label(label(
                    first,
                    field,
                    format!("`{}` is the first", first.address),
                ))
                .with_help("keep one of them, or put the second on another cluster"),
            );
        }
    }
}

/// Access entry and policy values EKS refuses (E0806): a Kubernetes group starting with
/// `system:`, a namespace scope without namespaces or a cluster scope with some, a policy ARN that
/// is not an EKS access policy (EKS API reference, CreateAccessEntry.kubernetesGroups,
/// AssociateAccessPolicy, AccessScope).
fn refused_access(p: &Program, out: &mut Vec<Diagnostic>) {
    for e in p.of_type("aws.eks.AccessEntry") {
        let Some(Value::List(groups)) = e.get("kubernetes_groups").map(Value::reveal) else {
            continue;
        };
        for g in groups.iter().filter_map(Value::as_str) {
            if g.starts_with("system:") {
                out.push(
                    Diagnostic::error(
                        "E0806",
                        format!("EKS refuses the Kubernetes group `{g}` of an access entry"),
                        label(e, "kubernetes_groups", "a group may not start with `system:`"),
                    )
                    .with_help("name a group of your own and bind it with RBAC, or associate an access policy such as AmazonEKSClusterAdminPolicy"),
                );
            }
        }
    }
    for a in p.of_type("aws.eks.AccessPolicyAssociation") {
        if let Some(arn) = a.get("policy_arn").and_then(Value::as_str)
            && !arn.starts_with("arn:aws:eks::aws:cluster-access-policy/")
        {
            out.push(
                Diagnostic::error(
                    "E0806",
                    format!("`{arn}` is not an EKS access policy"),
                    label(a, "policy_arn", "EKS associates only its own access policies"),
                )
                .with_help("use an ARN of the form `arn:aws:eks::aws:cluster-access-policy/NAME`, such as AmazonEKSClusterAdminPolicy or AmazonEKSViewPolicy; IAM policies belong on the role"),
            );
        }
        let Some(Value::Record(scope)) = a.get("scope").map(Value::reveal) else {
            continue;
        };
        let kind = scope.get("type").and_then(Value::variant);
        let namespaces = match scope.get("namespaces") {
            Some(Value::List(l)) => l.len(),
            _ => 0,
        };
        let problem = match (kind, namespaces) {
            (Some("namespace"), 0) => "a `.namespace` scope names no namespace",
            (Some("cluster"), n) if n > 0 => "a `.cluster` scope takes no namespaces",
            _ => continue,
        };
        out.push(
            Diagnostic::error(
                "E0806",
                format!("EKS refuses the access scope of `{}`", a.address),
                label(a, "scope", problem),
            )
            .with_help("list the namespaces with `.namespace`, or use `.cluster` without them"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(instance_kind("g5.2xlarge"), (Arch::X86, "gpu"));
        assert_eq!(instance_kind("p5.48xlarge"), (Arch::X86, "gpu"));
        assert_eq!(instance_kind("g5g.xlarge"), (Arch::Arm, "gpu"));
        assert_eq!(instance_kind("m7g.large"), (Arch::Arm, "none"));
        assert_eq!(instance_kind("c6gn.large"), (Arch::Arm, "none"));
        assert_eq!(instance_kind("m7i.xlarge"), (Arch::X86, "none"));
        assert_eq!(instance_kind("g4dn.xlarge"), (Arch::X86, "gpu"));
        assert_eq!(instance_kind("inf2.xlarge"), (Arch::X86, "neuron"));
    }
}
