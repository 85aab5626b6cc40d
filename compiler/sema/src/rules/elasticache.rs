//! ElastiCache Global Datastore rules (E0501-E0503).

use std::collections::BTreeMap;

use carbonc_diagnostics::Diagnostic;

use super::{describe, fix_or_help, label, name_label, scalar, set_field, target};
use crate::eval::{Instance, Program};

pub(crate) fn check(p: &Program, out: &mut Vec<Diagnostic>) {
    // The members of each Global Datastore, in declaration order, found in one pass.
    let mut members: BTreeMap<&str, Vec<&Instance>> = BTreeMap::new();
    for rg in p.of_type("aws.elasticache.ReplicationGroup") {
        if let Some(g) = target(p, rg, "global_replication_group") {
            members.entry(g.address.as_str()).or_default().push(rg);
        }
    }
    for g in p.of_type("aws.elasticache.GlobalReplicationGroup") {
        let Some(primary) = target(p, g, "primary") else {
            continue;
        };
        let secondaries: Vec<&Instance> = members
            .get(g.address.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|rg| rg.address != primary.address)
            .collect();
        if secondaries.len() > 2 {
            out.push(
                Diagnostic::error(
                    "E0501",
                    format!(
                        "Global Datastore `{}` has {} secondary regions",
                        g.address,
                        secondaries.len()
                    ),
                    label(
                        secondaries[2],
                        "global_replication_group",
                        format!("{} is the third secondary", describe(p, secondaries[2])),
                    ),
                )
                .with_label(name_label(g, "the Global Datastore"))
                .with_help(
                    "remove secondaries: a Global Datastore has at most 2 secondary regions",
                ),
            );
        }
        for rg in &secondaries {
            for f in ["node_type", "engine_version", "num_node_groups"] {
                if let (Some(w), Some(h)) = (scalar(primary, f), scalar(rg, f))
                    && w != h
                {
                    let d = Diagnostic::error(
                        "E0502",
                        format!("Global Datastore member has a different `{f}`"),
                        label(rg, f, format!("{} uses {h}", describe(p, rg))),
                    )
                    .with_label(label(
                        primary,
                        f,
                        format!("the primary {} uses {w}", describe(p, primary)),
                    ));
                    // The primary decides what its secondaries replicate.
                    let help = format!("use `{f} = {w}` in every member");
                    let fix = primary
                        .get(f)
                        .and_then(|v| set_field(p, rg, f, v, help.clone(), true));
                    out.push(fix_or_help(d, fix, help));
                }
            }
            if let (Some(w), Some(h)) = (
                scalar(primary, "at_rest_encryption_enabled"),
                scalar(rg, "at_rest_encryption_enabled"),
            ) && w != h
            {
                let d = Diagnostic::error(
                    "E0503",
                    "Global Datastore members differ in at-rest encryption",
                    label(
                        rg,
                        "at_rest_encryption_enabled",
                        format!("{} has at-rest encryption {h}", describe(p, rg)),
                    ),
                )
                .with_label(label(
                    primary,
                    "at_rest_encryption_enabled",
                    format!("the primary has {w}"),
                ))
                .with_note("at-rest encryption is fixed when a replication group is created");
                let help = format!("set `at_rest_encryption_enabled = {w}`");
                let fix = primary.get("at_rest_encryption_enabled").and_then(|v| {
                    set_field(p, rg, "at_rest_encryption_enabled", v, help.clone(), true)
                });
                out.push(fix_or_help(d, fix, help));
            }
        }
    }
}
