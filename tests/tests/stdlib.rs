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
