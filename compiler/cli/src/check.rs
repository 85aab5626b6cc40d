//! `carbonc check [--fix] FILE...`

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

use carbonc_cli::load::load_program;
use carbonc_diagnostics::{Applicability, Diagnostic, Fix, apply_fixes};
use carbonc_sema::{RootDatabase, check_program};

use crate::{MessageFormat, report};

/// Rounds of `--fix`: a fix can reveal the next (a renamed name whose value then has the wrong
/// region); `cargo fix` stops after a few rounds too.
const FIX_ROUNDS: usize = 4;

pub fn run(files: &[String], format: MessageFormat, fix: bool) -> ExitCode {
    if fix && !fix_files(files) {
        return ExitCode::from(1);
    }
    let mut db = RootDatabase::default();
    let (all, failed, _) = diagnostics(&mut db, files);
    let errors = report::diagnostics(&db, &all, format);
    // The process ends here: freeing every query result one by one would only delay the exit
    // (a tenth of a large workspace's check), and the system takes the memory back at once.
    std::mem::forget(db);
    if failed || errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Every diagnostic of `files` (each a root, checked with its imports and its `carbon.toml`),
/// each with its fixes; whether a root could not be loaded (the reason is printed); whether the
/// region rules ran for every root (they run on programs whose names and types check).
fn diagnostics(db: &mut RootDatabase, files: &[String]) -> (Vec<Diagnostic>, bool, bool) {
    let mut failed = false;
    let mut rules = true;
    let mut all: Vec<Diagnostic> = Vec::new();
    for path in files {
        match load_program(db, path) {
            Ok(root) => match carbonc_cli::load::config(path) {
                Ok(config) => {
                    db.set_config(config);
                    carbonc_sema::warm(db, root);
                    rules &= carbonc_sema::rules_ran(db, root);
                    all.extend(
                        check_program(db, root)
                            .iter()
                            .map(|d| carbonc_ide::with_fixes(db, d)),
                    );
                }
                Err(why) => {
                    report::error(why);
                    failed = true;
                }
            },
            Err(why) => {
                report::error(format!("cannot read `{path}`: {why}"));
                failed = true;
            }
        }
    }
    all.dedup();
    (all, failed, rules)
}

/// How many errors of each kind: a round of fixes that adds to any is undone.
fn error_kinds(diags: &[Diagnostic]) -> BTreeMap<(&'static str, String), usize> {
    let mut kinds = BTreeMap::new();
    for d in diags.iter().filter(|d| d.is_error()) {
        *kinds.entry((d.code, d.title.clone())).or_default() += 1;
    }
    kinds
}

/// `--fix`: carries out every machine-applicable fix in the files on disk, round after round,
/// like `cargo fix`. A file with a syntax error is not touched (its tree is a guess), nor is a
/// file outside the disk (the standard library). A round whose fixes bring an error that was
/// not there before is undone. Says what it fixed; false when a root could not be loaded.
fn fix_files(files: &[String]) -> bool {
    let mut fixed: BTreeMap<String, usize> = BTreeMap::new();
    let mut refused: BTreeSet<String> = BTreeSet::new();
    for _ in 0..FIX_ROUNDS {
        let mut db = RootDatabase::default();
        let (before, failed, rules_before) = diagnostics(&mut db, files);
        if failed {
            return false;
        }
        let broken: BTreeSet<&str> = before
            .iter()
            .filter(|d| d.code == "E0001")
            .map(|d| d.primary.file.as_str())
            .collect();
        refused.extend(broken.iter().map(|f| f.to_string()));
        // Each diagnostic's first certain fix, by file.
        let mut by_file: BTreeMap<&str, Vec<&Fix>> = BTreeMap::new();
        for d in &before {
            let Some(fix) = d
                .fixes
                .iter()
                .find(|f| f.applicability == Applicability::MachineApplicable)
            else {
                continue;
            };
            let Some(first) = fix.edits.first() else {
                continue;
            };
            let file = first.file.as_str();
            if fix.edits.iter().all(|e| e.file == file)
                && !broken.contains(file)
                && std::path::Path::new(file).is_file()
            {
                by_file.entry(file).or_default().push(fix);
            }
        }
        let mut originals: Vec<(String, String)> = Vec::new();
        let mut round: BTreeMap<String, usize> = BTreeMap::new();
        for (file, fixes) in by_file {
            let Some(text) = db.file(file).map(|f| f.text(&db).clone()) else {
                continue;
            };
            let (new, n) = apply_fixes(&text, file, fixes);
            if n == 0 {
                continue;
            }
            if let Err(e) = std::fs::write(file, &new) {
                report::error(format!("cannot write `{file}`: {e}"));
                restore(&originals);
                return false;
            }
            originals.push((file.to_string(), text));
            round.insert(file.to_string(), n);
        }
        if round.is_empty() {
            break;
        }
        let mut db = RootDatabase::default();
        let (after, failed, rules_after) = diagnostics(&mut db, files);
        if failed {
            restore(&originals);
            return false;
        }
        // Fixing the last name or type error lets the region rules run: what they find was
        // there before, unseen, and is not the fixes' doing.
        let uncovered = !rules_before && rules_after;
        let (was, now) = (error_kinds(&before), error_kinds(&after));
        if let Some(((code, title), _)) = now
            .iter()
            .filter(|_| !uncovered)
            .find(|(k, n)| was.get(*k).is_none_or(|w| *n > w))
        {
            restore(&originals);
            eprintln!(
                "warning: undid {} fix(es): they brought a new error, {code}: {title}",
                round.values().sum::<usize>()
            );
            break;
        }
        for (file, n) in round {
            *fixed.entry(file).or_default() += n;
        }
    }
    for file in &refused {
        eprintln!("warning: not fixing `{file}`: it has a syntax error; correct it first");
    }
    for (file, n) in &fixed {
        eprintln!(
            "fixed `{file}` ({n} fix{})",
            if *n == 1 { "" } else { "es" }
        );
    }
    true
}

/// Puts back the texts a round of fixes replaced.
fn restore(originals: &[(String, String)]) {
    for (file, text) in originals {
        if let Err(e) = std::fs::write(file, text) {
            report::error(format!("cannot restore `{file}`: {e}"));
        }
    }
}
