//! Aurora Global Database rules (E0401-E0408).

use std::collections::BTreeMap;

use carbonc_diagnostics::Diagnostic;

use super::{describe, fix_or_help, label, name_label, scalar, set_field, target};
use crate::eval::{Instance, Program};
use crate::value::Value;

pub(crate) fn check(p: &Program, out: &mut Vec<Diagnostic>) {
    let mut members: BTreeMap<String, Vec<&Instance>> = BTreeMap::new();
    for c in p.of_type("aws.rds.Cluster") {
        if let Some(g) = target(p, c, "global_cluster") {
            members.entry(g.address.clone()).or_default().push(c);
        }
    }
    for (gaddr, ms) in &members {
        let Some(g) = p.instance(gaddr) else { continue };
        let role = |c: &Instance| {
            c.get("global_role")
                .and_then(Value::variant)
                .map(str::to_string)
        };
        // E0401: one member per region.
        let mut by_region: BTreeMap<Option<usize>, &Instance> = BTreeMap::new();
        for c in ms {
            if let Some(prev) = by_region.insert(c.region, c) {
                out.push(
                    Diagnostic::error(
                        "E0401",
                        format!(
                            "Two members of global database `{}` are in {}",
                            g.address,
                            p.region_code(c.region)
                        ),
                        label(
                            c,
                            "global_cluster",
                            format!(
                                "this cluster joins `{}` in {}",
                                g.address,
                                p.region_code(c.region)
                            ),
                        ),
                    )
                    .with_label(label(
                        prev,
                        "global_cluster",
                        format!("and so does {}", describe(p, prev)),
                    ))
                    .with_help("give every member cluster of a global database its own region"),
                );
            }
        }
        // E0402: exactly one primary.
        let primaries: Vec<&&Instance> = ms
            .iter()
            .filter(|c| role(c).as_deref() == Some("primary"))
            .collect();
        match primaries.as_slice() {
            [] => out.push(
                Diagnostic::error(
                    "E0402",
                    format!("Global database `{}` has no primary cluster", g.address),
                    name_label(g, "no member is the writer"),
                )
                .with_label(label(
                    ms[0],
                    "global_role",
                    format!("{} is a member", describe(p, ms[0])),
                ))
                .with_help("mark exactly one member `global_role = .primary`"),
            ),
            [_] => {}
            [first, rest @ ..] => {
                for c in rest {
                    let d = Diagnostic::error(
                        "E0402",
                        format!(
                            "Global database `{}` has more than one primary cluster",
                            g.address
                        ),
                        label(
                            c,
                            "global_role",
                            format!("{} is a second writer", describe(p, c)),
                        ),
                    )
                    .with_label(label(
                        first,
                        "global_role",
                        format!("{} is already the primary", describe(p, first)),
                    ));
                    // Which member steps down is the user's call, and a secondary also drops
                    // its master credentials: advice, not an edit.
                    let d = d.with_help("make this member `global_role = .secondary`; a global database has one writer region");
                    out.push(d);
                }
            }
        }
        // E0408: RDS cannot manage the master password of a global database member ("Managing
        // master user passwords with Secrets Manager isn't supported for ... DB clusters that
        // are part of an Aurora global database", Aurora User Guide, rds-secrets-manager).
        for c in ms {
            if c.get("manage_master_user_password")
                .and_then(Value::as_bool)
                == Some(true)
            {
                out.push(
                    Diagnostic::error(
                        "E0408",
                        "RDS cannot manage the master password of a global database member",
                        label(
                            c,
                            "manage_master_user_password",
                            format!("{} asks RDS to keep its password in Secrets Manager", describe(p, c)),
                        ),
                    )
                    .with_label(label(
                        c,
                        "global_cluster",
                        format!("it is a member of `{}`", g.address),
                    ))
                    .with_note("AWS refuses ManageMasterUserPassword for clusters in an Aurora global database")
                    .with_help("remove `manage_master_user_password` and set `master_password` from a `Secret` parameter (rotate it with `aws.secretsmanager.Rotation`)"),
                );
            }
        }
        let secondaries: Vec<&&Instance> = ms
            .iter()
            .filter(|c| role(c).as_deref() != Some("primary"))
            .collect();
        for c in &secondaries {
            // E0403: no credentials on secondaries.
            for f in ["master_username", "master_password"] {
                if c.fields
                    .get(f)
                    .is_some_and(|v| v.explicit && v.value != Value::None)
                {
                    out.push(
                        Diagnostic::error(
                            "E0403",
                            "Aurora secondary cluster sets master credentials",
                            label(
                                c,
                                f,
                                format!("`{f}` is set on secondary {}", describe(p, c)),
                            ),
                        )
                        .with_label(label(c, "global_role", "this cluster is a secondary"))
                        .with_help(format!(
                            "remove `{f}`: secondaries replicate the primary's users"
                        )),
                    );
                }
            }
            // E0404: encrypted secondaries need a key in their own region.
            let encrypted = c
                .get("storage_encrypted")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            if encrypted && c.get("kms_key").is_none_or(|v| *v == Value::None) {
                out.push(
                    Diagnostic::error("E0404", "Encrypted Aurora secondary has no KMS key in its region", name_label(c, format!("{} is encrypted but names no `kms_key`", describe(p, c))))
                        .with_note("a cross-region replica cannot use the primary's key; AWS needs a key in the secondary's region")
                        .with_help(format!("set `kms_key` to a KMS key in {}", p.region_code(c.region))),
                );
            }
        }
        // E0405: engine and version as the global cluster.
        for f in ["engine", "engine_version"] {
            let want = scalar(g, f);
            for c in ms {
                let have = scalar(c, f);
                if let (Some(w), Some(h)) = (&want, &have)
                    && w != h
                {
                    let d = Diagnostic::error(
                        "E0405",
                        format!("Aurora global member has a different `{f}`"),
                        label(c, f, format!("{} uses {h}", describe(p, c))),
                    )
                    .with_label(label(
                        g,
                        f,
                        format!("the global database uses {w}"),
                    ));
                    let help = format!("use `{f}` {w} in every member");
                    // The global database decides the version its members run.
                    let fix = g
                        .get(f)
                        .and_then(|v| set_field(p, c, f, v, help.clone(), true));
                    out.push(fix_or_help(d, fix, help));
                }
            }
        }
        // E0406: at most 10 secondary regions.
        if secondaries.len() > 10 {
            out.push(
                Diagnostic::error(
                    "E0406",
                    format!(
                        "Global database `{}` has {} secondary regions",
                        g.address,
                        secondaries.len()
                    ),
                    label(secondaries[10], "global_cluster", "the eleventh secondary"),
                )
                .with_label(name_label(g, "the global database"))
                .with_help("remove secondaries: AWS allows at most 10"),
            );
        }
    }
    // E0407: memory-optimized instance classes in global databases.
    for inst in p.of_type("aws.rds.ClusterInstance") {
        let Some(c) = target(p, inst, "cluster") else {
            continue;
        };
        if target(p, c, "global_cluster").is_none() {
            continue;
        }
        let Some(class) = scalar(inst, "instance_class") else {
            continue;
        };
        if !(class.starts_with("db.r") || class.starts_with("db.x")) {
            out.push(
                Diagnostic::error(
                    "E0407",
                    format!("Instance class `{class}` is not memory-optimized"),
                    label(
                        inst,
                        "instance_class",
                        "Aurora global databases need db.r* or db.x* classes",
                    ),
                )
                .with_label(label(
                    c,
                    "global_cluster",
                    format!("{} is a global database member", describe(p, c)),
                ))
                .with_help("use a memory-optimized class such as `db.r7g.xlarge`"),
            );
        }
    }
}
