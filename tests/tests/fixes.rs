//! Fix verification: every fix of every diagnostic in the error corpus (`tests/check/err`) is
//! carried out on its own, and the program checked again. The diagnostic it fixes must be gone;
//! a fix that is not a placeholder must bring no error that was not there before. Fixes that
//! depend on intent (`maybe-incorrect`: which of two places is wrong) are verified each.

use std::collections::BTreeMap;

use carbonc_cli::load::load_program;
use carbonc_diagnostics::{Applicability, Diagnostic, Fix, apply_fixes};
use carbonc_sema::RootDatabase;
use carbonc_tests::{carbon_files, check_with_fixes, repo_root};

fn kinds(diags: &[Diagnostic], errors_only: bool) -> BTreeMap<(&'static str, String), usize> {
    let mut out = BTreeMap::new();
    for d in diags.iter().filter(|d| !errors_only || d.is_error()) {
        *out.entry((d.code, d.title.clone())).or_default() += 1;
    }
    out
}

/// The program of `root` with `fix` carried out, and its diagnostics.
fn check_fixed(root: &str, fix: &Fix) -> Result<Vec<Diagnostic>, String> {
    let mut db = RootDatabase::default();
    let file = load_program(&mut db, root)?;
    let mut files: Vec<&str> = fix.edits.iter().map(|e| e.file.as_str()).collect();
    files.dedup();
    for f in files {
        let text = db
            .file(f)
            .map(|s| s.text(&db).clone())
            .ok_or_else(|| format!("the fix edits `{f}`, which is not part of the program"))?;
        let (new, n) = apply_fixes(&text, f, [fix]);
        if n != 1 {
            return Err(format!("the fix's edits do not apply to `{f}`"));
        }
        db.set_file(f, new);
    }
    Ok(check_with_fixes(&db, file))
}

#[test]
fn every_fix_in_the_error_corpus_fixes_its_diagnostic_and_breaks_nothing() {
    std::env::set_current_dir(repo_root()).expect("repository root exists");
    let mut failures = Vec::new();
    let mut applied: BTreeMap<Applicability, usize> = BTreeMap::new();
    for root in carbon_files("tests/check/err") {
        let mut db = RootDatabase::default();
        let file = load_program(&mut db, &root).expect("loads");
        let before = check_with_fixes(&db, file);
        for d in &before {
            for fix in &d.fixes {
                let what = format!("{root}: {} {} -> fix `{}`", d.code, d.title, fix.title);
                let after = match check_fixed(&root, fix) {
                    Ok(a) => a,
                    Err(e) => {
                        failures.push(format!("{what}: {e}"));
                        continue;
                    }
                };
                let key = (d.code, d.title.clone());
                let (was, now) = (kinds(&before, false), kinds(&after, false));
                if now.get(&key) >= was.get(&key) {
                    failures.push(format!("{what}: the diagnostic is still there"));
                }
                if fix.applicability != Applicability::HasPlaceholders {
                    let (was, now) = (kinds(&before, true), kinds(&after, true));
                    for (k, n) in &now {
                        if was.get(k).is_none_or(|w| n > w) {
                            failures.push(format!("{what}: brings a new error {} {}", k.0, k.1));
                        }
                    }
                }
                *applied.entry(fix.applicability).or_default() += 1;
            }
        }
    }
    let total: usize = applied.values().sum();
    eprintln!("fixes verified: {total} ({applied:?})");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The corpus has misspellings, wrong regions, missing and unknown fields: each kind of fix
    // is exercised, and certain fixes are most of them.
    let certain = applied
        .get(&Applicability::MachineApplicable)
        .copied()
        .unwrap_or(0);
    assert!(certain >= 8, "only {certain} certain fixes in the corpus");
    assert!(
        applied.len() == 3,
        "not every kind of fix was verified: {applied:?}"
    );
}
