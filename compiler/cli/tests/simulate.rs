//! `carbonc simulate`: fixtures under `tests/simulate/` are programs where a region *is* a single
//! point of failure (or maintenance overlaps); each snapshot shows what `carbonc check` reports and
//! what `carbonc simulate` prints (matrix and JSON), exactly as a user sees them.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(
        // At run time: a test binary built from another checkout (the shared target directory) still
        // reads this one.
        &std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..")
    .canonicalize()
    .expect("repo")
}

fn carbonc(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_carbonc"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn fixtures_match_snapshots() {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("tests/simulate"))
        .expect("fixtures")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".carbon"))
        .collect();
    files.sort();
    assert!(files.len() >= 4);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo().join("tests/simulate/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for f in &files {
            let path = format!("tests/simulate/{f}");
            let (_, _, check) = carbonc(&["check", &path]);
            let (code, matrix, _) = carbonc(&["simulate", &path]);
            let (_, json, _) = carbonc(&["simulate", "--json", &path]);
            let doc: serde_json::Value = serde_json::from_str(&json).expect("JSON");
            let spofs = doc["single_points_of_failure"].as_array().expect("list").len();
            assert_eq!(code == 0, spofs == 0, "{f}: exit code {code} with {spofs} single points of failure");
            let name = f.trim_end_matches(".carbon");
            insta::assert_snapshot!(name, format!("$ carbonc check {path}\n{check}\n$ carbonc simulate {path}   # exit {code}\n{matrix}\n$ carbonc simulate --json {path}\n{json}"));
        }
    });
}

#[test]
fn the_footprint_survives_any_single_region() {
    let (code, matrix, _) = carbonc(&["simulate", "examples/global.carbon"]);
    assert_eq!(code, 0, "{matrix}");
    assert!(matrix.contains("No single region is a single point of failure."));
    let (code, text, _) = carbonc(&["simulate", "examples/global.carbon", "--fail", "us-east-1"]);
    assert_eq!(code, 0);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo().join("tests/simulate/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::assert_snapshot!("global-matrix", matrix);
        insta::assert_snapshot!("global-fail-us-east-1", text.clone());
    });
    for expected in [
        "fails over from origin use1 in us-east-1 (use1) to origin euw1 in eu-west-1 (euw1)",
        "reads continue on the secondaries in eu-west-1, ap-southeast-1",
        "FailoverGlobalCluster",
        "no automatic cross-region failover",
        "latency routing to eu-west-1, ap-southeast-1; health checks take us-east-1 out",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
}

#[test]
fn scenarios_services_pictures_and_errors() {
    let (code, text, _) = carbonc(&["simulate", "examples/global.carbon", "--fail", "use1,euw1"]);
    assert_eq!(code, 1, "losing both origin regions takes CloudFront down");
    assert!(
        text.contains("✗ edge (CloudFront distribution): DOWN"),
        "{text}"
    );
    let (code, text, _) = carbonc(&[
        "simulate",
        "examples/global.carbon",
        "--fail-service",
        "eks@eu-west-1",
    ]);
    assert_eq!(code, 0);
    assert!(text.contains("health checks take eu-west-1 out"), "{text}");
    let (code, svg, err) = carbonc(&[
        "simulate",
        "examples/global.carbon",
        "--fail",
        "us-east-1",
        "--format",
        "svg",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        svg.contains("<svg") && svg.contains("FAILED"),
        "the failed region is marked"
    );
    assert!(
        svg.contains("#2e8b2e") && svg.contains("#b22222"),
        "surviving and broken paths are coloured"
    );
    let (code, _, err) = carbonc(&["simulate", "examples/global.carbon", "--fail", "mars-1"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("`mars-1` is not a region of this program")
            && err.contains("us-east-1 (use1)"),
        "{err}"
    );
    let (code, _, err) = carbonc(&["simulate", "examples/global.carbon", "--format", "svg"]);
    assert_eq!(code, 1);
    assert!(err.contains("--fail"), "{err}");
    let (code, _, err) = carbonc(&[
        "simulate",
        "examples/global.carbon",
        "--fail-service",
        "lambda@us-east-1",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("the program uses no service `lambda`") && err.contains("`eks`"),
        "{err}"
    );
}
