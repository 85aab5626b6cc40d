//! Item collection: the prelude catalog, each file's imports and exports, the program's regions.

use std::collections::{BTreeMap, BTreeSet};

use carbonc_syntax::Parse;
use carbonc_syntax::ast::{self, ItemKind, TypeExpr, TypeExprKind};

use crate::db::{Db, SourceFile, resolve_import_path};
use crate::ty::{Catalog, EnumDef, FieldSchema, Placement, RecordDef, ResourceSchema, Ty};

/// The id of an enum, record or module declared in `path`: `aws.kms.KeySpec` for the prelude (so
/// that importing a prelude file names the same type), `path::Name` otherwise.
pub(crate) fn type_id(path: &str, name: &str) -> String {
    match carbonc_stdlib::prelude_namespace(path) {
        Some(ns) => format!("{ns}.{name}"),
        None => format!("{path}::{name}"),
    }
}

#[salsa::tracked(returns(ref))]
pub fn parse_file(db: &dyn Db, file: SourceFile) -> Parse {
    db.parse_text(file.path(db), file.text(db))
}

/// The resource schemas, enums and records of the prelude (`stdlib/aws/*.carbon`), and of the
/// generated namespaces the program names ([`referenced_generated`]). A hand-written schema wins
/// over a generated one of the same name.
#[salsa::tracked(returns(ref))]
pub fn catalog(db: &dyn Db) -> Catalog {
    let mut cat = Catalog::default();
    for (path, file) in db.workspace().files(db) {
        let Some(ns) = carbonc_stdlib::prelude_namespace(path) else {
            continue;
        };
        add_schemas(&mut cat, &ns, path, parse_file(db, *file), &mut |_, _| {});
    }
    for ns in referenced_generated(db) {
        let part = generated_catalog(db, GeneratedNamespace::new(db, ns.clone()));
        for (id, e) in &part.enums {
            cat.enums.entry(id.clone()).or_insert_with(|| e.clone());
        }
        for (id, r) in &part.records {
            cat.records.entry(id.clone()).or_insert_with(|| r.clone());
        }
        for (id, r) in &part.resources {
            cat.resources.entry(id.clone()).or_insert_with(|| r.clone());
        }
    }
    add_builtins(&mut cat);
    cat
}

/// A namespace of generated schemas (`aws.sqs`): the key of [`generated_catalog`].
#[salsa::interned(debug)]
pub struct GeneratedNamespace<'db> {
    #[returns(ref)]
    pub name: String,
}

/// The schemas of one generated namespace, parsed the first time a program names it. Its text is
/// built into carbonc, so the result never changes.
#[salsa::tracked(returns(ref))]
pub fn generated_catalog<'db>(db: &'db dyn Db, ns: GeneratedNamespace<'db>) -> Catalog {
    let mut cat = Catalog::default();
    if let Some((path, text)) = carbonc_stdlib::generated(ns.name(db)) {
        let path = format!("std/{path}");
        let parse = carbonc_syntax::parse(text);
        add_schemas(&mut cat, ns.name(db), &path, &parse, &mut |_, _| {});
    }
    cat
}

/// Checks one generated namespace the way its schemas are read: parse errors and type names that
/// resolve to nothing, as `LINE: message` lines. Empty when it is sound (the test of the
/// generator runs it over every namespace).
pub fn generated_problems(ns: &str) -> Vec<String> {
    let Some((_, text)) = carbonc_stdlib::generated(ns) else {
        return vec![format!("no generated namespace `{ns}`")];
    };
    let parse = carbonc_syntax::parse(text);
    let at = |offset: u32| {
        let line = text[..(offset as usize).min(text.len())]
            .matches('\n')
            .count()
            + 1;
        format!("{line}")
    };
    let mut problems: Vec<String> = parse
        .errors
        .iter()
        .map(|e| format!("{}: {}", at(e.span.start), e.message))
        .collect();
    let mut cat = Catalog::default();
    add_schemas(&mut cat, ns, ns, &parse, &mut |span, message| {
        problems.push(format!("{}: {message}", at(span.start)))
    });
    problems
}

/// The generated namespaces the workspace's files name (`aws.sqs` in `aws.sqs.Queue`): the only
/// ones [`catalog`] reads. An edit that names no new namespace leaves this equal, so the catalog
/// is not built again.
#[salsa::tracked(returns(ref))]
pub fn referenced_generated(db: &dyn Db) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for file in db.workspace().files(db).values() {
        out.extend(file_generated_namespaces(db, *file).iter().cloned());
    }
    out
}

/// The generated namespaces one file's text names, found by a scan of the text for
/// `aws.NAME.Name` where a generated schema declares `Name`: cheap enough to run on every
/// keystroke. A program of hand-written types names none (`aws.ec2.Vpc` does not read the
/// generated `aws.ec2`), and a name in a comment only costs the parse of a namespace.
#[salsa::tracked(returns(ref))]
pub fn file_generated_namespaces(
    db: &dyn Db,
    file: SourceFile,
) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    // The hand-written prelude names no generated type.
    let path = file.path(db);
    if carbonc_stdlib::prelude_namespace(path).is_some() && !path.starts_with("std/generated/") {
        return out;
    }
    let text = file.text(db);
    let bytes = text.as_bytes();
    let name_char = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let mut from = 0;
    while let Some(i) = text[from..].find("aws.") {
        let at = from + i;
        from = at + 4;
        // `aws.` must start a name (not end `xaws.` or `k.aws.`).
        if at > 0 && (name_char(&bytes[at - 1]) || bytes[at - 1] == b'.') {
            continue;
        }
        let ns_len = bytes[at + 4..].iter().take_while(|b| name_char(b)).count();
        let dot = at + 4 + ns_len;
        if ns_len == 0 || bytes.get(dot) != Some(&b'.') {
            continue;
        }
        let name_len = bytes[dot + 1..].iter().take_while(|b| name_char(b)).count();
        let full = &text[at..dot + 1 + name_len];
        if name_len > 0 && carbonc_stdlib::generated_declares(full) {
            out.insert(text[at..dot].to_string());
        }
    }
    out
}

/// Adds the enums, records and resource types of one schema file of namespace `ns` to `cat`.
/// `error` receives type names that resolve to nothing.
fn add_schemas(
    cat: &mut Catalog,
    ns: &str,
    path: &str,
    parse: &Parse,
    error: &mut dyn FnMut(carbonc_syntax::Span, String),
) {
    let path = path.to_string();
    // The file's own enums and records, by name (a generated file declares hundreds).
    let local: std::collections::HashMap<&str, Ty> = parse
        .items
        .iter()
        .filter_map(|it| match &it.kind {
            ItemKind::Enum { name, .. } => {
                Some((name.text.as_str(), Ty::Enum(format!("{ns}.{}", name.text))))
            }
            ItemKind::Record { name, .. } => Some((
                name.text.as_str(),
                Ty::Record(format!("{ns}.{}", name.text)),
            )),
            _ => None,
        })
        .collect();
    let resolve = |p: &ast::Path| -> Option<Ty> {
        if p.segments.len() == 1 {
            local.get(p.text().as_str()).cloned()
        } else {
            None
        }
    };
    let schema =
        |f: &ast::FieldDecl, error: &mut dyn FnMut(carbonc_syntax::Span, String)| FieldSchema {
            ty: lower_type(&f.ty, &resolve, error),
            ..field_schema(f, &path, &|_| None)
        };
    for it in &parse.items {
        match &it.kind {
            ItemKind::Enum { name, variants } => {
                let id = format!("{ns}.{}", name.text);
                cat.enums
                    .insert(id.clone(), enum_def(id, variants, it.doc.clone()));
            }
            ItemKind::Record { name, fields } => {
                let id = format!("{ns}.{}", name.text);
                let fields = fields.iter().map(|f| schema(f, &mut *error)).collect();
                cat.records.insert(
                    id.clone(),
                    RecordDef {
                        id,
                        fields,
                        doc: it.doc.clone(),
                    },
                );
            }
            ItemKind::ResourceType {
                path: tp,
                scope,
                lookup,
                create_before_destroy,
                fields,
            } => {
                // A metric's type is the CloudWatch record, whichever file declares it.
                let metrics: Vec<FieldSchema> = fields
                    .iter()
                    .filter(|f| f.metric)
                    .map(|f| FieldSchema {
                        ty: Ty::Record(METRIC_RECORD.into()),
                        ..schema(f, &mut *error)
                    })
                    .collect();
                let mut fields: Vec<FieldSchema> = fields
                    .iter()
                    .filter(|f| !f.metric)
                    .map(|f| schema(f, &mut *error))
                    .collect();
                if !metrics.is_empty() {
                    let id = format!("{}.Metrics", tp.text());
                    fields.push(FieldSchema {
                        name: "metrics".into(),
                        ty: Ty::Record(id.clone()),
                        default: None,
                        computed: true,
                        forces_new: false,
                        metric: true,
                        doc: Some(
                            "The CloudWatch metrics the resource publishes, each with the \
                                 region it lives in: what an alarm's `metric` takes."
                                .into(),
                        ),
                        file: path.clone(),
                        span: tp.span,
                    });
                    cat.records.insert(
                        id.clone(),
                        RecordDef {
                            id,
                            fields: metrics,
                            doc: Some(format!("The CloudWatch metrics of a `{}`.", tp.text())),
                        },
                    );
                }
                cat.resources.insert(
                    tp.text(),
                    ResourceSchema {
                        name: tp.text(),
                        scope: *scope,
                        lookup: *lookup,
                        create_before_destroy: *create_before_destroy,
                        fields,
                        doc: it.doc.clone(),
                        file: path.clone(),
                        span: tp.span,
                    },
                );
            }
            _ => {}
        }
    }
}

/// The builtin enums and records every program has.
fn add_builtins(cat: &mut Catalog) {
    cat.records.insert(
        LIFECYCLE_RECORD.into(),
        RecordDef {
            id: LIFECYCLE_RECORD.into(),
            fields: vec![
                lifecycle_field(
                    "create_before_destroy",
                    "When the resource must be replaced, create the new one before destroying the old one.",
                ),
                lifecycle_field(
                    "prevent_destroy",
                    "Refuse any plan that would destroy this resource: a replacement, or `carbonc destroy`. (Removing it from the program still deletes it: nothing is left that asks to keep it.)",
                ),
            ],
            doc: Some("How carbonc replaces and destroys a resource: `lifecycle = { ... }` in any resource.".into()),
        },
    );
    cat.enums.insert(
        crate::regions::ROLE_ENUM.into(),
        EnumDef {
            id: crate::regions::ROLE_ENUM.into(),
            variants: vec![
                (
                    "primary".into(),
                    "primary".into(),
                    Some("The region that holds the writers.".into()),
                ),
                (
                    "secondary".into(),
                    "secondary".into(),
                    Some("A region that serves reads and takes over on failover.".into()),
                ),
            ],
            doc: Some("The role of a region.".into()),
        },
    );
}

/// The record type of a CloudWatch metric (`stdlib/aws/cloudwatch.carbon`): what a resource
/// type's `metric` declarations give and an alarm's `metric` takes.
pub const METRIC_RECORD: &str = "aws.cloudwatch.Metric";

/// The id of the builtin record type of the `lifecycle` field every resource accepts.
pub const LIFECYCLE_RECORD: &str = "std::Lifecycle";

fn lifecycle_field(name: &str, doc: &str) -> FieldSchema {
    FieldSchema {
        name: name.into(),
        ty: Ty::Bool,
        default: Some(ast::Expr {
            kind: ast::ExprKind::Bool(false),
            span: carbonc_syntax::Span::default(),
        }),
        computed: false,
        forces_new: false,
        metric: false,
        doc: Some(doc.into()),
        file: String::new(),
        span: carbonc_syntax::Span::default(),
    }
}

pub(crate) fn enum_def(id: String, variants: &[ast::Variant], doc: Option<String>) -> EnumDef {
    EnumDef {
        id,
        variants: variants
            .iter()
            .map(|v| {
                (
                    v.name.text.clone(),
                    v.wire.clone().unwrap_or_else(|| v.name.text.clone()),
                    v.doc.clone(),
                )
            })
            .collect(),
        doc,
    }
}

pub(crate) fn field_schema(
    f: &ast::FieldDecl,
    file: &str,
    resolve: &dyn Fn(&ast::Path) -> Option<Ty>,
) -> FieldSchema {
    FieldSchema {
        name: f.name.text.clone(),
        ty: lower_type(&f.ty, resolve, &mut |_, _| {}),
        default: f.default.clone(),
        computed: f.computed,
        forces_new: f.forces_new,
        metric: f.metric,
        doc: f.doc.clone(),
        file: file.to_string(),
        span: f.span,
    }
}

/// Lowers a written type. `resolve` finds enum and record names; `error` receives unknown names.
pub(crate) fn lower_type(
    te: &TypeExpr,
    resolve: &dyn Fn(&ast::Path) -> Option<Ty>,
    error: &mut dyn FnMut(carbonc_syntax::Span, String),
) -> Ty {
    match &te.kind {
        TypeExprKind::Named(p) => match p.text().as_str() {
            "String" => Ty::String,
            "Int" => Ty::Int,
            "Bool" => Ty::Bool,
            "Region" => Ty::Region,
            _ => match resolve(p) {
                Some(t) => t,
                None => {
                    error(p.span, format!("unknown type `{}`", p.text()));
                    Ty::Unknown
                }
            },
        },
        TypeExprKind::Generic { name, args } => {
            let mut lowered: Vec<Ty> = args.iter().map(|a| lower_type(a, resolve, error)).collect();
            let want = match name.text.as_str() {
                "List" | "Secret" => 1,
                "Map" => 2,
                _ => {
                    error(name.span, format!("unknown generic type `{}`", name.text));
                    return Ty::Unknown;
                }
            };
            if lowered.len() != want {
                error(
                    te.span,
                    format!("`{}` takes {want} type argument(s)", name.text),
                );
                return Ty::Unknown;
            }
            match name.text.as_str() {
                "List" => Ty::List(Box::new(lowered.remove(0))),
                "Secret" => Ty::Secret(Box::new(lowered.remove(0))),
                _ => {
                    if lowered[0] != Ty::String {
                        error(args[0].span, "map keys are `String`".to_string());
                    }
                    Ty::Map(Box::new(lowered.remove(1)))
                }
            }
        }
        TypeExprKind::Ref { target, placement } => Ty::Ref {
            target: target.text(),
            placement: placement.as_ref().map(|p| match p {
                ast::PlacementSpec::Same(_) => Placement::Same,
                ast::PlacementSpec::Any(_) => Placement::Any,
                ast::PlacementSpec::Fixed(r, _) => Placement::Fixed(r.clone()),
            }),
        },
        TypeExprKind::Optional(t) => match lower_type(t, resolve, error) {
            Ty::Optional(t) => Ty::Optional(t),
            t => Ty::Optional(Box::new(t)),
        },
        TypeExprKind::Error => Ty::Unknown,
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Import {
    pub alias: String,
    /// The workspace path the import resolves to.
    pub path: String,
    pub span: carbonc_syntax::Span,
}

#[salsa::tracked(returns(ref))]
pub fn file_imports(db: &dyn Db, file: SourceFile) -> Vec<Import> {
    parse_file(db, file)
        .items
        .iter()
        .filter_map(|it| match &it.kind {
            ItemKind::Import {
                path,
                path_span,
                alias,
            } => Some(Import {
                alias: alias.text.clone(),
                path: resolve_import_path(file.path(db), path),
                span: *path_span,
            }),
            _ => None,
        })
        .collect()
}

/// Import edges that close a cycle, as `(from, to)`; the checker does not follow them.
#[salsa::tracked(returns(ref))]
pub fn import_cycle_edges(db: &dyn Db) -> BTreeSet<(String, String)> {
    let files = db.workspace().files(db);
    let mut graph: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (path, f) in files {
        if path.starts_with("std/aws/") {
            continue;
        }
        graph.insert(
            path,
            file_imports(db, *f)
                .iter()
                .map(|i| i.path.clone())
                .collect(),
        );
    }
    // Depth-first search; an edge to a node on the stack closes a cycle.
    let mut back = BTreeSet::new();
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    fn visit<'a>(
        n: &'a str,
        graph: &'a BTreeMap<&'a str, Vec<String>>,
        state: &mut BTreeMap<&'a str, u8>,
        back: &mut BTreeSet<(String, String)>,
    ) {
        state.insert(n, 1);
        for m in graph.get(n).into_iter().flatten() {
            match state.get(m.as_str()) {
                Some(1) => {
                    back.insert((n.to_string(), m.clone()));
                }
                Some(_) => {}
                None => {
                    if let Some((k, _)) = graph.get_key_value(m.as_str()) {
                        visit(k, graph, state, back);
                    }
                }
            }
        }
        state.insert(n, 2);
    }
    let keys: Vec<&str> = graph.keys().copied().collect();
    for k in keys {
        if !state.contains_key(k) {
            visit(k, &graph, &mut state, &mut back);
        }
    }
    back
}

/// The names of the program's regions, visible in every file, as `(name, code)`.
#[salsa::tracked(returns(ref))]
pub fn region_names(db: &dyn Db) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, f) in db.workspace().files(db) {
        if path.starts_with("std/") {
            continue;
        }
        for it in &parse_file(db, *f).items {
            if let ItemKind::Region { name, fields } = &it.kind {
                let code = fields
                    .iter()
                    .find(|a| a.name.text == "code")
                    .and_then(|a| match &a.value.kind {
                        ast::ExprKind::Str(parts) => match parts.as_slice() {
                            [ast::StrPart::Text(t)] => Some(t.clone()),
                            _ => None,
                        },
                        _ => None,
                    })
                    .unwrap_or_default();
                out.push((name.text.clone(), code));
            }
        }
    }
    out
}
