//! `carbonc-bench [check|plan|apply|lsp|state|executor] [N...]`: generates synthetic workspaces of N resources spread over
//! several files and four regions, then measures
//! - `check`: a cold check (fresh database: parse, resolve, type-check, evaluate, placement and
//!   domain rules) and its peak memory, for every workload of `workload.rs` (stacks of every
//!   resource family with references backward, forward and far across the program, in one file
//!   and in many; the keys-and-secrets shape), each row in its own process; with 10k and 100k
//!   among the sizes, the time ratio of each workload (10 is linear);
//! - `plan`: a cold plan of the program against a state of the same N resources in which 1% of
//!   the resources drifted (their configuration changed), including lowering and diffing.
//!
//! Run in release: `cargo run --release -p carbonc-bench -- check 1000 10000 100000` and
//! `cargo run --release -p carbonc-bench -- plan 10000`.

use std::time::Instant;

// The system allocator, as `carbonc` itself uses: the figures are a user's.

mod apply;
mod executor;
mod lsp;
mod state;
mod workload;

use carbonc_sema::{RootDatabase, check_program};

const REGIONS: [(&str, &str, &str); 4] = [
    ("use1", "us-east-1", "sun:05:00-sun:06:00"),
    ("euw1", "eu-west-1", "tue:02:00-tue:03:00"),
    ("apse1", "ap-southeast-1", "thu:18:00-thu:19:00"),
    ("usw2", "us-west-2", "sat:10:00-sat:11:00"),
];

/// One root file with the regions, importing `files` unit files; each unit declares, per region,
/// a KMS key, a VPC and subnets that reference them, so that every reference is placement-checked.
pub(crate) fn generate(n_resources: usize, files: usize) -> Vec<(String, String)> {
    generate_with(n_resources, files, |_| false)
}

/// Like `generate`, but the KMS keys for which `drift(i)` holds get another description.
fn generate_with(
    n_resources: usize,
    files: usize,
    drift: impl Fn(usize) -> bool,
) -> Vec<(String, String)> {
    let per_file = n_resources / files;
    let mut root = String::from("# generated\n");
    for (name, code, window) in REGIONS {
        root.push_str(&format!(
            "region {name} {{ code = \"{code}\" role = .{} maintenance = \"{window}\" }}\n",
            if name == "use1" {
                "primary"
            } else {
                "secondary"
            }
        ));
    }
    let mut out = Vec::new();
    for f in 0..files {
        root.push_str(&format!("import \"unit{f}.carbon\" as unit{f}\n"));
        let mut s = String::from("# generated unit\n");
        let mut i = 0;
        while i < per_file {
            let (region, _, _) = REGIONS[(i / 4) % REGIONS.len()];
            let what = if drift(f * per_file + i) {
                "rotated key"
            } else {
                "key"
            };
            s.push_str(&format!("resource aws.kms.Key key{i} @ {region} {{\n    description = \"{what} {i} in ${{{region}.code}}\"\n    tags = {{ unit = \"{f}\", index = \"{i}\" }}\n}}\n"));
            s.push_str(&format!("resource aws.ec2.Vpc vpc{i} @ {region} {{\n    cidr_block = cidrsubnet(\"10.0.0.0/8\", 8, {})\n}}\n", i % 256));
            for k in 0..2 {
                s.push_str(&format!(
                    "resource aws.ec2.Subnet subnet{i}_{k} @ {region} {{\n    vpc = vpc{i}\n    cidr_block = cidrsubnet(\"10.0.0.0/16\", 8, {k})\n    availability_zone = \"${{{region}.code}}a\"\n}}\n"
                ));
            }
            i += 4;
        }
        out.push((format!("bench/unit{f}.carbon"), s));
    }
    out.push(("bench/root.carbon".into(), root));
    out
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub(crate) fn load(files: &[(String, String)]) -> (RootDatabase, carbonc_sema::SourceFile) {
    let mut db = RootDatabase::default();
    let mut root = None;
    for (path, text) in files {
        let f = db.set_file(path, text.clone());
        if path.ends_with("root.carbon") {
            root = Some(f);
        }
    }
    (db, root.expect("generated a root"))
}

/// The state after applying `plan`: computed attributes get stand-in values.
fn applied(plan: &carbonc_plan::Plan) -> carbonc_state::State {
    use carbonc_state::{ResourceState, State, Val};
    let mut state = State::new(carbonc_state::new_lineage());
    state.serial = 1;
    for c in &plan.resource_changes {
        let attributes = c
            .after
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                let v = if v == Val::Unknown {
                    Val::Str(format!("{}.{k}", c.address))
                } else {
                    v
                };
                (k, v)
            })
            .collect();
        state.resources.push(ResourceState {
            address: c.address.clone(),
            ty: c.ty.clone(),
            region: c.region.clone(),
            id: Some(format!("{}-id", c.address)),
            status: Default::default(),
            attributes,
            dependencies: c.depends_on.clone(),
            token: None,
        });
    }
    state
}

/// One row of `check`, measured in its own process so that its peak RSS is its own: prints
/// `seconds peak_kib instances diagnostics`.
fn check_row(n: usize, files: usize, shape: &str) {
    let ws = match workload::Refs::parse(shape) {
        Some(refs) => workload::stacks(n, files, refs),
        None => workload::keys_and_secrets(n),
    };
    // The project that first tried the keys-and-secrets shape turned P0107 off in `carbon.toml`.
    let p0107_off = shape.ends_with("P0107 off");
    if std::env::var_os("CARBONC_BENCH_PHASES").is_some() {
        phases(&ws);
        return;
    }
    let runs = if n >= 50_000 { 1 } else { 3 };
    let mut best = f64::MAX;
    let mut diags = 0;
    let mut instances = 0;
    // The peak of the first run: one `carbonc check` is one cold run in its own process. Later
    // runs start from the heap the earlier ones freed (glibc keeps it, fragmented) and would
    // report what no single check uses.
    let mut first_peak = None;
    for _ in 0..runs {
        let start = Instant::now();
        let (mut db, root) = load(&ws);
        if p0107_off {
            db.set_severities(std::collections::BTreeMap::from([(
                "P0107".to_string(),
                None,
            )]));
        }
        carbonc_sema::warm(&db, root);
        diags = check_program(&db, root).len();
        best = best.min(start.elapsed().as_secs_f64());
        instances = carbonc_sema::evaluate_program(&db, root).instances.len();
        first_peak = first_peak.or_else(peak_rss_kib);
    }
    println!("{best} {} {instances} {diags}", first_peak.unwrap_or(0));
}

/// Where a cold check's time and memory go, query by query (each timed after the ones it reads;
/// `CARBONC_BENCH_PHASES=1 carbonc-bench check-row N FILES SHAPE`).
fn phases(ws: &[(String, String)]) {
    let mut at = Instant::now();
    let (db, root) = load(ws);
    let files = carbonc_sema::program_files(&db, root);
    let mut lap = |name: &str| {
        let rss = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_string();
                line.split_whitespace().nth(1)?.parse::<f64>().ok()
            })
            .unwrap_or(0.0);
        eprintln!(
            "  {name:<18} {:>8.3} s   RSS {:>6.0} MiB",
            at.elapsed().as_secs_f64(),
            rss / 1024.0
        );
        at = Instant::now();
    };
    lap("load");
    if std::env::var_os("CARBONC_BENCH_WARM").is_some() {
        carbonc_sema::warm(&db, root);
        lap("warm (all cores)");
    }
    carbonc_sema::catalog(&db);
    lap("stdlib catalog");
    files.iter().for_each(|f| {
        carbonc_sema::parse_file(&db, *f);
    });
    lap("parse");
    files.iter().for_each(|f| {
        carbonc_sema::check_file(&db, *f);
    });
    lap("check files");
    carbonc_sema::evaluate_program(&db, root);
    lap("evaluate");
    carbonc_sema::resource_graph(&db, root);
    lap("resource graph");
    check_program(&db, root);
    lap("rules and merge");
}

/// `check N...`: a cold check (fresh database: parse, resolve, type-check, evaluate, placement
/// and domain rules) of every workload shape at each size, each in a child process.
fn bench_check(sizes: &[usize]) {
    let exe = std::env::current_exe().expect("own path");
    let mut shapes: Vec<(bool, String)> = workload::Refs::ALL
        .iter()
        .flat_map(|r| [(true, r.to_string()), (false, r.to_string())])
        .collect();
    shapes.push((true, "keys+secrets".into()));
    shapes.push((true, "keys+secrets, P0107 off".into()));
    println!(
        "{:<28} {:>8} {:>10} {:>9} {:>8} {:>6}",
        "workload", "N", "instances", "seconds", "peak MiB", "diags"
    );
    let mut by_shape: std::collections::BTreeMap<(String, bool), Vec<(usize, f64)>> =
        Default::default();
    for &n in sizes {
        for (one_file, shape) in &shapes {
            let files = if *one_file { 1 } else { (n / 1000).max(2) };
            let out = std::process::Command::new(&exe)
                .args(["check-row", &n.to_string(), &files.to_string(), shape])
                .output()
                .expect("runs itself");
            let text = String::from_utf8_lossy(&out.stdout);
            let f: Vec<f64> = text
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            let [secs, kib, instances, diags] = f[..] else {
                panic!(
                    "check-row {n} {files} {shape}: {text}{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            };
            let name = if shape.starts_with("keys+secrets") {
                shape.clone()
            } else if files == 1 {
                format!("stacks, 1 file, {shape}")
            } else {
                format!("stacks, {files} files, {shape}")
            };
            println!(
                "{name:<28} {n:>8} {instances:>10} {secs:>9.3} {:>8.0} {diags:>6}",
                kib / 1024.0
            );
            by_shape
                .entry((shape.clone(), files == 1))
                .or_default()
                .push((n, secs));
        }
    }
    if sizes.contains(&10_000) && sizes.contains(&100_000) {
        println!("time ratio 100k / 10k (linear growth is 10):");
        for ((shape, one_file), rows) in &by_shape {
            let at = |n| rows.iter().find(|r| r.0 == n).map(|r| r.1);
            if let (Some(a), Some(b)) = (at(10_000), at(100_000)) {
                let files = if *one_file { "1 file" } else { "many files" };
                println!("  {shape:<14} {files:<10} {:>6.1}", b / a);
            }
        }
    }
}

fn bench_plan(n: usize) {
    let key = carbonc_state::SecretKey::generate();
    let files = (n / 1000).max(1);
    let (mut db, root) = load(&generate(n, files));
    let plan = carbonc_drive::make_plan(
        &mut db,
        carbonc_drive::PlanRequest {
            root,
            state: None,
            key: &key,
        },
    )
    .expect("plans");
    let state = applied(&plan);
    // 1% drift: the description of one resource in a hundred changed.
    let drifted = generate_with(n, files, |i| i % 100 == 0);
    let mut best = f64::MAX;
    let mut summary = carbonc_plan::Summary::default();
    for _ in 0..3 {
        let start = Instant::now();
        let (mut db, root) = load(&drifted);
        let plan = carbonc_drive::make_plan(
            &mut db,
            carbonc_drive::PlanRequest {
                root,
                state: Some(&state),
                key: &key,
            },
        )
        .expect("plans");
        best = best.min(start.elapsed().as_secs_f64());
        summary = plan.summary;
    }
    println!(
        "{n:>6} resources against a state of {}: cold plan {best:.3} s (best of 3), {} to change, peak RSS {:.0} MiB",
        state.resources.len(),
        summary.change,
        peak_rss_kib().unwrap_or(0) as f64 / 1024.0
    );
    assert!(
        summary.change > 0 && summary.add == 0 && summary.destroy == 0,
        "{summary:?}"
    );
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "state") {
        let n = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1_000);
        state::bench_state(n);
        return;
    }
    if args.first().is_some_and(|a| a == "recheck") {
        let n = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
        let per_file = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1_000);
        lsp::bench_recheck(n, per_file);
        return;
    }
    if args.first().is_some_and(|a| a == "lsp") {
        let n = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
        let per_file = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100);
        let edits = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(200);
        lsp::bench_lsp(n, per_file, edits);
        return;
    }
    if args.first().is_some_and(|a| a == "apply") {
        let sizes: Vec<usize> = args[1..].iter().filter_map(|a| a.parse().ok()).collect();
        apply::bench_apply(if sizes.is_empty() {
            &[1_000, 10_000]
        } else {
            &sizes
        });
        return;
    }
    if args.first().is_some_and(|a| a == "check-row") {
        let n = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1_000);
        let files = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1);
        check_row(n, files, args.get(3).map_or("backward", String::as_str));
        return;
    }
    if args.first().is_some_and(|a| a == "executor") {
        let regions: Vec<usize> = args[1..].iter().filter_map(|a| a.parse().ok()).collect();
        for r in if regions.is_empty() {
            vec![3, 8]
        } else {
            regions
        } {
            executor::bench_executor(r);
        }
        return;
    }
    let plan = args.first().is_some_and(|a| a == "plan");
    if args.first().is_some_and(|a| a == "plan" || a == "check") {
        args.remove(0);
    }
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if plan {
        for n in if sizes.is_empty() {
            vec![10_000]
        } else {
            sizes
        } {
            bench_plan(n);
        }
    } else {
        bench_check(&if sizes.is_empty() {
            vec![1_000, 10_000]
        } else {
            sizes
        });
    }
}
