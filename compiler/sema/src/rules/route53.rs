//! Route53 rules: latency routing (E0601-E0604, W0605) and health checkers' regions (E0606).

use std::collections::BTreeMap;

use carbonc_diagnostics::Diagnostic;

use super::{fix_or_help, label, name_label, scalar, set_field, shown, unplaced, warning};
use crate::eval::Program;
use crate::value::Value;

pub(crate) fn check(p: &Program, out: &mut Vec<Diagnostic>) {
    // E0606: the checkers' regions.
    for hc in p.of_type("aws.route53.HealthCheck") {
        let Some(Value::List(regions)) = hc.get("regions").map(Value::reveal) else {
            continue;
        };
        let named: Vec<&str> = regions.iter().filter_map(Value::as_str).collect();
        if named.is_empty() {
            continue;
        }
        let unknown: Vec<&&str> = named
            .iter()
            .filter(|r| !CHECKER_REGIONS.contains(r))
            .collect();
        let problem = if let Some(bad) = unknown.first() {
            format!("\"{bad}\" has no Route 53 health checkers")
        } else if named.len() < 3 {
            format!("{} region(s): Route 53 needs at least 3", named.len())
        } else {
            continue;
        };
        out.push(
            Diagnostic::error(
                "E0606",
                format!(
                    "health check `{}` probes from regions AWS refuses",
                    hc.address
                ),
                super::label(hc, "regions", problem),
            )
            .with_help(format!(
                "name at least 3 of {}, or leave `regions` out to probe from all of them",
                CHECKER_REGIONS.join(", ")
            )),
        );
    }
    let mut latency: BTreeMap<(String, String, String), &crate::eval::Instance> = BTreeMap::new();
    let mut ids: BTreeMap<(String, String, String), &crate::eval::Instance> = BTreeMap::new();
    let inst_region = |addr: &str| p.instance(addr).and_then(|i| i.region);
    let key = |rec: &crate::eval::Instance| {
        let name = scalar(rec, "name").unwrap_or_default();
        let ty = rec.get("type").and_then(Value::variant).unwrap_or("");
        (name, ty.to_string())
    };
    // Which regions each name and type routes already: moving a record to a region that has
    // one would only trade one error for another.
    let mut routed: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for rec in p.of_type("aws.route53.Record") {
        if let Some(Value::Region { idx, .. }) = rec.get("latency_region").map(Value::reveal) {
            routed.entry(key(rec)).or_default().push(*idx);
        }
    }
    for rec in p.of_type("aws.route53.Record") {
        let name = scalar(rec, "name").unwrap_or_default();
        let ty = rec
            .get("type")
            .and_then(Value::variant)
            .unwrap_or("")
            .to_string();
        if let Some(id) = scalar(rec, "set_identifier")
            && let Some(prev) = ids.insert((name.clone(), ty.clone(), id.clone()), rec)
        {
            out.push(
                Diagnostic::error(
                    "E0602",
                    format!("Set identifier `{id}` is used twice for {name} {ty}"),
                    label(rec, "set_identifier", format!("`{}` uses it", rec.address)),
                )
                .with_label(label(
                    prev,
                    "set_identifier",
                    format!("`{}` uses it too", prev.address),
                ))
                .with_help("make set identifiers unique, for example `\"api-${r.code}\"`"),
            );
        }
        let Some(Value::Region { idx, code }) = rec.get("latency_region").map(Value::reveal) else {
            continue;
        };
        if let Some(prev) = latency.insert((name.clone(), ty.clone(), code.clone()), rec) {
            out.push(
                Diagnostic::error(
                    "E0601",
                    format!("Two latency records for {name} {ty} in {code}"),
                    label(
                        rec,
                        "latency_region",
                        format!("`{}` routes {code}", rec.address),
                    ),
                )
                .with_label(label(
                    prev,
                    "latency_region",
                    format!("`{}` already routes {code}", prev.address),
                ))
                .with_help("keep one latency record per region for each name and type"),
            );
        }
        if rec.get("health_check").is_none_or(|v| *v == Value::None) {
            out.push(
                Diagnostic::error(
                    "E0604",
                    "Latency record has no health check",
                    name_label(
                        rec,
                        format!("`{}` routes {code} without a health check", rec.address),
                    ),
                )
                .with_note(
                    "without a health check Route53 keeps sending users to a region that is down",
                )
                .with_help("attach `health_check = ...` checking this region's endpoint"),
            );
        }
        for field in ["records", "alias"] {
            let Some(v) = rec.get(field) else { continue };
            let target = match v.reveal() {
                Value::Record(m) => m.get("dns_name").unwrap_or(&Value::None),
                v => v,
            };
            let target_region = target.provenance(&inst_region);
            // W0605: a target written as text; which region answers is the user's word.
            if unplaced(target, &inst_region) {
                let what = shown(target).unwrap_or_else(|| "this target".to_string());
                let here = p.regions.get(*idx).map_or("r", |r| r.name.as_str());
                out.push(warning(
                    Diagnostic::error(
                        "W0605",
                        "Latency record's target is not a placed resource's: its region cannot be checked",
                        label(
                            rec,
                            field,
                            format!("`{}` answers {code}'s users with {what}", rec.address),
                        ),
                    )
                    .with_note("carbon knows the region of a placed resource's DNS name or address (a load balancer, an instance's IP), not of a hostname written as text")
                    .with_help(format!(
                        "for an AWS load balancer, a lookup (`resource aws.elbv2.LoadBalancer lb @ {here} {{ name = ... }}`) and its `dns_name` let carbon check the region; for a host outside AWS, `W0605 = \"off\"` under `[severity]` in carbon.toml accepts it"
                    )),
                ));
            }
            if let Some(t) = target_region
                && t != *idx
            {
                let d = Diagnostic::error(
                    "E0603",
                    "Latency record's region differs from its target's",
                    label(
                        rec,
                        field,
                        format!(
                            "`{}` answers with this target, in {}",
                            rec.address,
                            p.region_code(Some(t))
                        ),
                    ),
                )
                .with_label(label(
                    rec,
                    "latency_region",
                    format!("but the record says {code}"),
                ));
                let help = format!(
                    "set `latency_region` to the target's region ({})",
                    p.region_code(Some(t))
                );
                let region = Value::Region {
                    idx: t,
                    code: p.region_code(Some(t)).to_string(),
                };
                let taken = routed.get(&key(rec)).is_some_and(|r| r.contains(&t));
                let fix = (!taken)
                    .then(|| set_field(p, rec, "latency_region", &region, help.clone(), false))
                    .flatten();
                // A module that routes its own region: the user chose the target, or where to
                // use the module.
                let help = if rec.set_by_module("latency_region") {
                    format!("give `{}` a target in {code}", rec.address)
                } else {
                    help
                };
                out.push(fix_or_help(d, fix, help));
            }
        }
    }
}

/// The regions Route 53's health checkers run in (model route53: `HealthCheckRegion`).
const CHECKER_REGIONS: &[&str] = &[
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
];
