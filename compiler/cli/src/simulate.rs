//! `carbonc simulate FILE`: what happens to users when regions fail. With `--fail`, one scenario in
//! detail; without, every single-region failure as a matrix, exiting 1 when one region takes an
//! entry point down.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use carbonc_cli::load::{config, load_program};
use carbonc_sema::simulate::{EntryKind, Failure, Report, simulate, single_region_failures};
use carbonc_sema::{Program, RootDatabase, check_program, evaluate_program};
use clap::{Args, ValueEnum};
use serde_json::json;

use crate::{MessageFormat, report};

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SimFormat {
    Text,
    Dot,
    Svg,
    Png,
}

#[derive(Args)]
pub struct SimulateArgs {
    /// The root `.carbon` file.
    file: String,
    /// Regions to fail, by code or name: `--fail us-east-1` or `--fail use1,euw1`.
    #[arg(long, value_delimiter = ',')]
    fail: Vec<String>,
    /// One service in one region: `--fail-service eks@us-east-1` (repeatable).
    #[arg(long = "fail-service", value_name = "SERVICE@REGION")]
    fail_service: Vec<String>,
    /// Who can reach a service inside its cluster (a `k8s.HelmRelease`, by name or address;
    /// `all` for every release), from the program's network policies.
    #[arg(long, value_name = "SERVICE", conflicts_with_all = ["fail", "fail_service"])]
    reach: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// `text`, or a picture of the scenario (needs `--fail`): `dot`, `svg`, `png` (Graphviz).
    #[arg(long, value_enum, default_value = "text")]
    format: SimFormat,
    /// Write the picture to a file.
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    message_format: MessageFormat,
}

fn resolve_region(p: &Program, r: &str) -> Result<String, String> {
    p.regions
        .iter()
        .find(|x| x.code == r || x.name == r)
        .map(|x| x.code.clone())
        .ok_or_else(|| {
            let known: Vec<String> = p
                .regions
                .iter()
                .map(|x| format!("{} ({})", x.code, x.name))
                .collect();
            format!(
                "`{r}` is not a region of this program; its regions are {}",
                known.join(", ")
            )
        })
}

fn region_label(p: &Program, code: &str) -> String {
    p.regions
        .iter()
        .find(|r| r.code == code)
        .map_or(code.to_string(), |r| format!("{code} ({})", r.name))
}

fn short(p: &Program, code: &str) -> String {
    p.regions
        .iter()
        .find(|r| r.code == code)
        .map_or(code.to_string(), |r| r.name.clone())
}

fn kind(k: EntryKind) -> &'static str {
    match k {
        EntryKind::Distribution => "CloudFront distribution",
        EntryKind::RecordSet => "Route53 records",
        EntryKind::Output => "endpoint output",
    }
}

fn report_json(r: &Report) -> serde_json::Value {
    json!({
        "fail": r.failure.regions,
        "fail_services": r.failure.services.iter().map(|(s, reg)| format!("{s}@{reg}")).collect::<Vec<_>>(),
        "entry_points": r.entries.iter().map(|e| json!({
            "name": e.entry.name, "kind": kind(e.entry.kind), "served": e.served, "serving": e.serving, "how": e.how,
        })).collect::<Vec<_>>(),
        "data": r.data.iter().map(|d| json!({
            "name": d.name, "kind": d.kind, "action_needed": d.action_needed, "effect": d.effect,
        })).collect::<Vec<_>>(),
        "alarms": r.alarms.iter().map(|a| json!({
            "alarm": a.alarm, "region": a.region, "why": a.why, "notifies": a.topics,
        })).collect::<Vec<_>>(),
        "canaries": r.canaries.iter().map(|a| json!({
            "canary": a.alarm, "region": a.region, "why": a.why, "notifies": a.topics,
        })).collect::<Vec<_>>(),
        "silenced_alarms": r.silenced,
        "unnoticed": r.monitored && r.alarms.is_empty(),
        "lost": r.lost,
    })
}

fn scenario_text(p: &Program, r: &Report) -> String {
    let mut out = String::new();
    let what: Vec<String> = r
        .failure
        .regions
        .iter()
        .map(|c| region_label(p, c))
        .chain(
            r.failure
                .services
                .iter()
                .map(|(s, c)| format!("{s} in {c}")),
        )
        .collect();
    out.push_str(&format!(
        "Simulating the loss of {}:\n\nEntry points\n",
        what.join(" and ")
    ));
    for e in &r.entries {
        let mark = if e.served { "✓" } else { "✗" };
        out.push_str(&format!(
            "  {mark} {} ({}): {}\n",
            e.entry.name,
            kind(e.entry.kind),
            e.how
        ));
    }
    if r.entries.is_empty() {
        out.push_str(
            "  (none: declare CloudFront distributions, Route53 records or `endpoint output`s)\n",
        );
    }
    out.push_str("\nData\n");
    if r.data.is_empty() {
        out.push_str("  (no replicated data tier is affected)\n");
    }
    for d in &r.data {
        let mark = if d.action_needed { "!" } else { "·" };
        out.push_str(&format!("  {mark} {} `{}`: {}\n", d.kind, d.name, d.effect));
    }
    out.push_str("\nAlarms\n");
    out.push_str(&alarms_text(r));
    out.push_str(&format!("\nLost: {} resource(s).\n", r.lost.len()));
    out
}

/// The alarms a scenario sets off and the topics they notify, those it silences, or that it sets
/// off none.
fn alarms_text(r: &Report) -> String {
    let mut out = String::new();
    if !r.monitored {
        out.push_str("  (the program declares no CloudWatch alarms)\n");
        return out;
    }
    for c in &r.canaries {
        out.push_str(&format!(
            "  ! canary `{}` ({}) fails: {}{}\n",
            c.alarm,
            c.region,
            c.why,
            if c.topics.is_empty() {
                String::new()
            } else {
                format!(
                    "; its alarms notify {}",
                    c.topics
                        .iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ));
    }
    for a in &r.alarms {
        let to = if a.topics.is_empty() {
            "notifies no one".to_string()
        } else {
            format!(
                "notifies {}",
                a.topics
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.push_str(&format!(
            "  ! `{}` ({}) fires: {}; {to}\n",
            a.alarm, a.region, a.why
        ));
    }
    if r.alarms.is_empty() {
        out.push_str("  ✗ no alarm fires: this failure would be noticed by its users first\n");
    }
    if !r.silenced.is_empty() {
        out.push_str(&format!(
            "  · lost with the region (CloudWatch there neither evaluates nor notifies, Synthetics runs nothing): {}\n",
            r.silenced
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}

fn matrix_text(p: &Program, reports: &[Report]) -> (String, Vec<(String, String)>) {
    let mut out = String::from(
        "Single-region failures (rows) against entry points (columns): does each still reach a healthy region?\n\n",
    );
    let names: Vec<String> = reports
        .first()
        .map(|r| r.entries.iter().map(|e| e.entry.name.clone()).collect())
        .unwrap_or_default();
    let cell = |r: &Report, name: &str| -> String {
        match r.entries.iter().find(|e| e.entry.name == name) {
            Some(e) if e.served => format!(
                "✓ {}",
                e.serving
                    .iter()
                    .map(|c| short(p, c))
                    .collect::<Vec<_>>()
                    .join("+")
            ),
            Some(e) if e.serving.is_empty() => "✗ DOWN".to_string(),
            // Some regions serve, but users routed to the failed one are lost (no health check).
            Some(e) => format!(
                "✗ partly ({})",
                e.serving
                    .iter()
                    .map(|c| short(p, c))
                    .collect::<Vec<_>>()
                    .join("+")
            ),
            None => String::new(),
        }
    };
    let first_width = reports
        .iter()
        .map(|r| {
            region_label(
                p,
                r.failure.regions.iter().next().map_or("", String::as_str),
            )
            .chars()
            .count()
        })
        .max()
        .unwrap_or(0)
        .max(6);
    let widths: Vec<usize> = names
        .iter()
        .map(|n| {
            reports
                .iter()
                .map(|r| cell(r, n).chars().count())
                .max()
                .unwrap_or(0)
                .max(n.chars().count())
        })
        .collect();
    let pad = |s: &str, w: usize| format!("{s}{}", " ".repeat(w.saturating_sub(s.chars().count())));
    out.push_str(&pad("failed", first_width));
    for (n, w) in names.iter().zip(&widths) {
        out.push_str(&format!("  {}", pad(n, *w)));
    }
    out.push('\n');
    let mut spofs = Vec::new();
    for r in reports {
        let code = r.failure.regions.iter().next().cloned().unwrap_or_default();
        out.push_str(&pad(&region_label(p, &code), first_width));
        for (n, w) in names.iter().zip(&widths) {
            out.push_str(&format!("  {}", pad(&cell(r, n), *w)));
        }
        out.push('\n');
        for e in r.entries.iter().filter(|e| !e.served) {
            spofs.push((code.clone(), e.entry.name.clone()));
        }
    }
    out.push_str("\nData tiers\n");
    for r in reports {
        let code = r.failure.regions.iter().next().cloned().unwrap_or_default();
        let notes: Vec<String> = r
            .data
            .iter()
            .filter(|d| d.action_needed)
            .map(|d| format!("{} `{}` needs action", d.kind, d.name))
            .collect();
        out.push_str(&format!(
            "  {}: {}\n",
            region_label(p, &code),
            if notes.is_empty() {
                "no action needed".to_string()
            } else {
                notes.join("; ")
            }
        ));
    }
    if reports.iter().any(|r| r.monitored) {
        out.push_str("\nAlarms\n");
        for r in reports {
            let code = r.failure.regions.iter().next().cloned().unwrap_or_default();
            let fired: Vec<&str> = r.alarms.iter().map(|a| a.alarm.as_str()).collect();
            out.push_str(&format!(
                "  {}: {}\n",
                region_label(p, &code),
                match (fired.is_empty(), r.silenced.len()) {
                    (true, 0) => "✗ no alarm fires".to_string(),
                    (true, n) => format!("✗ no alarm fires ({n} lost with the region)"),
                    (false, _) => format!("{} fire ({})", fired.len(), fired.join(", ")),
                }
            ));
        }
    }
    out.push('\n');
    if spofs.is_empty() {
        out.push_str("No single region is a single point of failure.\n");
    } else {
        for (region, entry) in &spofs {
            out.push_str(&format!(
                "✗ {} is a single point of failure for {entry}\n",
                region_label(p, region)
            ));
        }
    }
    (out, spofs)
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn scenario_dot(p: &Program, r: &Report, baseline: &Report) -> String {
    let mut out = String::from(
        "digraph simulate {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];\n",
    );
    out.push_str(&format!(
        "  label={};\n",
        quote(&format!("carbonc simulate --fail {}", r.failure.describe()))
    ));
    let failed: BTreeSet<&String> = r.failure.regions.iter().collect();
    for (i, reg) in p.regions.iter().enumerate() {
        let down = failed.contains(&reg.code);
        let (fill, font, style) = if down {
            ("#dddddd", "#888888", "dashed")
        } else {
            ("#eef7ee", "#000000", "solid")
        };
        out.push_str(&format!(
            "  subgraph cluster_{i} {{ label={}; style={}; color=\"#999999\"; fontcolor={};\n",
            quote(&format!(
                "{}{}",
                region_label(p, &reg.code),
                if down { " — FAILED" } else { "" }
            )),
            quote(&format!("rounded,{style}")),
            quote(font)
        ));
        out.push_str(&format!(
            "    {} [label={}, fillcolor={}, fontcolor={}];\n",
            quote(&format!("region:{}", reg.code)),
            quote(&format!("serves {}", reg.code)),
            quote(fill),
            quote(font)
        ));
        for d in r.data.iter() {
            if d.effect.contains(&reg.code) && d.action_needed && down {
                out.push_str(&format!(
                    "    {} [label={}, fillcolor=\"#fbd5d5\", fontcolor=\"#000000\"];\n",
                    quote(&format!("data:{}", d.name)),
                    quote(&format!("{}\n{}: action needed", d.kind, d.name))
                ));
            }
        }
        out.push_str("  }\n");
    }
    for e in &r.entries {
        let fill = if e.served { "#d4f7d4" } else { "#fbd5d5" };
        out.push_str(&format!(
            "  {} [label={}, fillcolor={}];\n",
            quote(&e.entry.name),
            quote(&format!("{}\n{}", e.entry.name, kind(e.entry.kind))),
            quote(fill)
        ));
        let before = baseline
            .entries
            .iter()
            .find(|b| b.entry.name == e.entry.name)
            .map(|b| b.serving.clone())
            .unwrap_or_default();
        for code in before {
            let alive = e.serving.contains(&code);
            let style = if alive {
                "color=\"#2e8b2e\", penwidth=2.5"
            } else {
                "color=\"#b22222\", style=dashed"
            };
            out.push_str(&format!(
                "  {} -> {} [{style}];\n",
                quote(&e.entry.name),
                quote(&format!("region:{code}"))
            ));
        }
    }
    out.push_str("}\n");
    out
}

fn render_picture(dot: String, format: SimFormat) -> Result<Vec<u8>, String> {
    let flag = match format {
        SimFormat::Dot | SimFormat::Text => return Ok(dot.into_bytes()),
        SimFormat::Svg => "-Tsvg",
        SimFormat::Png => "-Tpng",
    };
    let mut child = std::process::Command::new("dot")
        .arg(flag)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|_| "Graphviz is not installed (`dot` was not found); install it (`apt-get install graphviz`) or use `--format dot`".to_string())?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(dot.as_bytes());
    }
    let o = child
        .wait_with_output()
        .map_err(|e| format!("Graphviz failed: {e}"))?;
    if !o.status.success() {
        return Err(format!(
            "Graphviz failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    Ok(o.stdout)
}

pub fn run(args: &SimulateArgs) -> ExitCode {
    let fail = |msg: String| {
        report::error(msg);
        ExitCode::from(1)
    };
    let mut db = RootDatabase::default();
    let root = match load_program(&mut db, &args.file) {
        Ok(r) => r,
        Err(why) => return fail(format!("cannot read `{}`: {why}", args.file)),
    };
    match config(&args.file) {
        Ok(config) => db.set_config(config),
        Err(why) => return fail(why),
    }
    // Simulation needs a well-formed program; policy and domain-rule findings (such as the single
    // points of failure it is about to show) do not stop it.
    carbonc_sema::warm(&db, root);
    let diags = check_program(&db, root).clone();
    let broken: Vec<_> = diags
        .iter()
        .filter(|d| d.is_error() && !carbonc_sema::configurable(d.code))
        .cloned()
        .collect();
    if !broken.is_empty() {
        report::diagnostics(&db, &broken, args.message_format);
        return ExitCode::from(1);
    }
    let p = evaluate_program(&db, root);
    let mut stdout = std::io::stdout().lock();
    if let Some(service) = &args.reach {
        return match crate::reach::report(p, service) {
            Ok((text, doc)) => {
                let out = if args.json {
                    format!("{}\n", serde_json::to_string_pretty(&doc).expect("JSON"))
                } else {
                    text
                };
                let _ = stdout.write_all(out.as_bytes());
                ExitCode::SUCCESS
            }
            Err(why) => fail(why),
        };
    }
    if args.fail.is_empty() && args.fail_service.is_empty() {
        if args.format != SimFormat::Text {
            return fail("a picture shows one scenario: add `--fail REGION`".into());
        }
        let reports = single_region_failures(p);
        let (text, spofs) = matrix_text(p, &reports);
        let out = if args.json {
            let doc = json!({
                "scenarios": reports.iter().map(report_json).collect::<Vec<_>>(),
                "single_points_of_failure": spofs.iter().map(|(r, e)| json!({"region": r, "entry_point": e})).collect::<Vec<_>>(),
            });
            format!("{}\n", serde_json::to_string_pretty(&doc).expect("JSON"))
        } else {
            text
        };
        let _ = stdout.write_all(out.as_bytes());
        return if spofs.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    let mut failure = Failure::default();
    for r in &args.fail {
        match resolve_region(p, r) {
            Ok(code) => {
                failure.regions.insert(code);
            }
            Err(why) => return fail(why),
        }
    }
    for s in &args.fail_service {
        let Some((service, region)) = s.split_once('@') else {
            return fail(format!(
                "`--fail-service {s}`: write SERVICE@REGION, for example eks@us-east-1"
            ));
        };
        // The services the program uses, as in its resource types (`aws.eks.Cluster` -> `eks`).
        let used: std::collections::BTreeSet<&str> = p
            .instances
            .iter()
            .filter_map(|i| i.ty.split('.').nth(1))
            .collect();
        if !used.contains(service) {
            return fail(format!(
                "`--fail-service {s}`: the program uses no service `{service}`; it uses {}",
                used.iter()
                    .map(|u| format!("`{u}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        match resolve_region(p, region) {
            Ok(code) => {
                failure.services.insert((service.to_string(), code));
            }
            Err(why) => return fail(why),
        }
    }
    let r = simulate(p, &failure);
    let served = r.all_served();
    let bytes = if args.format != SimFormat::Text {
        let baseline = simulate(p, &Failure::default());
        match render_picture(scenario_dot(p, &r, &baseline), args.format) {
            Ok(b) => b,
            Err(why) => return fail(why),
        }
    } else if args.json {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&report_json(&r)).expect("JSON")
        )
        .into_bytes()
    } else {
        scenario_text(p, &r).into_bytes()
    };
    match &args.out {
        Some(path) => {
            if let Err(e) = std::fs::write(Path::new(path), &bytes) {
                return fail(format!("{}: cannot write: {e}", path.display()));
            }
        }
        None => {
            let _ = stdout.write_all(&bytes);
        }
    }
    if served {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
