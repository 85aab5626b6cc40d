//! `docs/diagnostics.md` is generated from the code registry; this test fails when they drift.
//! Regenerate with `UPDATE_DOCS=1 cargo test -p carbonc-diagnostics`.

use carbonc_diagnostics::CODES;

fn render() -> String {
    let mut s = String::from(
        "# Diagnostics\n\n\
         Every diagnostic carbonc reports has a stable code. This page is generated from\n\
         `compiler/diagnostics/src/codes.rs` (run `UPDATE_DOCS=1 cargo test -p carbonc-diagnostics`).\n\n\
         `carbonc check --message-format json` prints one object per line with the fields `code`, `severity`,\n\
         `message`, `file`, `line`, `column`, `end_line`, `end_column`, `byte_start`, `byte_end`, `labels` (each\n\
         with `file`, `line`, `column`, `end_line`, `end_column`, `message`, `primary`), `note` and `help`.\n\
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
    let want = render();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).expect("docs/ is writable");
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/diagnostics.md is out of date: run `UPDATE_DOCS=1 cargo test -p carbonc-diagnostics`"
    );
}

#[test]
fn codes_are_unique_and_sorted() {
    let codes: Vec<&str> = CODES.iter().map(|c| c.code).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(codes, sorted);
}
