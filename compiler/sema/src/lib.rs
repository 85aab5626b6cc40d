//! `carbonc-sema`: the salsa database and everything that understands a program: item collection,
//! name resolution, types, evaluation of loops and modules, placement and the AWS domain rules.
//!
//! Architecture invariant: pure. No file system, network or clock: files arrive as salsa inputs
//! ([`SourceFile`]) set by the CLI or the language server, which both ask the same queries. Nothing
//! here depends on the AWS SDK or on LSP types.

mod blame;
mod builtins;
mod callargs;
mod check;
mod cidr;
pub mod clickhouse;
mod config;
mod db;
mod eval;
mod graph;
mod items;
pub mod manifest;
mod ordering;
pub mod reach;
mod regions;
mod rules;
pub mod simulate;
mod suggest;
mod ty;
mod value;
mod warm;

use carbonc_diagnostics::{Diagnostic, Span};

pub use builtins::{NAMES as BUILTIN_NAMES, signature as builtin_signature};
/// The syntax layer, for callers that need the tree of a file (declared parameters, ...).
pub use carbonc_syntax as syntax;
pub use check::compatible;
pub use check::{
    Export, FileIndex, ModuleSig, NameRef, Target, TypeNames, check_file, file_exports, file_index,
    type_names,
};
pub use config::{Config, config_from_toml, severities_from_toml};
pub use db::{
    Db, ProgramInputs, RootDatabase, SourceFile, VarValue, Workspace, resolve_import_path,
};
pub use eval::{
    FieldVal, Fields, Instance, InstanceResolver, Program, RegionInfo, evaluate_program,
};
pub use graph::{ResourceGraph, resource_graph, value_deps};
pub use items::{
    GeneratedNamespace, LIFECYCLE_RECORD, catalog, file_imports, generated_catalog,
    generated_problems, parse_file, referenced_generated, region_names,
};
pub use rules::cloudfront_certificates;
pub use suggest::{closest, removal};
pub use ty::{Catalog, Placement, ResourceSchema, Ty};
pub use value::{Entries, EnumValue, Origin, Path, Value};
pub use warm::{warm, warm_on};

/// Every diagnostic of the program rooted at `root`: syntax, names and types of each file, then
/// placement and domain rules on the evaluated program. Sorted by file and position.
/// The root and every file it imports, directly or not, root first.
pub fn program_files(db: &dyn Db, root: SourceFile) -> Vec<SourceFile> {
    let mut files = vec![root];
    let mut i = 0;
    while i < files.len() {
        for imp in file_imports(db, files[i]) {
            if let Some(f) = db.workspace().files(db).get(&imp.path)
                && !files.contains(f)
            {
                files.push(*f);
            }
        }
        i += 1;
    }
    files
}

/// Whether the program's names and types check without error: only then are it evaluated and
/// the region rules run, so only then can their errors show. (`carbonc check --fix` tells a
/// mistake a fix made from one it uncovered by this.)
pub fn rules_ran(db: &dyn Db, root: SourceFile) -> bool {
    checker_stage(db, root).iter().all(|d| !d.is_error())
}

/// The diagnostics of names, types and declarations, file by file, before evaluation.
fn checker_stage(db: &dyn Db, root: SourceFile) -> Vec<Diagnostic> {
    let files = program_files(db, root);
    let mut out: Vec<Diagnostic> = Vec::new();
    for f in &files {
        out.extend(check_file(db, *f).iter().cloned());
    }
    // Outputs belong to the root file; an imported file's would silently vanish.
    for f in files.iter().skip(1) {
        for it in &parse_file(db, *f).items {
            if let carbonc_syntax::ast::ItemKind::Output { name, .. } = &it.kind {
                out.push(
                    Diagnostic::error(
                        "E0112",
                        "Output in an imported file",
                        carbonc_diagnostics::Label::new(f.path(db), name.span, "this file is imported, not the root"),
                    )
                    .with_help("declare outputs in the root file; read this file's values there as `alias.name`"),
                );
            }
        }
    }
    out
}

#[salsa::tracked(returns(ref))]
pub fn check_program(db: &dyn Db, root: SourceFile) -> Vec<Diagnostic> {
    let mut out = checker_stage(db, root);
    // Evaluation assumes a well-formed program: with syntax or type errors it would only repeat them.
    let levels = db.inputs().severities(db);
    if out.iter().all(|d| !d.is_error()) {
        let program = evaluate_program(db, root);
        let mut per_instance = program.diags.clone();
        per_instance.extend(rules::check(db, root));
        per_instance.extend(graph::cycle_diagnostics(
            program,
            graph::dependency_cycles(db, root),
        ));
        out.extend(merge_repeats(blame::blame(program, per_instance)));
    }
    // Severity overrides (`carbon.toml`): policies and domain rules may be raised, lowered or
    // turned off; syntax, name and type errors may not.
    if !levels.is_empty() {
        out = out
            .into_iter()
            .filter_map(|mut d| match levels.get(d.code) {
                Some(None) if configurable(d.code) => None,
                Some(Some(level)) if configurable(d.code) => {
                    d.severity = *level;
                    Some(d)
                }
                _ => Some(d),
            })
            .collect();
    }
    if out.iter().any(|d| d.code == "E0001") {
        suppress_cascades(db, &program_files(db, root), &mut out);
    }
    out.sort_by(|a, b| {
        (&a.primary.file, a.primary.span, a.code).cmp(&(&b.primary.file, b.primary.span, b.code))
    });
    out.dedup();
    out
}

/// One mistake, one error: a declaration (a resource, a `let`, a region, ...) with a syntax error
/// in it was parsed from a guess, so what the checker says about the rest of it (a field read as
/// another's value, one dropped as missing) follows from the syntax error; only the syntax error
/// is reported. Loops, conditions and modules are not declarations of their own here: a junk line
/// in a loop silences only the declaration it is in.
fn suppress_cascades(db: &dyn Db, files: &[SourceFile], out: &mut Vec<Diagnostic>) {
    fn broken(items: &[carbonc_syntax::ast::Item], errors: &[Span], spans: &mut Vec<Span>) {
        for it in items {
            let nested = it.kind.nested();
            if nested.is_empty() {
                if errors
                    .iter()
                    .any(|e| it.span.start <= e.start && e.start <= it.span.end)
                {
                    spans.push(it.span);
                }
            } else {
                for n in nested {
                    broken(n, errors, spans);
                }
            }
        }
    }
    let mut silenced: Vec<(&str, Vec<Span>)> = Vec::new();
    for f in files {
        let parse = parse_file(db, *f);
        if parse.errors.is_empty() {
            continue;
        }
        let errors: Vec<Span> = parse.errors.iter().map(|e| e.span).collect();
        let mut spans = Vec::new();
        broken(&parse.items, &errors, &mut spans);
        if !spans.is_empty() {
            silenced.push((f.path(db).as_str(), spans));
        }
    }
    if silenced.is_empty() {
        return;
    }
    out.retain(|d| {
        d.code == "E0001"
            || !silenced.iter().any(|(file, spans)| {
                *file == d.primary.file
                    && spans
                        .iter()
                        .any(|s| s.start <= d.primary.span.start && d.primary.span.end <= s.end)
            })
    });
}

/// Evaluation and rule diagnostics come once per instance; a mistake on a line inside a loop or a
/// module would repeat for every iteration. Keep the first and say how many more there are.
fn merge_repeats(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    // Indexed by (code, file, span), so that thousands of distinct diagnostics merge in linear
    // time.
    let mut out: Vec<(Diagnostic, usize)> = Vec::new();
    let mut seen: rustc_hash::FxHashMap<(&'static str, String, carbonc_syntax::Span), usize> =
        rustc_hash::FxHashMap::default();
    for d in diags {
        let key = (d.code, d.primary.file.clone(), d.primary.span);
        match seen.get(&key) {
            Some(&i) => out[i].1 += 1,
            None => {
                seen.insert(key, out.len());
                out.push((d, 0));
            }
        }
    }
    out.into_iter()
        .map(|(mut d, n)| {
            if n > 0 {
                let more =
                    format!("the same mistake repeats in {n} more instance(s) made by this line");
                d.note = Some(match d.note.take() {
                    Some(note) => format!("{note}; {more}"),
                    None => more,
                });
            }
            d
        })
        .collect()
}

/// Whether a diagnostic code may be given another severity in `carbon.toml`: the policies (`P...`),
/// the domain rules (`E0301`-`E0999`) and their warnings (`W...`); not syntax, name, type or file
/// errors.
pub fn configurable(code: &str) -> bool {
    // The domain rules: E0300-E0999 and, after the secret (E10xx) and file (E11xx) errors,
    // E1200 and up (CloudWatch).
    let domain = code
        .strip_prefix('E')
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| (300..1000).contains(&n) || n >= 1200);
    code.starts_with('P') || code.starts_with('W') || domain
}

/// The roots of the workspace's programs: the user files (everything but the embedded standard
/// library) that no other user file imports. The language server asks for the roots of every file
/// it publishes for, after every edit; as a query this runs again only when an import changes.
#[salsa::tracked(returns(ref))]
pub fn workspace_roots(db: &dyn Db, ws: Workspace) -> Vec<SourceFile> {
    let users: Vec<(&String, SourceFile)> = ws
        .files(db)
        .iter()
        .filter(|(p, _)| !p.starts_with("std/"))
        .map(|(p, f)| (p, *f))
        .collect();
    let imported: rustc_hash::FxHashSet<&str> = users
        .iter()
        .flat_map(|(_, f)| file_imports(db, *f).iter().map(|i| i.path.as_str()))
        .collect();
    users
        .into_iter()
        .filter(|(p, _)| !imported.contains(p.as_str()))
        .map(|(_, f)| f)
        .collect()
}

/// `check_program`'s diagnostics grouped by the file of their primary label, each file's in the
/// program's order: what the language server publishes per file, without scanning the whole
/// program's diagnostics once per file.
#[salsa::tracked(returns(ref))]
pub fn diagnostics_by_file(
    db: &dyn Db,
    root: SourceFile,
) -> rustc_hash::FxHashMap<String, Vec<Diagnostic>> {
    let mut out: rustc_hash::FxHashMap<String, Vec<Diagnostic>> = Default::default();
    for d in check_program(db, root) {
        out.entry(d.primary.file.clone())
            .or_default()
            .push(d.clone());
    }
    out
}

/// Brings into the database every file that `from` imports, directly or not, and that the
/// database does not hold yet, reading each with `read`. The walk is the CLI's and the language
/// server's (each passes its own reader: this crate does no IO); a file that cannot be read is
/// recorded with the reason, and the checker reports it at the import.
pub fn load_imports(
    db: &mut RootDatabase,
    from: SourceFile,
    read: impl Fn(&str) -> Result<String, String>,
) {
    let mut todo = vec![from];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(f) = todo.pop() {
        for path in imported_paths(db, f) {
            if path.starts_with("std/") || !seen.insert(path.clone()) || db.file(&path).is_some() {
                continue;
            }
            match read(&path) {
                Ok(text) => todo.push(db.set_file(&path, text)),
                Err(why) => db.set_unreadable(&path, why),
            }
        }
    }
}

/// The paths `root` imports, directly or not, that the loader should bring into the workspace.
pub fn imported_paths(db: &dyn Db, file: SourceFile) -> Vec<String> {
    file_imports(db, file)
        .iter()
        .map(|i| i.path.clone())
        .collect()
}
