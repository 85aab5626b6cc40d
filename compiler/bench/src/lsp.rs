//! `carbonc-bench lsp [N] [PER_FILE] [EDITS]`: the language server on a generated N-resource
//! workspace (the `check` workload: one root importing unit files of PER_FILE resources each, 100
//! by default). Measures the time from a one-character `didChange` in a unit file (30 ms after the
//! previous edit settled, as when typing) to the published diagnostics of that file (the complete
//! set: the program checked and evaluated again, incrementally); hover and completion latency;
//! the server's peak RSS.
//! Run in release, after building the server:
//! `cargo build --release -p carbon-lsp -p carbonc-bench && target/release/carbonc-bench lsp 10000`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use carbon_lsp_client::{Client, uri};
use serde_json::json;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn summary(name: &str, mut v: Vec<Duration>) {
    v.sort();
    println!(
        "  {name:<34} p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   ({} samples)",
        percentile(&v, 0.5),
        percentile(&v, 0.99),
        percentile(&v, 1.0),
        v.len()
    );
}

fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .unwrap_or(0.0)
        / 1024.0
}

pub fn bench_lsp(n: usize, per_file: usize, edits: usize) {
    let server = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("carbon-lsp")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("carbon-lsp"));
    let dir = std::env::temp_dir().join(format!("carbonc-bench-lsp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let files = crate::generate(n, (n / per_file).max(1));
    for (path, text) in &files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let cache = dir.join(".cache");
    let start = Instant::now();
    let mut c = Client::start_with(
        &server,
        &dir,
        &[("XDG_CACHE_HOME", cache.to_str().unwrap())],
    )
    .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.display()));
    let root_path = dir.join("bench/root.carbon");
    let unit_path = dir.join("bench/unit0.carbon");
    let (root_uri, unit_uri) = (uri(&root_path), uri(&unit_path));
    c.open(&root_uri, &std::fs::read_to_string(&root_path).unwrap());
    let mut unit = std::fs::read_to_string(&unit_path).unwrap();
    c.open(&unit_uri, &unit);
    let first = c
        .settled_diagnostics(&unit_uri, 1)
        .expect("first diagnostics");
    assert!(
        first.is_empty(),
        "the generated workspace checks clean: {first:?}"
    );
    // The workspace scan publishes once more when it is done; let that pass.
    c.quiesce(Duration::from_millis(500));
    println!(
        "{n} resources in {} files: server ready with diagnostics in {:.2} s",
        files.len(),
        start.elapsed().as_secs_f64()
    );
    // One character typed inside a description string, then removed, alternately.
    let at = unit.find("key 0 in").expect("a description") + 3;
    println!(
        "  edited file: {} lines; the program is evaluated again after each edit",
        unit.lines().count()
    );
    let mut complete = Vec::new();
    for i in 0..edits {
        if i % 2 == 0 {
            unit.insert(at, 'x');
        } else {
            unit.remove(at);
        }
        let t = Instant::now();
        let version = i as i64 + 2;
        c.change(&unit_uri, version, &unit);
        let d = c
            .settled_diagnostics(&unit_uri, version)
            .expect("complete diagnostics after the edit");
        complete.push(t.elapsed());
        assert!(d.is_empty());
        // The next keystroke comes a moment later, as when typing.
        std::thread::sleep(Duration::from_millis(30));
    }
    summary("didChange -> complete publish", complete);
    let line = unit[..at].matches('\n').count();
    let mut hover = Vec::new();
    let mut completion = Vec::new();
    for _ in 0..edits {
        let t = Instant::now();
        let h = c
            .request(
                "textDocument/hover",
                json!({ "textDocument": { "uri": unit_uri }, "position": { "line": line - 1, "character": 24 } }),
            )
            .expect("hover");
        hover.push(t.elapsed());
        assert!(!h.is_null(), "hover on a resource name");
        let t = Instant::now();
        let r = c
            .request(
                "textDocument/completion",
                json!({ "textDocument": { "uri": unit_uri }, "position": { "line": line + 1, "character": 4 } }),
            )
            .expect("completion");
        completion.push(t.elapsed());
        assert!(
            r.as_array().is_some_and(|a| !a.is_empty()),
            "completions in a resource body"
        );
    }
    summary("hover", hover);
    summary("completion (fields of a resource)", completion);
    println!("  server peak RSS {:.0} MiB", peak_rss_mib(c.pid()));
    assert!(c.shutdown());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Where a re-check after a one-character edit spends its time, query by query.
pub fn bench_recheck(n: usize, per_file: usize) {
    let files = crate::generate(n, (n / per_file).max(1));
    let (mut db, root) = crate::load(&files);
    carbonc_sema::check_program(&db, root);
    let (path, text) = files
        .iter()
        .find(|(p, _)| p.ends_with("unit0.carbon"))
        .unwrap();
    let at = text.find("key 0 in").unwrap() + 3;
    let rounds: usize = std::env::var("CARBONC_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    for round in 0..rounds {
        let mut t = text.clone();
        if round % 2 == 0 {
            t.insert(at, 'x');
        }
        let s = Instant::now();
        db.collect_garbage();
        let idle = s.elapsed();
        let s = Instant::now();
        let f = db.set_file(path, t);
        let set = s.elapsed();
        let s = Instant::now();
        carbonc_sema::parse_file(&db, f);
        let parse = s.elapsed();
        let s = Instant::now();
        carbonc_sema::check_file(&db, f);
        let check = s.elapsed();
        let s = Instant::now();
        carbonc_sema::evaluate_program(&db, root);
        let eval = s.elapsed();
        let s = Instant::now();
        carbonc_sema::check_program(&db, root);
        let rest = s.elapsed();
        // What `plan` and `carbonc graph` add: the whole graph (the check needs only its cycles).
        let s = Instant::now();
        carbonc_sema::resource_graph(&db, root);
        let graph = s.elapsed();
        println!(
            "idle cleanup {:.1} ms, set_file {:.1} ms, parse {:.1} ms, check_file {:.1} ms, evaluate {:.1} ms, rules, cycles and the rest {:.1} ms; then the whole graph (plan) {:.1} ms",
            idle.as_secs_f64() * 1e3,
            set.as_secs_f64() * 1e3,
            parse.as_secs_f64() * 1e3,
            check.as_secs_f64() * 1e3,
            eval.as_secs_f64() * 1e3,
            rest.as_secs_f64() * 1e3,
            graph.as_secs_f64() * 1e3
        );
    }
}
