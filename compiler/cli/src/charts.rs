//! A Helm release's values against its local chart, as Helm checks them before an install: the
//! chart's defaults (`values.yaml`) coalesced with the release's values (nested maps merged, the
//! release's winning, `null` removing a default), then validated against the chart's
//! `values.schema.json`. A chart is local when `chart` names a directory, relative to the file
//! that declares the release; charts from a repository are not fetched.

use std::path::{Path, PathBuf};

use carbonc_sema::Instance;
use serde_json::Value as Json;

/// What checking a release's values found: its local chart, and each refusal.
pub struct Checked {
    pub chart_dir: Option<PathBuf>,
    /// Each refusal, as `at '/path': message`.
    pub refusals: Vec<String>,
}

/// Helm's coalescing of `values` over `defaults`.
fn coalesce(defaults: &Json, values: &Json) -> Json {
    match (defaults, values) {
        (Json::Object(d), Json::Object(v)) => {
            let mut out = d.clone();
            for (k, x) in v {
                match x {
                    Json::Null => {
                        out.remove(k);
                    }
                    _ => {
                        let merged = match out.get(k) {
                            Some(old) => coalesce(old, x),
                            None => x.clone(),
                        };
                        out.insert(k.clone(), merged);
                    }
                }
            }
            Json::Object(out)
        }
        (_, v) => v.clone(),
    }
}

/// The local chart directory of a release, if `chart` is one.
pub fn local_chart(release: &Instance, chart: &str) -> Option<PathBuf> {
    let base = Path::new(&*release.file).parent().unwrap_or(Path::new("."));
    let dir = base.join(chart);
    dir.join("Chart.yaml")
        .is_file()
        .then(|| dir.canonicalize().unwrap_or(dir))
}

/// The local chart directory of every Helm release of the program that has one, by address (for
/// the provider, which runs `helm` with it).
pub fn local_charts(
    program: &carbonc_sema::Program,
) -> std::collections::BTreeMap<String, PathBuf> {
    program
        .of_type(carbonc_aws::HELM_RELEASE)
        .filter_map(|r| {
            let chart = r.get("chart")?.reveal().as_str()?.to_string();
            Some((r.address.to_string(), local_chart(r, &chart)?))
        })
        .collect()
}

/// Checks `values` (the release's JSON text) against the release's chart.
pub fn check(release: &Instance, chart: &str, values: &str) -> Result<Checked, String> {
    let values: Json =
        serde_json::from_str(values).map_err(|e| format!("its values are not JSON: {e}"))?;
    if !values.is_object() {
        return Err("its values are not a JSON object: build them with `json({ ... })`".into());
    }
    let Some(dir) = local_chart(release, chart) else {
        if chart.starts_with('.') || chart.starts_with('/') {
            let base = Path::new(&*release.file).parent().unwrap_or(Path::new("."));
            return Err(format!(
                "no chart at `{chart}` (no {}): a local chart's path is relative to the file that declares the release",
                base.join(chart).join("Chart.yaml").display()
            ));
        }
        return Ok(Checked {
            chart_dir: None,
            refusals: Vec::new(),
        });
    };
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    let defaults: Json = match read("values.yaml") {
        Some(text) => serde_yaml::from_str::<Json>(&text)
            .map_err(|e| format!("{}: {e}", dir.join("values.yaml").display()))?,
        None => Json::Object(Default::default()),
    };
    let merged = coalesce(&defaults, &values);
    let mut refusals = Vec::new();
    if let Some(text) = read("values.schema.json") {
        let path = dir.join("values.schema.json");
        let schema: Json =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let validator = jsonschema::validator_for(&schema)
            .map_err(|e| format!("{}: not a JSON schema: {e}", path.display()))?;
        for e in validator.iter_errors(&merged) {
            refusals.push(format!("at '{}': {e}", e.instance_path()));
        }
    }
    Ok(Checked {
        chart_dir: Some(dir),
        refusals,
    })
}
