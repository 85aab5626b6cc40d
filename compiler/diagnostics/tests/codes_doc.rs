//! `docs/diagnostics.md` is generated from the code registry; this test fails when they drift.
//! Regenerate with `UPDATE_DOCS=1 cargo test -p carbonc-diagnostics`.

use carbonc_diagnostics::CODES;

/// Where the rendered examples start.
const EXAMPLES: &str = "\n## What each looks like\n";

fn render() -> String {
    let mut s = String::from(
        "# Diagnostics\n\n\
         Every diagnostic carbonc reports has a stable code. This page is generated from\n\
         `compiler/diagnostics/src/codes.rs` (run `UPDATE_DOCS=1 cargo test -p carbonc-diagnostics`).\n\n\
         `carbonc check --message-format json` prints one object per line with the fields `code`, `severity`,\n\
         `message`, `file`, `line`, `column`, `end_line`, `end_column`, `byte_start`, `byte_end`, `labels` (each\n\
         with `file`, `line`, `column`, `end_line`, `end_column`, `message`, `primary`), `note`, `help` (advice\n\
         that is not an edit) and `fixes`. Each fix has a `title` (shown as `help:` by `carbonc check`), an\n\
         `applicability` and `edits` (each with `file`, the positions above and `text`, the replacement):\n\n\
         - `machine-applicable`: certainly what was meant; `carbonc check --fix` applies it;\n\
         - `maybe-incorrect`: the user's intent decides (which of two places is wrong): offered, not applied;\n\
         - `has-placeholders`: inserts values for the user to fill in.\n\n\
         `carbonc check --fix FILE...` carries out every machine-applicable fix in place, round after round (a\n\
         fix can uncover the next mistake), like `cargo fix`: a file with a syntax error is left alone, and a\n\
         round whose fixes bring a new error is undone. The language server offers every fix as a quick fix.\n\n\
         A rule broken by an instance that a module made is reported where the user decided it: on the\n\
         argument of the outermost `use` that passed the offending value, or else on that `use`, naming the\n\
         instance and its region; the module's own line is a secondary label.\n\n\
         `--message-format github` prints GitHub Actions `::error file=…,line=…,col=…,title=…::message` commands.\n\n\
         | code | what it means | how to fix it |\n|---|---|---|\n",
    );
    for c in CODES {
        s.push_str(&format!("| `{}` | {} | {} |\n", c.code, c.summary, c.fix));
    }
    s
}

#[test]
fn diagnostics_doc_is_current() {
    let path = std::path::Path::new(
        // At run time: a test binary built from another checkout (the shared target directory) still
        // reads this one.
        &std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../docs/diagnostics.md");
    // The table is this test's; the examples after it are the corpus test's
    // (`tests/tests/diagnostics_doc.rs`), which renders them from the error corpus.
    let want = render();
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    let (table, examples) = match have.find(EXAMPLES) {
        Some(at) => have.split_at(at),
        None => (have.as_str(), ""),
    };
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, format!("{want}{examples}")).expect("docs/ is writable");
    } else {
        assert!(
            table == want,
            "docs/diagnostics.md is out of date: run `UPDATE_DOCS=1 cargo test -p carbonc-diagnostics`"
        );
    }
}

#[test]
fn codes_are_unique_and_sorted() {
    let codes: Vec<&str> = CODES.iter().map(|c| c.code).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(codes, sorted);
}
