//! Kubernetes rules (E1301-E1306, W1301-W1303): the objects inside a region's cluster.

use carbonc_diagnostics::Diagnostic;

use super::{describe, label, target, warning};
use crate::cidr;
use crate::eval::{Instance, Program};
use crate::reach;
use crate::value::{Entries, Value, entries, items};

pub(crate) fn check(p: &Program, out: &mut Vec<Diagnostic>) {
    not_enforced(p, out);
    refused(p, out);
    duplicates(p, out);
    foreign_values(p, out);
    let clusters = reach::clusters(p);
    no_dns(p, &clusters, out);
    selecting_nothing(p, &clusters, out);
    clickhouse(p, out);
}

/// A ClickHouse cluster's layout (E1305, E1306, W1302): a Keeper quorum of 3 or 5 nodes in
/// distinct zones (with 2 or 4 a single failure can stop replication, with two in one zone that
/// zone's loss takes the quorum: ClickHouse Keeper and ZooKeeper need a majority), at least one
/// shard and replica, every zone one of the region's where the EKS cluster has a subnet (a
/// replica elsewhere could not be scheduled, or would not be in the region), and the replicas of
/// a shard in distinct zones.
fn clickhouse(p: &Program, out: &mut Vec<Diagnostic>) {
    for ch in p.of_type("k8s.ClickHouseCluster") {
        let Some(layout) = crate::clickhouse::layout(ch) else {
            continue;
        };
        let Some(cluster) = target(p, ch, "cluster") else {
            continue;
        };
        let keepers = layout.keeper_zones.len();
        if keepers != 3 && keepers != 5 {
            out.push(
                Diagnostic::error(
                    "E1305",
                    format!("a Keeper quorum of {keepers} node(s): ClickHouse Keeper needs 3 or 5"),
                    label(ch, "keeper_zones", format!("`{}` lists {keepers}", ch.address)),
                )
                .with_note("replication needs a majority of Keeper nodes: 3 survive one failure, 5 survive two; 2 or 4 survive no more than 1 or 3 do")
                .with_help("list 3 keeper zones (or 5)"),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(twice) = layout
            .keeper_zones
            .iter()
            .find(|z| !seen.insert(z.as_str()))
        {
            out.push(
                Diagnostic::error(
                    "E1305",
                    format!("two Keeper nodes in `{twice}`: losing that zone loses the quorum"),
                    label(
                        ch,
                        "keeper_zones",
                        format!("`{}`'s Keeper nodes must be in distinct zones", ch.address),
                    ),
                )
                .with_help("put each Keeper node in another zone of the region"),
            );
        }
        for (field, n) in [("shards", layout.shards), ("replicas", layout.replicas)] {
            if n < 1 {
                out.push(
                    Diagnostic::error(
                        "E1305",
                        format!("`{field} = {n}`: a ClickHouse cluster has at least one"),
                        label(ch, field, "at least 1"),
                    )
                    .with_help(format!("set `{field}` to 1 or more")),
                );
            }
        }
        let region = p.region_code(ch.region).to_string();
        let subnet_zones: Vec<String> = items(cluster.get("subnets"))
            .iter()
            .filter_map(|s| match s.reveal() {
                Value::Ref { addr } => p.instance(addr),
                _ => None,
            })
            .filter_map(|s| s.get("availability_zone")?.as_str().map(str::to_string))
            .collect();
        for field in ["zones", "keeper_zones"] {
            let zones = match field {
                "zones" => &layout.zones,
                _ => &layout.keeper_zones,
            };
            for z in zones {
                let in_region = z.strip_prefix(region.as_str()).is_some_and(|rest| {
                    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase())
                });
                let msg = if !in_region {
                    format!(
                        "`{z}` is not an availability zone of {region}, where `{}` runs",
                        ch.address
                    )
                } else if !subnet_zones.is_empty() && !subnet_zones.contains(z) {
                    format!(
                        "{} has no subnet in `{z}`: no pod can run there",
                        describe(p, cluster)
                    )
                } else {
                    continue;
                };
                out.push(
                    Diagnostic::error(
                        "E1306",
                        msg,
                        label(
                            ch,
                            field,
                            format!("a server of `{}` would be placed in `{z}`", ch.address),
                        ),
                    )
                    .with_help(if subnet_zones.is_empty() {
                        format!("use zones of {region}")
                    } else {
                        format!(
                            "use zones of the cluster's subnets: {}",
                            subnet_zones
                                .iter()
                                .map(|z| format!("`{z}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }),
                );
            }
        }
        let distinct: std::collections::BTreeSet<&String> = layout.zones.iter().collect();
        if layout.replicas > 1 && distinct.len() < layout.replicas {
            out.push(
                warning(Diagnostic::error(
                    "W1302",
                    format!(
                        "{} replicas per shard over {} zone(s): replicas of a shard share a zone",
                        layout.replicas,
                        distinct.len()
                    ),
                    label(ch, "zones", format!("`{}` spreads its replicas here", ch.address)),
                ))
                .with_note("losing that zone loses every copy of the shard's data it holds twice, and the shard's writes stop if no replica is left")
                .with_help(format!("list at least {} zones", layout.replicas)),
            );
        }
    }
}

/// Whether a cluster's VPC CNI enforces network policies: `Some(true)` when its `vpc-cni` add-on's
/// configuration sets `enableNetworkPolicy` to "true", `None` when the configuration is not known
/// at check time, and the add-on when there is one.
fn enforcement<'p>(p: &'p Program, cluster: &Instance) -> (Option<bool>, Option<&'p Instance>) {
    let cni = p.of_type("aws.eks.Addon").find(|a| {
        a.get("name").and_then(Value::as_str) == Some("vpc-cni")
            && target(p, a, "cluster").is_some_and(|c| c.address == cluster.address)
    });
    let Some(cni) = cni else {
        return (Some(false), None);
    };
    let on = match cni.get("configuration").map(Value::reveal) {
        None | Some(Value::None) => Some(false),
        Some(Value::Str(text)) => Some(
            serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|j| j.get("enableNetworkPolicy").cloned())
                == Some(serde_json::Value::String("true".into())),
        ),
        Some(_) => None,
    };
    (on, Some(cni))
}

/// Network policies on a cluster whose VPC CNI does not enforce them (E1301). The API server
/// stores them and nothing happens: the VPC CNI's network policy agent is off unless the add-on's
/// configuration turns it on (EKS User Guide, "Limit Pod traffic with Kubernetes network
/// policies"; the self-managed VPC CNI EKS installs has it off too).
fn not_enforced(p: &Program, out: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::BTreeSet::new();
    for np in p.of_type("k8s.NetworkPolicy") {
        let Some(cluster) = target(p, np, "cluster") else {
            continue;
        };
        if !seen.insert(cluster.address.clone()) {
            continue;
        }
        let (on, cni) = enforcement(p, cluster);
        if on != Some(false) {
            continue;
        }
        let count = p
            .of_type("k8s.NetworkPolicy")
            .filter(|o| target(p, o, "cluster").is_some_and(|c| c.address == cluster.address))
            .count();
        let others = match count {
            1 => String::new(),
            n => format!(" (and {} more on this cluster)", n - 1),
        };
        let mut d = Diagnostic::error(
            "E1301",
            format!(
                "network policies on {} are not enforced: its VPC CNI runs without network policy",
                describe(p, cluster)
            ),
            label(
                np,
                "cluster",
                format!("`{}` would be stored and do nothing{others}", np.address),
            ),
        );
        d = match cni {
            Some(cni) if cni.get("configuration").is_some_and(|v| !matches!(v, Value::None)) => d
                .with_label(label(
                    cni,
                    "configuration",
                    "`enableNetworkPolicy` is not \"true\" here",
                )),
            Some(cni) => d.with_label(label(cni, "name", "configured without `enableNetworkPolicy`")),
            None => d.with_note(format!(
                "the program has no `vpc-cni` add-on on `{}`: the VPC CNI EKS installs by itself leaves network policy off",
                cluster.address
            )),
        };
        out.push(d.with_help(match cni {
            Some(cni) => format!(
                "set `configuration = json({{ enableNetworkPolicy = \"true\" }})` on `{}`",
                cni.address
            ),
            None => format!(
                "add `resource aws.eks.Addon ... {{ cluster = {}, name = \"vpc-cni\", configuration = json({{ enableNetworkPolicy = \"true\" }}) }}`",
                cluster.address
            ),
        }));
    }
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most `max` characters (a DNS-1123 label).
fn dns_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Dot-separated DNS-1123 labels, at most `max` characters (a DNS-1123 subdomain).
fn dns_subdomain(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.split('.').all(|l| dns_label(l, 63))
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, at most 63 characters: a label value (or empty)
/// and the name part of a label key.
fn label_name(s: &str) -> bool {
    let ok = |b: u8| b.is_ascii_alphanumeric();
    s.len() <= 63
        && s.bytes()
            .all(|b| ok(b) || b == b'-' || b == b'_' || b == b'.')
        && s.bytes().next().is_some_and(ok)
        && s.bytes().last().is_some_and(ok)
}

/// Why a label key is refused: an optional DNS-subdomain prefix and `/`, then a name.
fn bad_label_key(k: &str) -> Option<&'static str> {
    let (prefix, name) = match k.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if prefix.is_some_and(|p| !dns_subdomain(p, 253)) {
        return Some("its prefix must be a DNS subdomain (lower case, digits, `-` and `.`)");
    }
    (!label_name(name)).then_some(
        "its name must be 1-63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit",
    )
}

/// The problems of one object, by field: each field's become one diagnostic (its first problem,
/// the others as notes), so that several problems of one field are all shown.
struct Refusals<'a> {
    inst: &'a Instance,
    found: Vec<(&'static str, String, &'static str)>,
}

impl<'a> Refusals<'a> {
    fn push(&mut self, field: &'static str, msg: String, why: &'static str) {
        self.found.push((field, msg, why));
    }

    fn report(self, out: &mut Vec<Diagnostic>) {
        let mut fields: Vec<&str> = self.found.iter().map(|(f, _, _)| *f).collect();
        fields.dedup();
        for field in fields {
            let mut of = self.found.iter().filter(|(f, _, _)| *f == field);
            let Some((_, msg, why)) = of.next() else {
                continue;
            };
            let kind = if self.inst.ty == "k8s.HelmRelease" {
                "Helm"
            } else {
                "the Kubernetes API server"
            };
            let mut d = Diagnostic::error(
                "E1302",
                msg.clone(),
                label(
                    self.inst,
                    field,
                    format!("{kind} refuses `{}`", self.inst.address),
                ),
            )
            .with_help(*why);
            let also: Vec<String> = of.map(|(_, msg, why)| format!("{msg} ({why})")).collect();
            if !also.is_empty() {
                d = d.with_note(format!("also refused: {}", also.join("; ")));
            }
            out.push(d);
        }
    }

    fn labels(&mut self, field: &'static str, v: Option<&Value>) {
        let Some(Value::Map(m) | Value::Record(m)) = v.map(Value::reveal) else {
            return;
        };
        for (k, v) in m.iter() {
            if let Some(why) = bad_label_key(k) {
                self.push(field, format!("`{k}` is not a valid label key"), why);
            }
            if let Some(s) = v.reveal().as_str()
                && !s.is_empty()
                && !label_name(s)
            {
                self.push(
                    field,
                    format!("`{s}` is not a valid label value (of `{k}`)"),
                    "a label value is empty, or 1-63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit",
                );
            }
        }
    }

    fn ports(&mut self, field: &'static str, ports: &[Value]) {
        for port in ports.iter().filter_map(entries) {
            let n = port.get("port").and_then(Value::as_int);
            let end = port.get("end_port").and_then(Value::as_int);
            for x in [n, end].into_iter().flatten() {
                if !(1..=65535).contains(&x) {
                    self.push(
                        field,
                        format!("port {x} is out of range"),
                        "ports are 1-65535",
                    );
                }
            }
            match (n, end) {
                (None, Some(e)) => self.push(
                    field,
                    format!("`end_port = {e}` without `port`"),
                    "a range needs its first port in `port`",
                ),
                (Some(n), Some(e)) if e < n => self.push(
                    field,
                    format!("`end_port = {e}` is below `port = {n}`"),
                    "`end_port` must be at least `port`",
                ),
                _ => {}
            }
        }
    }

    fn rules(&mut self, field: &'static str, rules: &[Value]) {
        for rule in rules.iter().filter_map(entries) {
            for peer in items(rule.get("peers")).iter().filter_map(entries) {
                let selects = ["pods", "namespaces"]
                    .iter()
                    .any(|k| peer.get(k).is_some_and(|v| !matches!(v, Value::None)));
                let block = peer.get("ip_block").and_then(entries);
                match (selects, block) {
                    (false, None) => self.push(
                        field,
                        "a peer chooses nothing".to_string(),
                        "give it `pods`, `namespaces` or `ip_block`",
                    ),
                    (true, Some(_)) => self.push(
                        field,
                        "a peer has both selectors and an `ip_block`".to_string(),
                        "an `ip_block` stands alone in its peer: make it a peer of its own",
                    ),
                    _ => {}
                }
                self.labels(field, peer.get("pods"));
                self.labels(field, peer.get("namespaces"));
                if let Some(b) = block {
                    self.block(field, b);
                }
            }
            self.ports(field, items(rule.get("ports")));
        }
    }

    fn block(&mut self, field: &'static str, b: &Entries) {
        let Some(text) = b.get("cidr").and_then(Value::as_str) else {
            return;
        };
        let cidr = match cidr::block(text) {
            Ok(c) => c,
            Err(why) => return self.push(field, why, "an IPv4 CIDR block, e.g. `10.0.0.0/16`"),
        };
        for e in items(b.get("except")) {
            let Some(et) = e.as_str() else { continue };
            match cidr::block(et) {
                Err(why) => self.push(field, why, "an IPv4 CIDR block inside `cidr`"),
                Ok(ec) if !(cidr::contains(cidr, ec) && ec.1 > cidr.1) => self.push(
                    field,
                    format!("`{et}` is not inside `{text}`"),
                    "each `except` block must be a strict subset of `cidr`",
                ),
                Ok(_) => {}
            }
        }
    }
}

/// What the Kubernetes API server (and Helm) would refuse (E1302): names that are not DNS labels
/// or subdomains, label keys and values off their syntax, ports out of range, a peer with nothing
/// or with both selectors and a block, CIDRs that do not parse or holes outside their block
/// (Kubernetes API reference, NetworkPolicy v1; "Object Names and IDs", "Labels and Selectors";
/// Helm: release names are DNS labels of at most 53 characters).
fn refused(p: &Program, out: &mut Vec<Diagnostic>) {
    for inst in p
        .of_type("k8s.NetworkPolicy")
        .chain(p.of_type("k8s.HelmRelease"))
    {
        let mut r = Refusals {
            inst,
            found: Vec::new(),
        };
        if let Some(ns) = inst.get("namespace").and_then(Value::as_str)
            && !dns_label(ns, 63)
        {
            r.push(
                "namespace",
                format!("`{ns}` is not a valid namespace name"),
                "a namespace is 1-63 lower-case letters, digits and `-`, starting and ending with a letter or digit",
            );
        }
        let release = inst.ty == "k8s.HelmRelease";
        if let Some(name) = inst.get("name").and_then(Value::as_str) {
            let (ok, why) = if release {
                (
                    dns_label(name, 53),
                    "a release name is 1-53 lower-case letters, digits and `-`, starting and ending with a letter or digit",
                )
            } else {
                (
                    dns_subdomain(name, 253),
                    "an object name is lower-case letters, digits, `-` and `.`, each part starting and ending with a letter or digit",
                )
            };
            if !ok {
                r.push("name", format!("`{name}` is not a valid name"), why);
            }
        }
        if release {
            r.labels("pod_labels", inst.get("pod_labels"));
            r.ports("ports", items(inst.get("ports")));
        } else {
            r.labels("pod_selector", inst.get("pod_selector"));
            r.labels("labels", inst.get("labels"));
            r.rules("ingress", items(inst.get("ingress")));
            r.rules("egress", items(inst.get("egress")));
        }
        r.report(out);
    }
}

/// Two objects of one kind, namespace and name on one cluster (E1303): the second would replace
/// the first (a policy) or fail (a release: "cannot re-use a name that is still in use").
fn duplicates(p: &Program, out: &mut Vec<Diagnostic>) {
    for (ty, what) in [
        ("k8s.NetworkPolicy", "a network policy"),
        ("k8s.HelmRelease", "a release"),
    ] {
        let mut seen: rustc_hash::FxHashMap<(String, String, String), &Instance> =
            Default::default();
        for inst in p.of_type(ty) {
            let (Some(cluster), Some(ns), Some(name)) = (
                target(p, inst, "cluster"),
                inst.get("namespace").and_then(Value::as_str),
                inst.get("name").and_then(Value::as_str),
            ) else {
                continue;
            };
            let key = (cluster.address.clone(), ns.to_string(), name.to_string());
            let Some(first) = seen.get(&key) else {
                seen.insert(key, inst);
                continue;
            };
            out.push(
                Diagnostic::error(
                    "E1303",
                    format!(
                        "{} already has {what} `{name}` in namespace `{ns}`",
                        describe(p, cluster)
                    ),
                    label(inst, "name", format!("`{}` is the second", inst.address)),
                )
                .with_label(label(
                    first,
                    "name",
                    format!("`{}` is the first", first.address),
                ))
                .with_help("rename one of them, or put it in another namespace"),
            );
        }
    }
}

/// A release's values name a resource of another region (E1304): the service would reach across
/// regions for its cache, database or bucket, slowly, and fail with that region.
fn foreign_values(p: &Program, out: &mut Vec<Diagnostic>) {
    for r in p.of_type("k8s.HelmRelease") {
        let Some(values) = r.get("values") else {
            continue;
        };
        let Some((src, from)) = super::eks::foreign_source(p, values, r.region) else {
            continue;
        };
        let name = r.get("name").and_then(Value::as_str).unwrap_or("");
        out.push(
            Diagnostic::error(
                "E1304",
                format!(
                    "the values of release `{name}` in {} use `{src}`, of {}",
                    p.region_code(r.region),
                    p.region_code(from.region)
                ),
                label(
                    r,
                    "values",
                    format!("`{}` runs in {}", r.address, p.region_code(r.region)),
                ),
            )
            .with_note(format!(
                "`{}` is in {}: every request would cross regions, and the service would fail with that region",
                from.address,
                p.region_code(from.region)
            ))
            .with_help(format!(
                "use the {} resource of {}",
                crate::ty::human_type_name(&from.ty),
                p.region_code(r.region)
            )),
        );
    }
}

/// A policy whose `pod_selector` chooses none of the releases of its namespace (W1303): a label
/// written wrong, or the chart's pods labelled otherwise than the release says; the policy then
/// protects nothing, silently.
fn selecting_nothing(p: &Program, clusters: &[reach::Cluster], out: &mut Vec<Diagnostic>) {
    for c in clusters {
        for (addr, ns, selector) in c.selecting_nothing() {
            let Some(pol) = p.instance(addr) else {
                continue;
            };
            let shown: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let releases: Vec<String> = c
                .pods
                .iter()
                .filter(|x| x.address.is_some() && x.namespace == ns)
                .map(|x| {
                    let labels: Vec<String> =
                        x.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    format!("`{}` ({})", x.name, labels.join(", "))
                })
                .collect();
            out.push(
                warning(Diagnostic::error(
                    "W1303",
                    format!(
                        "`{addr}` selects no pod: no release in namespace `{ns}` has the labels {}",
                        shown.join(", ")
                    ),
                    label(pol, "pod_selector", "this selector chooses nothing"),
                ))
                .with_note(format!(
                    "the releases of `{ns}` on `{}`: {}",
                    c.address,
                    releases.join("; ")
                ))
                .with_help(
                    "use the labels of the pods the policy is for (a release's `pod_labels`)",
                ),
            );
        }
    }
}

/// Pods whose egress the policies deny, DNS included (W1301): every name lookup times out, so the
/// service fails although its own allows are right. The usual allow is UDP and TCP 53 to
/// `k8s-app: kube-dns` in `kube-system`.
fn no_dns(p: &Program, clusters: &[reach::Cluster], out: &mut Vec<Diagnostic>) {
    for c in clusters {
        let dns = c.dns();
        for i in 0..dns {
            let isolating = c.egress_isolated_by(i);
            let Some(first) = isolating.first().and_then(|a| p.instance(a)) else {
                continue;
            };
            if c.allowed(i, dns)
                .allows(reach::Ports::one(reach::Proto::Udp, 53))
            {
                continue;
            }
            let pods = &c.pods[i];
            out.push(
                warning(Diagnostic::error(
                    "W1301",
                    format!(
                        "pods of {} cannot resolve names: their egress is denied, DNS included",
                        pods.describe()
                    ),
                    label(
                        first,
                        "egress",
                        format!("`{}` limits their egress", first.address),
                    ),
                ))
                .with_note(format!(
                    "on `{}` ({}), no egress rule of {} allows UDP 53 to kube-dns in kube-system",
                    c.address,
                    c.region,
                    isolating
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .with_help(
                    "add the rule `{ peers = [{ namespaces = { \"kubernetes.io/metadata.name\" = \"kube-system\" }, pods = { \"k8s-app\" = \"kube-dns\" } }], ports = [{ protocol = .UDP, port = 53 }, { port = 53 }] }`",
                ),
            );
        }
    }
}
