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

/// The footprint's alarms as `simulate` sees them: a region's failure sets off the alarms on what
/// it takes down, in the regions where those metrics are published, and names the topics they
/// notify; us-east-1's failure silences the alarms that live there (Route 53's and CloudFront's
/// metrics exist only in us-east-1) while the secondaries' replication-lag alarms fire.
#[test]
fn the_footprint_alarms_where_its_metrics_are() {
    let (_, out, err) = carbonc(&["simulate", "--fail", "eu-west-1", "examples/global.carbon"]);
    assert!(
        out.contains("! `api_unhealthy[eu-west-1]` (us-east-1) fires: Route 53 finds the endpoint of `api_health[eu-west-1]` in eu-west-1 (euw1) unhealthy; notifies `alerts[us-east-1]`"),
        "{out}{err}"
    );
    assert!(out.contains("lost with the region (CloudWatch there neither evaluates nor notifies, Synthetics runs nothing): `db_replication_lag[eu-west-1]`"), "{out}");
    // The canaries of the two other regions find eu-west-1's API silent, and their alarms page
    // each region's on-call.
    assert!(
        out.contains("! canary `api_probe[us-east-1, eu-west-1]` (us-east-1) fails: its check of the endpoint in eu-west-1 (euw1) gets no answer; its alarms notify `alerts[us-east-1]`"),
        "{out}"
    );
    assert!(
        out.contains("! canary `api_probe[ap-southeast-1, eu-west-1]` (ap-southeast-1) fails"),
        "{out}"
    );
    let (_, out, _) = carbonc(&[
        "simulate",
        "--fail",
        "us-east-1",
        "--json",
        "examples/global.carbon",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let fired: Vec<(&str, &str)> = doc["alarms"]
        .as_array()
        .expect("alarms")
        .iter()
        .map(|a| {
            (
                a["alarm"].as_str().unwrap(),
                a["notifies"][0].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        fired,
        [
            ("db_replication_lag[eu-west-1]", "alerts[eu-west-1]"),
            ("cache_replication_lag[eu-west-1]", "alerts[eu-west-1]"),
            (
                "db_replication_lag[ap-southeast-1]",
                "alerts[ap-southeast-1]"
            ),
            (
                "cache_replication_lag[ap-southeast-1]",
                "alerts[ap-southeast-1]"
            ),
            (
                "api_probe_failed[eu-west-1, us-east-1]",
                "alerts[eu-west-1]"
            ),
            (
                "api_probe_failed[ap-southeast-1, us-east-1]",
                "alerts[ap-southeast-1]"
            ),
        ],
        "{out}"
    );
    assert_eq!(doc["unnoticed"], false);
    assert!(
        doc["silenced_alarms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "api_down"),
        "{out}"
    );
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

/// `simulate --reach all --json FILE` as lines "region: from -> to: ports", and the traffic from
/// and to outside the cluster as "region: outside -> service: whom: ports" and back.
fn reach_matrix(path: &str) -> Vec<String> {
    let (code, out, err) = carbonc(&["simulate", "--reach", "all", "--json", path]);
    assert_eq!(code, 0, "{out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let mut lines = Vec::new();
    for c in doc["clusters"].as_array().expect("clusters") {
        let region = c["region"].as_str().expect("region");
        for a in c["allowed"].as_array().expect("pairs") {
            lines.push(format!(
                "{region}: {} -> {}: {}",
                a["from"].as_str().unwrap(),
                a["to"].as_str().unwrap(),
                a["ports"].as_str().unwrap()
            ));
        }
        for s in c["services"].as_array().expect("services") {
            let name = s["name"].as_str().unwrap();
            for o in s["from_outside"].as_array().unwrap() {
                lines.push(format!(
                    "{region}: outside {} -> {name}: {}",
                    o["whom"].as_str().unwrap(),
                    o["ports"].as_str().unwrap()
                ));
            }
            for o in s["to_outside"].as_array().unwrap() {
                lines.push(format!(
                    "{region}: {name} -> outside {}: {}",
                    o["whom"].as_str().unwrap(),
                    o["ports"].as_str().unwrap()
                ));
            }
        }
    }
    lines
}

/// A default deny both ways in each region, one allowed call and DNS: nothing else gets through,
/// in either region. The matrix is written out by hand from Kubernetes' rules.
#[test]
fn reach_matrix_of_a_default_deny_namespace() {
    let mut expected = Vec::new();
    for r in ["us-east-1", "eu-west-1"] {
        expected.extend([
            format!("{r}: web (shop) -> orders (shop): TCP 9000"),
            format!("{r}: web (shop) -> kube-dns (kube-system): TCP 53, UDP 53"),
            format!("{r}: orders (shop) -> kube-dns (kube-system): TCP 53, UDP 53"),
            format!("{r}: kube-dns (kube-system) -> kube-dns (kube-system): TCP 53, UDP 53"),
        ]);
    }
    assert_eq!(reach_matrix("tests/reach/shop.carbon"), expected);
}

/// Namespace selectors, an IP block over the VPC (which the VPC CNI matches on pod addresses), an
/// egress block whose hole covers the VPC, a port range that the receiver's ingress does not open,
/// and a namespace without policies.
#[test]
fn reach_matrix_across_namespaces_and_ip_blocks() {
    let expected = [
        "us-east-1: gateway (gateway) -> gateway (gateway): TCP 443",
        "us-east-1: gateway (gateway) -> api (shop): TCP 8080",
        "us-east-1: gateway (gateway) -> metrics (monitoring): TCP 9090",
        "us-east-1: gateway (gateway) -> kube-dns (kube-system): TCP 53, UDP 53",
        "us-east-1: api (shop) -> gateway (gateway): TCP 443",
        "us-east-1: api (shop) -> metrics (monitoring): TCP 9090",
        "us-east-1: api (shop) -> kube-dns (kube-system): TCP 53, UDP 53",
        // worker: its egress allows api on 8000-8100, which api's ingress does not open to it, and
        // the internet on 443 but not the VPC: it reaches no pod.
        "us-east-1: metrics (monitoring) -> gateway (gateway): TCP 443",
        "us-east-1: metrics (monitoring) -> api (shop): TCP 8080",
        "us-east-1: metrics (monitoring) -> metrics (monitoring): TCP 9090",
        "us-east-1: metrics (monitoring) -> kube-dns (kube-system): TCP 53, UDP 53",
        "us-east-1: kube-dns (kube-system) -> gateway (gateway): TCP 443",
        "us-east-1: kube-dns (kube-system) -> metrics (monitoring): TCP 9090",
        "us-east-1: kube-dns (kube-system) -> kube-dns (kube-system): TCP 53, UDP 53",
        "us-east-1: outside 10.0.0.0/16 -> gateway: TCP 443",
        "us-east-1: gateway -> outside anywhere: every port",
        "us-east-1: api -> outside anywhere: every port",
        "us-east-1: worker -> outside 0.0.0.0/0: TCP 443",
        "us-east-1: outside anywhere -> metrics: TCP 9090",
        "us-east-1: metrics -> outside anywhere: every port",
    ];
    assert_eq!(reach_matrix("tests/reach/namespaces.carbon"), expected);
    // The worker's missing DNS allow is what `check` warns about.
    let (_, _, check) = carbonc(&["check", "tests/reach/namespaces.carbon"]);
    assert!(
        check.contains("W1301") && check.contains("pods of `worker` (shop) cannot resolve names"),
        "{check}"
    );
}

/// The text report of one service, and a service the program does not have.
#[test]
fn reach_report_of_one_service() {
    let (code, out, err) = carbonc(&["simulate", "--reach", "orders", "tests/reach/shop.carbon"]);
    assert_eq!(code, 0, "{err}");
    let settings = {
        let mut s = insta::Settings::clone_current();
        s.set_snapshot_path(repo().join("tests/reach/snapshots"));
        s.set_prepend_module_to_snapshot(false);
        s
    };
    settings.bind(|| insta::assert_snapshot!("shop-reach-orders", out));
    let (code, _, err) = carbonc(&["simulate", "--reach", "payments", "tests/reach/shop.carbon"]);
    assert_eq!(code, 1);
    assert!(err.contains("`payments` is not a release of this program; its releases are `orders`, `web` (or `all`)"), "{err}");
}
