//! The server against what editors really send: thousands of random edits to the examples with a
//! request after each, garbage, huge files; and its diagnostics against `carbonc check`'s.

use std::path::{Path, PathBuf};

use carbon_lsp_client::{Client, uri};
use serde_json::{Value, json};

mod common;
use common::{repo, start};

/// A copy of the examples in a temporary folder, with the server's cache inside it.
fn workspace(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("carbon-lsp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&repo().join("examples"), &dir);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// xorshift64*: the same sequence on every run, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SNIPPETS: &[&str] = &[
    "resource ",
    "aws.kms.Key ",
    "@ ",
    "use1",
    "[r]",
    "{",
    "}",
    "\n",
    " = ",
    "\"",
    "${",
    ".",
    "..",
    "for r in regions {",
    "if ",
    "else",
    "module m @ region {",
    "param p: String",
    "let x = ",
    "##",
    "#",
    "[",
    "]",
    "(",
    ")",
    ",",
    "kms_key = data_key[use1]",
    "🙂",
    "é",
    "\t",
    "\u{0}",
    "import \"",
    "\\",
    "output o = ",
    "Secret<",
    "Ref<aws.kms.Key @ same>",
    "?",
    "??",
    "->",
    "fn f(a: Int): Int = a",
    "enum E { a, b }",
    "record R { a: String }",
    "regions",
    "reveal(",
    "9999999999999999999999",
];

/// One random edit: insert a snippet, delete a range, duplicate or drop a line.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let at = |rng: &mut Rng, t: &str| {
        let mut i = rng.below(t.len() + 1);
        while !t.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let mut t = text.to_string();
    match rng.below(5) {
        0 | 1 => {
            let i = at(rng, &t);
            t.insert_str(i, SNIPPETS[rng.below(SNIPPETS.len())]);
        }
        2 => {
            let a = at(rng, &t);
            let len = rng.below(40);
            let mut b = (a + len).min(t.len());
            while !t.is_char_boundary(b) {
                b -= 1;
            }
            t.replace_range(a..b, "");
        }
        3 => {
            let lines: Vec<&str> = t.lines().collect();
            if !lines.is_empty() {
                let i = rng.below(lines.len());
                let mut v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
                v.insert(i, lines[i].to_string());
                t = v.join("\n");
            }
        }
        _ => {
            let lines: Vec<&str> = t.lines().collect();
            if !lines.is_empty() {
                let i = rng.below(lines.len());
                let mut v: Vec<&str> = lines.clone();
                v.remove(i);
                t = v.join("\n");
            }
        }
    }
    t
}

/// A random request at a random position (sometimes past the end of the text).
fn request(rng: &mut Rng, c: &mut Client, u: &str, text: &str) -> (String, Result<Value, Value>) {
    let lines = text.lines().count().max(1);
    let line = rng.below(lines + 2);
    let character = rng.below(120);
    let pos = json!({ "line": line, "character": character });
    let doc = json!({ "uri": u });
    let whole = json!({ "start": { "line": 0, "character": 0 }, "end": pos });
    let (method, params) = match rng.below(14) {
        0 => (
            "textDocument/hover",
            json!({ "textDocument": doc, "position": pos }),
        ),
        1 => (
            "textDocument/completion",
            json!({ "textDocument": doc, "position": pos }),
        ),
        2 => (
            "textDocument/definition",
            json!({ "textDocument": doc, "position": pos }),
        ),
        3 => (
            "textDocument/references",
            json!({ "textDocument": doc, "position": pos, "context": { "includeDeclaration": true } }),
        ),
        4 => (
            "textDocument/documentHighlight",
            json!({ "textDocument": doc, "position": pos }),
        ),
        5 => (
            "textDocument/prepareRename",
            json!({ "textDocument": doc, "position": pos }),
        ),
        6 => (
            "textDocument/rename",
            json!({ "textDocument": doc, "position": pos, "newName": "renamed_x" }),
        ),
        7 => (
            "textDocument/codeAction",
            json!({ "textDocument": doc, "range": whole, "context": { "diagnostics": [] } }),
        ),
        8 => (
            "textDocument/inlayHint",
            json!({ "textDocument": doc, "range": whole }),
        ),
        9 => (
            "textDocument/semanticTokens/full",
            json!({ "textDocument": doc }),
        ),
        10 => (
            "textDocument/documentSymbol",
            json!({ "textDocument": doc }),
        ),
        11 => ("textDocument/foldingRange", json!({ "textDocument": doc })),
        12 => (
            "textDocument/rangeFormatting",
            json!({ "textDocument": doc, "range": whole, "options": { "tabSize": 4, "insertSpaces": true } }),
        ),
        _ => ("workspace/symbol", json!({ "query": "k" })),
    };
    (method.to_string(), c.request(method, params))
}

/// Errors an editor can get in normal operation: content modified (an edit came first) and
/// invalid params (a refused rename). An internal error means a handler panicked.
fn acceptable(e: &Value) -> bool {
    matches!(e["code"].as_i64(), Some(-32801) | Some(-32602))
}

#[test]
fn thousands_of_random_edits_never_kill_the_server() {
    let dir = workspace("fuzz");
    let mut c = start(&dir);
    let rounds: usize = std::env::var("CARBON_LSP_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let files = [
        "global.carbon",
        "network.carbon",
        "modules/eks.carbon",
        "aurora_global.carbon",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut answered = 0;
    let mut with_content = 0;
    for (fi, name) in files.iter().enumerate() {
        let path = dir.join(name);
        let u = uri(&path);
        let original = std::fs::read_to_string(&path).unwrap();
        c.open(&u, &original);
        let mut text = original.clone();
        let mut version = 1;
        for round in 0..rounds / files.len() {
            // A sequence is 10 edits from the file as written, so edits stay near real code: 300
            // sequences in all.
            if round % 10 == 0 {
                text = original.clone();
            }
            text = mutate(&mut rng, &text);
            version += 1;
            c.change(&u, version, &text);
            let (method, r) = request(&mut rng, &mut c, &u, &text);
            if let Err(e) = &r {
                assert!(
                    acceptable(e),
                    "file {fi} round {round}: {method} failed: {e}\n--- text\n{text}"
                );
            }
            answered += 1;
            if r.as_ref().is_ok_and(|v| !v.is_null() && v != &json!([])) {
                with_content += 1;
            }
            assert!(c.alive(), "the server died at round {round} of {name}");
        }
        // Back to the file as written: the diagnostics settle to none.
        version += 1;
        c.change(&u, version, &original);
        let diags = c
            .settled_diagnostics(&u, version)
            .expect("diagnostics after the fuzzing");
        assert!(
            diags.iter().all(|d| d["severity"] != 1),
            "{name}: {diags:?}"
        );
    }
    assert_eq!(answered, rounds / files.len() * files.len());
    // Positions are random (often past a line's end), but many requests still land on real code
    // and get a real answer: the fuzzing exercises the features, not only their empty cases.
    assert!(
        with_content * 3 > answered,
        "only {with_content} of {answered} answers had content"
    );
    assert!(
        c.shutdown(),
        "the server shuts down cleanly after the fuzzing"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn huge_files_and_garbage_are_answered() {
    let dir = workspace("huge");
    let mut c = start(&dir);
    // 5,000 resources in one file.
    let mut big = String::from(
        "region use1 { code = \"us-east-1\", role = .primary, maintenance = \"sun:05:00-sun:06:00\" }\n",
    );
    for i in 0..5000 {
        big.push_str(&format!(
            "resource aws.kms.Key k{i} @ use1 {{\n    description = \"key {i}\"\n}}\n"
        ));
    }
    // Binary-looking garbage, one enormous line, deep nesting.
    let garbage: String = (0..200_000u32)
        .map(|i| char::from_u32(32 + (i * 7919) % 95).unwrap())
        .collect();
    let deep = format!("let x = {}1{}\n", "[".repeat(5000), "]".repeat(5000));
    for (name, text) in [
        ("big.carbon", big),
        ("garbage.carbon", garbage),
        ("deep.carbon", deep),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, &text).unwrap();
        let u = uri(&path);
        c.open(&u, &text);
        c.wait_diagnostics(&u).expect("diagnostics of a huge file");
        let lines = text.lines().count() as u64;
        for (method, params) in [
            (
                "textDocument/hover",
                json!({ "textDocument": { "uri": u }, "position": { "line": lines / 2, "character": 22 } }),
            ),
            (
                "textDocument/completion",
                json!({ "textDocument": { "uri": u }, "position": { "line": lines / 2, "character": 4 } }),
            ),
            (
                "textDocument/semanticTokens/full",
                json!({ "textDocument": { "uri": u } }),
            ),
            (
                "textDocument/documentSymbol",
                json!({ "textDocument": { "uri": u } }),
            ),
            (
                "textDocument/formatting",
                json!({ "textDocument": { "uri": u }, "options": { "tabSize": 4, "insertSpaces": true } }),
            ),
        ] {
            let r = c.request(method, params);
            assert!(
                r.as_ref().err().is_none_or(acceptable),
                "{name}: {method}: {r:?}"
            );
        }
    }
    assert!(c.alive());
    assert!(c.shutdown());
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the editor shows is what `carbonc check` reports: the same codes at the same places with
/// the same titles, for the examples and every file of the error corpus.
#[test]
fn diagnostics_are_those_of_carbonc_check() {
    let dir = std::env::temp_dir().join(format!("carbon-lsp-same-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&repo().join("tests/check/err"), &dir.join("err"));
    copy_dir(&repo().join("examples"), &dir.join("examples"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("err"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "carbon"))
        .collect();
    files.sort();
    for e in [
        "global.carbon",
        "network.carbon",
        "single_region.carbon",
        "aurora_global.carbon",
    ] {
        files.push(dir.join("examples").join(e));
    }
    assert!(files.len() > 20);
    let mut c = start(&dir);
    let mut compared = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let u = uri(path);
        c.open(&u, &text);
        let got = c.wait_diagnostics(&u).unwrap();
        let mut got: Vec<(String, u64, String)> = got
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap_or("").to_string(),
                    d["range"]["start"]["line"].as_u64().unwrap_or(0) + 1,
                    d["message"]
                        .as_str()
                        .unwrap_or("")
                        .lines()
                        .next()
                        .unwrap_or("")
                        .to_string(),
                )
            })
            .collect();
        // The checker itself, as `carbonc check FILE` runs it.
        let mut db = carbonc_sema::RootDatabase::default();
        let shown = path.to_string_lossy().to_string();
        let root = db.set_file(&shown, text.clone());
        carbon_lsp::state::load_imports(&mut db, root);
        let mut want: Vec<(String, u64, String)> = carbonc_sema::check_program(&db, root)
            .iter()
            .filter(|d| d.primary.file == shown)
            .map(|d| {
                let line = text[..d.primary.span.start as usize].matches('\n').count() as u64 + 1;
                (d.code.to_string(), line, d.title.clone())
            })
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{}", path.display());
        compared += got.len();
    }
    assert!(compared > 20, "the corpus has diagnostics to compare");
    assert!(c.shutdown());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A file changed or deleted on disk (a checkout, another editor) is read again or forgotten, and
/// the open files that import it are checked again.
#[test]
fn files_changed_on_disk_are_followed() {
    let dir = std::env::temp_dir().join(format!("carbon-lsp-watch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let main = dir.join("main.carbon");
    let names = dir.join("names.carbon");
    let text = "import \"names.carbon\" as names\nlet x = names.prefix\n";
    std::fs::write(&main, text).unwrap();
    std::fs::write(&names, "let prefix = \"a\"\n").unwrap();
    let mut c = start(&dir);
    let u = uri(&main);
    c.open(&u, text);
    assert!(c.wait_diagnostics(&u).unwrap().is_empty());
    let watched = |c: &mut Client, kind: u8| {
        c.notify(
            "workspace/didChangeWatchedFiles",
            json!({ "changes": [{ "uri": uri(&names), "type": kind }] }),
        );
    };
    // Changed: `prefix` is gone, the importer's use of it is an error.
    std::fs::write(&names, "let other = \"a\"\n").unwrap();
    watched(&mut c, 2);
    let has = |code: &'static str| move |d: &[Value]| d.iter().any(|x| x["code"] == code);
    c.diagnostics_until(&u, has("E0101")).unwrap();
    // Deleted: the import itself is reported, also after an edit of the importer.
    std::fs::remove_file(&names).unwrap();
    watched(&mut c, 3);
    c.diagnostics_until(&u, has("E1101")).unwrap();
    let edited = format!("{text}let y = 1\n");
    c.change(&u, 2, &edited);
    let d = c.settled_diagnostics(&u, 2).unwrap();
    assert!(d.iter().any(|d| d["code"] == "E1101"), "{d:?}");
    // Created again: clean.
    std::fs::write(&names, "let prefix = \"a\"\n").unwrap();
    watched(&mut c, 1);
    c.diagnostics_until(&u, |d| d.is_empty()).unwrap();
    assert!(c.shutdown());
    let _ = std::fs::remove_dir_all(&dir);
}
