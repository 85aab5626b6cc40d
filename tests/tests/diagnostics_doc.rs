//! `docs/diagnostics.md` shows, for each code, the message, labels and fixes as `carbonc check`
//! prints them: the first case of the error corpus (`tests/check/err`) that reports the code,
//! rendered; codes that only a plan reports (parameter values) come from `tests/check/plan`,
//! planned with the variables their `# var: name=value` lines give. This test regenerates that part of the page (`UPDATE_DOCS=1`) or fails when it is
//! stale; the table above it is `carbonc-diagnostics`'s.

use std::collections::BTreeMap;

use carbonc_cli::load::load_program;
use carbonc_diagnostics::{CODES, Diagnostic, render_human};
use carbonc_drive::{PlanRequest, make_plan};
use carbonc_sema::{RootDatabase, VarValue};
use carbonc_state::SecretKey;
use carbonc_tests::{carbon_files, check_path, repo_root};

const EXAMPLES: &str = "\n## What each looks like\n";

/// What planning `path` reports, with the variables its `# var: name=value` lines give, as
/// `--var name=value` would. With no state; or, given `# applied with: OLD => NEW`, against the
/// state of applying the program as it was with `OLD` where it now has `NEW` (by a stand-in
/// provider, `fake_apply`).
fn plan_path(path: &str) -> Vec<Diagnostic> {
    let text = std::fs::read_to_string(repo_root().join(path)).expect("the case exists");
    let state = text
        .lines()
        .find_map(|l| l.strip_prefix("# applied with: ")?.split_once(" => "))
        .map(|(old, new)| {
            let before = std::env::temp_dir()
                .join(format!("carbonc-doc-{}", std::process::id()))
                .join("before.carbon");
            std::fs::create_dir_all(before.parent().unwrap()).expect("a temporary directory");
            // The last `NEW`: the first is on the `# applied with` line itself.
            let at = text
                .rfind(new)
                .expect("the case has what it says it changed");
            let was = format!("{}{old}{}", &text[..at], &text[at + new.len()..]);
            std::fs::write(&before, was).expect("a temporary file");
            let mut db = RootDatabase::default();
            let root = load_program(&mut db, &before.to_string_lossy()).expect("it loads");
            let key = SecretKey::generate();
            let req = PlanRequest {
                root,
                state: None,
                key: &key,
            };
            let plan = make_plan(&mut db, req).expect("the program as it was plans");
            carbonc_tests::fake_apply(&plan, None)
        });
    let vars: BTreeMap<String, VarValue> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# var: ")?.split_once('='))
        .map(|(n, v)| {
            let value = VarValue {
                source: v.to_string(),
                origin: "--var".to_string(),
                raw: true,
            };
            (n.to_string(), value)
        })
        .collect();
    let mut db = RootDatabase::default();
    let root = load_program(&mut db, path).unwrap_or_else(|e| panic!("cannot load {path}: {e}"));
    db.set_vars(vars);
    let key = SecretKey::generate();
    let req = PlanRequest {
        root,
        state: state.as_ref(),
        key: &key,
    };
    make_plan(&mut db, req).err().unwrap_or_default()
}

fn render() -> String {
    std::env::set_current_dir(repo_root()).expect("repository root exists");
    let checked = carbon_files("tests/check/err").into_iter().map(|f| {
        let (diags, _) = check_path(&f);
        (f, diags)
    });
    let planned = carbon_files("tests/check/plan").into_iter().map(|f| {
        let diags = plan_path(&f);
        (f, diags)
    });
    let cases: Vec<(String, Vec<Diagnostic>)> = checked.chain(planned).collect();
    let mut out = String::from(EXAMPLES);
    out.push_str(
        "\nEach code as `carbonc check` prints it, from the first case of the error corpus \
         (`tests/check/err`) that reports it; the parameter errors that only `carbonc plan` \
         reports, from `tests/check/plan`. `help:` lines that are edits are fixes: the \
         language server offers them, and `carbonc check --fix` applies the certain ones.\n",
    );
    for c in CODES {
        out.push_str(&format!("\n### `{}`\n\n{}\n\n", c.code, c.summary));
        let found = cases
            .iter()
            .find_map(|(f, ds)| Some((f, ds.iter().find(|d| d.code == c.code)?)));
        let Some((file, d)) = found else {
            out.push_str("No case of the corpus reports it yet.\n");
            continue;
        };
        let text = |p: &str| std::fs::read_to_string(repo_root().join(p)).ok();
        let texts: Vec<(String, String)> = std::iter::once(&d.primary)
            .chain(&d.secondary)
            .filter_map(|l| Some((l.file.clone(), text(&l.file)?)))
            .collect();
        let source = |p: &str| texts.iter().find(|(f, _)| f == p).map(|(_, t)| t.as_str());
        let rendered = render_human(std::slice::from_ref(d), &source, false);
        out.push_str(&format!("From `{file}`:\n\n```text\n{}```\n", rendered));
    }
    out
}

#[test]
fn diagnostics_doc_shows_every_code_as_a_user_sees_it() {
    std::env::set_current_dir(repo_root()).expect("repository root exists");
    let path = repo_root().join("docs/diagnostics.md");
    let have = std::fs::read_to_string(&path).expect("docs/diagnostics.md exists");
    let table = &have[..have.find(EXAMPLES).unwrap_or(have.len())];
    let want = format!("{table}{}", render());
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).expect("docs/ is writable");
    }
    assert!(
        have == want,
        "docs/diagnostics.md's examples are out of date: run `UPDATE_DOCS=1 cargo test -p carbonc-tests --test diagnostics_doc`"
    );
}
