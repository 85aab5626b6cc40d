//! The plan DAG as Graphviz DOT: one cluster per region (and one for global resources), nodes
//! coloured by action, edges from each resource to what it depends on.

use std::fmt::Write;

use crate::model::{Action, Plan};

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn colour(a: Action) -> (&'static str, &'static str) {
    match a {
        Action::Create => ("#d4f7d4", "#2e8b2e"),
        Action::Update => ("#fff3c4", "#b8860b"),
        Action::Replace => ("#f3d9fa", "#8b2e8b"),
        Action::Delete => ("#fbd5d5", "#b22222"),
        Action::Read => ("#d4ecfb", "#1f6fa8"),
        Action::NoOp => ("#ffffff", "#888888"),
    }
}

pub fn to_dot(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph plan {{");
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];"
    );
    let _ = writeln!(out, "  edge [color=\"#666666\", arrowsize=0.6];");
    let _ = writeln!(
        out,
        "  label={};",
        quote(&format!(
            "{}: {} to add, {} to change, {} to destroy",
            plan.root, plan.summary.add, plan.summary.change, plan.summary.destroy
        ))
    );
    let mut groups: Vec<Option<String>> = vec![None];
    groups.extend(plan.regions.iter().map(|r| Some(r.code.clone())));
    for c in &plan.resource_changes {
        if !groups.contains(&c.region) {
            groups.push(c.region.clone());
        }
    }
    for (i, g) in groups.iter().enumerate() {
        let members: Vec<_> = plan
            .resource_changes
            .iter()
            .filter(|c| &c.region == g)
            .collect();
        if members.is_empty() {
            continue;
        }
        let title = match g {
            None => "global".to_string(),
            Some(code) => plan
                .regions
                .iter()
                .find(|r| &r.code == code)
                .map_or(code.clone(), |r| format!("{code} ({})", r.name)),
        };
        let _ = writeln!(out, "  subgraph cluster_{i} {{");
        let _ = writeln!(
            out,
            "    label={}; style=\"rounded\"; color=\"#999999\";",
            quote(&title)
        );
        for c in members {
            let (fill, line) = colour(c.action);
            let sym = c.action.symbol(c.replace_order).trim();
            let label = format!(
                "{} {}\n{}",
                if sym.is_empty() { "=" } else { sym },
                c.address,
                c.ty
            );
            let _ = writeln!(
                out,
                "    {} [label={}, fillcolor={}, color={}];",
                quote(&c.address),
                quote(&label),
                quote(fill),
                quote(line)
            );
        }
        let _ = writeln!(out, "  }}");
    }
    for c in &plan.resource_changes {
        for d in &c.depends_on {
            if plan.resource_changes.iter().any(|x| &x.address == d) {
                let _ = writeln!(out, "  {} -> {};", quote(&c.address), quote(d));
            }
        }
    }
    let _ = writeln!(out, "}}");
    out
}
