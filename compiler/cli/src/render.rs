//! `carbonc render FILE --out DIR`: the manifests of the program's Kubernetes objects, one JSON
//! file per object under `DIR/REGION/CLUSTER/NAMESPACE/`, for `kubectl apply -f` until carbonc
//! installs them itself.

use std::path::Path;
use std::process::ExitCode;

use carbonc_cli::load::{config, load_program};
use carbonc_sema::{RootDatabase, check_program, evaluate_program};

use crate::{MessageFormat, report};

/// `out/REGION/CLUSTER/NAMESPACE`: where an in-cluster object's files go (the EKS cluster by its
/// name, or its address when the name is not known).
fn object_dir(
    out: &Path,
    program: &carbonc_sema::Program,
    inst: &carbonc_sema::Instance,
    namespace: &str,
) -> std::path::PathBuf {
    let cluster = match inst.get("cluster").map(carbonc_sema::Value::reveal) {
        Some(carbonc_sema::Value::Ref { addr }) => program
            .instance(addr)
            .and_then(|c| c.get("name")?.as_str().map(str::to_string))
            .unwrap_or_else(|| addr.clone()),
        _ => String::new(),
    };
    out.join(program.region_code(inst.region))
        .join(cluster)
        .join(namespace)
}

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
    let releases: Vec<_> = program.of_type("k8s.HelmRelease").collect();
    if manifests.is_empty() && clickhouse.is_empty() && releases.is_empty() {
        println!(
            "`{file}` declares no Kubernetes network policy, Helm release or ClickHouse cluster: nothing to render."
        );
        return ExitCode::SUCCESS;
    }
    let mut code = ExitCode::SUCCESS;
    for r in releases {
        let at = |field: &str| {
            let span = r.field_span(field);
            let text = db.file(&r.file).map(|f| f.text(&db).as_str()).unwrap_or("");
            let (line, col) = carbonc_diagnostics::LineIndex::new(text).line_col(text, span.start);
            format!("{}:{line}:{col}", r.file)
        };
        let text = |f: &str| {
            r.get(f)
                .and_then(|v| v.reveal().as_str())
                .map(str::to_string)
        };
        let (Some(name), Some(namespace), Some(chart)) =
            (text("name"), text("namespace"), text("chart"))
        else {
            continue;
        };
        let Some(values) = text("values") else {
            report::error(format!(
                "`{}` is not rendered: its values use values known only after apply; run `carbonc apply` first",
                r.address
            ));
            code = ExitCode::from(1);
            continue;
        };
        let checked = match crate::charts::check(r, &chart, &values) {
            Ok(c) => c,
            Err(why) => {
                report::error(format!("{}: `{}`: {why}", at("values"), r.address));
                code = ExitCode::from(1);
                continue;
            }
        };
        if !checked.refusals.is_empty() {
            let schema = checked
                .chart_dir
                .as_ref()
                .map(|d| d.join("values.schema.json").display().to_string())
                .unwrap_or_default();
            for why in &checked.refusals {
                report::error(format!(
                    "{}: the values of `{}` are refused by {schema}, as Helm would refuse the install: {why}",
                    at("values"),
                    r.address
                ));
            }
            code = ExitCode::from(1);
            continue;
        }
        let dir = object_dir(out, program, r, &namespace);
        let release = serde_json::json!({
            "name": name,
            "namespace": namespace,
            "chart": checked.chart_dir.as_ref().map_or(chart.clone(), |d| d.display().to_string()),
            "repository": text("repository"),
            "version": text("version"),
            "values_file": format!("release-{name}.values.json"),
        });
        let files = [
            (format!("release-{name}.json"), release),
            (
                format!("release-{name}.values.json"),
                serde_json::from_str(&values).expect("checked"),
            ),
        ];
        for (f, doc) in files {
            let path = dir.join(f);
            let text = serde_json::to_string_pretty(&doc).expect("JSON") + "\n";
            if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text))
            {
                return fail(format!("cannot write {}: {e}", path.display()));
            }
        }
        println!(
            "{}: {}",
            r.address,
            dir.join(format!("release-{name}.json")).display()
        );
    }
    for ch in clickhouse {
        let Some(layout) = carbonc_sema::clickhouse::layout(ch) else {
            report::error(format!(
                "`{}` is not rendered: its layout uses values known only after apply",
                ch.address
            ));
            code = ExitCode::from(1);
            continue;
        };
        let dir = object_dir(out, program, ch, &layout.namespace)
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
