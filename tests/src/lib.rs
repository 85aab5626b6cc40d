//! Helpers shared by the cross-crate tests.

use carbonc_cli::load::load_program;
use carbonc_diagnostics::{Diagnostic, render_human};
use carbonc_sema::{RootDatabase, check_program};

/// The repository root (tests run with the package directory as working directory).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(
        // At run time: a test binary built from another checkout (the shared target directory) still
        // reads this one.
        &std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    )
    .parent()
    .expect("tests/ has a parent")
    .to_path_buf()
}

/// Checks `path` (relative to the repository root) and returns its diagnostics, each with its
/// fixes, and their rendering, as `carbonc check` shows them.
pub fn check_path(path: &str) -> (Vec<Diagnostic>, String) {
    std::env::set_current_dir(repo_root()).expect("repository root exists");
    let mut db = RootDatabase::default();
    let root = load_program(&mut db, path).unwrap_or_else(|e| panic!("cannot load {path}: {e}"));
    let diags = check_with_fixes(&db, root);
    let source = |p: &str| db.file(p).map(|f| f.text(&db).as_str());
    let rendered = render_human(&diags, &source, false);
    (diags, rendered)
}

/// The diagnostics of the program rooted at `root`, each with its fixes.
pub fn check_with_fixes(db: &RootDatabase, root: carbonc_sema::SourceFile) -> Vec<Diagnostic> {
    check_program(db, root)
        .iter()
        .map(|d| carbonc_ide::with_fixes(db, d))
        .collect()
}

/// Every `.carbon` file directly inside `dir` (relative to the repository root), sorted.
pub fn carbon_files(dir: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(repo_root().join(dir))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".carbon") && n.len() > ".carbon".len())
                .map(|n| format!("{dir}/{n}"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The secret-hash key of the engine fixtures, so their hashes are reproducible.
pub fn fixture_key() -> carbonc_state::SecretKey {
    carbonc_state::SecretKey::from_hex(&"5e".repeat(32)).expect("valid hex")
}

/// The lineage of the engine fixtures' states.
pub const FIXTURE_LINEAGE: &str = "00000000-0000-4000-8000-00000000c0de";

/// A deterministic stand-in for a computed attribute AWS would report.
pub fn fake_computed(addr: &str, ty: &str, region: Option<&str>, attr: &str) -> carbonc_state::Val {
    use carbonc_state::Val;
    let service = ty.split('.').nth(1).unwrap_or("svc");
    match attr {
        "arn" => Val::Str(format!(
            "arn:aws:{service}:{}:123456789012:{addr}",
            region.unwrap_or("")
        )),
        "id" | "key_id" | "zone_id" => Val::Str(format!(
            "{}-{}",
            attr.trim_end_matches("_id"),
            addr.replace(['[', ']', ',', ' ', '.'], "")
        )),
        "public_ip" => Val::Str("198.51.100.7".into()),
        "name_servers" => Val::List(vec![Val::Str("ns-1.example.net".into())]),
        // A Helm release's.
        "revision" => Val::Int(1),
        "status" if ty == "k8s.HelmRelease" => Val::Str("deployed".into()),
        _ => Val::Str(format!("{addr}.{attr}.example.com")),
    }
}

/// What AWS would leave behind after applying `plan` to `prior`: a stand-in provider for the
/// planner's fixtures (engine logic only; nothing here talks to AWS). Computed attributes get
/// deterministic values.
pub fn fake_apply(
    plan: &carbonc_plan::Plan,
    prior: Option<&carbonc_state::State>,
) -> carbonc_state::State {
    use carbonc_plan::Action;
    use carbonc_state::{ResourceState, State, Val};
    let mut state = prior
        .cloned()
        .unwrap_or_else(|| State::new(FIXTURE_LINEAGE.into()));
    state.serial += 1;
    for c in &plan.resource_changes {
        state.resources.retain(|r| r.address != c.address);
        if c.action == Action::Delete {
            continue;
        }
        let attributes: std::collections::BTreeMap<String, Val> = c
            .after
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                let v = if v == Val::Unknown {
                    fake_computed(&c.address, &c.ty, c.region.as_deref(), &k)
                } else {
                    v
                };
                (k, v)
            })
            .collect();
        let id = attributes
            .get("arn")
            .or(attributes.get("id"))
            .and_then(|v| match v {
                Val::Str(s) => Some(s.clone()),
                _ => None,
            });
        state.resources.push(ResourceState {
            address: c.address.clone(),
            ty: c.ty.clone(),
            region: c.region.clone(),
            id,
            status: Default::default(),
            attributes,
            dependencies: c.depends_on.clone(),
            token: None,
        });
    }
    state.outputs = plan
        .output_changes
        .iter()
        .filter_map(|o| Some((o.name.clone(), o.after.clone()?)))
        .filter(|(_, v)| v.is_known())
        .collect();
    state
}

/// Plans the program `root` (relative to the repository root) against `state` with variables
/// from a `name = value` file, using the fixture key.
pub fn plan_fixture(
    root: &str,
    vars_file: Option<&str>,
    state: Option<&carbonc_state::State>,
) -> Result<carbonc_plan::Plan, String> {
    std::env::set_current_dir(repo_root()).expect("repository root exists");
    let mut vars = std::collections::BTreeMap::new();
    if let Some(v) = vars_file {
        let text = std::fs::read_to_string(v).map_err(|e| format!("{v}: {e}"))?;
        for line in text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        {
            let (name, value) = line
                .split_once('=')
                .ok_or_else(|| format!("{v}: `{line}` is not `name = value`"))?;
            vars.insert(
                name.trim().to_string(),
                carbonc_sema::VarValue {
                    source: value.trim().to_string(),
                    origin: v.to_string(),
                    raw: false,
                },
            );
        }
    }
    plan_program(root, vars, state)
}

/// Plans `root` with the given variables against `state`, using the fixture key.
pub fn plan_program(
    root: &str,
    vars: std::collections::BTreeMap<String, carbonc_sema::VarValue>,
    state: Option<&carbonc_state::State>,
) -> Result<carbonc_plan::Plan, String> {
    std::env::set_current_dir(repo_root()).expect("repository root exists");
    let mut db = RootDatabase::default();
    let file = load_program(&mut db, root).map_err(|e| format!("cannot load {root}: {e}"))?;
    db.set_vars(vars);
    let key = fixture_key();
    carbonc_drive::make_plan(
        &mut db,
        carbonc_drive::PlanRequest {
            root: file,
            state,
            key: &key,
        },
    )
    .map_err(|diags| {
        let source = |p: &str| db.file(p).map(|f| f.text(&db).as_str());
        render_human(&diags, &source, false)
    })
}
