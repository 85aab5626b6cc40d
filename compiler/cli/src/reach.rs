//! `carbonc simulate --reach SERVICE`: who can talk to whom inside the regional clusters, from
//! the program's network policies (`carbonc_sema::reach`). `--reach all` lists every allowed pair.

use std::fmt::Write as _;

use carbonc_sema::Program;
use carbonc_sema::reach::{Cluster, Outside, PortSet, clusters};
use serde_json::json;

/// Whether pods `i` of `c` are the service asked about: by release name, resource name or
/// address; `all` names every release.
fn named(c: &Cluster, i: usize, service: &str) -> bool {
    let pods = &c.pods[i];
    let Some(addr) = pods.address.as_deref() else {
        return false;
    };
    service == "all"
        || pods.name == service
        || addr == service
        || addr.split('[').next() == Some(service)
}

fn outside_text(o: &[Outside]) -> String {
    if o.is_empty() {
        return "denied".into();
    }
    o.iter()
        .map(|o| format!("{}: {}", o.whom, o.ports))
        .collect::<Vec<_>>()
        .join("; ")
}

fn limited(by: &[&str]) -> String {
    if by.is_empty() {
        "open (no policy selects these pods)".into()
    } else {
        format!(
            "limited by {}",
            by.iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// The report of `service`, as text and as JSON; `Err` names the releases when none matches.
pub fn report(p: &Program, service: &str) -> Result<(String, serde_json::Value), String> {
    let all = clusters(p);
    let mut text = String::new();
    let mut doc = Vec::new();
    for c in &all {
        let chosen: Vec<usize> = (0..c.pods.len())
            .filter(|&i| named(c, i, service))
            .collect();
        if chosen.is_empty() {
            continue;
        }
        let pairs: Vec<serde_json::Value> = c
            .matrix()
            .into_iter()
            .filter(|(f, t, _)| service == "all" || chosen.contains(f) || chosen.contains(t))
            .map(|(f, t, ports)| {
                json!({"from": c.pods[f].describe().replace('`', ""), "to": c.pods[t].describe().replace('`', ""), "ports": ports.to_string()})
            })
            .collect();
        let mut services = Vec::new();
        for &i in &chosen {
            let pods = &c.pods[i];
            let listens = if pods.ports.is_empty() {
                String::new()
            } else {
                format!(
                    ", listening on {}",
                    pods.ports
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let _ = writeln!(
                text,
                "{} in namespace `{}` of `{}` ({}){listens}",
                pods.describe().split(" (").next().unwrap_or_default(),
                pods.namespace,
                c.address,
                c.region
            );
            let width = c
                .pods
                .iter()
                .map(|o| o.describe().len() + 5)
                .max()
                .unwrap_or(0)
                .max(24);
            let from_outside = c.from_outside(i);
            let to_outside = c.to_outside(i);
            let mut rows = |head: String,
                            dir: &str,
                            allowed: &dyn Fn(usize) -> PortSet,
                            outside: &[Outside]| {
                let _ = writeln!(text, "  {head}");
                for (j, other) in c.pods.iter().enumerate() {
                    let who = format!("{dir} {}", other.describe());
                    let _ = writeln!(text, "    {who:<width$}  {}", allowed(j));
                }
                let who = format!("{dir} outside the cluster");
                let _ = writeln!(text, "    {who:<width$}  {}", outside_text(outside));
            };
            rows(
                format!("ingress: {}", limited(&c.ingress_isolated_by(i))),
                "from",
                &|j| c.allowed(j, i),
                &from_outside,
            );
            rows(
                format!("egress: {}", limited(&c.egress_isolated_by(i))),
                "to",
                &|j| c.allowed(i, j),
                &to_outside,
            );
            text.push('\n');
            let outside = |o: &[Outside]| {
                o.iter()
                    .map(|o| json!({"whom": o.whom, "ports": o.ports.to_string()}))
                    .collect::<Vec<_>>()
            };
            services.push(json!({
                "release": pods.address,
                "name": pods.name,
                "namespace": pods.namespace,
                "labels": pods.labels,
                "ingress_limited_by": c.ingress_isolated_by(i),
                "egress_limited_by": c.egress_isolated_by(i),
                "from_outside": outside(&from_outside),
                "to_outside": outside(&to_outside),
            }));
        }
        doc.push(json!({
            "cluster": c.address,
            "region": c.region,
            "services": services,
            "allowed": pairs,
        }));
    }
    if doc.is_empty() {
        let mut names: Vec<String> = all
            .iter()
            .flat_map(|c| {
                c.pods
                    .iter()
                    .filter(|p| p.address.is_some())
                    .map(|p| p.name.clone())
            })
            .collect();
        names.sort();
        names.dedup();
        return Err(if names.is_empty() {
            format!(
                "`{service}` is not a release of this program: it declares no `k8s.HelmRelease`"
            )
        } else {
            format!(
                "`{service}` is not a release of this program; its releases are {} (or `all`)",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
    }
    Ok((
        text.trim_end().to_string() + "\n",
        json!({ "clusters": doc }),
    ))
}
