//! `carbonc fmt`: idempotent, token-preserving over every `.carbon` file in the repository, the
//! checked files already formatted, meaning unchanged, and files with syntax errors refused.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::repo;

fn carbon_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir()
            && !name.starts_with('.')
            && !["target", "node_modules"].contains(&name.as_str())
        {
            carbon_files(&p, out);
        } else if name.ends_with(".carbon") {
            out.push(p);
        }
    }
}

#[test]
fn every_carbon_file_formats_idempotently_and_keeps_its_tokens() {
    let mut files = Vec::new();
    carbon_files(&repo(), &mut files);
    let mut formatted = 0;
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        let Ok(once) = carbonc_syntax::format::format(&src) else {
            continue; // a fixture with syntax errors (tests/check/err)
        };
        formatted += 1;
        assert_eq!(
            carbonc_syntax::format::format(&once).as_ref(),
            Ok(&once),
            "{}: formatting twice changes it",
            f.display()
        );
        assert_eq!(
            carbonc_syntax::format::meaning(&once),
            carbonc_syntax::format::meaning(&src),
            "{}: formatting changed a token, a string or a comment",
            f.display()
        );
    }
    assert!(formatted >= 100, "only {formatted} files formatted");
}

/// Every `.carbon` file in the repository that parses is already formatted, but for two kinds of
/// fixture whose layout is the point: the editor cases of `tests/lsp` (cursor markers, input for the
/// formatting requests) and the grammar tests of the VS Code extension (their assertions name
/// columns).
#[test]
fn every_parseable_carbon_file_is_formatted() {
    let mut files = Vec::new();
    carbon_files(&repo(), &mut files);
    let exempt = [
        repo().join("tests/lsp"),
        repo().join("editors/vscode/test/grammar"),
    ];
    let mut checked = 0;
    let mut unformatted = Vec::new();
    for f in files
        .iter()
        .filter(|f| !exempt.iter().any(|e| f.starts_with(e)))
    {
        let src = std::fs::read_to_string(f).unwrap();
        let Ok(formatted) = carbonc_syntax::format::format(&src) else {
            continue; // a fixture with syntax errors: `carbonc fmt` refuses it by design
        };
        checked += 1;
        if formatted != src {
            unformatted.push(f.strip_prefix(repo()).unwrap_or(f).display().to_string());
        }
    }
    assert!(checked >= 100, "only {checked} files checked");
    assert!(
        unformatted.is_empty(),
        "not formatted; run `carbonc fmt {}`",
        unformatted.join(" ")
    );
}

#[test]
fn the_examples_stdlib_and_apply_fixtures_are_formatted() {
    let out = Command::new(env!("CARGO_BIN_EXE_carbonc"))
        .args(["fmt", "--check", "examples", "stdlib", "tests/apply"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "run `carbonc fmt examples stdlib tests/apply`:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The footprint with its layout destroyed (no indentation, spaces widened, trailing spaces) formats
/// back to the file as it is, and plans the same before that. (Blank lines are the author's: they
/// are kept, at most one in a row.)
#[test]
fn a_mangled_footprint_formats_back_and_plans_the_same() {
    let d = std::env::temp_dir().join(format!("carbonc-fmt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("modules")).unwrap();
    let mangle = |s: &str| -> String {
        s.lines()
            .map(|l| {
                let t = l.trim_start();
                // Outside comments and strings (kept whole by the formatter), widen the spaces.
                if t.starts_with('#') || t.contains('"') {
                    format!("  {t}   ")
                } else {
                    t.replace(" = ", "   =  ").replace(", ", " ,  ")
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    for f in [
        "global.carbon",
        "modules/eks.carbon",
        "modules/aurora_global.carbon",
    ] {
        let original = std::fs::read_to_string(repo().join("examples").join(f)).unwrap();
        std::fs::write(d.join(f), mangle(&original)).unwrap();
    }
    // A fixed key of secret hashes, so that both plans hash the password alike.
    std::fs::write(d.join("none.json.key"), format!("{}\n", "ab".repeat(32))).unwrap();
    let plan = |dir: &Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_carbonc"))
            .args([
                "plan",
                "--json",
                "--refresh=false",
                "--state",
                "none.json",
                "global.carbon",
            ])
            .env("CARBON_VAR_db_master_password", "x")
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        j["state"]["path"] = serde_json::Value::Null;
        j
    };
    let mangled_plan = plan(&d);
    let out = Command::new(env!("CARGO_BIN_EXE_carbonc"))
        .args(["fmt", "."])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "global.carbon",
        "modules/eks.carbon",
        "modules/aurora_global.carbon",
    ] {
        assert_eq!(
            std::fs::read_to_string(d.join(f)).unwrap(),
            std::fs::read_to_string(repo().join("examples").join(f)).unwrap(),
            "{f}"
        );
    }
    let mut formatted_plan = plan(&d);
    // Only the sources digest may differ: the bytes of the files changed.
    formatted_plan["sources_digest"] = mangled_plan["sources_digest"].clone();
    assert_eq!(formatted_plan, mangled_plan);
}

#[test]
fn a_file_with_a_syntax_error_is_named_and_left_alone() {
    let d = std::env::temp_dir().join(format!("carbonc-fmt-err-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let broken = "let  x =\nresource aws.kms.Key {\n";
    std::fs::write(d.join("broken.carbon"), broken).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_carbonc"))
        .args(["fmt", "broken.carbon"])
        .current_dir(&d)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("broken.carbon:2:") && err.contains("not formatted"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("broken.carbon")).unwrap(),
        broken
    );
}

/// Thousands of random edits (characters deleted, inserted, lines joined or split) to the examples:
/// the formatter never panics; what it formats is idempotent and keeps every token.
#[test]
fn random_edits_never_break_the_formatter() {
    let sources: Vec<String> = ["global.carbon", "network.carbon", "modules/eks.carbon"]
        .iter()
        .map(|f| std::fs::read_to_string(repo().join("examples").join(f)).unwrap())
        .collect();
    let mut seed: u64 = 0x5eed_cafe_f00d_d00d;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    const PIECES: [&str; 12] = [
        "{", "}", "[", "]", "(", ")", "\"", "${", "#", "\n", "  ", "= ",
    ];
    let (mut formatted, mut refused) = (0, 0);
    for round in 0..3000 {
        let mut text: Vec<char> = sources[round % sources.len()].chars().collect();
        for _ in 0..1 + next(4) {
            let at = next(text.len());
            match next(3) {
                0 => {
                    let len = next(8).min(text.len() - at);
                    text.drain(at..at + len);
                }
                1 => {
                    for c in PIECES[next(PIECES.len())].chars().rev() {
                        text.insert(at, c);
                    }
                }
                _ => {
                    if let Some(p) = text[at..].iter().position(|c| *c == '\n') {
                        text.remove(at + p);
                    }
                }
            }
        }
        let src: String = text.into_iter().collect();
        match carbonc_syntax::format::format(&src) {
            Ok(once) => {
                formatted += 1;
                assert_eq!(
                    carbonc_syntax::format::format(&once).as_ref(),
                    Ok(&once),
                    "round {round}: not idempotent"
                );
                assert_eq!(
                    carbonc_syntax::format::meaning(&once),
                    carbonc_syntax::format::meaning(&src),
                    "round {round}: a token changed"
                );
            }
            Err(_) => refused += 1,
        }
    }
    assert!(
        formatted > 100 && refused > 100,
        "{formatted} formatted, {refused} refused"
    );
}
