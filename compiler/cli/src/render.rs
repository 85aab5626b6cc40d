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
    let program = evaluate_program(&db, root);
    let manifests = carbonc_sema::manifest::manifests(program);
    let clickhouse: Vec<_> = program.of_type("k8s.ClickHouseCluster").collect();
    if manifests.is_empty() && clickhouse.is_empty() {
        println!(
            "`{file}` declares no Kubernetes network policy or ClickHouse cluster: nothing to render."
        );
        return ExitCode::SUCCESS;
    }
    let mut code = ExitCode::SUCCESS;
    for ch in clickhouse {
        let Some(layout) = carbonc_sema::clickhouse::Layout::of(ch) else {
            report::error(format!(
                "`{}` is not rendered: its layout uses values known only after apply",
                ch.address
            ));
            code = ExitCode::from(1);
            continue;
        };
        let cluster = match ch.get("cluster").map(carbonc_sema::Value::reveal) {
            Some(carbonc_sema::Value::Ref { addr }) => program
                .instance(addr)
                .and_then(|c| c.get("name")?.as_str().map(str::to_string))
                .unwrap_or_else(|| addr.clone()),
            _ => String::new(),
        };
        let dir = out
            .join(program.region_code(ch.region))
            .join(cluster)
            .join(&layout.namespace)
            .join(format!("clickhouse-{}", layout.name));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return fail(format!("cannot write {}: {e}", dir.display()));
        }
        for (name, text) in layout.files() {
            let path = dir.join(name);
            if let Err(e) = std::fs::write(&path, text) {
                return fail(format!("cannot write {}: {e}", path.display()));
            }
        }
        println!("{}: {}", ch.address, dir.display());
    }
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
