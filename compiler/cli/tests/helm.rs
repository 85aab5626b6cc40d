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

/// A Kubernetes object (or list) of the ClickHouse fixture's cluster.
fn ch_get(emu: &Emulator, path: &str) -> serde_json::Value {
    emu.python(
        "../kube/kube_get.py",
        &["us-east-1", "carbon-ch-us-east-1", path],
    )
}

fn items(list: &serde_json::Value) -> Vec<serde_json::Value> {
    list["body"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn clickhouse_installs_in_its_zones_on_volumes_under_the_region_key_and_uninstalls() {
    let emu = Emulator::start();
    let d = fixture("clickhouse-apply");
    std::fs::copy(
        repo().join("tests/apply/clickhouse.carbon"),
        d.join("main.carbon"),
    )
    .unwrap();

    // The EBS CSI driver's role may not use the volumes' key: no volume is made, Helm's wait runs
    // out and the install is rolled back, and carbonc says why from the cluster's events.
    let no_key = [
        ("CARBON_VAR_driver_may_use_key", "false"),
        ("CARBON_VAR_wait", "20"),
    ];
    let r = carbonc(
        &d,
        &emu,
        &["apply", "--auto-approve", "main.carbon"],
        &no_key,
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(
            "helm could not install release events/events on EKS cluster carbon-ch-us-east-1"
        ) && r.stderr.contains("analytics[us-east-1].servers"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("the cluster's warnings in namespace events")
            && r.stderr.contains("ProvisioningFailed")
            && r.stderr
                .contains("is not allowed kms:GenerateDataKeyWithoutPlaintext"),
        "{}",
        r.stderr
    );
    let rel = ch_get(&emu, "helm:events/events");
    assert_ne!(rel["code"], 0, "rolled back and uninstalled: {rel}");

    // With the key allowed, the same apply installs it.
    let r = carbonc(&d, &emu, &["apply", "--auto-approve", "main.carbon"], &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let address = "analytics[us-east-1].servers";
    assert_eq!(state_attr(&d, address, "revision"), 1, "{}", r.stdout);
    assert_eq!(state_attr(&d, address, "status"), "deployed");
    let rel = ch_get(&emu, "helm:events/events");
    let manifest = rel["body"]["manifest"].as_str().unwrap_or_default();
    assert!(
        manifest.contains("helm.sh/chart: carbon-clickhouse-1.0.0"),
        "{manifest}"
    );
    // The schema hook ran once the servers were ready.
    let hooks = rel["body"]["hooks"].to_string();
    assert!(
        hooks.contains("events-schema") && hooks.contains("Succeeded"),
        "{hooks}"
    );

    // Each server and Keeper node is ready in the zone the layout gave it.
    let zone_of = |sts: &serde_json::Value| {
        sts["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
            ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
            ["matchExpressions"][0]["values"][0]
            .clone()
    };
    let sets = items(&ch_get(
        &emu,
        "/apis/apps/v1/namespaces/events/statefulsets",
    ));
    let placed: Vec<(String, serde_json::Value, serde_json::Value)> = sets
        .iter()
        .map(|s| {
            (
                s["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                zone_of(s),
                s["status"]["readyReplicas"].clone(),
            )
        })
        .collect();
    let expected = [
        ("events-01-1", "us-east-1a"),
        ("events-01-2", "us-east-1b"),
        ("events-keeper-1", "us-east-1a"),
        ("events-keeper-2", "us-east-1b"),
        ("events-keeper-3", "us-east-1c"),
    ];
    assert_eq!(placed.len(), expected.len(), "{placed:?}");
    for ((name, zone, ready), (want_name, want_zone)) in placed.iter().zip(expected) {
        assert_eq!(
            (name.as_str(), zone.as_str(), ready.as_i64()),
            (want_name, Some(want_zone), Some(1)),
            "{placed:?}"
        );
    }
    // Their pods run on nodes of those zones.
    let nodes = items(&ch_get(&emu, "/api/v1/nodes"));
    let node_zone = |n: &str| {
        nodes
            .iter()
            .find(|x| x["metadata"]["name"] == n)
            .map(|x| x["metadata"]["labels"]["topology.kubernetes.io/zone"].clone())
            .unwrap_or_default()
    };
    for pod in items(&ch_get(&emu, "/api/v1/namespaces/events/pods")) {
        let name = pod["metadata"]["name"].as_str().unwrap_or_default();
        let set = name.trim_end_matches("-0");
        let want = expected.iter().find(|(n, _)| *n == set).map(|(_, z)| *z);
        assert_eq!(
            node_zone(pod["spec"]["nodeName"].as_str().unwrap_or_default()),
            serde_json::json!(want),
            "{pod}"
        );
    }
    // The volumes: gp3, encrypted with the region's key (by ARN), made in the pod's zone.
    let key_arn = state_attr(&d, "data[us-east-1]", "arn");
    let sc = ch_get(
        &emu,
        "/apis/storage.k8s.io/v1/storageclasses/events-events-gp3",
    );
    assert_eq!(sc["body"]["provisioner"], "ebs.csi.aws.com", "{sc}");
    assert_eq!(sc["body"]["parameters"]["type"], "gp3", "{sc}");
    assert_eq!(sc["body"]["parameters"]["encrypted"], "true", "{sc}");
    assert_eq!(sc["body"]["parameters"]["kmsKeyId"], key_arn, "{sc}");
    assert_eq!(
        sc["body"]["volumeBindingMode"], "WaitForFirstConsumer",
        "{sc}"
    );
    let claims = items(&ch_get(
        &emu,
        "/api/v1/namespaces/events/persistentvolumeclaims",
    ));
    assert_eq!(claims.len(), 5, "{claims:?}");
    for c in &claims {
        assert_eq!(c["status"]["phase"], "Bound", "{c}");
        assert_eq!(c["spec"]["storageClassName"], "events-events-gp3", "{c}");
    }
    assert_eq!(
        claims[0]["spec"]["resources"]["requests"]["storage"], "50Gi",
        "{claims:?}"
    );
    // The generated configuration reached the servers: every replica in remote_servers.
    let cm = ch_get(&emu, "/api/v1/namespaces/events/configmaps/events-config");
    let remote = cm["body"]["data"]["remote_servers.xml"]
        .as_str()
        .unwrap_or_default();
    for host in [
        "events-01-1.events.svc.cluster.local",
        "events-01-2.events.svc.cluster.local",
    ] {
        assert!(remote.contains(host), "{remote}");
    }
    assert!(
        cm["body"]["data"]["schema.sql"]
            .as_str()
            .unwrap_or_default()
            .contains("ReplicatedMergeTree"),
        "{cm}"
    );
    let r = carbonc(
        &d,
        &emu,
        &["plan", "--detailed-exitcode", "main.carbon"],
        &[],
    );
    assert_eq!(r.code, 0, "the second plan has changes:\n{}", r.stdout);

    // Destroy uninstalls it (its claims go with their StatefulSets) before the cluster goes.
    let r = carbonc(&d, &emu, &["destroy", "--auto-approve", "main.carbon"], &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let uninstalled = r
        .stdout
        .find("analytics[us-east-1].servers: Destruction complete")
        .expect("the release is uninstalled");
    let cluster_gone = r
        .stdout
        .find("api[us-east-1]: Destruction complete")
        .expect("the cluster is deleted");
    assert!(uninstalled < cluster_gone, "{}", r.stdout);
    assert_eq!(
        emu.inventory()["eks_clusters@us-east-1"],
        serde_json::json!([])
    );
    emu.assert_valid_requests();
}
