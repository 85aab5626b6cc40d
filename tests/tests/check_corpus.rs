//! The checker corpus: `tests/check/ok/*.carbon` must check clean; every `tests/check/err/*.carbon`
//! must report errors, snapshotted exactly as a user sees them (source and rendered diagnostics).
//! Adding a case means adding a file.

use carbonc_tests::{carbon_files, check_path};

#[test]
fn ok_cases_check_clean() {
    let files = carbon_files("tests/check/ok");
    assert!(!files.is_empty(), "no ok cases found");
    let mut failures = Vec::new();
    for f in &files {
        let (diags, rendered) = check_path(f);
        if !diags.is_empty() {
            failures.push(format!("{f}:\n{rendered}"));
        }
    }
    assert!(
        failures.is_empty(),
        "ok cases with diagnostics:\n{}",
        failures.join("\n")
    );
}

#[test]
fn err_cases_match_snapshots() {
    let files = carbon_files("tests/check/err");
    assert!(!files.is_empty(), "no err cases found");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(carbonc_tests::repo_root().join("tests/check/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for f in &files {
            let (diags, rendered) = check_path(f);
            // Policies that warn by default have err cases too: at least a diagnostic is expected.
            assert!(!diags.is_empty(), "{f} reports nothing");
            let source =
                std::fs::read_to_string(carbonc_tests::repo_root().join(f)).expect("readable");
            let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
            let name = f
                .rsplit('/')
                .next()
                .expect("a file name")
                .trim_end_matches(".carbon");
            insta::assert_snapshot!(
                name,
                format!("{source}\n---- codes: {}\n{rendered}", codes.join(" "))
            );
        }
    });
}

#[test]
fn examples_check_clean() {
    let mut files = carbon_files("examples");
    files.extend(carbon_files("examples/modules"));
    assert!(files.len() >= 3);
    for f in &files {
        let (diags, rendered) = check_path(f);
        assert!(diags.is_empty(), "{f} has diagnostics:\n{rendered}");
    }
}

/// The `module_*` cases make a mistake in the user's file that a module's resource breaks a rule
/// with: every diagnostic's primary label is in the user's file (the module's line is at most a
/// secondary label), and names the instance it is about.
#[test]
fn module_mistakes_point_at_the_users_file() {
    let files: Vec<String> = carbon_files("tests/check/err")
        .into_iter()
        .filter(|f| {
            f.rsplit('/')
                .next()
                .is_some_and(|n| n.starts_with("module_"))
        })
        .collect();
    assert!(files.len() >= 7, "module cases: {files:?}");
    for f in &files {
        let (diags, rendered) = check_path(f);
        assert!(!diags.is_empty(), "{f} reports nothing");
        for d in &diags {
            assert_eq!(
                d.primary.file, *f,
                "{f}: primary label elsewhere:\n{rendered}"
            );
            assert!(
                d.primary.message.contains('`'),
                "{f}: the primary label names nothing:\n{rendered}"
            );
        }
    }
}

/// A check that first computes the per-file queries on several threads (`carbonc check` on a
/// machine with several cores) reports exactly what a check on one thread reports, for every
/// case and example: no result depends on which thread computed it, or in which order.
#[test]
fn checking_on_several_threads_reports_the_same() {
    let mut files = carbon_files("tests/check/ok");
    files.extend(carbon_files("tests/check/err"));
    files.extend(carbon_files("examples"));
    std::env::set_current_dir(carbonc_tests::repo_root()).expect("repository root exists");
    // Programs of several files, which are what warming divides between threads.
    let mut several = 0;
    for f in &files {
        let check = |threads: usize| {
            let mut db = carbonc_sema::RootDatabase::default();
            let root = carbonc_cli::load::load_program(&mut db, f).expect("loads");
            carbonc_sema::warm_on(&db, root, threads);
            (
                carbonc_sema::check_program(&db, root).clone(),
                carbonc_sema::program_files(&db, root)
                    .iter()
                    .filter(|f| !f.path(&db).starts_with("std/"))
                    .count(),
            )
        };
        let (one, files) = check(1);
        several += usize::from(files > 1);
        for threads in [2, 3] {
            assert_eq!(check(threads).0, one, "{f} on {threads} threads");
        }
    }
    assert!(several >= 5, "only {several} programs of several files");
}
