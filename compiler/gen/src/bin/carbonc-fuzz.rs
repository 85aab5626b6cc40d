//! `carbonc-fuzz`: the generator's campaigns, run in release.
//!
//! - `carbonc-fuzz show SEED`: the generated program of a seed and its diagnostics.
//! - `carbonc-fuzz differential N [FIRST]`: seeds FIRST..FIRST+N through every comparison of
//!   `carbonc_gen::differential` (stops at the first disagreement and saves its program).
//! - `carbonc-fuzz replay DIR...`: checks and evaluates saved failing inputs again.
//! - `carbonc-fuzz digest N [FIRST]`: a hash per seed of the diagnostics and the evaluated program,
//!   to compare two builds (`diff` their outputs).
//! - `carbonc-fuzz fuzz N [FIRST] [THREADS]`: N inputs (generated programs, and mutations of them
//!   the way an editor damages text) through the parser, the checker and the evaluator in one
//!   database per thread, as the language server runs them; counts panics and saves each
//!   panicking input.
//!
//! Failing inputs go to `$CARBONC_FUZZ_OUT` (default `fuzz-failures/`), one folder per input.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use carbonc_gen::{Options, Program, Rng, differential, generate, mutate};
use carbonc_sema::{RootDatabase, catalog, check_program, evaluate_program};

fn out_dir() -> std::path::PathBuf {
    std::env::var_os("CARBONC_FUZZ_OUT").map_or_else(|| "fuzz-failures".into(), Into::into)
}

fn save(name: &str, files: &[(String, String)], why: &str) -> std::path::PathBuf {
    let dir = out_dir().join(name);
    for (path, text) in files {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(&p, text);
    }
    let _ = std::fs::write(dir.join("WHY.txt"), why);
    dir
}

fn program(seed: u64) -> Program {
    let db = RootDatabase::default();
    generate(seed, catalog(&db), &Options::default())
}

/// Fuzzing wants many small inputs: a root and at most one imported file, a few resources each.
fn small_program(seed: u64) -> Program {
    let db = RootDatabase::default();
    let opts = Options {
        max_files: 1,
        max_decls: 3,
        mistakes: true,
    };
    generate(seed, catalog(&db), &opts)
}

fn show(seed: u64) {
    let p = program(seed);
    let mut db = RootDatabase::default();
    for (path, text) in &p.files {
        println!("==> {path} <==\n{text}");
        db.set_file(path, text.clone());
    }
    let root = db.file(p.root()).expect("loaded");
    for d in check_program(&db, root) {
        println!(
            "{} {} at {}:{:?}",
            d.code, d.title, d.primary.file, d.primary.span
        );
    }
    println!("{} instances", evaluate_program(&db, root).instances.len());
}

/// Which diagnostics `n` programs made without deliberate mistakes produce: every error here is
/// the generator's, and worth fixing there.
fn stats(n: u64) {
    let db = RootDatabase::default();
    let opts = Options {
        mistakes: false,
        ..Options::default()
    };
    let mut codes: std::collections::BTreeMap<String, u64> = Default::default();
    let mut clean = 0;
    for seed in 1..=n {
        let p = generate(seed, catalog(&db), &opts);
        let mut one = RootDatabase::default();
        for (path, text) in &p.files {
            one.set_file(path, text.clone());
        }
        let root = one.file(p.root()).expect("loaded");
        let diags = check_program(&one, root);
        clean += u64::from(diags.iter().all(|d| !d.is_error()));
        for d in diags {
            *codes.entry(format!("{} {}", d.code, d.title)).or_default() += 1;
        }
    }
    let mut rows: Vec<_> = codes.into_iter().collect();
    rows.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    for (what, count) in rows.iter().take(40) {
        println!("{count:6} {what}");
    }
    println!("{clean} of {n} programs without errors");
}

/// One line per seed: a hash of the program's diagnostics and of everything evaluated. Two builds
/// print the same lines when they agree on every program: the differential between an old and
/// a new evaluator once the old one lives only in an older commit.
fn digest(n: u64, first: u64) {
    use std::hash::{Hash, Hasher};
    for seed in first..first + n {
        let p = program(seed);
        let mut db = RootDatabase::default();
        for (path, text) in &p.files {
            db.set_file(path, text.clone());
        }
        let root = db.file(p.root()).expect("loaded");
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let e = evaluate_program(&db, root);
        // `CARBONC_DIGEST_UNORDERED=1`: the diagnostics as sets, and the checker's without the
        // text of repeated ones (which repeat is shown depends on the evaluation order).
        let unordered = std::env::var_os("CARBONC_DIGEST_UNORDERED").is_some();
        let (checked, evaluated) = if unordered {
            let mut c: Vec<String> = check_program(&db, root)
                .iter()
                .map(|d| {
                    format!(
                        "{} {} {}:{:?}",
                        d.code, d.title, d.primary.file, d.primary.span
                    )
                })
                .collect();
            c.sort();
            let mut v: Vec<String> = e.diags.iter().map(|d| format!("{d:?}")).collect();
            v.sort();
            (format!("{c:#?}"), format!("{v:#?}"))
        } else {
            (
                format!("{:#?}", check_program(&db, root)),
                format!("{:#?}", e.diags),
            )
        };
        let text = format!(
            "{checked}\n{:#?}\n{:#?}\n{:#?}\n{:#?}\n{evaluated}\n{:#?}\n{:#?}\n{:#?}",
            e.regions,
            e.instances,
            e.outputs,
            e.endpoints,
            e.missing_params,
            e.unknown_vars,
            e.provider_role_arn
        );
        if n == 1 {
            println!("{text}");
        }
        text.hash(&mut h);
        println!("{seed} {:016x}", h.finish());
    }
}

/// Checks and evaluates a saved input again (a folder `run_fuzz` wrote), panicking as it did.
fn replay(dir: &str) {
    let mut db = RootDatabase::default();
    for name in [
        "gen/main.carbon",
        "gen/lib1.carbon",
        "gen/lib2.carbon",
        "gen/lib3.carbon",
    ] {
        if let Ok(text) = std::fs::read_to_string(std::path::Path::new(dir).join(name)) {
            db.set_file(name, text);
        }
    }
    let root = db
        .file("gen/main.carbon")
        .expect("the input has gen/main.carbon");
    let diags = check_program(&db, root).len();
    let instances = evaluate_program(&db, root).instances.len();
    println!("{dir}: {diags} diagnostics, {instances} instances");
}

fn run_differential(n: u64, first: u64) -> bool {
    let started = Instant::now();
    let (mut ruled, mut instances, mut diagnostics) = (0u64, 0u64, 0u64);
    for seed in first..first + n {
        let p = program(seed);
        match catch_unwind(AssertUnwindSafe(|| differential::check(&p, seed ^ 0x5EED))) {
            Ok(Ok(o)) => {
                ruled += u64::from(o.ruled);
                instances += o.instances as u64;
                diagnostics += o.diagnostics as u64;
            }
            Ok(Err(why)) => {
                let dir = save(&format!("differential-{seed}"), &p.files, &why);
                eprintln!("seed {seed}: {why}\nsaved in {}", dir.display());
                return false;
            }
            Err(_) => {
                let dir = save(&format!("differential-{seed}"), &p.files, "panicked");
                eprintln!("seed {seed}: panicked; saved in {}", dir.display());
                return false;
            }
        }
        if (seed - first + 1).is_multiple_of(10_000) {
            eprintln!(
                "  {} programs, {:.0} s",
                seed - first + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "differential: {n} programs (seeds {first}..{}), zero differences, in {:.1} s; {ruled} went through the domain rules (no syntax, name or type error); {instances} instances and {diagnostics} diagnostics in all",
        first + n,
        started.elapsed().as_secs_f64()
    );
    true
}

/// `fuzz N [FIRST] [THREADS]`: the N inputs split into THREADS runs of consecutive seeds, each
/// on its own thread with its own database (the campaign is the same inputs whatever THREADS is).
fn run_fuzz(n: u64, first: u64, threads: u64) -> bool {
    // Panics are counted and saved, not printed one by one.
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    let threads = threads.clamp(1, n.max(1));
    let per = n / threads;
    let panics: u64 = std::thread::scope(|s| {
        let runs: Vec<_> = (0..threads)
            .map(|t| {
                let count = if t + 1 == threads { n - per * t } else { per };
                s.spawn(move || fuzz_run(count, first + per * t, &started))
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap_or(1)).sum()
    });
    println!(
        "fuzz: {n} inputs from seed {first} on {threads} threads, {panics} panics, in {:.1} s ({:.1} µs per input)",
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64
    );
    panics == 0
}

/// One thread's share of a fuzz campaign: returns the number of panics.
fn fuzz_run(n: u64, first: u64, started: &Instant) -> u64 {
    let mut db = RootDatabase::default();
    let mut loaded: Vec<String> = Vec::new();
    let mut rng = Rng::new(first);
    let mut panics = 0u64;
    let mut base = small_program(first);
    for i in 0..n {
        // A new program every 200 inputs; the others are mutations of it.
        if i.is_multiple_of(200) {
            base = small_program(first + i);
            // The same paths each time: a new path would be a new salsa input, and inputs live as
            // long as the database (the language server, too, sees a file by its path). A file
            // the new program does not have is emptied.
            for path in &loaded {
                if !base.files.iter().any(|(p, _)| p == path) {
                    db.set_file(path, String::new());
                }
            }
            for (path, text) in &base.files {
                db.set_file(path, text.clone());
                if !loaded.contains(path) {
                    loaded.push(path.clone());
                }
            }
        }
        let which = rng.below(base.files.len());
        let (path, text) = &base.files[which];
        let input = if i.is_multiple_of(200) {
            text.clone()
        } else {
            mutate(&mut rng, text)
        };
        db.set_file(path, input.clone());
        let root = db.file(base.root()).expect("loaded");
        let run = catch_unwind(AssertUnwindSafe(|| {
            let _ = check_program(&db, root);
            let _ = evaluate_program(&db, root);
        }));
        if run.is_err() {
            panics += 1;
            let mut files = base.files.clone();
            files[which].1 = input;
            let dir = save(&format!("panic-{}-{i}", first), &files, "panicked");
            eprintln!("input {i}: panicked; saved in {}", dir.display());
            // A panic leaves the database's state unknown: start again.
            db = RootDatabase::default();
            loaded.clear();
            for (p, t) in &base.files {
                db.set_file(p, t.clone());
                loaded.push(p.clone());
            }
        } else {
            db.set_file(path, text.clone());
        }
        if (i + 1).is_multiple_of(500_000) {
            eprintln!(
                "  seeds from {first}: {} inputs, {panics} panics, {:.0} s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    panics
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: u64| -> u64 {
        args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
    };
    let ok = match args.first().map(String::as_str) {
        Some("show") => {
            show(num(1, 1));
            true
        }
        Some("replay") => {
            for dir in &args[1..] {
                replay(dir);
            }
            true
        }
        Some("stats") => {
            stats(num(1, 200));
            true
        }
        Some("digest") => {
            digest(num(1, 1_000), num(2, 1));
            true
        }
        Some("differential") => run_differential(num(1, 1_000), num(2, 1)),
        Some("fuzz") => run_fuzz(num(1, 100_000), num(2, 1), num(3, 1)),
        _ => {
            eprintln!(
                "usage: carbonc-fuzz show SEED | differential N [FIRST] | fuzz N [FIRST] [THREADS]"
            );
            false
        }
    };
    std::process::exit(i32::from(!ok));
}
