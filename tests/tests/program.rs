//! The seed footprint evaluates into the instances it describes.

use std::collections::BTreeMap;

use carbonc_cli::load::load_program;
use carbonc_sema::{RootDatabase, Value, evaluate_program};

fn program() -> carbonc_sema::Program {
    std::env::set_current_dir(carbonc_tests::repo_root()).expect("repo root");
    let mut db = RootDatabase::default();
    let root = load_program(&mut db, "examples/global.carbon").expect("loads");
    evaluate_program(&db, root).clone()
}

#[test]
fn global_footprint_expands_per_region() {
    let p = program();
    assert!(p.diags.is_empty(), "{:#?}", p.diags);
    let codes: Vec<&str> = p.regions.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["us-east-1", "eu-west-1", "ap-southeast-1"]);
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for i in &p.instances {
        *by_type.entry(i.ty.as_str()).or_default() += 1;
    }
    let count = |t: &str| by_type.get(t).copied().unwrap_or(0);
    assert_eq!(count("aws.eks.Cluster"), 3);
    assert_eq!(count("aws.eks.NodeGroup"), 6);
    assert_eq!(count("aws.ec2.Subnet"), 18);
    assert_eq!(count("aws.rds.Cluster"), 3);
    assert_eq!(count("aws.rds.ClusterInstance"), 4);
    assert_eq!(count("aws.elasticache.ReplicationGroup"), 3);
    assert_eq!(count("aws.route53.Record"), 4);
    assert_eq!(count("aws.iam.RolePolicyAttachment"), 6);
    // Each cluster's add-ons (VPC CNI, CoreDNS, kube-proxy, Pod Identity agent, EBS CSI driver),
    // the EBS CSI driver's and ClickHouse's Pod Identity roles, and the CI deployer's cluster
    // admin access.
    assert_eq!(count("aws.eks.Addon"), 15);
    assert_eq!(count("aws.eks.PodIdentityAssociation"), 6);
    assert_eq!(count("aws.eks.AccessEntry"), 3);
    assert_eq!(count("aws.eks.AccessPolicyAssociation"), 3);
    assert_eq!(count("aws.cloudfront.Distribution"), 1);
    // Every region's API probed from the two others, and the edge from each region.
    assert_eq!(count("aws.synthetics.Canary"), 9);
    // The canaries' artifact buckets and ClickHouse's backup buckets, one each per region.
    assert_eq!(count("aws.s3.Bucket"), 6);
    // Per region: the API, ClickHouse, and the two network policies of each.
    assert_eq!(count("k8s.HelmRelease"), 3);
    assert_eq!(count("k8s.ClickHouseCluster"), 3);
    assert_eq!(count("k8s.NetworkPolicy"), 12);
}

#[test]
fn addresses_placement_and_computed_values() {
    let p = program();
    let gpu = p
        .instance("api[eu-west-1].gpu")
        .expect("module instance address");
    assert_eq!(p.region_code(gpu.region), "eu-west-1");
    assert_eq!(
        gpu.get("ami_type").and_then(Value::variant),
        Some("AL2023_x86_64_NVIDIA")
    );
    // A reference flows in as a reference to the same region's cluster.
    assert_eq!(
        gpu.get("cluster"),
        Some(&Value::Ref {
            addr: "api[eu-west-1].main".into()
        })
    );
    // Values known after apply stay unknown and remember their region.
    let ep = &p
        .outputs
        .iter()
        .find(|(n, _)| n == "api_endpoints")
        .expect("output")
        .1;
    let Value::List(eps) = ep else {
        panic!("{ep:?}")
    };
    assert_eq!(eps.len(), 3);
    assert!(
        matches!(
            &eps[1],
            Value::Unknown {
                region: Some(1),
                ..
            }
        ),
        "{:?}",
        eps[1]
    );
    // cidrsubnet arithmetic per region.
    let vpc = p.instance("vpc[ap-southeast-1]").expect("vpc");
    assert_eq!(
        vpc.get("cidr_block").and_then(Value::as_str),
        Some("10.2.0.0/16")
    );
    let sub = p.instance("private[eu-west-1, b]").expect("subnet");
    assert_eq!(
        sub.get("cidr_block").and_then(Value::as_str),
        Some("10.1.1.0/24")
    );
    // Secrets stay wrapped (or unknown, when the parameter has no value yet).
    let writer = p.instance("db_primary[us-east-1].cluster").expect("writer");
    assert!(matches!(
        writer.get("master_password"),
        Some(Value::Unknown { .. } | Value::Secret(_))
    ));
    let secondary = p
        .instance("db_secondary[eu-west-1].cluster")
        .expect("secondary");
    assert_eq!(secondary.get("master_password"), None);
}

#[test]
fn language_features_expand_as_documented() {
    std::env::set_current_dir(carbonc_tests::repo_root()).expect("repo root");
    let mut db = RootDatabase::default();
    let root = load_program(&mut db, "tests/check/ok/language_features.carbon").expect("loads");
    let p = evaluate_program(&db, root).clone();
    assert!(p.diags.is_empty(), "{:#?}", p.diags);
    let mut addrs: Vec<&str> = p.instances.iter().map(|i| i.address.as_str()).collect();
    addrs.sort();
    assert_eq!(
        addrs,
        [
            "large_tier",
            "lib.a.net.vpc",
            "lib.b.net.vpc",
            "signing[0]",
            "signing[1]",
            "team_key[data]",
            "team_key[web]"
        ]
    );
    let data = p.instance("team_key[data]").expect("map loop instance");
    assert_eq!(
        data.get("description").and_then(Value::as_str),
        Some("analytics-prod")
    );
    let signing = p.instance("signing[1]").expect("signing key");
    assert_eq!(
        signing.get("key_spec").and_then(Value::variant),
        Some("RSA_2048")
    );
    assert_eq!(
        signing.get("key_usage").and_then(Value::variant),
        Some("SIGN_VERIFY")
    );
    let large = p
        .instance("large_tier")
        .expect("conditional on a user enum parameter");
    assert_eq!(
        large.get("description").and_then(Value::as_str),
        Some("only for the large tier: large")
    );
}

/// The orderings AWS needs beyond references (`compiler/sema/src/ordering.rs`), on the footprint:
/// EKS waits for its roles' policy attachments, an Aurora secondary for the primary's instances,
/// a NAT gateway for its VPC's internet gateway.
#[test]
fn aws_orderings_are_edges_of_the_graph() {
    std::env::set_current_dir(carbonc_tests::repo_root()).expect("repo root");
    let mut db = RootDatabase::default();
    let root = load_program(&mut db, "examples/global.carbon").expect("loads");
    let p = evaluate_program(&db, root).clone();
    let g = carbonc_sema::resource_graph(&db, root);
    let idx = |addr: &str| {
        p.instances
            .iter()
            .position(|i| i.address == addr)
            .unwrap_or_else(|| panic!("no {addr}"))
    };
    let waits = |who: &str, on: &str| g.deps[idx(who)].contains(&idx(on));
    for policy in ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy"] {
        let attachment = p
            .instances
            .iter()
            .find(|i| {
                i.ty == "aws.iam.RolePolicyAttachment"
                    && i.get("policy_arn")
                        .map(|v| format!("{v:?}"))
                        .unwrap_or_default()
                        .contains(policy)
            })
            .expect("an attachment")
            .address
            .clone();
        assert!(waits("api[eu-west-1].general", &attachment), "{attachment}");
        assert!(
            !waits("api[eu-west-1].main", &attachment),
            "the cluster's role is another"
        );
    }
    assert!(waits("api[eu-west-1].main", "eks_cluster_policy"));
    assert!(waits(
        "db_secondary[eu-west-1].cluster",
        "db_primary[us-east-1].instance[0]"
    ));
    assert!(waits(
        "db_secondary[ap-southeast-1].cluster",
        "db_primary[us-east-1].cluster"
    ));
    assert!(!waits(
        "db_primary[us-east-1].cluster",
        "db_secondary[eu-west-1].cluster"
    ));
    let nat = p
        .instances
        .iter()
        .find(|i| i.ty == "aws.ec2.NatGateway" && i.address.starts_with("nat[eu-west-1"))
        .expect("a NAT gateway")
        .address
        .clone();
    assert!(waits(&nat, "igw[eu-west-1]"), "{nat}");
}

/// User enums and records of an imported file, written as types of a parameter and a `let` and
/// read in a field: the evaluator lowers the written types through the checker's own name
/// resolution (`carbonc_sema::type_names`), so a default of the record (`size = .large`) and a
/// variant's wire value (`"L"`) come from the same declarations the checker saw.
#[test]
fn user_types_of_an_imported_file_evaluate_as_the_checker_resolves_them() {
    let mut db = RootDatabase::default();
    db.set_file(
        "lib.carbon",
        "enum Size { small, large = \"L\" }\nrecord Sizing {\n    size: Size = .large,\n    count: Int = 2\n}\n".into(),
    );
    let root = db.set_file(
        "main.carbon",
        "import \"lib.carbon\" as lib\nregion use1 {\n    code = \"us-east-1\"\n    role = .primary\n}\nparam size: lib.Size = .large\nlet sizing: lib.Sizing = { count = 3 }\nresource aws.kms.Key k @ use1 {\n    description = \"${size}-${sizing.count}-${sizing.size}\"\n}\n".into(),
    );
    assert!(carbonc_sema::check_program(&db, root).is_empty());
    let p = evaluate_program(&db, root);
    assert_eq!(
        p.instance("k")
            .and_then(|k| k.get("description"))
            .and_then(Value::as_str),
        Some("L-3-L")
    );
}

/// Two declarations of one name are an error (E0102); the editor still evaluates the program
/// (hover, inlay hints), and a reference then means the first declaration, as the checker, go to
/// definition and hover say: the evaluator names its frames from the checker's declarations.
#[test]
fn with_a_duplicate_name_a_reference_means_the_first_declaration() {
    let mut db = RootDatabase::default();
    let root = db.set_file(
        "main.carbon",
        "region use1 {\n    code = \"us-east-1\"\n    role = .primary\n}\nresource aws.kms.Key k @ use1 {\n    description = \"first\"\n}\nfor r in regions {\n    resource aws.kms.Key k @ r {\n        description = \"second\"\n    }\n}\nresource aws.kms.Alias a @ use1 {\n    name = \"alias/x\"\n    target_key = k\n}\n".into(),
    );
    let codes: Vec<&str> = carbonc_sema::check_program(&db, root)
        .iter()
        .map(|d| d.code)
        .collect();
    assert!(codes.contains(&"E0102"), "{codes:?}");
    let p = evaluate_program(&db, root);
    let target = p.instance("a").and_then(|a| a.get("target_key"));
    assert!(
        matches!(target, Some(Value::Ref { addr, .. }) if addr == "k"),
        "{target:?}"
    );
}

/// Found by `carbonc-fuzz fuzz`: lets of an imported file that read each other (or themselves),
/// read from the root. Imported values are a query per `let`; the lets of one file are evaluated
/// together, so the cycle is an error of the program, not a cycle of queries (which panicked).
#[test]
fn imported_lets_that_read_each_other_are_an_error_not_a_panic() {
    for lib in [
        "let a = b\nlet b = a\n",
        "let a = \"x-${a}\"\n",
        "let a = [b]\nlet b = length(a)\n",
    ] {
        let mut db = RootDatabase::default();
        db.set_file("lib.carbon", lib.into());
        let root = db.set_file(
            "main.carbon",
            "import \"lib.carbon\" as lib\nregion use1 {\n    code = \"us-east-1\"\n    role = .primary\n}\nresource aws.kms.Key k @ use1 {\n    description = \"${lib.a}\"\n}\n".into(),
        );
        let _ = carbonc_sema::check_program(&db, root);
        let p = evaluate_program(&db, root);
        assert!(
            p.instance("k").is_some(),
            "{lib}: the instance is still there"
        );
    }
}
