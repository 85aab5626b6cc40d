//! `carbonc-bench [check|plan|lsp|state|executor] [N...]`: generates synthetic workspaces of N resources spread over
//! several files and four regions, then measures
//! - `check`: a cold check (fresh database: parse, resolve, type-check, evaluate, placement and
//!   domain rules) and the process's peak memory;
//! - `plan`: a cold plan of the program against a state of the same N resources in which 1% of
//!   the resources drifted (their configuration changed), including lowering and diffing.
//!
//! Run in release: `cargo run --release -p carbonc-bench -- check 1000 10000` and
//! `cargo run --release -p carbonc-bench -- plan 10000`.

use std::time::Instant;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod executor;
mod lsp;
mod state;

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

fn bench_check(n: usize) {
    let files = generate(n, (n / 1000).max(1));
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let mut best = f64::MAX;
    let mut n_diags = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let (db, root) = load(&files);
        n_diags = check_program(&db, root).len();
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{n:>6} resources in {} files ({:.1} MiB of source): cold check {best:.3} s (best of 3), {n_diags} diagnostics, peak RSS {:.0} MiB",
        files.len() - 1,
        bytes as f64 / 1048576.0,
        peak_rss_kib().unwrap_or(0) as f64 / 1024.0
    );
    assert_eq!(n_diags, 0, "the generated workspace must check clean");
}

fn bench_plan(n: usize) {
    let key = carbonc_state::SecretKey::generate();
    let files = (n / 1000).max(1);
    let (mut db, root) = load(&generate(n, files));
    let plan = carbonc_plan::make_plan(
        &mut db,
        carbonc_plan::PlanRequest {
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
        let plan = carbonc_plan::make_plan(
            &mut db,
            carbonc_plan::PlanRequest {
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
        lsp::bench_recheck(n);
        return;
    }
    if args.first().is_some_and(|a| a == "lsp") {
        let n = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
        let per_file = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100);
        let edits = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(200);
        lsp::bench_lsp(n, per_file, edits);
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
        for n in if sizes.is_empty() {
            vec![1_000, 10_000]
        } else {
            sizes
        } {
            bench_check(n);
        }
    }
}
