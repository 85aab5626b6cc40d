//! Data-driven end-to-end tests of the language server over stdio JSON-RPC.
//!
//! Each `tests/lsp/<feature>-<case>.carbon` is a workspace: `#- file: NAME` lines start further
//! files (the first section is `main.carbon`); `$0` marks the cursor; `#! key: value` lines give
//! the request's arguments (`new_name`, `query`, `range`). The feature is the file name's prefix.
//! The server runs as a real process in a temporary folder; its answers are rendered as text and
//! snapshotted in `tests/lsp/snapshots/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use carbon_lsp_client::{Client, uri};
use serde_json::{Value, json};

mod common;
use common::repo;

struct Case {
    files: Vec<(String, String)>,
    /// The file holding the cursor and the cursor's byte offset.
    cursor: Option<(usize, usize)>,
    args: BTreeMap<String, String>,
}

fn parse_case(text: &str) -> Case {
    let mut files = vec![("main.carbon".to_string(), String::new())];
    let mut args = BTreeMap::new();
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("#- file:") {
            files.push((name.trim().to_string(), String::new()));
        } else if let Some(kv) = line.strip_prefix("#!") {
            if let Some((k, v)) = kv.split_once(':') {
                args.insert(k.trim().to_string(), v.trim().to_string());
            }
        } else {
            files.last_mut().expect("a file").1.push_str(line);
        }
    }
    let mut cursor = None;
    for (i, (_, text)) in files.iter_mut().enumerate() {
        if let Some(at) = text.find("$0") {
            text.replace_range(at..at + 2, "");
            cursor = Some((i, at));
        }
    }
    Case {
        files,
        cursor,
        args,
    }
}

/// 1-based `line:column` of a protocol position.
fn pos(p: &Value) -> String {
    format!(
        "{}:{}",
        p["line"].as_u64().unwrap_or(0) + 1,
        p["character"].as_u64().unwrap_or(0) + 1
    )
}

fn range(r: &Value) -> String {
    format!("{}-{}", pos(&r["start"]), pos(&r["end"]))
}

fn utf16_to_byte(line: &str, units: u64) -> usize {
    let mut n = 0u64;
    for (i, c) in line.char_indices() {
        if n >= units {
            return i;
        }
        n += c.len_utf16() as u64;
    }
    line.len()
}

fn offset(text: &str, p: &Value) -> usize {
    let line = p["line"].as_u64().unwrap_or(0) as usize;
    let mut start = 0;
    for _ in 0..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    start + utf16_to_byte(&text[start..end], p["character"].as_u64().unwrap_or(0))
}

fn apply_edits(text: &str, edits: &[Value]) -> String {
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset(text, &e["range"]["start"]),
                offset(text, &e["range"]["end"]),
                e["newText"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (a, b, t) in spans {
        out.replace_range(a..b, &t);
    }
    out
}

struct Run {
    dir: PathBuf,
    client: Client,
    texts: BTreeMap<String, String>,
    uri: String,
    name: String,
    std_dir: PathBuf,
}

impl Run {
    fn shown(&self, u: &str) -> String {
        let dir = uri(&self.dir);
        let std = uri(&self.std_dir);
        if let Some(rest) = u.strip_prefix(&format!("{std}/")) {
            return format!("std/{rest}");
        }
        if let Some(rest) = u.strip_prefix(&format!("{dir}/")) {
            return rest.to_string();
        }
        u.to_string()
    }

    fn line_at(&self, file: &str, line: u64) -> String {
        let text = self.texts.get(file).cloned().or_else(|| {
            let p = file.strip_prefix("std/").map(|r| self.std_dir.join(r))?;
            std::fs::read_to_string(p).ok()
        });
        text.and_then(|t| t.lines().nth(line as usize).map(|l| l.trim().to_string()))
            .unwrap_or_default()
    }

    fn location(&self, l: &Value) -> String {
        let file = self.shown(l["uri"].as_str().unwrap_or(""));
        let line = l["range"]["start"]["line"].as_u64().unwrap_or(0);
        format!(
            "{file}:{}  | {}",
            range(&l["range"]),
            self.line_at(&file, line)
        )
    }

    fn diagnostics(&self, diags: &[Value]) -> String {
        let mut out = String::new();
        for d in diags {
            let sev = match d["severity"].as_u64() {
                Some(1) => "error",
                Some(2) => "warning",
                _ => "info",
            };
            out.push_str(&format!(
                "{} {sev}[{}] {}\n",
                range(&d["range"]),
                d["code"].as_str().unwrap_or(""),
                d["message"].as_str().unwrap_or("").replace('\n', "\n    ")
            ));
            for r in d["relatedInformation"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "    related {}: {}\n",
                    self.location(&r["location"]),
                    r["message"].as_str().unwrap_or("")
                ));
            }
        }
        if diags.is_empty() {
            out.push_str("(no diagnostics)\n");
        }
        out
    }

    fn position(&self, case: &Case) -> Value {
        let (i, at) = case.cursor.expect("this case needs a `$0` cursor");
        let text = &case.files[i].1;
        let line = text[..at].matches('\n').count();
        let col: usize = text[text[..at].rfind('\n').map_or(0, |x| x + 1)..at]
            .chars()
            .map(char::len_utf16)
            .sum();
        json!({ "line": line, "character": col })
    }

    fn doc_position(&self, case: &Case) -> Value {
        json!({ "textDocument": { "uri": self.uri }, "position": self.position(case) })
    }

    fn apply_workspace_edit(&mut self, edit: &Value) -> Vec<String> {
        let mut changed = Vec::new();
        for (u, edits) in edit["changes"].as_object().into_iter().flatten() {
            let file = self.shown(u);
            let text = self.texts.get(&file).cloned().unwrap_or_default();
            let new = apply_edits(&text, edits.as_array().map_or(&[][..], |v| v));
            self.texts.insert(file.clone(), new);
            changed.push(file);
        }
        changed.sort();
        changed
    }
}

fn std_dir(home: &Path) -> PathBuf {
    home.join("carbon-lsp")
        .join(env!("CARGO_PKG_VERSION"))
        .join("std")
}

fn run_case(path: &Path) -> String {
    let name = path.file_stem().unwrap().to_string_lossy().to_string();
    let feature = name.split('-').next().unwrap_or("").to_string();
    let case = parse_case(&std::fs::read_to_string(path).unwrap());
    let dir = std::env::temp_dir().join(format!("carbon-lsp-case-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cache = dir.join(".cache");
    for (f, text) in &case.files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    let client = common::start(&dir);
    let target = case.cursor.map_or(0, |(i, _)| i);
    let target_name = case.files[target].0.clone();
    let mut run = Run {
        uri: uri(&dir.join(&target_name)),
        client,
        texts: case.files.iter().cloned().collect(),
        name: target_name.clone(),
        std_dir: std_dir(&cache),
        dir: dir.clone(),
    };
    let u = run.uri.clone();
    run.client.open(&u, &case.files[target].1);
    let first = run
        .client
        .wait_diagnostics(&u)
        .expect("diagnostics are published");
    let out = match feature.as_str() {
        "diagnostics" => {
            // Every file of the program gets its diagnostics, not only the open one.
            let mut out = format!("--- {}\n{}", run.name, run.diagnostics(&first));
            for (f, _) in case
                .files
                .iter()
                .filter(|(f, _)| *f != run.name && f.ends_with(".carbon"))
            {
                let u = uri(&run.dir.join(f));
                let d = run
                    .client
                    .wait_diagnostics(&u)
                    .expect("diagnostics of an imported file");
                out.push_str(&format!("--- {f}\n{}", run.diagnostics(&d)));
            }
            out
        }
        "hover" => {
            let r = run
                .client
                .request("textDocument/hover", run.doc_position(&case));
            match r {
                Ok(Value::Null) => "(no hover)".into(),
                Ok(h) => format!(
                    "range {}\n{}\n",
                    range(&h["range"]),
                    h["contents"]["value"].as_str().unwrap_or("")
                ),
                Err(e) => format!("error: {e}"),
            }
        }
        "definition" | "references" | "highlight" => {
            let (method, mut params) = match feature.as_str() {
                "definition" => ("textDocument/definition", run.doc_position(&case)),
                "references" => ("textDocument/references", run.doc_position(&case)),
                _ => ("textDocument/documentHighlight", run.doc_position(&case)),
            };
            if feature == "references" {
                params["context"] = json!({ "includeDeclaration": case.args.get("include_declaration").is_none_or(|v| v == "true") });
            }
            let r = run.client.request(method, params).unwrap_or(Value::Null);
            let mut out = String::new();
            for l in r.as_array().into_iter().flatten() {
                if feature == "highlight" {
                    let line = l["range"]["start"]["line"].as_u64().unwrap_or(0);
                    out.push_str(&format!(
                        "{} {}  | {}\n",
                        range(&l["range"]),
                        if l["kind"] == 3 { "write" } else { "read" },
                        run.line_at(&run.name, line)
                    ));
                } else {
                    out.push_str(&format!("{}\n", run.location(l)));
                }
            }
            if out.is_empty() {
                out.push_str("(nothing)\n");
            }
            out
        }
        "rename" => {
            let mut out = String::new();
            match run
                .client
                .request("textDocument/prepareRename", run.doc_position(&case))
            {
                Ok(p) => out.push_str(&format!(
                    "prepare: {} `{}`\n",
                    range(&p["range"]),
                    p["placeholder"].as_str().unwrap_or("")
                )),
                Err(e) => out.push_str(&format!(
                    "prepare refused: {}\n",
                    e["message"].as_str().unwrap_or("")
                )),
            }
            let mut params = run.doc_position(&case);
            params["newName"] = json!(case.args.get("new_name").cloned().unwrap_or_default());
            match run.client.request("textDocument/rename", params) {
                Ok(edit) => {
                    for f in run.apply_workspace_edit(&edit) {
                        out.push_str(&format!("--- {f}\n{}", run.texts[&f]));
                    }
                }
                Err(e) => out.push_str(&format!(
                    "rename refused: {}\n",
                    e["message"].as_str().unwrap_or("")
                )),
            }
            out
        }
        "completion" => {
            let r = run
                .client
                .request("textDocument/completion", run.doc_position(&case))
                .unwrap_or(Value::Null);
            let mut out = String::new();
            for c in r.as_array().into_iter().flatten().take(60) {
                out.push_str(&format!(
                    "{} [{}] {} => {}\n",
                    c["label"].as_str().unwrap_or(""),
                    c["kind"],
                    c["detail"].as_str().unwrap_or(""),
                    c["textEdit"]["newText"].as_str().unwrap_or("")
                ));
            }
            if out.is_empty() {
                out.push_str("(no completions)\n");
            }
            out
        }
        "codeaction" => {
            let mut out = run.diagnostics(&first);
            let all = json!({ "start": { "line": 0, "character": 0 }, "end": { "line": 100000, "character": 0 } });
            let params = json!({
                "textDocument": { "uri": run.uri },
                "range": case.cursor.map_or(all.clone(), |_| { let p = run.position(&case); json!({ "start": p, "end": p }) }),
                "context": { "diagnostics": [] }
            });
            let actions = run
                .client
                .request("textDocument/codeAction", params)
                .unwrap_or(Value::Null);
            let list = actions.as_array().cloned().unwrap_or_default();
            for a in &list {
                out.push_str(&format!(
                    "action: {} (fixes {}){}\n",
                    a["title"].as_str().unwrap_or(""),
                    a["diagnostics"][0]["code"].as_str().unwrap_or(""),
                    if a["isPreferred"] == true {
                        ", preferred"
                    } else {
                        ""
                    }
                ));
            }
            // The preferred action (the one the editor's "fix" key applies), else the first.
            if let Some(a) = list
                .iter()
                .find(|a| a["isPreferred"] == true)
                .or(list.first())
            {
                run.apply_workspace_edit(&a["edit"]);
                let text = run.texts[&run.name].clone();
                run.client.change(&u, 2, &text);
                let after = run
                    .client
                    .settled_diagnostics(&u, 2)
                    .expect("diagnostics after the fix");
                out.push_str(&format!(
                    "--- after `{}`\n{text}--- diagnostics\n",
                    a["title"].as_str().unwrap_or("")
                ));
                out.push_str(&run.diagnostics(&after));
            }
            out
        }
        "inlay" => {
            let params = json!({
                "textDocument": { "uri": run.uri },
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 100000, "character": 0 } }
            });
            let r = run
                .client
                .request("textDocument/inlayHint", params)
                .unwrap_or(Value::Null);
            let mut out = String::new();
            for h in r.as_array().into_iter().flatten() {
                let line = h["position"]["line"].as_u64().unwrap_or(0);
                out.push_str(&format!(
                    "{} {}  | {}\n",
                    pos(&h["position"]),
                    h["label"].as_str().unwrap_or(""),
                    run.line_at(&run.name, line)
                ));
            }
            out
        }
        "semantic" => {
            let r = run
                .client
                .request(
                    "textDocument/semanticTokens/full",
                    json!({ "textDocument": { "uri": run.uri } }),
                )
                .unwrap_or(Value::Null);
            let data: Vec<u64> = r["data"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_u64)
                .collect();
            let types = carbonc_ide::TOKEN_TYPES;
            let text = run.texts[&run.name].clone();
            let lines: Vec<&str> = text.lines().collect();
            let (mut line, mut col) = (0u64, 0u64);
            let mut out = String::new();
            for t in data.chunks(5) {
                line += t[0];
                col = if t[0] == 0 { col + t[1] } else { t[1] };
                let l = lines.get(line as usize).copied().unwrap_or("");
                let a = utf16_to_byte(l, col);
                let b = utf16_to_byte(l, col + t[2]);
                let mods: Vec<&str> = carbonc_ide::TOKEN_MODIFIERS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| t[4] & (1 << i) != 0)
                    .map(|(_, m)| *m)
                    .collect();
                out.push_str(&format!(
                    "{}:{} {:?} {}{}\n",
                    line + 1,
                    col + 1,
                    &l[a..b],
                    types.get(t[3] as usize).copied().unwrap_or("?"),
                    if mods.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", mods.join(","))
                    }
                ));
            }
            out
        }
        "symbols" => {
            let r = run
                .client
                .request(
                    "textDocument/documentSymbol",
                    json!({ "textDocument": { "uri": run.uri } }),
                )
                .unwrap_or(Value::Null);
            fn walk(v: &Value, depth: usize, out: &mut String) {
                for s in v.as_array().into_iter().flatten() {
                    out.push_str(&format!(
                        "{}{} (kind {}) {} {}\n",
                        "  ".repeat(depth),
                        s["name"].as_str().unwrap_or(""),
                        s["kind"],
                        s["detail"].as_str().unwrap_or(""),
                        range(&s["selectionRange"])
                    ));
                    walk(&s["children"], depth + 1, out);
                }
            }
            let mut out = String::new();
            walk(&r, 0, &mut out);
            out
        }
        "wsymbols" => {
            let q = case.args.get("query").cloned().unwrap_or_default();
            let r = run
                .client
                .request("workspace/symbol", json!({ "query": q }))
                .unwrap_or(Value::Null);
            let mut out = String::new();
            for s in r.as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "{} (kind {}) {}\n",
                    s["name"].as_str().unwrap_or(""),
                    s["kind"],
                    run.location(&s["location"])
                ));
            }
            out
        }
        "folding" => {
            let r = run
                .client
                .request(
                    "textDocument/foldingRange",
                    json!({ "textDocument": { "uri": run.uri } }),
                )
                .unwrap_or(Value::Null);
            let mut out = String::new();
            for f in r.as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "{}-{} {}\n",
                    f["startLine"].as_u64().unwrap_or(0) + 1,
                    f["endLine"].as_u64().unwrap_or(0) + 1,
                    f["kind"].as_str().unwrap_or("")
                ));
            }
            out
        }
        "format" => {
            let text = run.texts[&run.name].clone();
            let (method, params) = match case.args.get("range") {
                Some(r) => {
                    let (a, b) = r.split_once('-').expect("range: FIRST-LAST (lines)");
                    let (a, b): (u64, u64) = (a.trim().parse().unwrap(), b.trim().parse().unwrap());
                    (
                        "textDocument/rangeFormatting",
                        json!({ "textDocument": { "uri": run.uri }, "options": { "tabSize": 4, "insertSpaces": true },
                                "range": { "start": { "line": a - 1, "character": 0 }, "end": { "line": b, "character": 0 } } }),
                    )
                }
                None => (
                    "textDocument/formatting",
                    json!({ "textDocument": { "uri": run.uri }, "options": { "tabSize": 4, "insertSpaces": true } }),
                ),
            };
            match run.client.request(method, params) {
                Ok(Value::Null) => "(not formatted)\n".into(),
                Ok(edits) => apply_edits(&text, edits.as_array().map_or(&[][..], |v| v)),
                Err(e) => format!("error: {e}\n"),
            }
        }
        other => panic!("{name}: unknown feature `{other}`"),
    };
    assert!(run.client.alive(), "{name}: the server died");
    let Run { client, .. } = run;
    assert!(
        client.shutdown(),
        "{name}: the server did not shut down cleanly"
    );
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[test]
fn lsp_cases() {
    let dir = repo().join("tests/lsp");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/lsp exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "carbon"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "the corpus is in tests/lsp");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for case in &cases {
            let name = case.file_stem().unwrap().to_string_lossy().to_string();
            let out = run_case(case);
            insta::assert_snapshot!(name, out);
        }
    });
}
