//! CloudFront, WAF, ACM and load balancer lookup rules (E0307, E0308, E0701-E0704, W0705).

use carbonc_diagnostics::Diagnostic;

use super::{
    describe, fix_or_help, label, name_label, scalar, set_field, shown, unplaced, variant, warning,
};
use crate::eval::{Instance, Program};
use crate::ty::Catalog;
use crate::value::{Entries, Value};

const FAILOVER_CODES: [i64; 8] = [400, 403, 404, 416, 500, 502, 503, 504];

/// The addresses of the ACM certificates CloudFront distributions use (`viewer_certificate`):
/// those stay in us-east-1 whatever else is said of them.
pub fn cloudfront_certificates(p: &Program) -> Vec<&str> {
    p.of_type("aws.cloudfront.Distribution")
        .filter_map(|d| match d.get("viewer_certificate")?.reveal() {
            Value::Record(m) => match m.get("acm_certificate")? {
                Value::Ref { addr } => Some(addr.as_str()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The region of a CloudFront origin: where its `domain_name` comes from (a load balancer's DNS
/// name is in the load balancer's region), else its written `region`.
pub(crate) fn origin_region(p: &Program, origin: &Entries) -> Option<usize> {
    domain_region(p, origin).or_else(|| written_region(origin))
}

/// The region an origin's `domain_name` comes from, when it is a placed resource's.
fn domain_region(p: &Program, origin: &Entries) -> Option<usize> {
    origin
        .get("domain_name")
        .and_then(|v| v.provenance(&|a| p.instance(a).and_then(|i| i.region)))
}

/// The region written in an origin's `region`.
fn written_region(origin: &Entries) -> Option<usize> {
    match origin.get("region").map(Value::reveal) {
        Some(Value::Region { idx, .. }) => Some(*idx),
        _ => None,
    }
}

pub(crate) fn check(p: &Program, _cat: &Catalog, out: &mut Vec<Diagnostic>) {
    for d in p.of_type("aws.cloudfront.Distribution") {
        // W0705: origins whose domain names are written as text; their regions are the user's
        // word. One warning per distribution, naming them all.
        let inst_region = |a: &str| p.instance(a).and_then(|i| i.region);
        let mut unchecked = Vec::new();
        if let Some(Value::List(l)) = d.get("origins").map(Value::reveal) {
            for o in l {
                let Value::Record(m) = o else { continue };
                let Some(domain) = m.get("domain_name").filter(|v| unplaced(v, &inst_region))
                else {
                    continue;
                };
                let id = m.get("id").and_then(Value::as_str).unwrap_or("?");
                let what = shown(domain).unwrap_or_else(|| "a hostname".to_string());
                unchecked.push(match written_region(m) {
                    Some(r) => format!("`{id}` ({what}, said to be in {})", p.region_code(Some(r))),
                    None => format!("`{id}` ({what})"),
                });
            }
        }
        if !unchecked.is_empty() {
            let (title, names) = match &unchecked[..] {
                [one] => (
                    "CloudFront origin's region cannot be checked",
                    format!("origin {one}"),
                ),
                all => (
                    "CloudFront origins' regions cannot be checked",
                    format!("origins {}", all.join(", ")),
                ),
            };
            out.push(warning(
                Diagnostic::error("W0705", title, label(d, "origins", format!("{names} of `{}`", d.address)))
                    .with_note("carbon derives an origin's region from a placed resource's DNS name (a load balancer's), not from a hostname written as text; failover and `carbonc simulate` take a written `region` on trust")
                    .with_help("for an AWS load balancer, a lookup (`resource aws.elbv2.LoadBalancer lb @ r { name = ... }`) and its `dns_name` let carbon derive the region; for a host outside AWS, `W0705 = \"off\"` under `[severity]` in carbon.toml accepts it"),
            ));
        }
        // E0704: an origin whose written region is not where its domain name lives.
        if let Some(Value::List(l)) = d.get("origins").map(Value::reveal) {
            for o in l {
                let Value::Record(m) = o else { continue };
                if let (Some(from), Some(said)) = (domain_region(p, m), written_region(m))
                    && from != said
                {
                    let id = m.get("id").and_then(Value::as_str).unwrap_or("?");
                    out.push(
                        Diagnostic::error(
                            "E0704",
                            format!("CloudFront origin `{id}` says it is in {}, but its domain name is {}'s", p.region_code(Some(said)), p.region_code(Some(from))),
                            label(d, "origins", format!("origin `{id}` of `{}`", d.address)),
                        )
                        .with_note("failover and `carbonc simulate` would count the wrong region out when one fails")
                        .with_help(format!("remove the origin's `region`: it is derived from its domain name ({})", p.region_code(Some(from)))),
                    );
                }
            }
        }
        let origins: Vec<String> = match d.get("origins").map(Value::reveal) {
            Some(Value::List(l)) => l
                .iter()
                .filter_map(|o| match o {
                    Value::Record(m) => m.get("id").and_then(Value::as_str).map(str::to_string),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut groups = Vec::new();
        if let Some(Value::List(gs)) = d.get("origin_groups").map(Value::reveal) {
            for g in gs {
                let Value::Record(m) = g else { continue };
                let id = m
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string();
                groups.push(id.clone());
                if let Some(Value::List(members)) = m.get("members") {
                    if members.len() != 2 {
                        out.push(
                            Diagnostic::error("E0701", format!("Origin group `{id}` has {} origins", members.len()), label(d, "origin_groups", format!("in {}", d.address)))
                                .with_help("give the origin group exactly two origins: a primary and a failover"),
                        );
                    }
                    for m in members {
                        if let Some(name) = m.as_str()
                            && !origins.iter().any(|o| o == name)
                        {
                            out.push(
                                Diagnostic::error(
                                    "E0703",
                                    format!("Origin group `{id}` names unknown origin `{name}`"),
                                    label(d, "origin_groups", "in this origin group"),
                                )
                                .with_help(format!(
                                    "name one of the declared origins: {}",
                                    origins.join(", ")
                                )),
                            );
                        }
                    }
                }
                if let Some(Value::List(codes)) = m.get("failover_status_codes") {
                    for c in codes {
                        if let Some(n) = c.as_int()
                            && !FAILOVER_CODES.contains(&n)
                        {
                            out.push(
                                Diagnostic::error(
                                    "E0702",
                                    format!("CloudFront cannot fail over on status {n}"),
                                    label(
                                        d,
                                        "origin_groups",
                                        format!("origin group `{id}` lists {n}"),
                                    ),
                                )
                                .with_help("use only 400, 403, 404, 416, 500, 502, 503 and 504"),
                            );
                        }
                    }
                }
            }
        }
        if let Some(t) = d
            .get("default_cache_behavior")
            .and_then(|b| match b.reveal() {
                Value::Record(m) => m
                    .get("target_origin_id")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                _ => None,
            })
            && !origins.contains(&t)
            && !groups.contains(&t)
        {
            out.push(
                Diagnostic::error(
                    "E0703",
                    format!("Cache behaviour targets unknown origin `{t}`"),
                    label(d, "default_cache_behavior", "in this cache behaviour"),
                )
                .with_help("name a declared origin or origin group"),
            );
        }
    }
    for ty in ["aws.wafv2.WebAcl", "aws.wafv2.IpSet", "aws.wafv2.RuleGroup"] {
        for w in p.of_type(ty) {
            if w.get("scope").and_then(Value::variant) == Some("CLOUDFRONT")
                && p.region_code(w.region) != "us-east-1"
            {
                out.push(
                    Diagnostic::error(
                        "E0307",
                        format!(
                            "CLOUDFRONT-scope WAF resource is in {}",
                            p.region_code(w.region)
                        ),
                        label(
                            w,
                            "scope",
                            format!("{} has scope CLOUDFRONT", describe(p, w)),
                        ),
                    )
                    .with_label(name_label(
                        w,
                        format!("but it is placed in {}", p.region_code(w.region)),
                    ))
                    .with_help(
                        "place CLOUDFRONT-scope web ACLs, IP sets and rule groups in us-east-1",
                    ),
                );
            }
        }
    }
    // E0309: one scope per web ACL, its IP sets and rule groups; CloudFront takes CLOUDFRONT ACLs.
    let scope =
        |i: &crate::eval::Instance| i.get("scope").and_then(Value::variant).map(str::to_string);
    for acl in p
        .of_type("aws.wafv2.WebAcl")
        .chain(p.of_type("aws.wafv2.RuleGroup"))
    {
        let Some(acl_scope) = scope(acl) else {
            continue;
        };
        let Some(Value::List(rules)) = acl.get("rules").map(Value::reveal) else {
            continue;
        };
        for r in rules {
            let Value::Record(m) = r else { continue };
            for key in ["ip_set", "rule_group"] {
                let Some(Value::Ref { addr }) = m.get(key) else {
                    continue;
                };
                let Some(t) = p.instance(addr) else { continue };
                if let Some(ts) = scope(t)
                    && ts != acl_scope
                {
                    let d = Diagnostic::error(
                        "E0309",
                        format!("A {ts}-scope WAF resource is used by a {acl_scope}-scope one"),
                        label(
                            acl,
                            "rules",
                            format!("`{}` has scope {acl_scope}", acl.address),
                        ),
                    )
                    .with_label(label(
                        t,
                        "scope",
                        format!("but `{}` has scope {ts}", t.address),
                    ));
                    let help = format!("give `{}` the scope {acl_scope}", t.address);
                    let fix = set_field(p, t, "scope", &variant(&acl_scope), help.clone(), false);
                    out.push(fix_or_help(d, fix, help));
                }
            }
        }
    }
    for d in p.of_type("aws.cloudfront.Distribution") {
        let Some(Value::Ref { addr }) = d.get("web_acl").map(Value::reveal) else {
            continue;
        };
        let Some(acl) = p.instance(addr) else {
            continue;
        };
        if let Some(s) = scope(acl)
            && s != "CLOUDFRONT"
        {
            out.push(
                Diagnostic::error(
                    "E0309",
                    "CloudFront needs a CLOUDFRONT-scope web ACL",
                    label(
                        d,
                        "web_acl",
                        format!("`{}` protects a distribution", acl.address),
                    ),
                )
                .with_label(label(acl, "scope", format!("but it has scope {s}")))
                .with_help("create the web ACL with `scope = .CLOUDFRONT` in us-east-1"),
            );
        }
    }
    // E0308: a lookup by ARN placed in another region than the ARN's.
    // A certificate CloudFront uses stays in us-east-1 (E0302): only its ARN can change.
    let served = cloudfront_certificates(p);
    for c in p.of_type("aws.acm.Certificate") {
        let edge = served.contains(&c.address.as_str());
        arn_placement(p, c, "arn", "certificate", edge, out);
    }
    for lb in p.of_type("aws.elbv2.LoadBalancer") {
        arn_placement(p, lb, "name", "load balancer", false, out);
    }
}

/// E0308 for `inst`, a lookup whose `field` holds an ARN (`arn:partition:service:region:...`):
/// the ARN's region must be the one the lookup is placed in, where it is looked for. `fixed`:
/// the lookup's region is fixed by its use (a CloudFront certificate's), so only the ARN can
/// change.
fn arn_placement(
    p: &Program,
    inst: &Instance,
    field: &str,
    what: &str,
    fixed: bool,
    out: &mut Vec<Diagnostic>,
) {
    let Some(arn) = scalar(inst, field).filter(|a| a.starts_with("arn:")) else {
        return;
    };
    let arn_region = arn.split(':').nth(3).unwrap_or("");
    let placed = p.region_code(inst.region);
    if arn_region.is_empty() || arn_region == placed {
        return;
    }
    let what_cap = format!("{}{}", what[..1].to_uppercase(), &what[1..]);
    let d = Diagnostic::error(
        "E0308",
        format!("{what_cap} ARN is in {arn_region}"),
        label(inst, field, format!("this ARN names {arn_region}")),
    )
    .with_label(name_label(
        inst,
        format!("but the lookup is placed in {placed}"),
    ))
    .with_note(format!(
        "a lookup reads the {what} in the region it is placed in, where this ARN is not"
    ));
    // Placing the lookup in the ARN's region is the language server's fix (it edits the `@`).
    out.push(d.with_help(if fixed {
        format!("CloudFront uses certificates from {placed} only: this needs the ARN of a certificate in {placed}")
    } else {
        format!("either the lookup belongs in {arn_region}, or the ARN should be the {what}'s in {placed}")
    }));
}
