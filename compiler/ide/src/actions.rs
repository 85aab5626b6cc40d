//! Fixes that need what is in scope where a diagnostic was raised, added to the ones the checker
//! attaches itself ("did you mean", removing an unknown field): a reference to a resource in
//! another region becomes the same-region resource; missing required fields are added; a
//! CLOUDFRONT-scope WAF resource moves to us-east-1. `carbonc check` shows and applies them, the
//! language server offers them as quick fixes: both read [`with_fixes`].

use carbonc_diagnostics::{Applicability, Diagnostic, Edit, Fix};
use carbonc_sema::syntax::Span;
use carbonc_sema::syntax::ast::{Assign, ExprKind, Item, ItemKind, StrPart};
use carbonc_sema::{Db, SourceFile, Ty, catalog, parse_file};

use crate::completion::{self, Owner};
use crate::scope::{item_named, text};

/// A quick fix: one fix of one diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub fix: Fix,
    /// The diagnostic this action fixes.
    pub fixes: Diagnostic,
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
        let d = with_fixes(db, &d);
        for (i, fix) in d.fixes.iter().enumerate() {
            out.push(Action {
                fix: fix.clone(),
                fixes: d.clone(),
                preferred: i == 0 && fix.applicability == Applicability::MachineApplicable,
            });
        }
    }
    out
}

/// `d` with every fix there is for it: the checker's own, then the ones that need the scope of
/// the file its primary label is in.
pub fn with_fixes(db: &dyn Db, d: &Diagnostic) -> Diagnostic {
    let mut d = d.clone();
    let Some(file) = db.workspace().files(db).get(&d.primary.file).copied() else {
        return d;
    };
    let fix = match d.code {
        "E0301" | "E0302" => {
            same_region(db, file, &d).or_else(|| reindex_by_placement(db, file, &d))
        }
        "E0307" => place_in(db, file, &d, "us-east-1", "where CLOUDFRONT scope exists"),
        // "Certificate ARN is in eu-west-1": the lookup goes where the ARN is.
        "E0308" => match d.title.rsplit_once(" ARN is in ") {
            Some((_, code)) if !serves_cloudfront(db, file, &d) => {
                place_in(db, file, &d, code, "where the ARN is")
            }
            _ => None,
        },
        // "alarm `x` watches a metric published in us-east-1": the alarm goes there.
        "E1201" => match d.title.rsplit_once(" published in ") {
            Some((_, code)) => place_in(db, file, &d, code, "where the metric is published"),
            None => None,
        },
        "E0105" => add_missing(db, file, &d),
        "E0603" => latency_target(db, file, &d),
        // A secondary's master credentials: the field goes (the primary's users replicate).
        "E0403" => remove_field(db, file, &d),
        // "CloudFront origin `failover` says it is in ...": its written `region` goes.
        "E0704" => match d.title.split('`').nth(1) {
            Some(id) => remove_origin_region(db, file, &d, id),
            None => None,
        },
        _ => None,
    };
    if let Some(mut fix) = fix
        && !d.fixes.contains(&fix)
    {
        // The fix carries out the advice (E0603's is the other way out, and stays): the
        // advice's words, when they name what the fix writes, are its title.
        if d.code != "E0603"
            && let (Some(help), [edit]) = (d.help.take(), &fix.edits[..])
            && help.contains(&format!("`{}`", edit.text))
        {
            fix.title = help;
        }
        d.fixes.push(fix);
    }
    d
}

fn edit(db: &dyn Db, file: SourceFile, span: Span, text: String) -> Edit {
    Edit::new(file.path(db).clone(), span, text)
}

/// `kms_key = db_key[use1]` inside `@ r` becomes `db_key[r]`: the resource of the region the
/// field demands, among those in scope.
fn same_region(db: &dyn Db, file: SourceFile, d: &Diagnostic) -> Option<Fix> {
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
    // In a list the label covers the whole list: the fix replaces the element that names the
    // resource of the other region (the secondary label is on its declaration).
    let in_list = text(src, span).trim_start().starts_with('[');
    let span = if in_list {
        let named = d.secondary.iter().find_map(|l| {
            let f = db.workspace().files(db).get(&l.file).copied()?;
            Some(text(f.text(db), l.span).to_string())
        })?;
        list_element(src, span, &named)?
    } else {
        span
    };
    let written = text(src, span);
    let base = written.split('[').next().unwrap_or(written).trim();
    let options = completion::fitting(db, src, &cx.scope, &target, placement.as_ref());
    // The same family in the right region is what was meant; another resource that fits is a
    // guess.
    let (same, (insert, detail)) = match options
        .iter()
        .find(|(i, _)| i.split('[').next() == Some(base))
    {
        Some(o) => (true, o.clone()),
        // Another resource in place of a list element would be a guess among the others listed.
        None if in_list => return None,
        None => (false, options.first()?.clone()),
    };
    if insert == written {
        return None;
    }
    Some(Fix {
        title: format!("use `{insert}` ({detail}), in the same region"),
        edits: vec![edit(db, file, span, insert)],
        applicability: if same {
            Applicability::MachineApplicable
        } else {
            Applicability::MaybeIncorrect
        },
    })
}

/// The span of the element of the list literal at `span` whose resource is `name` (`name` or
/// `name[...]`), if exactly one is.
fn list_element(src: &str, span: Span, name: &str) -> Option<Span> {
    let list = src.get(span.range())?;
    let open = list.find('[')?;
    let mut depth = 0usize;
    let mut start = open + 1;
    let mut found = Vec::new();
    let take = |from: usize, to: usize, found: &mut Vec<Span>| {
        let element = &list[from..to];
        let trimmed = element.trim();
        if trimmed.split('[').next().map(str::trim) == Some(name) {
            let lead = element.len() - element.trim_start().len();
            let at = span.start as usize + from + lead;
            found.push(Span::new(at, at + trimmed.len()));
        }
    };
    for (i, c) in list.char_indices().skip(open + 1) {
        match c {
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' if depth > 0 => depth -= 1,
            ']' if depth == 0 => {
                take(start, i, &mut found);
                break;
            }
            ',' if depth == 0 => {
                take(start, i, &mut found);
                start = i + 1;
            }
            _ => {}
        }
    }
    match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// A resource placed in a named region moves to the region declared with `code` (a CLOUDFRONT
/// WAF resource to us-east-1, a lookup by ARN to the ARN's region); a placement by a loop
/// variable has no obvious fix.
fn place_in(db: &dyn Db, file: SourceFile, d: &Diagnostic, code: &str, why: &str) -> Option<Fix> {
    let path = file.path(db);
    // The resource, or (when a module made it) the `use` the primary label is on.
    let it = std::iter::once(&d.primary)
        .chain(&d.secondary)
        .filter(|l| &l.file == path)
        .find_map(|l| named_item(db, file, l.span))?;
    let (ItemKind::Resource {
        placement: Some(p), ..
    }
    | ItemKind::Use {
        placement: Some(p), ..
    }) = &it.kind
    else {
        return None;
    };
    let regions = carbonc_sema::region_names(db);
    let written = text(file.text(db), p.span);
    if !regions.iter().any(|(n, _)| n == written) {
        return None;
    }
    let (name, _) = regions.iter().find(|(_, c)| c == code)?;
    // Whether the placement or the rest is wrong is the user's call.
    Some(Fix {
        title: format!("place it in `{name}` ({code}), {why}"),
        edits: vec![edit(db, file, p.span, name.clone())],
        applicability: Applicability::MaybeIncorrect,
    })
}

/// A latency record whose target is another region's: the target, written as a family indexed
/// by that region (`api_ip[euw1].public_ip`), is indexed by the record's region instead. The
/// other way out, moving the record to the target's region, is the checker's fix; which of the
/// two is wrong is the user's call.
fn latency_target(db: &dyn Db, file: SourceFile, d: &Diagnostic) -> Option<Fix> {
    let program = crate::program_of(db, file);
    let path = file.path(db);
    // The record whose field the primary label is on, or whose module was passed the target
    // there.
    let here = |f: &carbonc_sema::FieldVal, i: &carbonc_sema::Instance| {
        f.explicit && *i.file == **path && f.span == d.primary.span
            || f.written_at.as_deref() == Some(&(path.clone(), d.primary.span))
    };
    let rec = program
        .instances
        .iter()
        .find(|i| i.ty == "aws.route53.Record" && i.fields.values().any(|f| here(f, i)))?;
    let carbonc_sema::Value::Region { idx, .. } = rec.get("latency_region")?.reveal() else {
        return None;
    };
    let own = &program.regions.get(*idx)?.name;
    let src = file.text(db);
    let span = d.primary.span;
    let written = src.get(span.range())?;
    let (other, edits) = reindex(db, file, span, &program.regions, own)?;
    let target = edited(written, span.start as usize, &edits);
    let title = if target.len() <= 60 {
        format!("point the record at {own}'s target: `{target}`")
    } else {
        format!("point the record at {own}'s target instead of {other}'s")
    };
    Some(Fix {
        title,
        edits,
        applicability: Applicability::MaybeIncorrect,
    })
}

/// The edits that re-index `span`'s expression from another region to `own` (a region's name or
/// a loop variable over regions): every region name written there as an index key (`[n]`,
/// `[n, ...]` or `[..., n]`), all of one region (a DNS name and its zone, say), and that region.
fn reindex<'r>(
    db: &dyn Db,
    file: SourceFile,
    span: Span,
    regions: &'r [carbonc_sema::RegionInfo],
    own: &str,
) -> Option<(&'r str, Vec<Edit>)> {
    let written = file.text(db).get(span.range())?;
    let mut keys: Vec<(usize, &str)> = Vec::new();
    for r in regions.iter().filter(|r| r.name != own) {
        for (at, _) in written.match_indices(r.name.as_str()) {
            let before = written[..at].trim_end();
            let after = written[at + r.name.len()..].trim_start();
            if (before.ends_with('[') || before.ends_with(','))
                && (after.starts_with(']') || after.starts_with(','))
            {
                keys.push((at, r.name.as_str()));
            }
        }
    }
    let other = keys.first()?.1;
    if keys.iter().any(|(_, n)| *n != other) {
        return None;
    }
    let start = span.start as usize;
    let edits = keys
        .iter()
        .map(|(at, n)| {
            edit(
                db,
                file,
                Span::new(start + at, start + at + n.len()),
                own.to_string(),
            )
        })
        .collect();
    Some((other, edits))
}

/// A reference to another region's member of a family, written with that region as an index key
/// (`private[use1, az]`), inside a resource placed `@ r`: re-indexed by `r`. Certain when the
/// checker found the family's member in the resource's region.
fn reindex_by_placement(db: &dyn Db, file: SourceFile, d: &Diagnostic) -> Option<Fix> {
    let span = d.primary.span;
    let it = enclosing_resource(&parse_file(db, file).items, span)?;
    let ItemKind::Resource {
        placement: Some(p), ..
    } = &it.kind
    else {
        return None;
    };
    let src = file.text(db);
    let own = text(src, p.span);
    if !crate::is_identifier(own) {
        return None;
    }
    let program = crate::program_of(db, file);
    let (other, edits) = reindex(db, file, span, &program.regions, own)?;
    let written = text(src, span);
    let target = edited(written, span.start as usize, &edits);
    let certain = d.help.as_deref().is_some_and(|h| h.starts_with("use the "));
    Some(Fix {
        title: format!("index by `{own}`, the resource's region, instead of `{other}`: `{target}`"),
        edits,
        applicability: if certain {
            Applicability::MachineApplicable
        } else {
            Applicability::MaybeIncorrect
        },
    })
}

/// `written` (which starts at byte `start` of its file) with `edits`, which fall inside it.
fn edited(written: &str, start: usize, edits: &[Edit]) -> String {
    let mut out = written.to_string();
    let mut by_start: Vec<&Edit> = edits.iter().collect();
    by_start.sort_by_key(|e| std::cmp::Reverse(e.span.start));
    for e in by_start {
        let range = e.span.start as usize - start..e.span.end as usize - start;
        out.replace_range(range, &e.text);
    }
    out
}

/// The innermost resource item whose span holds `span`.
fn enclosing_resource(items: &[Item], span: Span) -> Option<&Item> {
    items
        .iter()
        .filter(|it| it.span.start <= span.start && span.end <= it.span.end)
        .find_map(|it| match &it.kind {
            ItemKind::Resource { .. } => Some(it),
            k => k
                .nested()
                .into_iter()
                .find_map(|l| enclosing_resource(l, span)),
        })
}

/// Whether a label of `d` is on the name of a certificate that a CloudFront distribution uses:
/// that one must stay in us-east-1 (E0302), so moving its lookup is no fix.
fn serves_cloudfront(db: &dyn Db, file: SourceFile, d: &Diagnostic) -> bool {
    let program = crate::program_of(db, file);
    let path = file.path(db);
    let certs: Vec<&str> = program
        .instances
        .iter()
        .filter(|i| {
            i.ty == "aws.acm.Certificate"
                && *i.file == **path
                && std::iter::once(&d.primary)
                    .chain(&d.secondary)
                    .any(|l| l.span == i.span)
        })
        .map(|i| i.address.as_str())
        .collect();
    carbonc_sema::cloudfront_certificates(program)
        .iter()
        .any(|a| certs.contains(a))
}

/// The assignment of a resource's body whose value is at `span` (not a `use`'s argument, which
/// a module's parameter needs).
fn body_field(items: &[Item], span: Span) -> Option<&Assign> {
    items
        .iter()
        .filter(|it| it.span.start <= span.start && span.end <= it.span.end)
        .find_map(|it| match &it.kind {
            ItemKind::Resource { body, .. } => body.iter().find(|a| a.value.span == span),
            k => k.nested().into_iter().find_map(|l| body_field(l, span)),
        })
}

/// The field the primary label is on, removed from the resource's body: certain, since the
/// diagnostic says the field must not be written.
fn remove_field(db: &dyn Db, file: SourceFile, d: &Diagnostic) -> Option<Fix> {
    let a = body_field(&parse_file(db, file).items, d.primary.span)?;
    let span = carbonc_sema::removal(file.text(db), a.span);
    // The rule's advice, when it says the same, keeps its reason as the title.
    let plain = format!("remove `{}`", a.name.text);
    let title = d.help.clone().filter(|h| h.starts_with(&plain));
    Some(Fix {
        title: title.unwrap_or(plain),
        edits: vec![edit(db, file, span, String::new())],
        applicability: Applicability::MachineApplicable,
    })
}

/// `region = ...` removed from the origin `id` of the `origins` list the primary label is on
/// (written as a list of records): the origin's region is then derived from its domain name.
fn remove_origin_region(db: &dyn Db, file: SourceFile, d: &Diagnostic, id: &str) -> Option<Fix> {
    let origins = body_field(&parse_file(db, file).items, d.primary.span)?;
    let ExprKind::List(items) = &origins.value.kind else {
        return None;
    };
    let fields = items.iter().find_map(|o| match &o.kind {
        ExprKind::Record(fields)
            if fields.iter().any(|f| {
                f.name.text == "id"
                    && matches!(&f.value.kind, ExprKind::Str(p)
                        if matches!(&p[..], [StrPart::Text(t)] if t == id))
            }) =>
        {
            Some(fields)
        }
        _ => None,
    })?;
    let at = fields.iter().position(|f| f.name.text == "region")?;
    // With the comma before it when a field precedes (`{ id = "a", region = r }` keeps no
    // trailing comma), else on its own as any field.
    let span = match at.checked_sub(1).map(|i| &fields[i]) {
        Some(prev) => Span {
            start: prev.value.span.end,
            end: fields[at].span.end,
        },
        None => carbonc_sema::removal(file.text(db), fields[at].span),
    };
    Some(Fix {
        title: format!("remove origin `{id}`'s `region`: it is derived from its domain name"),
        edits: vec![edit(db, file, span, String::new())],
        applicability: Applicability::MachineApplicable,
    })
}

/// The item (resource or `use`) whose name is at `span`.
fn named_item(db: &dyn Db, file: SourceFile, span: Span) -> Option<&Item> {
    item_named(&parse_file(db, file).items, span)
}

fn add_missing(db: &dyn Db, file: SourceFile, d: &Diagnostic) -> Option<Fix> {
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
    Some(Fix {
        title: format!(
            "add the missing field{} {}",
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ),
        edits: vec![edit(db, file, Span::new(at, end_of_replace), new)],
        applicability: Applicability::HasPlaceholders,
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
