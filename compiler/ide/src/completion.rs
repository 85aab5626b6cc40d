//! Completion. The context is read from the text before the cursor and the recovered tree, so it
//! works on the half-typed line the user is writing: keywords and names in statements, the fields
//! of the resource being written (with their docs), values of the field's type (enum variants,
//! regions, and references to resources whose placement fits the field), members after `.`.

use std::collections::BTreeSet;

use carbonc_sema::syntax::Span;
use carbonc_sema::syntax::ast::ItemKind;
use carbonc_sema::{
    BUILTIN_NAMES, Db, Export, Placement, SourceFile, Ty, builtin_signature, catalog, file_exports,
    file_imports, file_index, parse_file, region_names,
};

use crate::scope::{self, Scope, Visible, text};

const ROLE_ENUM: &str = "std::Role";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CompletionKind {
    Keyword,
    Field,
    Variant,
    Region,
    Resource,
    Variable,
    Module,
    Function,
    Type,
    Value,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    pub doc: Option<String>,
    /// The text that replaces `replace`.
    pub insert: String,
    pub replace: Span,
    /// Lower sorts first.
    pub rank: u8,
}

const STATEMENT_KEYWORDS: &[&str] = &[
    "resource", "region", "param", "let", "output", "module", "use", "for", "if", "import", "fn",
    "enum", "record",
];
const EXPR_KEYWORDS: &[&str] = &["true", "false", "none", "if", "for"];

pub(crate) struct Cx<'a> {
    pub db: &'a dyn Db,
    pub file: SourceFile,
    pub src: &'a str,
    pub scope: Scope<'a>,
    replace: Span,
    out: Vec<Completion>,
}

impl Cx<'_> {
    fn push(
        &mut self,
        label: impl Into<String>,
        kind: CompletionKind,
        detail: Option<String>,
        doc: Option<String>,
        insert: Option<String>,
        rank: u8,
    ) {
        let label = label.into();
        if self.out.iter().any(|c| c.label == label) {
            return;
        }
        self.out.push(Completion {
            insert: insert.unwrap_or_else(|| label.clone()),
            label,
            kind,
            detail,
            doc,
            replace: self.replace,
            rank,
        });
    }
}

/// The completion context at byte `off` (a char boundary).
pub(crate) fn context(db: &dyn Db, file: SourceFile, off: usize) -> Cx<'_> {
    let src = file.text(db).as_str();
    let items = &parse_file(db, file).items;
    Cx {
        db,
        file,
        src,
        scope: scope::at(items, off as u32),
        replace: Span::new(off, off),
        out: Vec::new(),
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub fn completions(db: &dyn Db, file: SourceFile, offset: u32) -> Vec<Completion> {
    let src = file.text(db).as_str();
    let mut off = (offset as usize).min(src.len());
    while !src.is_char_boundary(off) {
        off -= 1;
    }
    let start = src[..off]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_ident(*c))
        .last()
        .map_or(off, |(i, _)| i);
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_before = &src[line_start..start];
    let mut cx = context(db, file, off);
    cx.replace = Span::new(start, off);
    // Inside a comment: nothing.
    if line_before.contains('#') && !line_before.contains('"') {
        return Vec::new();
    }
    let trimmed = line_before.trim_start();
    if let Some(base) = line_before.strip_suffix('.') {
        let b = base.trim_end();
        if b.ends_with(['=', '(', ',', '[', ':']) {
            if let Some(t) = expected_here(&cx, start) {
                variants_of(&mut cx, &t, false);
            }
        } else {
            members(&mut cx, base);
        }
    } else if trimmed == "resource "
        || trimmed.starts_with("resource ") && !trimmed[9..].contains(' ')
    {
        // `resource aws.kms.|`: the whole dotted path is replaced.
        let typed_start = line_start + line_before.find("resource ").unwrap_or(0) + 9;
        cx.replace = Span::new(typed_start, off);
        let cat = catalog(db);
        for (name, s) in &cat.resources {
            cx.push(
                name.clone(),
                CompletionKind::Type,
                Some(s.human_name()),
                s.doc.clone(),
                None,
                0,
            );
        }
        // The generated types of namespaces the program does not name yet (not parsed until it
        // does), those that start with what is typed.
        let typed = &line_before[typed_start - line_start..];
        // Unique already (a generated type is not in the catalog until its namespace is read):
        // added without `push`'s search of the list, which would be quadratic in 1,840 types.
        let replace = cx.replace;
        cx.out.extend(
            carbonc_stdlib::generated_types()
                .filter(|name| name.starts_with(typed) && !cat.resources.contains_key(*name))
                .map(|name| Completion {
                    label: name.to_string(),
                    insert: name.to_string(),
                    kind: CompletionKind::Type,
                    detail: Some("generated from CloudFormation's schema".into()),
                    doc: None,
                    replace,
                    rank: 1,
                }),
        );
    } else if trimmed.starts_with("use ") && !trimmed[4..].contains(' ') {
        let typed_start = line_start + line_before.find("use ").unwrap_or(0) + 4;
        cx.replace = Span::new(typed_start, off);
        modules(&mut cx);
    } else if line_before.trim_end().ends_with('@') {
        regions(&mut cx, 0);
    } else if let Some(owner) = body_owner(&cx, start)
        && trimmed.is_empty()
    {
        fields_of(&mut cx, &owner, start);
    } else if let Some(t) = expected_here(&cx, start) {
        values_of(&mut cx, &t);
    } else if trimmed.is_empty() && body_owner(&cx, start).is_none() {
        for k in STATEMENT_KEYWORDS {
            cx.push(*k, CompletionKind::Keyword, None, None, None, 0);
        }
    } else {
        names(&mut cx, None);
        for k in EXPR_KEYWORDS {
            cx.push(*k, CompletionKind::Keyword, None, None, None, 6);
        }
    }
    let prefix = &src[start..off];
    let mut out = cx.out;
    out.retain(|c| {
        c.label.starts_with(prefix)
            || c.label.trim_start_matches('.').starts_with(prefix)
            || prefix.is_empty()
    });
    out.sort_by(|a, b| (a.rank, &a.label).cmp(&(b.rank, &b.label)));
    out
}

/// What a `{ ... }` around `pos` fills in: a resource type, a module's parameters, a record
/// field's record, or a region.
#[derive(Clone, Debug)]
pub(crate) enum Owner {
    Resource(String),
    Module(Vec<(String, Ty)>),
    Record(String),
    Region,
}

/// The header line of the innermost unclosed `{` before `pos`.
pub(crate) fn open_brace_header(src: &str, pos: usize) -> Option<(usize, &str)> {
    let lexed = carbonc_sema::syntax::lexer::lex(&src[..pos]);
    let mut stack = Vec::new();
    for (tok, span) in &lexed.tokens {
        match tok {
            carbonc_sema::syntax::Tok::Op("{") => stack.push(span.start as usize),
            carbonc_sema::syntax::Tok::Op("}") => {
                stack.pop();
            }
            _ => {}
        }
    }
    let brace = *stack.last()?;
    let line_start = src[..brace].rfind('\n').map_or(0, |i| i + 1);
    Some((brace, src[line_start..brace].trim()))
}

pub(crate) fn body_owner(cx: &Cx<'_>, pos: usize) -> Option<Owner> {
    let (_, header) = open_brace_header(cx.src, pos)?;
    let words: Vec<&str> = header.split_whitespace().collect();
    match words.as_slice() {
        ["resource", ty, ..] => Some(Owner::Resource(ty.to_string())),
        ["use", module, ..] => module_params(cx, module).map(Owner::Module),
        ["region", ..] => Some(Owner::Region),
        [.., field, "="] => {
            // A record literal assigned to a field: the field's type says which record.
            let (brace, _) = open_brace_header(cx.src, pos)?;
            let outer = body_owner(cx, brace)?;
            match field_ty(cx, &outer, field)?.core().clone() {
                Ty::Record(id) => Some(Owner::Record(id)),
                Ty::Optional(t) => match *t {
                    Ty::Record(id) => Some(Owner::Record(id)),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

pub(crate) fn module_params(cx: &Cx<'_>, module: &str) -> Option<Vec<(String, Ty)>> {
    let sig = match module.split_once('.') {
        None => match file_exports(cx.db, cx.file).get(module) {
            Some(Export::Module(m)) => m.clone(),
            _ => return None,
        },
        Some((alias, name)) => {
            let imp = file_imports(cx.db, cx.file)
                .iter()
                .find(|i| i.alias == alias)?;
            let f = cx.db.workspace().files(cx.db).get(&imp.path).copied()?;
            match file_exports(cx.db, f).get(name) {
                Some(Export::Module(m)) => m.clone(),
                _ => return None,
            }
        }
    };
    Some(sig.params.into_iter().map(|(n, t, _)| (n, t)).collect())
}

pub(crate) fn field_ty(cx: &Cx<'_>, owner: &Owner, field: &str) -> Option<Ty> {
    let cat = catalog(cx.db);
    match owner {
        Owner::Resource(ty) => {
            if field == "lifecycle" {
                return Some(Ty::Record(carbonc_sema::LIFECYCLE_RECORD.into()));
            }
            cat.resources.get(ty)?.field(field).map(|f| f.ty.clone())
        }
        Owner::Module(params) => params
            .iter()
            .find(|(n, _)| n == field)
            .map(|(_, t)| t.clone()),
        Owner::Record(id) => cat
            .record_fields(id)?
            .iter()
            .find(|f| f.name == field)
            .map(|f| f.ty.clone()),
        Owner::Region => match field {
            "role" => Some(Ty::Enum(ROLE_ENUM.into())),
            _ => Some(Ty::String),
        },
    }
}

/// The type expected at `pos`: the field being assigned on this line, or the element of the list
/// it is assigned.
fn expected_here(cx: &Cx<'_>, pos: usize) -> Option<Ty> {
    let line_start = cx.src[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line = &cx.src[line_start..pos];
    let (field, value) = line.split_once('=')?;
    let field = field.trim();
    if !field.chars().all(is_ident) || field.is_empty() || value.starts_with('=') {
        return None;
    }
    let owner = body_owner(cx, pos)?;
    let t = field_ty(cx, &owner, field)?;
    let mut t = unwrap(t);
    // Inside `[ ... ` the element type is wanted.
    let opens = value.matches('[').count();
    let closes = value.matches(']').count();
    if opens > closes
        && let Ty::List(e) = t
    {
        t = unwrap(*e);
    }
    Some(t)
}

pub(crate) fn unwrap(t: Ty) -> Ty {
    match t {
        Ty::Optional(t) | Ty::Secret(t) => unwrap(*t),
        t => t,
    }
}

fn fields_of(cx: &mut Cx<'_>, owner: &Owner, pos: usize) {
    // Fields already written in this body are not offered again.
    // The body runs from its `{` to the matching `}` (or the end of a half-typed file).
    let (brace, _) = open_brace_header(cx.src, pos).unwrap_or((0, ""));
    let mut depth = 0usize;
    let mut end = cx.src.len();
    for (tok, span) in carbonc_sema::syntax::lexer::lex(&cx.src[brace..]).tokens {
        match tok {
            carbonc_sema::syntax::Tok::Op("{") => depth += 1,
            carbonc_sema::syntax::Tok::Op("}") => {
                depth -= 1;
                if depth == 0 {
                    end = brace + span.end as usize;
                    break;
                }
            }
            _ => {}
        }
    }
    let body = &cx.src[brace..end];
    let written: BTreeSet<String> = body
        .lines()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(n, _)| n.trim().trim_start_matches('{').trim().to_string())
        })
        .collect();
    let mut fields: Vec<(String, Ty, Option<String>, bool)> = Vec::new();
    let cat = catalog(cx.db);
    match owner {
        Owner::Resource(ty) => {
            if let Some(s) = cat.resources.get(ty) {
                for f in s.fields.iter().filter(|f| !f.computed) {
                    fields.push((f.name.clone(), f.ty.clone(), f.doc.clone(), f.required()));
                }
            }
            fields.push((
                "lifecycle".into(),
                Ty::Record(carbonc_sema::LIFECYCLE_RECORD.into()),
                Some("How carbonc replaces and destroys this resource.".into()),
                false,
            ));
        }
        Owner::Module(params) => {
            for (n, t) in params {
                fields.push((n.clone(), t.clone(), None, !matches!(t, Ty::Optional(_))));
            }
        }
        Owner::Record(id) => {
            for f in cat.record_fields(id).unwrap_or(&[]) {
                fields.push((f.name.clone(), f.ty.clone(), f.doc.clone(), f.required()));
            }
        }
        Owner::Region => {
            for (n, t) in [
                ("code", Ty::String),
                ("role", Ty::Enum(ROLE_ENUM.into())),
                ("maintenance", Ty::String),
            ] {
                fields.push((n.into(), t, None, true));
            }
        }
    }
    for (name, ty, doc, required) in fields {
        if written.contains(&name) {
            continue;
        }
        let detail = format!("{ty}{}", if required { " (required)" } else { "" });
        cx.push(
            name.clone(),
            CompletionKind::Field,
            Some(detail),
            doc,
            Some(format!("{name} = ")),
            if required { 0 } else { 1 },
        );
    }
}

fn values_of(cx: &mut Cx<'_>, t: &Ty) {
    match t {
        Ty::Enum(_) => variants_of(cx, t, true),
        Ty::Bool => {
            cx.push("true", CompletionKind::Keyword, None, None, None, 0);
            cx.push("false", CompletionKind::Keyword, None, None, None, 0);
        }
        Ty::Region => regions(cx, 0),
        Ty::Ref { target, placement } => references_to(cx, target, placement.as_ref()),
        _ => names(cx, Some(t)),
    }
}

fn variants_of(cx: &mut Cx<'_>, t: &Ty, with_dot: bool) {
    let Ty::Enum(id) = t else {
        return;
    };
    let def = catalog(cx.db).enums.get(id).cloned().or_else(|| {
        let (file, name) = id.rsplit_once("::")?;
        let f = cx.db.workspace().files(cx.db).get(file).copied()?;
        match file_exports(cx.db, f).get(name) {
            Some(Export::Enum(e)) => Some(e.clone()),
            _ => None,
        }
    });
    let Some(def) = def else {
        return;
    };
    let short = id.rsplit(['.', ':']).next().unwrap_or(id).to_string();
    for (name, wire, doc) in &def.variants {
        let label = if with_dot {
            format!(".{name}")
        } else {
            name.clone()
        };
        let detail = if wire == name {
            short.clone()
        } else {
            format!("{short} (`{wire}`)")
        };
        cx.push(
            label,
            CompletionKind::Variant,
            Some(detail),
            doc.clone(),
            None,
            0,
        );
    }
}

fn regions(cx: &mut Cx<'_>, rank: u8) {
    for (name, code) in region_names(cx.db) {
        cx.push(
            name.clone(),
            CompletionKind::Region,
            Some(format!("Region = {code}")),
            None,
            None,
            rank,
        );
    }
    let index = file_index(cx.db, cx.file);
    let loops: Vec<String> = cx.scope.loops.iter().map(|n| n.text.clone()).collect();
    for var in loops {
        let is_region = cx.scope.loops.iter().any(|n| {
            n.text == var
                && index
                    .refs
                    .iter()
                    .any(|r| r.span == n.span && r.ty.core() == &Ty::Region)
        });
        if is_region {
            cx.push(
                var,
                CompletionKind::Variable,
                Some("Region (loop variable)".into()),
                None,
                None,
                rank,
            );
        }
    }
}

/// Resources of type `target` declared in scope, filtered by the placement the field demands.
fn references_to(cx: &mut Cx<'_>, target: &str, placement: Option<&Placement>) {
    for (insert, detail) in fitting(cx.db, cx.src, &cx.scope, target, placement) {
        cx.push(
            insert.clone(),
            CompletionKind::Resource,
            Some(detail),
            None,
            Some(insert),
            0,
        );
    }
}

/// The references to resources of type `target` that can be written here, as `(text, detail)`:
/// with the placement `@ same` or a fixed region, only those in the region the field demands,
/// indexed with the loop variables in scope or the region wanted (`data_key[r]`, `key[use1]`).
pub(crate) fn fitting(
    db: &dyn Db,
    src: &str,
    scope: &Scope<'_>,
    target: &str,
    placement: Option<&Placement>,
) -> Vec<(String, String)> {
    let here = scope
        .enclosing
        .as_ref()
        .and_then(|e| e.placement)
        .map(|p| text(src, p.span).to_string());
    let in_scope: Vec<String> = scope.loops.iter().map(|n| n.text.clone()).collect();
    let regions = region_names(db);
    let mut out = Vec::new();
    for v in scope.visible.iter().filter(|v| {
        matches!(v.item.map(|i| &i.kind), Some(ItemKind::Resource { ty, .. }) if ty.text() == target)
    }) {
        let theirs = v.placement.map(|p| text(src, p.span).to_string());
        // The region the field wants the referenced resource in, as written here.
        let want: Option<String> = match placement {
            Some(Placement::Same) => here.clone(),
            Some(Placement::Fixed(code)) => regions
                .iter()
                .find(|(_, c)| c == code)
                .map(|(n, _)| n.clone()),
            _ => None,
        };
        let strict = matches!(placement, Some(Placement::Same | Placement::Fixed(_)));
        let mut args: Vec<String> = Vec::new();
        let mut fits = true;
        let placed_by_loop = v.loops.iter().any(|l| Some(l.to_string()) == theirs);
        for var in &v.loops {
            if let (Some(w), Some(t)) = (&want, &theirs)
                && t == var
            {
                args.push(w.clone());
            } else if in_scope.iter().any(|s| s == var) || !strict {
                args.push(var.to_string());
            } else {
                fits = false;
            }
        }
        if strict {
            let placed_in = if placed_by_loop { want.clone() } else { theirs.clone() };
            fits &= want.is_some() && placed_in == want;
        }
        if !fits {
            continue;
        }
        let insert = if args.is_empty() {
            v.name.text.clone()
        } else {
            format!("{}[{}]", v.name.text, args.join(", "))
        };
        let detail = format!(
            "{target}{}",
            theirs.as_ref().map_or(String::new(), |t| format!(" @ {t}"))
        );
        out.push((insert, detail));
    }
    out
}

/// Modules declared here (`name`) and in imported files (`alias.name`).
fn modules(cx: &mut Cx<'_>) {
    let mut sources = vec![(String::new(), cx.file)];
    for imp in file_imports(cx.db, cx.file) {
        if let Some(f) = cx.db.workspace().files(cx.db).get(&imp.path) {
            sources.push((format!("{}.", imp.alias), *f));
        }
    }
    for (prefix, f) in sources {
        for (name, e) in file_exports(cx.db, f) {
            if let Export::Module(m) = e {
                let mut detail = if m.regional {
                    "regional module"
                } else {
                    "module"
                }
                .to_string();
                if !prefix.is_empty() {
                    detail.push_str(&format!(" in {}", f.path(cx.db)));
                }
                cx.push(
                    format!("{prefix}{name}"),
                    CompletionKind::Module,
                    Some(detail),
                    None,
                    None,
                    0,
                );
            }
        }
    }
}

/// Names visible here; with `want`, the ones whose type fits rank first.
fn names(cx: &mut Cx<'_>, want: Option<&Ty>) {
    let index = file_index(cx.db, cx.file);
    let visible: Vec<Visible<'_>> = cx.scope.visible.clone();
    for v in visible.iter().rev() {
        let ty = index
            .refs
            .iter()
            .find(|r| r.span == v.name.span)
            .map(|r| r.ty.clone())
            .unwrap_or(Ty::Unknown);
        let kind = match v.item.map(|i| &i.kind) {
            Some(ItemKind::Resource { .. }) => CompletionKind::Resource,
            Some(ItemKind::Module { .. } | ItemKind::Import { .. } | ItemKind::Use { .. }) => {
                CompletionKind::Module
            }
            Some(ItemKind::Fn { .. }) => CompletionKind::Function,
            Some(ItemKind::Enum { .. } | ItemKind::Record { .. }) => CompletionKind::Type,
            Some(ItemKind::Region { .. }) => CompletionKind::Region,
            _ => CompletionKind::Variable,
        };
        let rank = match want {
            Some(w) if carbonc_sema::compatible(&ty, w) && ty != Ty::Unknown => 0,
            _ => 2,
        };
        let detail = (ty != Ty::Unknown).then(|| ty.to_string());
        let doc = v.item.and_then(|i| i.doc.clone());
        cx.push(v.name.text.clone(), kind, detail, doc, None, rank);
    }
    regions(cx, 3);
    cx.push(
        "regions",
        CompletionKind::Variable,
        Some("List<Region>".into()),
        None,
        None,
        3,
    );
    for f in BUILTIN_NAMES {
        cx.push(
            *f,
            CompletionKind::Function,
            builtin_signature(f).map(str::to_string),
            None,
            None,
            4,
        );
    }
}

/// Members after `base.`: fields of a resource or record, outputs of a module, exports of an
/// import, variants of an enum, fields of a region.
fn members(cx: &mut Cx<'_>, base: &str) {
    // The expression before the dot: a dotted path, possibly indexed (`data_key[r]`).
    let mut end = base.len();
    let mut indexed = false;
    if base.ends_with(']') {
        let mut depth = 0;
        for (i, c) in base.char_indices().rev() {
            match c {
                ']' => depth += 1,
                '[' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        indexed = true;
    }
    let head = &base[..end];
    let path_start = head
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_ident(*c) || *c == '.')
        .last()
        .map_or(end, |(i, _)| i);
    let path = &head[path_start..];
    let segs: Vec<&str> = path.split('.').collect();
    let cat = catalog(cx.db);
    // A prelude enum: `aws.kms.KeySpec.`
    if !indexed && cat.enums.contains_key(path) {
        variants_of(cx, &Ty::Enum(path.to_string()), false);
        return;
    }
    let Some(first) = segs.first().copied() else {
        return;
    };
    // An import alias: its exports.
    if let Some(imp) = file_imports(cx.db, cx.file)
        .iter()
        .find(|i| i.alias == first)
        .cloned()
    {
        let Some(f) = cx.db.workspace().files(cx.db).get(&imp.path).copied() else {
            return;
        };
        let exports = file_exports(cx.db, f);
        if segs.len() == 1 {
            for (name, e) in exports {
                let (kind, detail) = match e {
                    Export::Value(t) => (CompletionKind::Variable, t.to_string()),
                    Export::Module(_) => (CompletionKind::Module, "module".into()),
                    Export::Fn(_) => (CompletionKind::Function, "fn".into()),
                    Export::Enum(_) => (CompletionKind::Type, "enum".into()),
                    Export::Record(_) => (CompletionKind::Type, "record".into()),
                };
                cx.push(name.clone(), kind, Some(detail), None, None, 0);
            }
        } else if let Some(Export::Enum(e)) = exports.get(segs[1]) {
            variants_of(cx, &Ty::Enum(e.id.clone()), false);
        }
        return;
    }
    if segs.len() != 1 {
        return;
    }
    // A name in scope: its type says what it has.
    let index = file_index(cx.db, cx.file);
    let ty = match cx.scope.lookup(first) {
        Some(v) => index
            .refs
            .iter()
            .find(|r| r.span == v.name.span)
            .map(|r| r.ty.clone()),
        None if region_names(cx.db).iter().any(|(n, _)| n == first) => Some(Ty::Region),
        None => None,
    };
    let Some(mut ty) = ty else {
        return;
    };
    if let Ty::Family { elem, .. } = ty {
        if !indexed {
            return;
        }
        ty = *elem;
    }
    // A user enum used as a path: `Tier.`
    if let Some(v) = cx.scope.lookup(first)
        && let Some(ItemKind::Enum { .. }) = v.item.map(|i| &i.kind)
    {
        let id = format!("{}::{first}", cx.file.path(cx.db));
        variants_of(cx, &Ty::Enum(id), false);
        return;
    }
    match unwrap(ty) {
        Ty::Ref { target, .. } => {
            if let Some(s) = cat.resources.get(&target) {
                for f in &s.fields {
                    let detail = if f.computed {
                        format!("{} (known after apply)", f.ty)
                    } else {
                        f.ty.to_string()
                    };
                    cx.push(
                        f.name.clone(),
                        CompletionKind::Field,
                        Some(detail),
                        f.doc.clone(),
                        None,
                        u8::from(!f.computed),
                    );
                }
            }
        }
        Ty::Record(id) => {
            for f in cat.record_fields(&id).unwrap_or(&[]) {
                cx.push(
                    f.name.clone(),
                    CompletionKind::Field,
                    Some(f.ty.to_string()),
                    f.doc.clone(),
                    None,
                    0,
                );
            }
        }
        Ty::AnonRecord(fs) => {
            for (n, t) in fs {
                cx.push(n, CompletionKind::Field, Some(t.to_string()), None, None, 0);
            }
        }
        Ty::Module(id) => {
            let (file, name) = id.rsplit_once("::").unwrap_or(("", &id));
            let f = cx.db.workspace().files(cx.db).get(file).copied();
            if let Some(f) = f
                && let Some(Export::Module(m)) = file_exports(cx.db, f).get(name)
            {
                for (n, t) in &m.outputs {
                    cx.push(
                        n.clone(),
                        CompletionKind::Field,
                        Some(t.to_string()),
                        None,
                        None,
                        0,
                    );
                }
            }
        }
        Ty::Region => {
            for (n, d) in [
                ("code", "String: the AWS region code"),
                ("name", "String: the region's name in this program"),
                ("role", "Role: .primary or .secondary"),
                ("maintenance", "String: the maintenance window"),
            ] {
                cx.push(n, CompletionKind::Field, Some(d.into()), None, None, 0);
            }
        }
        _ => {}
    }
}
