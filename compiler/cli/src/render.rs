//! `carbonc render FILE --out DIR`: the manifests of the program's Kubernetes objects, one JSON
//! file per object under `DIR/REGION/CLUSTER/NAMESPACE/`, for `kubectl apply -f` until carbonc
//! installs them itself.

use std::path::Path;
use std::process::ExitCode;

use carbonc_cli::load::{config, load_program};
use carbonc_sema::{RootDatabase, check_program, evaluate_program};

use crate::{MessageFormat, report};

pub fn run(file: &str, out: &Path, message_format: MessageFormat) -> ExitCode {
    let fail = |msg: String| {
        report::error(msg);
        ExitCode::from(1)
    };
    let mut db = RootDatabase::default();
    let root = match load_program(&mut db, file) {
        Ok(r) => r,
        Err(why) => return fail(format!("cannot read `{file}`: {why}")),
    };
    match config(file) {
        Ok(config) => db.set_config(config),
        Err(why) => return fail(why),
    }
    carbonc_sema::warm(&db, root);
    let errors: Vec<_> = check_program(&db, root)
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if !errors.is_empty() {
        report::diagnostics(&db, &errors, message_format);
        return fail(format!("`{file}` has errors: nothing was rendered"));
    }
    let manifests = carbonc_sema::manifest::manifests(evaluate_program(&db, root));
    if manifests.is_empty() {
        println!("`{file}` declares no Kubernetes network policy: nothing to render.");
        return ExitCode::SUCCESS;
    }
    let mut code = ExitCode::SUCCESS;
    for m in &manifests {
        let object = match &m.object {
            Ok(o) => o,
            Err(why) => {
                report::error(format!(
                    "`{}` is not rendered: it uses {why}; run `carbonc apply` first",
                    m.address
                ));
                code = ExitCode::from(1);
                continue;
            }
        };
        let dir = out.join(&m.region).join(&m.cluster).join(&m.namespace);
        let path = dir.join(&m.file);
        let text = serde_json::to_string_pretty(object).expect("JSON") + "\n";
        if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text)) {
            return fail(format!("cannot write {}: {e}", path.display()));
        }
        println!("{}: {}", m.address, path.display());
    }
    code
}
