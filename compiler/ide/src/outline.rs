//! The file's shape: document and workspace symbols, folding ranges, semantic tokens and inlay
//! hints (the inferred type of `let` bindings and the region each reference resolves to).

use std::collections::HashMap;

use carbonc_sema::syntax::ast::{Item, ItemKind};
use carbonc_sema::syntax::{Span, Tok};
use carbonc_sema::{Db, SourceFile, Target, Ty, Value, catalog, file_index, parse_file};

use crate::scope::{item_named, text};
use crate::{program_of, user_files};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Region,
    Param,
    Let,
    Resource,
    Instance,
    Output,
    Module,
    Loop,
    Function,
    Enum,
    Variant,
    Record,
    Field,
    Import,
    ResourceType,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole declaration.
    pub span: Span,
    /// Its name.
    pub name_span: Span,
    pub children: Vec<Symbol>,
    /// The file, for workspace symbols.
    pub file: String,
}

pub fn document_symbols(db: &dyn Db, file: SourceFile) -> Vec<Symbol> {
    let src = file.text(db);
    symbols(&parse_file(db, file).items, src, file.path(db))
}

fn symbols(items: &[Item], src: &str, file: &str) -> Vec<Symbol> {
    let mut out = Vec::new();
    for it in items {
        let sym = |name: &carbonc_sema::syntax::ast::Name,
                   kind,
                   detail: Option<String>,
                   children| Symbol {
            name: name.text.clone(),
            detail,
            kind,
            span: it.span,
            name_span: name.span,
            children,
            file: file.to_string(),
        };
        let s = match &it.kind {
            ItemKind::Import { alias, path, .. } => {
                sym(alias, SymbolKind::Import, Some(path.clone()), vec![])
            }
            ItemKind::Region { name, .. } => sym(name, SymbolKind::Region, None, vec![]),
            ItemKind::Param { name, ty, .. } => sym(
                name,
                SymbolKind::Param,
                Some(text(src, ty.span).to_string()),
                vec![],
            ),
            ItemKind::Let { name, .. } => sym(name, SymbolKind::Let, None, vec![]),
            ItemKind::Resource { ty, name, .. } => {
                sym(name, SymbolKind::Resource, Some(ty.text()), vec![])
            }
            ItemKind::Use { module, name, .. } => {
                sym(name, SymbolKind::Instance, Some(module.text()), vec![])
            }
            ItemKind::Output { name, .. } => sym(name, SymbolKind::Output, None, vec![]),
            ItemKind::Module { name, items, .. } => {
                sym(name, SymbolKind::Module, None, symbols(items, src, file))
            }
            ItemKind::Fn { name, .. } => sym(name, SymbolKind::Function, None, vec![]),
            ItemKind::Enum { name, variants } => {
                let children = variants
                    .iter()
                    .map(|v| Symbol {
                        name: v.name.text.clone(),
                        detail: v.wire.clone(),
                        kind: SymbolKind::Variant,
                        span: v.name.span,
                        name_span: v.name.span,
                        children: vec![],
                        file: file.to_string(),
                    })
                    .collect();
                sym(name, SymbolKind::Enum, None, children)
            }
            ItemKind::Record { name, fields } => {
                let children = field_symbols(fields, src, file);
                sym(name, SymbolKind::Record, None, children)
            }
            ItemKind::ResourceType { path, fields, .. } => Symbol {
                name: path.text(),
                detail: None,
                kind: SymbolKind::ResourceType,
                span: it.span,
                name_span: path.span,
                children: field_symbols(fields, src, file),
                file: file.to_string(),
            },
            ItemKind::For { var, iter, items } => Symbol {
                name: format!("for {} in {}", var.text, text(src, iter.span)),
                detail: None,
                kind: SymbolKind::Loop,
                span: it.span,
                name_span: var.span,
                children: symbols(items, src, file),
                file: file.to_string(),
            },
            ItemKind::If {
                then_items,
                else_items,
                ..
            } => {
                out.extend(symbols(then_items, src, file));
                if let Some(e) = else_items {
                    out.extend(symbols(e, src, file));
                }
                continue;
            }
            ItemKind::Error => continue,
        };
        out.push(s);
    }
    out
}

fn field_symbols(
    fields: &[carbonc_sema::syntax::ast::FieldDecl],
    src: &str,
    file: &str,
) -> Vec<Symbol> {
    fields
        .iter()
        .map(|f| Symbol {
            name: f.name.text.clone(),
            detail: Some(text(src, f.ty.span).to_string()),
            kind: SymbolKind::Field,
            span: f.span,
            name_span: f.name.span,
            children: vec![],
            file: file.to_string(),
        })
        .collect()
}

/// Symbols of every user file and the standard library's resource types whose name contains
/// `query` (case-insensitive), at most `limit`.
pub fn workspace_symbols(db: &dyn Db, query: &str, limit: usize) -> Vec<Symbol> {
    let q = query.to_lowercase();
    let mut out = Vec::new();
    fn flatten(syms: Vec<Symbol>, q: &str, out: &mut Vec<Symbol>) {
        for mut s in syms {
            let children = std::mem::take(&mut s.children);
            if s.kind != SymbolKind::Loop && s.name.to_lowercase().contains(q) {
                out.push(s);
            }
            flatten(children, q, out);
        }
    }
    for f in user_files(db) {
        flatten(document_symbols(db, f), &q, &mut out);
    }
    for (name, s) in &catalog(db).resources {
        if name.to_lowercase().contains(&q) {
            out.push(Symbol {
                name: name.clone(),
                detail: Some(s.human_name()),
                kind: SymbolKind::ResourceType,
                span: s.span,
                name_span: s.span,
                children: vec![],
                file: s.file.clone(),
            });
        }
    }
    out.truncate(limit);
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fold {
    pub span: Span,
    pub comment: bool,
}

/// Multi-line declarations and runs of comment lines.
pub fn folding_ranges(db: &dyn Db, file: SourceFile) -> Vec<Fold> {
    let src = file.text(db);
    let parse = parse_file(db, file);
    let mut out = Vec::new();
    fn items(list: &[Item], src: &str, out: &mut Vec<Fold>) {
        for it in list {
            if text(src, it.span).contains('\n') {
                out.push(Fold {
                    span: it.span,
                    comment: false,
                });
            }
            for l in it.kind.nested() {
                items(l, src, out);
            }
        }
    }
    items(&parse.items, src, &mut out);
    let line_of = |o: u32| src[..o as usize].matches('\n').count();
    let mut run: Option<(Span, usize)> = None;
    for c in &parse.comments {
        let line = line_of(c.span.start);
        run = match run {
            Some((s, l)) if l + 1 == line => Some((s.cover(c.span), line)),
            Some((s, _)) => {
                if text(src, s).contains('\n') {
                    out.push(Fold {
                        span: s,
                        comment: true,
                    });
                }
                Some((c.span, line))
            }
            None => Some((c.span, line)),
        };
    }
    if let Some((s, _)) = run
        && text(src, s).contains('\n')
    {
        out.push(Fold {
            span: s,
            comment: true,
        });
    }
    out.sort_by_key(|f| f.span);
    out
}

/// The semantic token types, in the order the legend announces them.
pub const TOKEN_TYPES: &[&str] = &[
    "keyword",
    "string",
    "number",
    "comment",
    "variable",
    "parameter",
    "property",
    "type",
    "enumMember",
    "function",
    "namespace",
    "class",
    "operator",
];
/// Modifier bits: `declaration`, `readonly`, `defaultLibrary`.
pub const TOKEN_MODIFIERS: &[&str] = &["declaration", "readonly", "defaultLibrary"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SemanticToken {
    pub span: Span,
    /// Index into [`TOKEN_TYPES`].
    pub ty: u32,
    /// Bits of [`TOKEN_MODIFIERS`].
    pub modifiers: u32,
}

fn ty_index(name: &str) -> u32 {
    TOKEN_TYPES.iter().position(|t| *t == name).unwrap_or(0) as u32
}

pub fn semantic_tokens(db: &dyn Db, file: SourceFile) -> Vec<SemanticToken> {
    let src = file.text(db);
    let path = file.path(db);
    let lexed = carbonc_sema::syntax::lexer::lex(src);
    let index = file_index(db, file);
    let by_span: HashMap<Span, &carbonc_sema::NameRef> =
        index.refs.iter().map(|r| (r.span, r)).collect();
    let parse = parse_file(db, file);
    let mut out: Vec<SemanticToken> = Vec::new();
    let mut push = |span: Span, ty: &str, modifiers: u32| {
        out.push(SemanticToken {
            span,
            ty: ty_index(ty),
            modifiers,
        })
    };
    let mut prev: Option<&Tok> = None;
    for (tok, span) in &lexed.tokens {
        match tok {
            Tok::Kw("true" | "false" | "none") => push(*span, "keyword", 0),
            Tok::Kw(_) => push(*span, "keyword", 0),
            Tok::Int(_) => push(*span, "number", 0),
            Tok::StrStart | Tok::StrText(_) | Tok::StrEnd => push(*span, "string", 0),
            Tok::Op("@") => push(*span, "operator", 0),
            Tok::Ident(name) => match by_span.get(span) {
                Some(r) => {
                    let decl = u32::from(r.is_decl(path));
                    let (ty, m) = match &r.target {
                        Target::Field { .. } => ("property", 0),
                        Target::Variant { .. } => ("enumMember", 0),
                        Target::Region { .. } => ("enumMember", 2),
                        Target::ResourceType { .. } => ("type", 4),
                        Target::Builtin { name } if name.starts_with("Region.") => ("property", 4),
                        Target::Builtin { name } if name == "regions" => ("variable", 2 | 4),
                        Target::Builtin { .. } => ("function", 4),
                        Target::Decl { file, span: at } => decl_token(db, file, *at, &r.ty),
                    };
                    push(*span, ty, m | decl);
                }
                // `region` and `endpoint` are keywords where a declaration starts.
                None if (&**name == "region" || &**name == "endpoint")
                    && !matches!(prev, Some(Tok::Op("." | "=" | "@"))) =>
                {
                    push(*span, "keyword", 0)
                }
                None if matches!(prev, Some(Tok::Kw("resource"))) || is_type_path(parse, *span) => {
                    push(*span, "type", 0)
                }
                None => {}
            },
            _ => {}
        }
        prev = Some(tok);
    }
    for c in &parse.comments {
        push(c.span, "comment", 0);
    }
    out.sort_by_key(|t| t.span);
    out.dedup_by_key(|t| t.span);
    out
}

/// The segments of a resource type path (`aws.kms.Key` after `resource`) that the index does not
/// name one by one.
fn is_type_path(parse: &carbonc_sema::syntax::Parse, span: Span) -> bool {
    fn walk(items: &[Item], span: Span) -> bool {
        items.iter().any(|it| match &it.kind {
            ItemKind::Resource { ty, .. } | ItemKind::ResourceType { path: ty, .. } => {
                ty.segments.iter().any(|s| s.span == span)
            }
            k => k.nested().into_iter().any(|l| walk(l, span)),
        })
    }
    walk(&parse.items, span)
}

fn decl_token(db: &dyn Db, file: &str, at: Span, ty: &Ty) -> (&'static str, u32) {
    let item = db
        .workspace()
        .files(db)
        .get(file)
        .and_then(|f| item_named(&parse_file(db, *f).items, at));
    match item.map(|i| &i.kind) {
        Some(ItemKind::Import { .. } | ItemKind::Module { .. }) => ("namespace", 0),
        Some(ItemKind::Fn { .. }) => ("function", 0),
        Some(ItemKind::Enum { .. } | ItemKind::Record { .. }) => ("type", 0),
        Some(ItemKind::Resource { .. } | ItemKind::Use { .. }) => ("class", 0),
        Some(ItemKind::Param { .. }) => ("parameter", 2),
        Some(ItemKind::Region { .. }) => ("enumMember", 2),
        Some(_) => ("variable", 2),
        None if matches!(ty, Ty::Region) => ("variable", 2),
        None => ("variable", 0),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HintKind {
    Type,
    Region,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hint {
    pub offset: u32,
    pub label: String,
    pub kind: HintKind,
}

pub fn inlay_hints(db: &dyn Db, file: SourceFile, range: Span) -> Vec<Hint> {
    let path = file.path(db);
    let parse = parse_file(db, file);
    let index = file_index(db, file);
    let mut out = Vec::new();
    // `let x = ...` without a written type: its inferred type.
    fn lets(items: &[Item], out: &mut Vec<(Span, bool)>) {
        for it in items {
            if let ItemKind::Let { name, ty, .. } = &it.kind {
                out.push((name.span, ty.is_none()));
            }
            for l in it.kind.nested() {
                lets(l, out);
            }
        }
    }
    let mut names = Vec::new();
    lets(&parse.items, &mut names);
    for (span, untyped) in names {
        if !untyped || span.end < range.start || span.start > range.end {
            continue;
        }
        if let Some(r) = index.refs.iter().find(|r| r.span == span)
            && r.ty != Ty::Unknown
        {
            out.push(Hint {
                offset: span.end,
                label: format!(": {}", r.ty),
                kind: HintKind::Type,
            });
        }
    }
    // References: the region of what each field of each resource instance points at.
    let program = program_of(db, file);
    let region_of: HashMap<&str, Option<usize>> = program
        .instances
        .iter()
        .map(|i| (i.address.as_str(), i.region))
        .collect();
    let mut groups: HashMap<Span, Vec<&carbonc_sema::Instance>> = HashMap::new();
    for inst in &program.instances {
        if *inst.file == **path && inst.span.start >= range.start && inst.span.start <= range.end {
            groups.entry(inst.span).or_default().push(inst);
        }
    }
    let mut spans: Vec<&Span> = groups.keys().collect();
    spans.sort();
    for span in spans {
        let insts = &groups[span];
        let Some(Item {
            kind: ItemKind::Resource { body, .. },
            ..
        }) = item_named(&parse.items, *span)
        else {
            continue;
        };
        for a in body {
            let mut same = true;
            let mut codes: Vec<&str> = Vec::new();
            let mut any = false;
            for inst in insts {
                let Some(v) = inst.get(&a.name.text) else {
                    continue;
                };
                let mut refs = Vec::new();
                ref_addrs(v, &mut refs);
                for addr in refs {
                    let Some(r) = region_of.get(addr) else {
                        continue;
                    };
                    any = true;
                    same &= *r == inst.region && r.is_some();
                    let code = program.region_code(*r);
                    if !codes.contains(&code) {
                        codes.push(code);
                    }
                }
            }
            if !any {
                continue;
            }
            let label = if same && insts.len() > 1 {
                "@ same region".to_string()
            } else {
                format!("@ {}", codes.join(", "))
            };
            out.push(Hint {
                offset: a.value.span.end,
                label,
                kind: HintKind::Region,
            });
        }
    }
    out.sort_by_key(|h| h.offset);
    out
}

fn ref_addrs<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::Ref { addr } => out.push(addr),
        Value::Secret(v) => ref_addrs(v, out),
        Value::List(items) => items.iter().for_each(|x| ref_addrs(x, out)),
        Value::Map(m) | Value::Record(m) => m.values().for_each(|x| ref_addrs(x, out)),
        _ => {}
    }
}
