//! Code actions: quick fixes for the diagnostics that have an obvious fix. A reference to a
//! resource in another region becomes the same-region resource; missing required fields are added;
//! an unknown field is removed.

use carbonc_diagnostics::Diagnostic;
use carbonc_sema::syntax::Span;
use carbonc_sema::syntax::ast::{Assign, Item, ItemKind};
use carbonc_sema::{Db, SourceFile, Ty, catalog, parse_file};

use crate::completion::{self, Owner};
use crate::scope::{item_named, text};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub file: String,
    pub span: Span,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub title: String,
    /// The diagnostic this action fixes.
    pub fixes: Diagnostic,
    pub edits: Vec<Edit>,
    /// The fix to apply when the user asks for "the" fix.
    pub preferred: bool,
}

/// Quick fixes for the diagnostics of `file` whose primary span meets `range`.
pub fn code_actions(db: &dyn Db, file: SourceFile, range: Span) -> Vec<Action> {
    let mut out = Vec::new();
    for d in crate::diagnostics(db, file) {
        let s = d.primary.span;
        if s.end < range.start || s.start > range.end {
            continue;
        }
        let action = match d.code {
            "E0301" | "E0302" => same_region(db, file, &d),
            "E0307" => place_in_us_east_1(db, file, &d),
            "E0105" => add_missing(db, file, &d),
            "E0104" => remove_field(db, file, &d),
            _ => None,
        };
        out.extend(action);
    }
    out
}

fn edit(db: &dyn Db, file: SourceFile, span: Span, text: String) -> Edit {
    Edit {
        file: file.path(db).clone(),
        span,
        text,
    }
}

/// `kms_key = db_key[use1]` inside `@ r` becomes `db_key[r]`: the resource of the region the
/// field demands, among those in scope.
fn same_region(db: &dyn Db, file: SourceFile, d: &Diagnostic) -> Option<Action> {
    let span = d.primary.span;
    let src = file.text(db);
    let line_start = src[..span.start as usize].rfind('\n').map_or(0, |i| i + 1);
    let (field, _) = src[line_start..span.start as usize].split_once('=')?;
    let field = field.trim();
    let cx = completion::context(db, file, span.start as usize);
    let owner = completion::body_owner(&cx, span.start as usize)?;
    let ty = completion::field_ty(&cx, &owner, field)?;
    let (target, placement) = match completion::unwrap(ty) {
        Ty::Ref { target, placement } => (target, placement),
        Ty::List(e) => match completion::unwrap(*e) {
            Ty::Ref { target, placement } => (target, placement),
            _ => return None,
        },
        _ => return None,
    };
    let written = text(src, span);
    let base = written.split('[').next().unwrap_or(written).trim();
    let options = completion::fitting(db, src, &cx.scope, &target, placement.as_ref());
    let (insert, detail) = options
        .iter()
        .find(|(i, _)| i.split('[').next() == Some(base))
        .or_else(|| options.first())?
        .clone();
    if insert == written {
        return None;
    }
    Some(Action {
        title: format!("Use `{insert}` ({detail}), in the same region"),
        fixes: d.clone(),
        edits: vec![edit(db, file, span, insert)],
        preferred: true,
    })
}

/// A CLOUDFRONT-scope WAF resource placed in a named region moves to the us-east-1 region (a
/// placement by a loop variable has no obvious fix).
fn place_in_us_east_1(db: &dyn Db, file: SourceFile, d: &Diagnostic) -> Option<Action> {
    let path = file.path(db);
    let it = d
        .secondary
        .iter()
        .filter(|l| &l.file == path)
        .find_map(|l| named_item(db, file, l.span))?;
    let ItemKind::Resource {
        placement: Some(p), ..
    } = &it.kind
    else {
        return None;
    };
    let regions = carbonc_sema::region_names(db);
    let written = text(file.text(db), p.span);
    if !regions.iter().any(|(n, _)| n == written) {
        return None;
    }
    let (name, _) = regions.iter().find(|(_, c)| c == "us-east-1")?;
    Some(Action {
        title: format!("Place it in `{name}` (us-east-1), where CLOUDFRONT scope exists"),
        fixes: d.clone(),
        edits: vec![edit(db, file, p.span, name.clone())],
        preferred: true,
    })
}

/// The item (resource or `use`) whose name is at `span`.
fn named_item(db: &dyn Db, file: SourceFile, span: Span) -> Option<&Item> {
    item_named(&parse_file(db, file).items, span)
}

fn add_missing(db: &dyn Db, file: SourceFile, d: &Diagnostic) -> Option<Action> {
    let it = named_item(db, file, d.primary.span)?;
    let src = file.text(db);
    let (body, owner) = match &it.kind {
        ItemKind::Resource { ty, body, .. } => (body, Owner::Resource(ty.text())),
        ItemKind::Use { module, args, .. } => {
            let cx = completion::context(db, file, it.span.start as usize);
            let params = completion::module_params(&cx, &module.text())?;
            (args, Owner::Module(params))
        }
        _ => return None,
    };
    let cx = completion::context(db, file, it.span.start as usize);
    let required: Vec<(String, Ty)> = match &owner {
        Owner::Resource(ty) => catalog(db)
            .resources
            .get(ty)?
            .fields
            .iter()
            .filter(|f| f.required())
            .map(|f| (f.name.clone(), f.ty.clone()))
            .collect(),
        Owner::Module(params) => params
            .iter()
            .filter(|(_, t)| !matches!(t, Ty::Optional(_)))
            .cloned()
            .collect(),
        _ => return None,
    };
    let missing: Vec<&(String, Ty)> = required
        .iter()
        .filter(|(n, _)| !body.iter().any(|a| &a.name.text == n))
        .filter(|(n, _)| d.title.contains(&format!("`{n}`")))
        .collect();
    if missing.is_empty() {
        return None;
    }
    // Insert before the closing brace, one field per line, indented like the body.
    let end = it.span.end as usize;
    if !src[..end].ends_with('}') {
        return None;
    }
    let close = end - 1;
    let line_start = src[..it.span.start as usize]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let indent: String = src[line_start..]
        .chars()
        .take_while(|c| *c == ' ')
        .collect();
    let inner = format!("{indent}    ");
    let mut lines = String::new();
    for (name, ty) in &missing {
        let value = placeholder(db, &cx, ty);
        lines.push_str(&format!("{inner}{name} = {value}\n"));
    }
    let close_line = src[..close].rfind('\n').map_or(0, |i| i + 1);
    let (at, new) =
        if src[close_line..close].trim().is_empty() && close_line > it.span.start as usize {
            (close_line, lines)
        } else {
            // `{ }` on one line: open it up.
            let trimmed_end = src[..close].trim_end().len();
            (trimmed_end, format!("\n{lines}{indent}"))
        };
    let end_of_replace = if at == close_line { at } else { close };
    let names: Vec<String> = missing.iter().map(|(n, _)| format!("`{n}`")).collect();
    Some(Action {
        title: format!(
            "Add the missing field{} {}",
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ),
        fixes: d.clone(),
        edits: vec![edit(db, file, Span::new(at, end_of_replace), new)],
        preferred: true,
    })
}

/// A value of type `ty` that parses and type-checks, for the user to replace.
fn placeholder(db: &dyn Db, cx: &completion::Cx<'_>, ty: &Ty) -> String {
    match ty {
        Ty::String => "\"\"".into(),
        Ty::Int => "0".into(),
        Ty::Bool => "false".into(),
        Ty::Region => cx
            .scope
            .enclosing
            .as_ref()
            .and_then(|e| e.placement)
            .map(|p| text(cx.src, p.span).to_string())
            .or_else(|| {
                carbonc_sema::region_names(db)
                    .first()
                    .map(|(n, _)| n.clone())
            })
            .unwrap_or_else(|| "none".into()),
        Ty::List(_) => "[]".into(),
        Ty::Map(_) | Ty::Record(_) | Ty::AnonRecord(_) => "{}".into(),
        Ty::Secret(t) | Ty::Optional(t) => placeholder(db, cx, t),
        Ty::Enum(id) => catalog(db)
            .enums
            .get(id)
            .and_then(|e| e.variants.first())
            .map_or_else(|| "none".into(), |(n, _, _)| format!(".{n}")),
        Ty::Ref { target, placement } => {
            completion::fitting(db, cx.src, &cx.scope, target, placement.as_ref())
                .into_iter()
                .next()
                .map_or_else(|| "none".into(), |(i, _)| i)
        }
        _ => "none".into(),
    }
}

fn find_assign(items: &[Item], span: Span) -> Option<&Assign> {
    items.iter().find_map(|it| match &it.kind {
        ItemKind::Resource { body, .. } | ItemKind::Use { args: body, .. } => {
            body.iter().find(|a| a.name.span == span)
        }
        k => k.nested().into_iter().find_map(|l| find_assign(l, span)),
    })
}

fn remove_field(db: &dyn Db, file: SourceFile, d: &Diagnostic) -> Option<Action> {
    let a = find_assign(&parse_file(db, file).items, d.primary.span)?;
    let src = file.text(db);
    let (start, end) = (a.span.start as usize, a.span.end as usize);
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[end..].find('\n').map_or(src.len(), |i| end + i + 1);
    let alone = src[line_start..start].trim().is_empty()
        && src[end..line_end]
            .trim()
            .trim_start_matches(',')
            .trim()
            .is_empty();
    let span = if alone {
        Span::new(line_start, line_end)
    } else {
        let after = src[end..].len() - src[end..].trim_start_matches([',', ' ']).len();
        Span::new(start, end + after)
    };
    Some(Action {
        title: format!("Remove the unknown field `{}`", a.name.text),
        fixes: d.clone(),
        edits: vec![edit(db, file, span, String::new())],
        preferred: true,
    })
}
