//! Parser tests: many tiny inputs behind one helper.

use carbonc_syntax::ast::ItemKind;
use carbonc_syntax::parse;

fn errors(src: &str) -> Vec<String> {
    parse(src)
        .errors
        .iter()
        .map(|e| format!("{:?} {}", e.span, e.message))
        .collect()
}

#[test]
fn parses_every_item_kind() {
    let src = r#"
import "modules/eks.carbon" as eks
## The primary region.
region use1 { code = "us-east-1"  role = .primary  maintenance = "sun:05:00-sun:06:00" }
param password: Secret<String>
param env: String = "prod"
let cidr: String = cidrsubnet("10.0.0.0/8", 8, 1)
enum Tier { small, large = "LARGE" }
record Pool { name: String, size: Int = 2 }
fn double(x: Int) -> Int = x * 2
for r in regions {
  resource aws.kms.Key key @ r { description = "key ${r.code}", tags = { "kubernetes.io/x" = "y" } }
  if r.role == .primary { output x = key[r].arn } else if true { } else { }
}
use eks.cluster as api @ use1 { name = "api" }
module m @ region {
  param k: Ref<aws.kms.Key @ same>?
  output o: String = "x"
}
resource_type aws.x.Y regional lookup {
  ## Doc.
  a: List<Map<String, Int>>? = [] computed forces_new
  b: Ref<aws.acm.Certificate @ "us-east-1">
}
output list = [for r in regions if r.role != .primary: r.code]
output m = {for r in regions: r.code => -length(r.name) + 1 ?? 2}
output c = if true { 1 } else { 2 }
"#;
    let p = parse(src);
    assert_eq!(p.errors, vec![]);
    let kinds: Vec<&str> = p.items.iter().map(|i| kind_name(&i.kind)).collect();
    assert_eq!(
        kinds,
        [
            "import",
            "region",
            "param",
            "param",
            "let",
            "enum",
            "record",
            "fn",
            "for",
            "use",
            "module",
            "resource_type",
            "output",
            "output",
            "output"
        ]
    );
    assert_eq!(p.items[1].doc.as_deref(), Some("The primary region."));
    let ItemKind::ResourceType { fields, .. } = &p.items[11].kind else {
        panic!()
    };
    assert_eq!(fields[0].doc.as_deref(), Some("Doc."));
    assert!(fields[0].computed && fields[0].forces_new);
}

fn kind_name(k: &ItemKind) -> &'static str {
    match k {
        ItemKind::Import { .. } => "import",
        ItemKind::Region { .. } => "region",
        ItemKind::Param { .. } => "param",
        ItemKind::Let { .. } => "let",
        ItemKind::Resource { .. } => "resource",
        ItemKind::Use { .. } => "use",
        ItemKind::Output { .. } => "output",
        ItemKind::Module { .. } => "module",
        ItemKind::For { .. } => "for",
        ItemKind::If { .. } => "if",
        ItemKind::Fn { .. } => "fn",
        ItemKind::Enum { .. } => "enum",
        ItemKind::Record { .. } => "record",
        ItemKind::ResourceType { .. } => "resource_type",
        ItemKind::Error => "error",
    }
}

#[test]
fn three_independent_errors_are_three_diagnostics() {
    let src = r#"
let a = 1 +
resource aws.kms.Key k @ use1 {
  description = "x"
  enable_key_rotation = = true
  tags = {}
}
let b: = 3
let c = "ok"
output d = (1 + ]
"#;
    let errs = errors(src);
    assert_eq!(errs.len(), 4, "{errs:#?}");
    let p = parse(src);
    // The good parts survive: the resource keeps its good fields, `c` is intact.
    assert!(
        p.items
            .iter()
            .any(|i| matches!(&i.kind, ItemKind::Let { name, .. } if name.text == "c"))
    );
    let res = p.items.iter().find_map(|i| match &i.kind {
        ItemKind::Resource { body, .. } => Some(body.len()),
        _ => None,
    });
    assert_eq!(res, Some(2));
}

#[test]
fn garbage_never_panics() {
    for src in [
        "",
        "}",
        "{{{{",
        "\"",
        "\"${",
        "\"${ \"${ }",
        "resource",
        "@@@",
        "let x = [for",
        "#",
        "## doc",
    ] {
        let _ = parse(src);
    }
}

#[test]
fn unterminated_string_stops_at_line_end() {
    let errs = errors("let a = \"abc\nlet b = 1\n");
    assert_eq!(errs.len(), 1, "{errs:?}");
}

#[test]
fn each_junk_line_in_a_multi_line_list_is_one_error() {
    let src = r#"
resource aws.ec2.SecurityGroup sg @ use1 {
    ingress = [
        foo bar baz
        { description = "PostgreSQL", from_port = 5432 },
        { description = "Redis", from_port = 6379 },
        !? % ^
    ]
    name = "db"
}
let after = [1, 2, 3,]
"#;
    let errs = errors(src);
    assert_eq!(errs.len(), 2, "{errs:#?}");
    let p = parse(src);
    // The list keeps its good element, and what follows the list is read as before.
    let Some(ItemKind::Resource { body, .. }) = p.items.first().map(|i| &i.kind) else {
        panic!("{:#?}", p.items);
    };
    assert!(body.iter().any(|a| a.name.text == "name"), "{body:#?}");
    assert!(
        p.items
            .iter()
            .any(|i| matches!(&i.kind, ItemKind::Let { name, .. } if name.text == "after"))
    );
}
