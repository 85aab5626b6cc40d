//! `carbonc apply` and `destroy` of Helm releases and network policies on EKS clusters, against
//! the AWS emulator and its Kubernetes API emulator (`tests/emulator/plugins/eks_kubernetes_api.py`: no real API server
//! can run here). Helm is the real Helm v4 engine behind `tests/kube/helm`, a command-line front
//! for the test venv's `helm-python-sdk` (no helm binary can be installed here either).
//!
//! What carbonc did is checked behind its back: the objects through the Kubernetes API with a
//! token of their own (`tests/kube/kube_get.py`), the releases with `helm status`.

use std::path::{Path, PathBuf};

mod common;
use common::*;

/// The fixture with the example's API chart beside it (`charts/api`).
fn helm_fixture(name: &str) -> PathBuf {
    let d = fixture(name);
    std::fs::copy(
        repo().join("tests/apply/helm.carbon"),
        d.join("main.carbon"),
    )
    .unwrap();
    copy_dir(&repo().join("examples/charts/api"), &d.join("charts/api"));
    d
}

/// A Kubernetes object (or list) read through the cluster's API, with a token of the test's own.
fn kube_get(emu: &Emulator, region: &str, path: &str) -> serde_json::Value {
    emu.python(
        "../kube/kube_get.py",
        &[region, &format!("carbon-helm-{region}"), path],
    )
}

/// `helm status` of the API release, through the test front, with a kubeconfig of its own.
fn release(emu: &Emulator, region: &str) -> serde_json::Value {
    emu.python(
        "../kube/kube_get.py",
        &[region, &format!("carbon-helm-{region}"), "helm:api/api"],
    )
}

fn state_attr(dir: &Path, address: &str, name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(".carbon/main.state.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == address)
        .map(|r| r["attributes"][name].clone())
        .unwrap_or_default()
}

/// The API path of a network policy of the `api` namespace.
fn policy(name: &str) -> String {
    format!("/apis/networking.k8s.io/v1/namespaces/api/networkpolicies/{name}")
}

/// The API container of the release's Deployment in `region`.
fn container(emu: &Emulator, region: &str) -> serde_json::Value {
    let d = kube_get(emu, region, "/apis/apps/v1/namespaces/api/deployments/api");
    d["body"]["spec"]["template"]["spec"]["containers"][0].clone()
}

#[test]
fn a_missing_helm_is_one_error_before_any_change() {
    let emu = Emulator::start();
    let d = helm_fixture("helm-missing");
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &[("CARBONC_HELM", "/nonexistent/helm")],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("`/nonexistent/helm` was not found")
            && r.stderr
                .contains("k8s.HelmRelease (`api_service[us-east-1]` and 1 more)")
            && r.stderr.contains("nothing was changed")
            && r.stderr.contains("help: install Helm"),
        "{}",
        r.stderr
    );
    let inv = emu.inventory();
    assert_eq!(
        inv["eks_clusters@us-east-1"],
        serde_json::json!([]),
        "{inv}"
    );
    assert_eq!(inv["any-vpc@us-east-1"], serde_json::json!([]), "{inv}");
}

#[test]
fn releases_install_upgrade_roll_back_and_uninstall_in_two_regions() {
    let emu = Emulator::start();
    let d = helm_fixture("helm-apply");
    // `Emulator` sets CARBONC_HELM to the test front of the real Helm engine.
    let with = |vars: &[(&'static str, &'static str)]| vars.to_vec();
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &with(&[]),
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for region in ["us-east-1", "eu-west-1"] {
        let address = format!("api_service[{region}]");
        assert_eq!(state_attr(&d, &address, "revision"), 1, "{}", r.stdout);
        assert_eq!(state_attr(&d, &address, "status"), "deployed");
        let rel = release(&emu, region);
        assert_eq!(rel["body"]["version"], 1, "{rel}");
        assert_eq!(rel["body"]["info"]["status"], "deployed", "{rel}");
        // The values reached the pods: each region's own names.
        let c = container(&emu, region);
        let env = c["env"].to_string();
        assert!(
            env.contains(&format!(r#"{{"name":"REGION","value":"{region}"}}"#))
                && env.contains(&format!("carbon-helm-{region}")),
            "{c}"
        );
        assert_eq!(c["image"], "public.ecr.aws/nginx/nginx:1.27", "{c}");
        let dep = kube_get(&emu, region, "/apis/apps/v1/namespaces/api/deployments/api");
        assert_eq!(dep["body"]["status"]["availableReplicas"], 2, "{dep}");
    }
    // The network policies, applied server-side: the API's port open to its own VPC.
    for (region, cidr) in [("us-east-1", "10.0.0.0/16"), ("eu-west-1", "10.1.0.0/16")] {
        let np = kube_get(&emu, region, &policy("api-in"));
        let rule = &np["body"]["spec"]["ingress"][0];
        assert_eq!(rule["from"][0]["ipBlock"]["cidr"], cidr, "{np}");
        assert_eq!(
            rule["ports"][0],
            serde_json::json!({ "protocol": "TCP", "port": 8080 }),
            "{np}"
        );
        let deny = kube_get(&emu, region, &policy("default-deny"));
        assert_eq!(
            deny["body"]["spec"]["policyTypes"],
            serde_json::json!(["Ingress", "Egress"]),
            "{deny}"
        );
    }
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &with(&[]),
    );
    assert_eq!(r.code, 0, "the second plan has changes:\n{}", r.stdout);

    // A policy deleted behind carbonc's back is drift: the plan makes it again.
    let gone = kube_get(&emu, "eu-west-1", &format!("DELETE:{}", policy("api-in")));
    assert_eq!(gone["code"], 200, "{gone}");
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &with(&[]),
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("# api_in[eu-west-1] will be created"),
        "{}",
        r.stdout
    );

    // A new image tag and port: one upgrade per region (revision 2), the policy updated in one
    // region and made again in the other.
    let newer = [("CARBON_VAR_tag", "1.28"), ("CARBON_VAR_api_port", "8443")];
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &with(&newer),
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Resources: 1 added, 3 changed, 0 destroyed."),
        "{}",
        r.stdout
    );
    for region in ["us-east-1", "eu-west-1"] {
        assert_eq!(
            state_attr(&d, &format!("api_service[{region}]"), "revision"),
            2
        );
        assert_eq!(
            container(&emu, region)["image"],
            "public.ecr.aws/nginx/nginx:1.28"
        );
        let np = kube_get(&emu, region, &policy("api-in"));
        assert_eq!(
            np["body"]["spec"]["ingress"][0]["ports"][0]["port"], 8443,
            "{np}"
        );
    }

    // Pods that no node can hold (16 CPUs on 2-vCPU nodes) never become ready: Helm's wait runs
    // out, `--atomic` rolls the release back, and the change stays planned.
    let too_big = [
        ("CARBON_VAR_tag", "1.28"),
        ("CARBON_VAR_api_port", "8443"),
        ("CARBON_VAR_cpu", "16"),
        ("CARBON_VAR_wait", "20"),
    ];
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &with(&too_big),
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("helm could not upgrade release api/api on EKS cluster carbon-helm-")
            && r.stderr.contains("api_service["),
        "{}",
        r.stderr
    );
    for region in ["us-east-1", "eu-west-1"] {
        let rel = release(&emu, region);
        assert_eq!(rel["body"]["info"]["status"], "deployed", "{rel}");
        assert!(rel["body"]["version"].as_i64() > Some(2), "{rel}");
        let c = container(&emu, region);
        assert_eq!(
            c["resources"]["requests"]["cpu"], "250m",
            "rolled back: {c}"
        );
        assert_eq!(
            state_attr(&d, &format!("api_service[{region}]"), "revision"),
            2
        );
    }
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &with(&too_big),
    );
    assert_eq!(
        r.code, 2,
        "the failed upgrade is no longer planned:\n{}",
        r.stdout
    );

    // Destroy uninstalls the releases and deletes the policies before their clusters go.
    let r = carbonc(
        &d,
        &emu,
        &["destroy", "--auto-approve", "main.carbon"],
        &with(&newer),
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let uninstalled = r
        .stdout
        .find("api_service[eu-west-1]: Destruction complete")
        .expect("the release is uninstalled");
    let cluster_gone = r
        .stdout
        .find("api[eu-west-1]: Destruction complete")
        .expect("the cluster is deleted");
    assert!(uninstalled < cluster_gone, "{}", r.stdout);
    let policy_gone = r
        .stdout
        .find("api_in[eu-west-1]: Destruction complete")
        .expect("the policy is deleted");
    assert!(policy_gone < cluster_gone, "{}", r.stdout);
    let inv = emu.inventory();
    for region in ["us-east-1", "eu-west-1"] {
        assert_eq!(
            inv[format!("eks_clusters@{region}")],
            serde_json::json!([]),
            "{inv}"
        );
    }
    emu.assert_valid_requests();
}
