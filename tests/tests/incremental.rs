//! Incrementality: editing the body of one resource re-runs the queries of that file only.

use std::sync::{Arc, Mutex};

use carbonc_sema::{RootDatabase, check_program};

const MAIN: &str = r#"
import "net.carbon" as net
region use1 { code = "us-east-1" role = .primary maintenance = "sun:05:00-sun:06:00" }
region euw1 { code = "eu-west-1" role = .secondary maintenance = "tue:02:00-tue:03:00" }
region apse1 { code = "ap-southeast-1" role = .secondary maintenance = "thu:18:00-thu:19:00" }
for r in regions {
    resource aws.kms.Key key @ r { description = "key in ${r.code}" }
    resource aws.ec2.Vpc app_vpc @ r { cidr_block = cidrsubnet(net.base, 8, 100 + index_of(regions, r)) }
}
"#;

const NET: &str = r#"
let base = "10.0.0.0/8"
for r in regions {
    resource aws.ec2.Vpc vpc @ r { cidr_block = cidrsubnet(base, 8, index_of(regions, r)) }
}
"#;

/// Two of the regions above, for the programs of the later tests.
const TWO_REGIONS: &str = r#"region use1 { code = "us-east-1" role = .primary maintenance = "sun:05:00-sun:06:00" }
region euw1 { code = "eu-west-1" role = .secondary maintenance = "tue:02:00-tue:03:00" }
"#;

type Log = Arc<Mutex<Vec<String>>>;

/// A database that logs salsa's events, and the log.
fn logging_db() -> (RootDatabase, Log) {
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let db = RootDatabase::new(Some(Box::new(move |e: salsa::Event| {
        sink.lock().expect("log").push(format!("{:?}", e.kind))
    })));
    (db, log)
}

/// How many times `query` ran for `file` in `events`.
fn runs(events: &[String], query: &str, file: carbonc_sema::SourceFile) -> usize {
    let id = format!("{:?}", salsa::plumbing::AsId::as_id(&file));
    events
        .iter()
        .filter(|e| e.contains(query) && e.contains(&id))
        .count()
}

/// How many of `events` name `query` (every run of it, whatever its key).
fn count(events: &[String], query: &str) -> usize {
    events.iter().filter(|e| e.contains(query)).count()
}

fn executed(log: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    let mut v: Vec<String> = log
        .lock()
        .expect("log")
        .drain(..)
        .filter(|e| e.contains("WillExecute"))
        .collect();
    v.sort();
    v
}

#[test]
fn editing_a_resource_body_rechecks_only_its_file() {
    let (mut db, log) = logging_db();
    let main = db.set_file("main.carbon", MAIN.into());
    let net = db.set_file("net.carbon", NET.into());
    assert!(check_program(&db, main).is_empty());
    let first = executed(&log);
    assert!(first.iter().any(|e| e.contains("check_file")), "{first:#?}");

    // Edit the body of a resource in main.carbon (changing spans after it, too).
    db.set_file(
        "main.carbon",
        MAIN.replace("key in ${r.code}", "the data key of ${r.code}"),
    );
    assert!(check_program(&db, main).is_empty());
    let second = executed(&log);
    let about = |q: &str, f: carbonc_sema::SourceFile| runs(&second, q, f);
    assert_eq!(
        about("parse_file", net),
        0,
        "net.carbon was re-parsed: {second:#?}"
    );
    assert_eq!(
        about("check_file", net),
        0,
        "net.carbon was re-checked: {second:#?}"
    );
    assert_eq!(
        about("check_file", main),
        1,
        "main.carbon was not re-checked: {second:#?}"
    );
}

#[test]
fn editing_an_imported_body_does_not_recheck_the_importer() {
    let (mut db, log) = logging_db();
    let main = db.set_file("main.carbon", MAIN.into());
    let net = db.set_file("net.carbon", NET.into());
    assert!(check_program(&db, main).is_empty());
    executed(&log);

    // The body of the VPC in net.carbon changes; net.carbon's interface (`base`, `vpc`) does not.
    db.set_file(
        "net.carbon",
        NET.replace("index_of(regions, r)", "index_of(regions, r) + 10"),
    );
    assert!(check_program(&db, main).is_empty());
    let second = executed(&log);
    let about = |q: &str, f: carbonc_sema::SourceFile| runs(&second, q, f);
    assert_eq!(about("check_file", net), 1, "{second:#?}");
    assert_eq!(about("file_exports", net), 1, "{second:#?}");
    assert_eq!(
        about("check_file", main),
        0,
        "main.carbon was re-checked although net.carbon's interface did not change: {second:#?}"
    );
    assert_eq!(about("parse_file", main), 0, "{second:#?}");

    // Changing the interface does re-check the importer.
    db.set_file(
        "net.carbon",
        NET.replace("let base = \"10.0.0.0/8\"", "let base = 10"),
    );
    let diags = check_program(&db, main);
    assert!(
        diags.iter().any(|d| d.code == "E0108" || d.code == "E0201"),
        "{diags:#?}"
    );
    let third = executed(&log);
    assert!(
        third.iter().any(|e| e.contains("check_file")
            && e.contains(&format!("{:?}", salsa::plumbing::AsId::as_id(&main)))),
        "{third:#?}"
    );
}

/// The queries that ran, by name, each once.
fn query_names(events: &[String]) -> Vec<String> {
    let mut names: Vec<String> = events
        .iter()
        .filter_map(|e| {
            let rest = &e[e.find("database_key: ")? + "database_key: ".len()..];
            Some(rest[..rest.find('(')?].to_string())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Pins what one edit of one field re-runs: the edited file is parsed and checked again and its
/// part of the program evaluated again (`file_program`); the other file is neither parsed,
/// checked nor evaluated again, and since no reference changed, the dependency cycles are not
/// looked for again (`dependency_cycles` reads each file's span-free `file_references`). What
/// still re-runs whole (the join and the rules inside `check_program`) is the rest of issue 13
/// (`docs/adr/003-salsa-query-split.md`).
#[test]
fn what_a_one_field_edit_re_runs() {
    let (mut db, log) = logging_db();
    let main = db.set_file("main.carbon", MAIN.into());
    let net = db.set_file("net.carbon", NET.into());
    assert!(check_program(&db, main).is_empty());
    executed(&log);

    db.set_file(
        "main.carbon",
        MAIN.replace("key in ${r.code}", "the data key of ${r.code}"),
    );
    assert!(check_program(&db, main).is_empty());
    let second = executed(&log);
    assert_eq!(
        query_names(&second),
        [
            "check_file",
            "check_program",
            "evaluate_program",
            "family_view",
            // The edited file's scan for generated namespaces: it names none more, so neither
            // their union (`referenced_generated`) nor the catalog runs again.
            "file_generated_namespaces",
            "file_imports",
            "file_program",
            "file_references",
            "ordering_edges",
            "parse_file",
            "policy_diags",
            "program_regions",
            "region_names",
        ],
        "{second:#?}"
    );
    assert!(!second.iter().any(|e| e.contains("catalog")), "{second:#?}");
    // No rule family sees a KMS key here: their views come out equal, no family's rules run.
    assert!(
        !second.iter().any(|e| e.contains("family_diags")),
        "{second:#?}"
    );
    for q in ["parse_file", "check_file"] {
        assert_eq!(runs(&second, q, net), 0, "{q} of net.carbon: {second:#?}");
        assert_eq!(runs(&second, q, main), 1, "{q} of main.carbon: {second:#?}");
    }
    // One part evaluated again: main's (net's part reads nothing of main).
    assert_eq!(count(&second, "file_program"), 1, "{second:#?}");
}

/// An edit of a file another file imports: the importer's part is evaluated again only if it
/// reads what changed. `main.carbon` reads `net.base`, so changing it re-evaluates both parts;
/// changing a VPC's tag in `net.carbon`, which main reads nothing of, re-evaluates net's part
/// only.
#[test]
fn an_importer_is_evaluated_again_only_when_it_reads_the_change() {
    let (mut db, log) = logging_db();
    let main = db.set_file("main.carbon", MAIN.into());
    let net_text = NET.replace(
        "index_of(regions, r)) }",
        "index_of(regions, r)) tags = { team = \"net\" } }",
    );
    db.set_file("net.carbon", net_text.clone());
    assert!(check_program(&db, main).is_empty());
    executed(&log);

    db.set_file(
        "net.carbon",
        net_text.replace("team = \"net\"", "team = \"network\""),
    );
    assert!(check_program(&db, main).is_empty());
    let tag_edit = executed(&log);
    assert_eq!(
        count(&tag_edit, "file_program"),
        1,
        "only net's part: {tag_edit:#?}"
    );

    db.set_file("net.carbon", net_text.replace("10.0.0.0/8", "10.64.0.0/10"));
    assert!(check_program(&db, main).is_empty());
    let let_edit = executed(&log);
    assert_eq!(
        count(&let_edit, "file_program"),
        2,
        "both parts: {let_edit:#?}"
    );
}

/// An edit of a Route53 record runs the Route53 rules again, and no other family's.
#[test]
fn an_edit_runs_only_the_rules_of_the_family_it_touched() {
    let (mut db, log) = logging_db();
    let program = r#"
region use1 { code = "us-east-1" role = .primary maintenance = "sun:05:00-sun:06:00" }
region euw1 { code = "eu-west-1" role = .secondary maintenance = "tue:02:00-tue:03:00" }
region apse1 { code = "ap-southeast-1" role = .secondary maintenance = "thu:18:00-thu:19:00" }
resource aws.route53.Zone zone { name = "example.com" }
resource aws.route53.Record www { zone = zone name = "www.example.com" type = .CNAME records = ["a.example.com"] }
resource aws.eks.Cluster nothing_refers_to_me @ use1 { name = "c" version = "1.35" role = role subnets = [] }
resource aws.iam.Role role { name = "r" assume_role_policy = "{}" }
"#;
    let main = db.set_file("main.carbon", program.into());
    let first = check_program(&db, main).clone();
    // No syntax, name or type error: the evaluation and the rules run.
    assert!(
        first
            .iter()
            .all(|d| !d.is_error() || carbonc_sema::configurable(d.code)),
        "{first:#?}"
    );
    executed(&log);

    db.set_file(
        "main.carbon",
        program.replace("a.example.com", "b.example.com"),
    );
    let _ = check_program(&db, main);
    let second = executed(&log);
    assert_eq!(count(&second, "family_diags"), 1, "one family: {second:#?}");
}

/// A file's part reads another file's instances through that file's skeleton (addresses, types,
/// regions) when it only refers to them: editing a referenced key's description (same length, so
/// nothing moves) evaluates the key's file again and leaves the referring file's part alone.
#[test]
fn a_reference_to_another_files_instance_reads_its_skeleton_not_its_values() {
    let (mut db, log) = logging_db();
    let main = db.set_file(
        "main.carbon",
        [
            "import \"keys.carbon\" as keys\n",
            TWO_REGIONS,
            r#"for r in regions {
    resource aws.secretsmanager.Secret app @ r { name = "app-${r.code}" kms_key = keys.key[r] }
}
resource aws.secretsmanager.Rotation app_rotation @ use1 { secret = app[use1] rotation_lambda_arn = "arn:aws:lambda:us-east-1:123456789012:function:rotate" }
"#,
        ]
        .concat(),
    );
    let keys = r#"
for r in regions {
    resource aws.kms.Key key @ r { description = "app key" }
}
"#;
    db.set_file("keys.carbon", keys.into());
    let first = check_program(&db, main).clone();
    assert!(first.iter().all(|d| !d.is_error()), "{first:#?}");
    let before = executed(&log);
    assert!(
        before.iter().any(|e| e.contains("file_skeleton")),
        "main's part reads the skeleton of keys.carbon: {before:#?}"
    );

    db.set_file("keys.carbon", keys.replace("app key", "app kez"));
    let _ = check_program(&db, main);
    let second = executed(&log);
    let parts: Vec<&String> = second
        .iter()
        .filter(|e| e.contains("file_program"))
        .collect();
    assert_eq!(parts.len(), 1, "only keys.carbon's part: {second:#?}");
    // The skeleton was made again from the edited file, and came out equal.
    assert_eq!(count(&second, "file_skeleton"), 1, "{second:#?}");

    // A skeleton has no spans: an edit that moves every declaration of keys.carbon (a comment
    // line above them) leaves it equal too.
    db.set_file(
        "keys.carbon",
        format!(
            "# the keys of every region\n{}",
            keys.replace("app key", "app kez")
        ),
    );
    let _ = check_program(&db, main);
    let third = executed(&log);
    assert_eq!(
        count(&third, "file_program"),
        1,
        "only keys.carbon's part: {third:#?}"
    );
}

/// Adding a resource to a file changes that file's skeleton: its part, the parts that read its
/// skeleton (here main's, which refers to its VPCs) and the join run again; a file that neither
/// is it nor reads it (`keys.carbon`) is not parsed, checked or evaluated again.
#[test]
fn adding_a_resource_re_runs_only_what_reads_its_files_skeleton() {
    let (mut db, log) = logging_db();
    let main = db.set_file(
        "main.carbon",
        [
            "import \"net.carbon\" as net\nimport \"keys.carbon\" as keys\n",
            TWO_REGIONS,
            r#"for r in regions {
    resource aws.ec2.Subnet app @ r { vpc = net.vpc[r] cidr_block = "10.1.0.0/24" availability_zone = "${r.code}a" }
}
"#,
        ]
        .concat(),
    );
    db.set_file("net.carbon", NET.into());
    let keys = db.set_file(
        "keys.carbon",
        "for r in regions {\n    resource aws.kms.Key key @ r { description = \"a key\" }\n}\n"
            .into(),
    );
    let first = check_program(&db, main).clone();
    assert!(first.iter().all(|d| !d.is_error()), "{first:#?}");
    executed(&log);

    db.set_file(
        "net.carbon",
        format!("{NET}resource aws.ec2.Vpc shared @ use1 {{ cidr_block = \"10.200.0.0/16\" }}\n"),
    );
    let _ = check_program(&db, main);
    let second = executed(&log);
    for q in ["parse_file", "check_file"] {
        assert_eq!(runs(&second, q, keys), 0, "{q} of keys.carbon: {second:#?}");
    }
    // net's part and main's part; not keys'.
    assert_eq!(count(&second, "file_program"), 2, "{second:#?}");
    assert!(
        second.iter().any(|e| e.contains("evaluate_program")),
        "the join runs again: {second:#?}"
    );
}
