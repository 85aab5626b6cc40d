//! `carbonc render`: the network policies' manifests, validated against the Kubernetes OpenAPI
//! schemas of the cluster's version in strict mode (unknown fields refused) by
//! `kubernetes-validate`, installed in the project's venv by `scripts/emulator install`.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::repo;

fn validator() -> PathBuf {
    common::venv().join("bin/kubernetes-validate")
}

/// Runs the strict validator for Kubernetes `version` on `files`: (success, output).
fn validate(version: &str, files: &[PathBuf]) -> (bool, String) {
    let out = Command::new(validator())
        .args(["--strict", "-k", version])
        .args(files)
        .output()
        .expect("kubernetes-validate runs (scripts/emulator install puts it in the venv)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// An empty scratch directory of this test process.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("carbonc-render-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

#[test]
fn rendered_policies_validate_strictly() {
    let dir = scratch("valid");
    let mut rendered = 0;
    for f in [
        "tests/reach/shop.carbon",
        "tests/reach/namespaces.carbon",
        "tests/check/ok/k8s_object_refused.carbon",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_carbonc"))
            .args(["render", f, "--out"])
            .arg(&dir)
            .current_dir(repo())
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{f}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        rendered += stdout
            .lines()
            .filter(|l| l.contains("/networkpolicy-"))
            .count();
    }
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    files.retain(|f| {
        f.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("networkpolicy-")
    });
    files.sort();
    assert_eq!(files.len(), rendered);
    assert!(files.len() >= 10, "{files:?}");
    // The fixtures' clusters run Kubernetes 1.35.
    let (ok, out) = validate("1.35", &files);
    assert!(ok, "{out}");
    assert_eq!(out.matches(" passed ").count(), files.len(), "{out}");

    // The validator is strict: a field NetworkPolicy does not have is refused.
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[0]).expect("read")).expect("JSON");
    doc["spec"]["podSelector"]["matchLabelz"] = serde_json::json!({ "app": "x" });
    let bad = dir.join("bad.json");
    std::fs::write(&bad, doc.to_string()).expect("write");
    let (ok, out) = validate("1.35", &[bad]);
    assert!(!ok && out.contains("matchLabelz"), "{out}");
}

/// A policy whose CIDR is known only after apply is not rendered, and says so.
#[test]
fn a_policy_known_only_after_apply_is_not_rendered() {
    let dir = scratch("unknown");
    let src = dir.join("p.carbon");
    let shop = std::fs::read_to_string(repo().join("tests/reach/shop.carbon")).expect("fixture");
    // The VPC's CIDR from IPAM-like computed attributes: here, the subnet's id stands in for a
    // value AWS decides.
    let text = shop.replace(
        "ingress = []\n        egress = []",
        "ingress = [{ peers = [{ ip_block = { cidr = private[r, \"a\"].id } }] }]\n        egress = []",
    );
    assert_ne!(text, shop);
    std::fs::write(&src, text).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_carbonc"))
        .args(["render"])
        .arg(&src)
        .args(["--out"])
        .arg(dir.join("out"))
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("`deny_all[us-east-1]` is not rendered: it uses a value known only after apply; run `carbonc apply` first"), "{err}");
}

fn python() -> PathBuf {
    validator().with_file_name("python")
}

/// Every release of `tests/helm/services.carbon`, rendered by the real Helm engine with the
/// values `carbonc render` wrote, gives manifests that validate strictly against Kubernetes 1.35;
/// the pods carry the labels `simulate --reach` assumes for them.
#[test]
fn releases_render_through_helm_and_validate_strictly() {
    let dir = scratch("helm");
    let out = Command::new(env!("CARGO_BIN_EXE_carbonc"))
        .args(["render", "tests/helm/services.carbon", "--out"])
        .arg(&dir)
        .current_dir(repo())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    let releases: Vec<PathBuf> = files
        .into_iter()
        .filter(|f| {
            let n = f.file_name().unwrap().to_string_lossy();
            n.starts_with("release-") && !n.ends_with(".values.json")
        })
        .collect();
    assert_eq!(releases.len(), 2, "{releases:?}");
    let reach = Command::new(env!("CARGO_BIN_EXE_carbonc"))
        .args([
            "simulate",
            "--reach",
            "all",
            "--json",
            "tests/helm/services.carbon",
        ])
        .current_dir(repo())
        .output()
        .expect("runs");
    let reach: serde_json::Value = serde_json::from_slice(&reach.stdout).expect("JSON");
    let assumed = &reach["clusters"][0]["services"][0]["labels"];
    for release in &releases {
        let yaml = release.with_extension("yaml");
        let run = Command::new(python())
            .arg(repo().join("tests/helm/render_release.py"))
            .args([release, &yaml])
            .output()
            .expect("the venv's python runs");
        assert!(
            run.status.success(),
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        let (ok, report) = validate("1.35", std::slice::from_ref(&yaml));
        assert!(ok, "{report}");
        assert_eq!(report.matches(" passed ").count(), 3, "{report}");
        let text = std::fs::read_to_string(&yaml).expect("rendered");
        let deployment = text
            .split("---\n")
            .map(|d| serde_yaml::from_str::<serde_json::Value>(d).expect("YAML"))
            .find(|d| d["kind"] == "Deployment")
            .expect("a Deployment");
        let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
        for (k, v) in assumed.as_object().expect("labels") {
            assert_eq!(
                &pod_labels[k], v,
                "the chart's pods lack the label {k} that reachability assumes"
            );
        }
    }
}

/// A value the chart's values.schema.json refuses: `carbonc render` names the release's `values`
/// line and the value, and writes nothing for it; the real Helm engine refuses the same values.
#[test]
fn a_value_the_chart_refuses_is_reported_at_its_source() {
    let dir = scratch("refused");
    let chart = repo().join("examples/charts/api");
    let text = std::fs::read_to_string(repo().join("tests/helm/services.carbon"))
        .expect("fixture")
        .replace(
            "chart = \"../../examples/charts/api\"",
            &format!("chart = \"{}\"", chart.display()),
        )
        .replace("replicaCount = replicas,", "replicaCount = \"two\",");
    let src = dir.join("services.carbon");
    std::fs::write(&src, &text).expect("write");
    let line = text
        .lines()
        .position(|l| l.contains("values = json("))
        .expect("values")
        + 1;
    let out = Command::new(env!("CARGO_BIN_EXE_carbonc"))
        .arg("render")
        .arg(&src)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "{}:{line}:18: the values of `service[us-east-1]` are refused by {}",
            src.display(),
            chart.join("values.schema.json").display()
        )),
        "{err}"
    );
    assert!(
        err.contains("at '/replicaCount': \"two\" is not of type \"integer\""),
        "{err}"
    );
    assert!(
        !dir.join("out").exists(),
        "nothing is written for refused values"
    );

    // The same values, through Helm.
    let release = dir.join("release.json");
    std::fs::write(dir.join("values.json"), r#"{"replicaCount": "two"}"#).expect("write");
    std::fs::write(
        &release,
        serde_json::json!({"name": "api", "namespace": "shop", "chart": chart, "values_file": "values.json"}).to_string(),
    )
    .expect("write");
    let run = Command::new(python())
        .arg(repo().join("tests/helm/render_release.py"))
        .arg(&release)
        .arg(dir.join("out.yaml"))
        .output()
        .expect("the venv's python runs");
    let said = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(
        said.contains("at '/replicaCount': got string, want integer"),
        "{said}"
    );
}
