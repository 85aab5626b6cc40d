//! The standard library: every schema parses and checks clean, and everything is documented
//! (the docs feed editor hover).

use carbonc_sema::{Db, RootDatabase, catalog, check_file};

#[test]
fn prelude_files_check_clean() {
    let db = RootDatabase::default();
    let files = db.workspace().files(&db).clone();
    assert!(files.len() >= 11, "{:?}", files.keys().collect::<Vec<_>>());
    for (path, f) in files {
        let diags = check_file(&db, f);
        assert!(diags.is_empty(), "{path}: {diags:#?}");
    }
}

#[test]
fn every_schema_field_enum_and_record_is_documented() {
    let db = RootDatabase::default();
    let cat = catalog(&db);
    let mut missing = Vec::new();
    for (name, s) in &cat.resources {
        if s.doc.is_none() {
            missing.push(name.clone());
        }
        missing.extend(
            s.fields
                .iter()
                .filter(|f| f.doc.is_none())
                .map(|f| format!("{name}.{}", f.name)),
        );
    }
    for (name, r) in &cat.records {
        missing.extend(
            r.fields
                .iter()
                .filter(|f| f.doc.is_none())
                .map(|f| format!("{name}.{}", f.name)),
        );
    }
    for (name, e) in &cat.enums {
        if e.doc.is_none() {
            missing.push(name.clone());
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:#?}");
}

#[test]
fn seed_resource_types_exist() {
    let db = RootDatabase::default();
    let cat = catalog(&db);
    for t in [
        "aws.ec2.Vpc",
        "aws.ec2.Subnet",
        "aws.ec2.InternetGateway",
        "aws.ec2.NatGateway",
        "aws.ec2.Eip",
        "aws.ec2.RouteTable",
        "aws.ec2.SecurityGroup",
        "aws.iam.Role",
        "aws.iam.RolePolicyAttachment",
        "aws.eks.Cluster",
        "aws.eks.NodeGroup",
        "aws.kms.Key",
        "aws.kms.Alias",
        "aws.rds.GlobalCluster",
        "aws.rds.Cluster",
        "aws.rds.ClusterInstance",
        "aws.rds.SubnetGroup",
        "aws.elasticache.ReplicationGroup",
        "aws.elasticache.GlobalReplicationGroup",
        "aws.elasticache.SubnetGroup",
        "aws.route53.Zone",
        "aws.route53.HealthCheck",
        "aws.route53.Record",
        "aws.acm.Certificate",
        "aws.cloudfront.Distribution",
        "aws.wafv2.IpSet",
        "aws.wafv2.WebAcl",
        "aws.secretsmanager.Secret",
        "aws.secretsmanager.Rotation",
    ] {
        let s = cat
            .resources
            .get(t)
            .unwrap_or_else(|| panic!("missing schema {t}"));
        // Every resource says what identifies it once created.
        assert!(
            s.fields.iter().any(|f| f.computed)
                || s.lookup
                || t.ends_with("Attachment")
                || t.ends_with("Rotation"),
            "{t} has no computed field"
        );
    }
    // Forced replacement and computed fields are marked.
    let vpc = &cat.resources["aws.ec2.Vpc"];
    assert!(vpc.field("cidr_block").is_some_and(|f| f.forces_new));
    assert!(vpc.field("id").is_some_and(|f| f.computed));
}

/// Every schema generated from the pinned CloudFormation schemas (`scripts/gen-schemas`) parses
/// and checks like a hand-written one, and together they declare every type the generator did
/// not skip (`stdlib/generated/index.json`).
#[test]
fn every_generated_schema_parses_and_checks() {
    let mut db = RootDatabase::default();
    let files: Vec<_> = carbonc_stdlib::GENERATED
        .iter()
        .map(|(path, text)| db.set_file(&format!("std/{path}"), text.to_string()))
        .collect();
    assert!(files.len() > 300, "{} generated namespaces", files.len());
    let mut problems = Vec::new();
    for f in files {
        let diags = check_file(&db, f);
        problems.extend(
            diags
                .iter()
                .take(3)
                .map(|d| format!("{}: {}: {}", f.path(&db), d.code, d.title)),
        );
    }
    assert!(problems.is_empty(), "{problems:#?}");
    for (path, _) in carbonc_stdlib::GENERATED {
        let ns = carbonc_stdlib::prelude_namespace(&format!("std/{path}")).unwrap();
        let p = carbonc_sema::generated_problems(&ns);
        assert!(p.is_empty(), "{ns}: {p:#?}");
    }
    let index: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib/generated/index.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let cat = catalog(&db);
    let generated = index["types"].as_object().unwrap();
    assert!(generated.len() > 1800, "{}", generated.len());
    for name in generated.keys() {
        assert!(cat.resources.contains_key(name), "{name} is not declared");
    }
}

/// A program reads only the generated namespaces it names: a program of hand-written types has
/// none in its catalog, and naming `aws.sqs.Queue` brings in `aws.sqs` alone.
#[test]
fn generated_namespaces_are_read_only_when_named() {
    let mut db = RootDatabase::default();
    let main = db.set_file(
        "main.carbon",
        "region use1 { code = \"us-east-1\", role = .primary, maintenance = \"sun:05:00-sun:06:00\" }\nresource aws.kms.Key k @ use1 { description = \"k\" }\n"
            .into(),
    );
    assert!(check_file(&db, main).is_empty());
    assert!(!catalog(&db).resources.contains_key("aws.sqs.Queue"));
    assert!(carbonc_sema::referenced_generated(&db).is_empty());
    let main = db.set_file(
        "main.carbon",
        "region use1 { code = \"us-east-1\", role = .primary, maintenance = \"sun:05:00-sun:06:00\" }\n\
         resource aws.sqs.Queue q @ use1 { queue_name = \"orders\", delay_seconds = 5 }\n"
            .into(),
    );
    let diags = check_file(&db, main);
    assert!(diags.is_empty(), "{diags:#?}");
    assert_eq!(
        carbonc_sema::referenced_generated(&db)
            .iter()
            .collect::<Vec<_>>(),
        ["aws.sqs"]
    );
    assert!(catalog(&db).resources.contains_key("aws.sqs.Queue"));
    assert!(!catalog(&db).resources.contains_key("aws.sns.TopicPolicy"));
    // A generated type is checked like any other: an unknown field and a computed one.
    db.set_file(
        "main.carbon",
        "region use1 { code = \"us-east-1\", role = .primary, maintenance = \"sun:05:00-sun:06:00\" }\n\
         resource aws.sqs.Queue q @ use1 { queue_nam = \"orders\", arn = \"x\" }\n"
            .into(),
    );
    let diags = check_file(&db, main);
    let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
    assert!(
        codes.contains(&"E0104") && codes.contains(&"E0106"),
        "{diags:#?}"
    );
}
