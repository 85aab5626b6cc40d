//! Policy checks: security and availability habits rather than AWS's hard rules. Each has a code and
//! a default severity that a project can raise or lower in `carbon.toml` (see `docs/policies.md`).

use std::collections::BTreeMap;

use carbonc_diagnostics::{Diagnostic, Label};

use super::{describe, label, name_label, set_field, warning};
use crate::eval::{Instance, Program};
use crate::value::Value;
use rustc_hash::{FxHashMap, FxHashSet};

const OPEN: [&str; 2] = ["0.0.0.0/0", "::/0"];

fn strings(v: Option<&Value>) -> Vec<String> {
    match v.map(Value::reveal) {
        Some(Value::List(l)) => l
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// `on(code)` says whether a policy is wanted at all (`carbon.toml` can turn one off): a policy that
/// is off is not computed, rather than computed and dropped.
pub(crate) fn check(p: &Program, on: &dyn Fn(&str) -> bool, out: &mut Vec<Diagnostic>) {
    // P0101: allowlists open to the whole internet.
    for sg in p.of_type("aws.ec2.SecurityGroup").filter(|_| on("P0101")) {
        let Some(Value::List(rules)) = sg.get("ingress").map(Value::reveal) else {
            continue;
        };
        for r in rules {
            let Value::Record(m) = r else { continue };
            let mut cidrs = strings(m.get("cidr_blocks"));
            cidrs.extend(strings(m.get("ipv6_cidr_blocks")));
            if let Some(open) = cidrs.iter().find(|c| OPEN.contains(&c.as_str())) {
                out.push(
                    Diagnostic::error(
                        "P0101",
                        format!("Security group allows {open} in"),
                        label(
                            sg,
                            "ingress",
                            format!("{} opens a port to the whole internet", describe(p, sg)),
                        ),
                    )
                    .with_help(
                        "list the networks that need access (offices, VPN, the VPC's CIDR) instead",
                    ),
                );
            }
        }
    }
    for c in p.of_type("aws.eks.Cluster") {
        let public = c
            .get("endpoint_public_access")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let cidrs = strings(c.get("public_access_cidrs"));
        if let Some(open) = cidrs.iter().find(|x| OPEN.contains(&x.as_str())) {
            out.push(
                Diagnostic::error(
                    "P0101",
                    format!("EKS API allowlist contains {open}"),
                    label(
                        c,
                        "public_access_cidrs",
                        format!("{} accepts API calls from anywhere", describe(p, c)),
                    ),
                )
                .with_help("list the networks that need the Kubernetes API"),
            );
        } else if public && cidrs.is_empty() {
            // P0103: a public endpoint without an allowlist is open to all (AWS's default is 0.0.0.0/0).
            out.push(
                Diagnostic::error("P0103", "EKS API endpoint is public without an allowlist", label(c, "endpoint_public_access", format!("{} has a public endpoint", describe(p, c))))
                    .with_note("without `public_access_cidrs`, AWS allows 0.0.0.0/0")
                    .with_help("set `public_access_cidrs` to the networks that need the API, or make the endpoint private"),
            );
        }
    }
    for s in p.of_type("aws.wafv2.IpSet").filter(|_| on("P0101")) {
        if let Some(open) = strings(s.get("addresses"))
            .iter()
            .find(|x| OPEN.contains(&x.as_str()))
        {
            out.push(
                Diagnostic::error(
                    "P0101",
                    format!("IP set contains {open}"),
                    label(
                        s,
                        "addresses",
                        format!("{} matches every address", describe(p, s)),
                    ),
                )
                .with_help(
                    "an allowlist that contains everything allows everything: list the real ranges",
                ),
            );
        }
    }
    // P0102: storage without encryption at rest.
    for (ty, field, what) in [
        (
            "aws.rds.Cluster",
            "storage_encrypted",
            "Aurora cluster storage",
        ),
        (
            "aws.rds.GlobalCluster",
            "storage_encrypted",
            "Aurora global database storage",
        ),
        (
            "aws.elasticache.ReplicationGroup",
            "at_rest_encryption_enabled",
            "ElastiCache data",
        ),
        ("aws.eks.NodeGroup", "disk_encrypted", "EKS node volumes"),
    ] {
        for i in p.of_type(ty).filter(|_| on("P0102")) {
            if i.get(field).and_then(Value::as_bool) == Some(false) {
                let d = Diagnostic::error("P0102", format!("{what} is not encrypted at rest"), label(i, field, format!("{} turns encryption off", describe(p, i))))
                    .with_note("encryption at rest is fixed at creation: turning it on later replaces the resource");
                // Never applied unasked: on an existing resource it means a replacement.
                let fix = set_field(
                    p,
                    i,
                    field,
                    &Value::Bool(true),
                    format!("set `{field} = true`"),
                    false,
                );
                let d = match fix {
                    Some(f) => d.with_fix(f).with_help("where the schema takes a KMS key, give it one of its own region too"),
                    None => d.with_help(format!("set `{field} = true` (and a KMS key of the same region where the schema takes one)")),
                };
                out.push(d);
            }
        }
    }
    // P0105: CloudFront failover between origins of one region.
    for d in p
        .of_type("aws.cloudfront.Distribution")
        .filter(|_| on("P0105"))
    {
        let regions: std::collections::BTreeMap<String, String> =
            match d.get("origins").map(Value::reveal) {
                Some(Value::List(l)) => l
                    .iter()
                    .filter_map(|o| match o {
                        Value::Record(m) => Some((
                            m.get("id")?.as_str()?.to_string(),
                            p.region_code(Some(super::edge::origin_region(p, m)?))
                                .to_string(),
                        )),
                        _ => None,
                    })
                    .collect(),
                _ => Default::default(),
            };
        let Some(Value::List(groups)) = d.get("origin_groups").map(Value::reveal) else {
            continue;
        };
        for g in groups {
            let Value::Record(m) = g else { continue };
            let members = strings(m.get("members"));
            let rs: Vec<&String> = members.iter().filter_map(|x| regions.get(x)).collect();
            if rs.len() == 2 && rs[0] == rs[1] {
                out.push(
                    Diagnostic::error(
                        "P0105",
                        format!("Origin group fails over within one region ({})", rs[0]),
                        label(
                            d,
                            "origin_groups",
                            format!(
                                "both origins of group `{}` are in {}",
                                m.get("id").and_then(Value::as_str).unwrap_or("?"),
                                rs[0]
                            ),
                        ),
                    )
                    .with_note("when that region fails, the failover origin fails with it")
                    .with_help("make the failover origin a different region's endpoint"),
                );
            }
        }
    }
    // P0106: a web ACL that protects nothing. One pass over every value, looking for the ACLs only.
    let mut referenced: rustc_hash::FxHashMap<&str, bool> = p
        .of_type("aws.wafv2.WebAcl")
        .filter(|_| on("P0106"))
        .map(|acl| (acl.address.as_str(), false))
        .collect();
    if !referenced.is_empty() {
        for f in p.instances.iter().flat_map(|i| i.fields.values()) {
            if f.explicit {
                crate::graph::each_dep(&f.value, &mut |d| {
                    if let Some(seen) = referenced.get_mut(d) {
                        *seen = true;
                    }
                });
            }
        }
    }
    for acl in p.of_type("aws.wafv2.WebAcl") {
        if referenced.get(acl.address.as_str()) == Some(&false) {
            out.push(warning(
                Diagnostic::error(
                    "P0106",
                    "Web ACL is not attached to anything",
                    name_label(acl, format!("{} protects nothing", describe(p, acl))),
                )
                .with_help(
                    "attach it (`web_acl = ...` on a CloudFront distribution), or remove it",
                ),
            ));
        }
    }
    // P0107: secrets that never rotate.
    // The rotated secrets, once (not a scan of every rotation per secret).
    let rotated: rustc_hash::FxHashSet<&str> = p
        .of_type("aws.secretsmanager.Rotation")
        .filter_map(|r| match r.get("secret").map(Value::reveal) {
            Some(Value::Ref { addr }) => Some(addr.as_str()),
            _ => None,
        })
        .collect();
    for s in p
        .of_type("aws.secretsmanager.Secret")
        .filter(|_| on("P0107"))
    {
        if !rotated.contains(s.address.as_str()) {
            out.push(warning(
                Diagnostic::error(
                    "P0107",
                    "Secret has no rotation",
                    name_label(s, format!("{} never rotates", describe(p, s))),
                )
                .with_help("add an `aws.secretsmanager.Rotation` for it"),
            ));
        }
    }
    observability(p, on, out);
    // P0108: an entry point that one region's failure takes down.
    // Without entry points there is nothing to follow: no failure is simulated.
    let entries = crate::simulate::entry_points(p);
    if p.regions.len() >= 2 && on("P0108") && !entries.is_empty() {
        let outcomes = crate::simulate::single_region_entry_outcomes(p);
        // One list per region, in region order, each in `entry_points` order.
        for (k, entry) in entries.into_iter().enumerate() {
            let fatal: Vec<(&str, &str)> = p
                .regions
                .iter()
                .zip(&outcomes)
                .filter_map(|(r, os)| {
                    let o = os.get(k).filter(|o| o.entry.name == entry.name)?;
                    (!o.served).then_some((r.code.as_str(), o.how.as_str()))
                })
                .collect();
            if let Some((region, how)) = fatal.first() {
                out.push(
                    Diagnostic::error(
                        "P0108",
                        format!("`{}` has a single point of failure: {region}", entry.name),
                        Label::new(&entry.file, entry.span, format!("if {region} fails, this entry point is down: {}", how.trim_start_matches("DOWN: "))),
                    )
                    .with_note("losing one region takes it down or sends part of its users to the failed region; `carbonc simulate` shows every path")
                    .with_help("serve it from two regions: an origin group across regions, or latency records with health checks"),
                );
            }
        }
    }
}

/// P0112 and P0113: every region that serves traffic (holds a load balancer) is probed by
/// canaries, from at least two other regions (one when the program has two).
fn canary_coverage(
    p: &Program,
    canaries: &[&Instance],
    on: &dyn Fn(&str) -> bool,
    out: &mut Vec<Diagnostic>,
) {
    // Probed region -> the canaries probing it.
    let mut probes: BTreeMap<usize, Vec<&Instance>> = BTreeMap::new();
    for c in canaries {
        if let Some(r) = crate::simulate::probed_region(p, c) {
            probes.entry(r).or_default().push(c);
        }
    }
    if on("P0112") {
        let mut seen = FxHashSet::default();
        for lb in p.of_type("aws.elbv2.LoadBalancer") {
            let Some(r) = lb.region else { continue };
            if probes.contains_key(&r) || !seen.insert(r) {
                continue;
            }
            out.push(warning(
                Diagnostic::error(
                    "P0112",
                    format!("{} serves traffic and no canary probes it", p.region_code(Some(r))),
                    name_label(lb, format!("{} answers users; nothing measures it from outside", describe(p, lb))),
                )
                .with_note("a canary's region is the one its `check.url` comes from, e.g. `\"https://${lb.dns_name}/healthz\"`")
                .with_help(format!(
                    "add `aws.synthetics.Canary`s in other regions whose check URL is built from this load balancer's `dns_name`, in {}",
                    p.region_code(Some(r))
                )),
            ));
        }
    }
    if on("P0113") {
        let needed = 2.min(p.regions.len().saturating_sub(1));
        for (r, cs) in &probes {
            let mut from: Vec<&str> = cs
                .iter()
                .filter(|c| c.region != Some(*r))
                .map(|c| p.region_code(c.region))
                .collect();
            from.sort_unstable();
            from.dedup();
            if from.len() >= needed {
                continue;
            }
            let probed = p.region_code(Some(*r));
            let said = if from.is_empty() {
                "only from inside it".to_string()
            } else {
                format!("only from {}", from.join(", "))
            };
            out.push(warning(
                Diagnostic::error(
                    "P0113",
                    format!("{probed} is probed {said}"),
                    name_label(cs[0], format!("{} probes {probed}", describe(p, cs[0]))),
                )
                .with_note("a region's failure takes its own canaries with it, and one other region cannot tell the endpoint's failure from its own path's")
                .with_help(format!("probe {probed} with canaries in {needed} regions other than {probed}")),
            ));
        }
    }
}

/// P0109-P0111, in a program that declares CloudWatch alarms (one without any leaves monitoring to
/// something else): every alarm notifies someone, every Aurora secondary's replication lag and
/// every health check that routing follows is alarmed.
fn observability(p: &Program, on: &dyn Fn(&str) -> bool, out: &mut Vec<Diagnostic>) {
    const METRIC: &str = "aws.cloudwatch.MetricAlarm";
    const COMPOSITE: &str = "aws.cloudwatch.CompositeAlarm";
    let alarms: Vec<&Instance> = p.of_type(METRIC).chain(p.of_type(COMPOSITE)).collect();
    let canaries: Vec<&Instance> = p.of_type("aws.synthetics.Canary").collect();
    if alarms.is_empty() && canaries.is_empty() {
        return;
    }
    canary_coverage(p, &canaries, on, out);
    let notifies = |a: &Instance| matches!(a.get("alarm_actions").map(Value::reveal), Some(Value::List(l)) if !l.is_empty());
    if on("P0109") {
        // Alarms that a composite alarm with actions watches notify through it.
        let through: FxHashSet<&str> = p
            .of_type(COMPOSITE)
            .filter(|c| notifies(c))
            .filter_map(|c| match c.get("alarms").map(Value::reveal) {
                Some(Value::List(l)) => Some(l.iter().filter_map(|v| match v.reveal() {
                    Value::Ref { addr } => Some(addr.as_str()),
                    _ => None,
                })),
                _ => None,
            })
            .flatten()
            .collect();
        for a in alarms
            .iter()
            .filter(|a| !notifies(a) && !through.contains(a.address.as_str()))
        {
            out.push(warning(
                Diagnostic::error(
                    "P0109",
                    format!("alarm `{}` notifies no one", a.address),
                    name_label(a, format!("{} has no `alarm_actions`", describe(p, a))),
                )
                .with_note("an alarm without actions changes state in the console and nowhere else")
                .with_help("add the region's on-call topic to `alarm_actions`, or watch the alarm from a composite alarm that notifies"),
            ));
        }
    }
    // The metrics alarmed on, by the address of the resource they come from: built once, so
    // that asking about each secondary and health check is a lookup, not a scan of every alarm.
    let mut sources: FxHashMap<&str, Vec<String>> = FxHashMap::default();
    for a in p.of_type(METRIC) {
        if let Some(w) = super::watched(p, a)
            && let Some(source) = w.source
        {
            sources
                .entry(source.address.as_str())
                .or_default()
                .push(w.name);
        }
    }
    let alarmed = |addr: &str, names: &[&str]| {
        sources.get(addr).is_some_and(|metrics| {
            names.is_empty() || metrics.iter().any(|n| names.contains(&n.as_str()))
        })
    };
    if on("P0110") {
        let secondary = |c: &&Instance| matches!(c.get("global_role").map(Value::reveal), Some(Value::Enum(e)) if e.variant == "secondary");
        for c in p.of_type("aws.rds.Cluster").filter(secondary) {
            if !alarmed(
                &c.address,
                &["AuroraGlobalDBReplicationLag", "AuroraGlobalDBRPOLag"],
            ) {
                out.push(warning(
                    Diagnostic::error(
                        "P0110",
                        format!("Aurora secondary `{}` has no replication-lag alarm", c.address),
                        name_label(c, format!("{} replicates the primary unwatched", describe(p, c))),
                    )
                    .with_note("a secondary that falls behind loses that much data when the primary region fails over to it")
                    .with_help(format!(
                        "alarm on `metrics.global_replication_lag` of it, in {}",
                        p.region_code(c.region)
                    )),
                ));
            }
        }
        // Redis: a Global Datastore's secondaries are the groups that name it.
        let redis = |g: &&Instance| {
            matches!(
                g.get("global_replication_group").map(Value::reveal),
                Some(Value::Ref { .. })
            )
        };
        let primaries: FxHashSet<&str> = p
            .of_type("aws.elasticache.GlobalReplicationGroup")
            .filter_map(|g| match g.get("primary").map(Value::reveal) {
                Some(Value::Ref { addr }) => Some(addr.as_str()),
                _ => None,
            })
            .collect();
        for g in p
            .of_type("aws.elasticache.ReplicationGroup")
            .filter(redis)
            .filter(|g| !primaries.contains(g.address.as_str()))
        {
            if !alarmed(&g.address, &["GlobalDatastoreReplicationLag"]) {
                out.push(warning(
                    Diagnostic::error(
                        "P0110",
                        format!("Redis secondary `{}` has no replication-lag alarm", g.address),
                        name_label(g, format!("{} replicates the primary unwatched", describe(p, g))),
                    )
                    .with_note("a secondary that falls behind serves stale reads, and loses that much data when the datastore fails over to it")
                    .with_help(format!(
                        "alarm on `metrics.global_replication_lag` of it, in {}",
                        p.region_code(g.region)
                    )),
                ));
            }
        }
    }
    if on("P0111") {
        let mut routed: Vec<&str> = p
            .of_type("aws.route53.Record")
            .filter_map(|r| match r.get("health_check").map(Value::reveal) {
                Some(Value::Ref { addr }) => Some(addr.as_str()),
                _ => None,
            })
            .collect();
        routed.sort_unstable();
        routed.dedup();
        for hc in routed.into_iter().filter_map(|a| p.instance(a)) {
            if !alarmed(&hc.address, &[]) {
                out.push(warning(
                    Diagnostic::error(
                        "P0111",
                        format!("health check `{}` routes traffic but has no alarm", hc.address),
                        name_label(hc, "Route 53 routes around this check's endpoint when it fails, and no one hears of it"),
                    )
                    .with_help("alarm on its `metrics.status` in us-east-1, where Route 53 publishes it"),
                ));
            }
        }
    }
}
