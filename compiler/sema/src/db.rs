//! The salsa database: inputs and the database trait shared by the CLI and the language server.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// One source file. `path` is the name shown to the user: the path as given on the command line
/// (or relative to the importing file), or `std/...` for the embedded standard library.
#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(ref)]
    pub path: String,
    #[returns(ref)]
    pub text: String,
}

/// Every file the loader has brought in, by path, plus the paths it could not read and why.
#[salsa::input(debug)]
pub struct Workspace {
    #[returns(ref)]
    pub files: BTreeMap<String, SourceFile>,
    #[returns(ref)]
    pub unreadable: BTreeMap<String, String>,
}

/// A parameter value given on the command line, in a variables file or in the environment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VarValue {
    /// The text as given.
    pub source: String,
    /// `--var`, `CARBON_VAR_name` or `FILE:LINE`, for messages.
    pub origin: String,
    /// Raw text (from `--var` and the environment): a `String` parameter takes it verbatim, other
    /// types parse it as a carbon literal. Variables files always hold carbon literals.
    pub raw: bool,
}

/// What a plan adds to a program: parameter values, and the computed attributes that the state
/// already knows (`address -> attribute -> value`), so that planning against existing resources
/// does not see "known after apply" where the value is known.
#[salsa::input(debug)]
pub struct ProgramInputs {
    #[returns(ref)]
    pub vars: BTreeMap<String, VarValue>,
    #[returns(ref)]
    pub known: BTreeMap<String, BTreeMap<String, crate::Value>>,
    /// Severity overrides from `carbon.toml`: code -> level (`None` turns the check off).
    #[returns(ref)]
    pub severities: BTreeMap<String, Option<carbonc_diagnostics::Severity>>,
    /// `carbon.toml`'s `[availability] regions`: how many regions must stay available.
    pub regions_available: Option<u32>,
}

#[salsa::db]
pub trait Db: salsa::Database {
    fn workspace(&self) -> Workspace;
    fn inputs(&self) -> ProgramInputs;
    /// Parses the text of the file at `path`. The text decides the result; the database may keep
    /// what it needs to parse the next version of the same file faster.
    fn parse_text(&self, path: &str, text: &str) -> carbonc_syntax::Parse {
        let _ = path;
        carbonc_syntax::parse(text)
    }
}

/// Per file path, the chunks of its last parse ([`carbonc_syntax::ItemCache`]): a file parsed
/// again (edited) re-parses only the chunks the edit touched. A file's first parse keeps nothing
/// but a mark, so a database that parses each file once (the CLI) holds no second copy of its
/// syntax trees; the cache is outside salsa because it never changes a result, only its cost.
#[derive(Clone, Default)]
struct ParseCache(Arc<Mutex<HashMap<String, Option<carbonc_syntax::ItemCache>>>>);

impl ParseCache {
    fn parse(&self, path: &str, text: &str) -> carbonc_syntax::Parse {
        let taken = {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            match map.get_mut(path) {
                None => {
                    map.insert(path.to_string(), None);
                    None
                }
                Some(slot) => Some(slot.take().unwrap_or_default()),
            }
        };
        let Some(mut cache) = taken else {
            return carbonc_syntax::parse(text);
        };
        let parse = carbonc_syntax::parse_reusing(text, &mut cache);
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(path.to_string(), Some(cache));
        parse
    }
}

/// The database used by the CLI, tests and (later) the language server.
#[salsa::db]
#[derive(Clone)]
pub struct RootDatabase {
    storage: salsa::Storage<Self>,
    workspace: Option<Workspace>,
    inputs: Option<ProgramInputs>,
    parses: ParseCache,
}

impl Default for RootDatabase {
    fn default() -> Self {
        RootDatabase::new(None)
    }
}

impl RootDatabase {
    /// `on_event` receives salsa's events; tests use it to see which queries re-ran.
    pub fn new(on_event: Option<Box<dyn Fn(salsa::Event) + Send + Sync + 'static>>) -> Self {
        let mut db = RootDatabase {
            storage: salsa::Storage::new(on_event),
            workspace: None,
            inputs: None,
            parses: ParseCache::default(),
        };
        let mut files = BTreeMap::new();
        for (path, text) in carbonc_stdlib::FILES {
            let path = format!("std/{path}");
            let f = SourceFile::builder(path.clone(), text.to_string())
                .durability(salsa::Durability::HIGH)
                .new(&db);
            files.insert(path, f);
        }
        db.workspace = Some(Workspace::new(&db, files, BTreeMap::new()));
        db.inputs = Some(ProgramInputs::new(
            &db,
            BTreeMap::new(),
            BTreeMap::new(),
            BTreeMap::new(),
            None,
        ));
        db
    }

    /// Sets the parameter values of the root file (for `plan`).
    pub fn set_vars(&mut self, vars: BTreeMap<String, VarValue>) {
        use salsa::Setter;
        let inputs = self.inputs();
        if inputs.vars(self) != &vars {
            inputs.set_vars(self).to(vars);
        }
    }

    /// Sets the severity overrides of `carbon.toml`.
    pub fn set_severities(
        &mut self,
        severities: BTreeMap<String, Option<carbonc_diagnostics::Severity>>,
    ) {
        use salsa::Setter;
        let inputs = self.inputs();
        if inputs.severities(self) != &severities {
            inputs.set_severities(self).to(severities);
        }
    }

    /// Sets everything `carbon.toml` says about the program: severities and availability.
    pub fn set_config(&mut self, config: crate::Config) {
        use salsa::Setter;
        self.set_severities(config.severities);
        let inputs = self.inputs();
        if *inputs.regions_available(self) != config.regions_available {
            inputs
                .set_regions_available(self)
                .to(config.regions_available);
        }
    }

    /// Sets the computed attributes known from the state.
    pub fn set_known(&mut self, known: BTreeMap<String, BTreeMap<String, crate::Value>>) {
        use salsa::Setter;
        let inputs = self.inputs();
        if inputs.known(self) != &known {
            inputs.set_known(self).to(known);
        }
    }

    /// Adds or replaces a file; returns its handle.
    pub fn set_file(&mut self, path: &str, text: String) -> SourceFile {
        use salsa::Setter;
        let ws = self.workspace();
        // Readable now (a file created again after it was reported missing).
        if ws.unreadable(self).contains_key(path) {
            let mut bad = ws.unreadable(self).clone();
            bad.remove(path);
            ws.set_unreadable(self).to(bad);
        }
        if let Some(f) = ws.files(self).get(path).copied() {
            if f.text(self) != &text {
                f.set_text(self).to(text);
            }
            return f;
        }
        let f = SourceFile::new(self, path.to_string(), text);
        let mut files = ws.files(self).clone();
        files.insert(path.to_string(), f);
        ws.set_files(self).to(files);
        f
    }

    /// Forgets a file that no longer exists: importers then report it as missing.
    pub fn remove_file(&mut self, path: &str) {
        use salsa::Setter;
        let ws = self.workspace();
        if ws.files(self).contains_key(path) {
            let mut files = ws.files(self).clone();
            files.remove(path);
            ws.set_files(self).to(files);
        }
    }

    /// Records that `path` could not be read, with a one-line reason.
    pub fn set_unreadable(&mut self, path: &str, reason: String) {
        use salsa::Setter;
        let ws = self.workspace();
        let mut bad = ws.unreadable(self).clone();
        bad.insert(path.to_string(), reason);
        ws.set_unreadable(self).to(bad);
    }

    /// Frees the results that the last revision replaced. Salsa defers this to the next write;
    /// the language server calls it when idle, so that the next edit does not pay for it.
    pub fn collect_garbage(&mut self) {
        salsa::Database::trigger_lru_eviction(self);
    }

    pub fn file(&self, path: &str) -> Option<SourceFile> {
        self.workspace().files(self).get(path).copied()
    }
}

#[salsa::db]
impl salsa::Database for RootDatabase {}

#[salsa::db]
impl Db for RootDatabase {
    fn workspace(&self) -> Workspace {
        self.workspace
            .expect("the workspace is created in RootDatabase::new")
    }

    fn inputs(&self) -> ProgramInputs {
        self.inputs
            .expect("the inputs are created in RootDatabase::new")
    }

    fn parse_text(&self, path: &str, text: &str) -> carbonc_syntax::Parse {
        self.parses.parse(path, text)
    }
}

/// Joins an import path to the importing file's directory, normalising `.` and `..`.
pub fn resolve_import_path(from: &str, import: &str) -> String {
    if let Some(rest) = import.strip_prefix("std/") {
        let rest = rest.trim_end_matches(".carbon");
        return format!("std/{rest}.carbon");
    }
    let mut parts: Vec<&str> = match from.rfind('/') {
        Some(i) if !import.starts_with('/') => from[..i].split('/').collect(),
        _ => Vec::new(),
    };
    if import.starts_with('/') {
        parts.push("");
    }
    for seg in import.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != ".." && !p.is_empty()) {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::{RootDatabase, resolve_import_path};

    #[test]
    fn a_removed_file_is_reported_missing_by_its_importer() {
        let mut db = RootDatabase::default();
        let root = db.set_file("a.carbon", "import \"b.carbon\" as b\nlet x = b.y\n".into());
        db.set_file("b.carbon", "let y = 1\n".into());
        assert!(crate::check_program(&db, root).is_empty());
        db.remove_file("b.carbon");
        let codes: Vec<&str> = crate::check_program(&db, root)
            .iter()
            .map(|d| d.code)
            .collect();
        assert!(codes.contains(&"E1101"), "{codes:?}");
    }

    #[test]
    fn import_paths() {
        assert_eq!(
            resolve_import_path("examples/global.carbon", "modules/eks.carbon"),
            "examples/modules/eks.carbon"
        );
        assert_eq!(
            resolve_import_path("examples/m/a.carbon", "../b.carbon"),
            "examples/b.carbon"
        );
        assert_eq!(resolve_import_path("a.carbon", "./b.carbon"), "b.carbon");
        assert_eq!(
            resolve_import_path("a.carbon", "../b.carbon"),
            "../b.carbon"
        );
        assert_eq!(
            resolve_import_path("x/a.carbon", "std/aurora_global"),
            "std/aurora_global.carbon"
        );
        assert_eq!(
            resolve_import_path("/abs/a.carbon", "b.carbon"),
            "/abs/b.carbon"
        );
    }
}
