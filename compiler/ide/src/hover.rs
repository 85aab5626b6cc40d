//! Hover: what a name is, its type, where it is placed, its documentation, and its values, with
//! `(known after apply)` for what AWS computes and `(sensitive)` in place of every secret.

use std::fmt::Write;

use carbonc_sema::syntax::Span;
use carbonc_sema::syntax::ast::ItemKind;
use carbonc_sema::{
    Db, Origin, SourceFile, Target, Ty, Value, builtin_signature, catalog, file_index, parse_file,
};

use crate::program_of;
use crate::scope::{field_decl, item_named, text};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    /// The name the hover is about.
    pub span: Span,
    /// Markdown: a `carbon` code block, then prose.
    pub markdown: String,
}

pub fn hover(db: &dyn Db, file: SourceFile, offset: u32) -> Option<Hover> {
    let r = file_index(db, file).at(offset)?;
    let mut md = String::new();
    match &r.target {
        Target::Decl { file: f, span } => decl(db, file, f, *span, &r.ty, &mut md),
        Target::Field {
            owner,
            name,
            file: f,
            span,
        } => field(db, file, r.span, owner, name, f, *span, &r.ty, &mut md),
        Target::Variant { enum_id, name } => variant(db, enum_id, name, &mut md),
        Target::Region { name } => region(db, file, name, &mut md),
        Target::ResourceType { name } => resource_type(db, name, &mut md),
        Target::Builtin { name } => match builtin_signature(name) {
            Some(sig) => code(&mut md, &format!("fn {sig}")),
            None if name == "regions" => {
                code(&mut md, "regions: List<Region>");
                md.push_str("Every region the program declares, in declaration order.");
            }
            None => code(&mut md, &format!("{name}: {}", r.ty)),
        },
    }
    (!md.is_empty()).then(|| Hover {
        span: r.span,
        markdown: md.trim_end().to_string(),
    })
}

fn code(md: &mut String, text: &str) {
    let _ = write!(md, "```carbon\n{text}\n```\n");
}

fn doc(md: &mut String, doc: Option<&str>) {
    if let Some(d) = doc.map(str::trim).filter(|d| !d.is_empty()) {
        let _ = write!(md, "\n{d}\n");
    }
}

fn file_named(db: &dyn Db, path: &str) -> Option<SourceFile> {
    db.workspace().files(db).get(path).copied()
}

/// The header of an item as written: its text up to the body.
fn header(src: &str, span: Span) -> String {
    let t = text(src, span);
    let end = t.find(['{', '\n']).unwrap_or(t.len());
    t[..end]
        .trim_end()
        .trim_end_matches('=')
        .trim_end()
        .to_string()
}

fn decl(db: &dyn Db, here: SourceFile, path: &str, span: Span, ty: &Ty, md: &mut String) {
    let Some(f) = file_named(db, path) else {
        return;
    };
    let src = f.text(db);
    let Some(it) = item_named(&parse_file(db, f).items, span) else {
        // A loop variable, function parameter or module region.
        code(md, &format!("{}: {ty}", text(src, span)));
        return;
    };
    match &it.kind {
        ItemKind::Resource { ty: t, name, .. } => {
            code(md, &format!("resource {} {}", t.text(), name.text));
            placements(db, here, path, span, md);
            let cat = catalog(db);
            if let Some(s) = cat.resources.get(&t.text()) {
                doc(md, it.doc.as_deref());
                let _ = writeln!(md, "\n---\n`{}`: {}", s.name, s.human_name());
                doc(md, s.doc.as_deref());
                return;
            }
        }
        ItemKind::Use { module, name, .. } => {
            code(md, &format!("use {} as {}", module.text(), name.text));
            module_placements(db, here, &name.text, md);
            doc(md, it.doc.as_deref());
            // The module's own documentation, from the file that declares it.
            let (file, m) = match module.segments.as_slice() {
                [one] => (Some(f), one.text.as_str()),
                [alias, m] => (
                    carbonc_sema::file_imports(db, f)
                        .iter()
                        .find(|i| i.alias == alias.text)
                        .and_then(|i| file_named(db, &i.path)),
                    m.text.as_str(),
                ),
                _ => (None, ""),
            };
            let module_doc = file.and_then(|mf| {
                parse_file(db, mf).items.iter().find_map(|x| match &x.kind {
                    ItemKind::Module { name, .. } if name.text == m => x.doc.clone(),
                    _ => None,
                })
            });
            if let Some(d) = module_doc {
                let _ = write!(md, "\n---\nmodule `{}`\n", module.text());
                doc(md, Some(&d));
            }
            return;
        }
        ItemKind::Param { name, ty: te, .. } => {
            let mut line = format!("param {}: {}", name.text, text(src, te.span));
            if ty.contains_secret() {
                line.push_str(" = (sensitive)");
            }
            code(md, &line);
        }
        ItemKind::Let { name, .. } => {
            let mut line = format!("let {}: {ty}", name.text);
            if ty.contains_secret() {
                line.push_str(" = (sensitive)");
            }
            code(md, &line);
        }
        ItemKind::Output { name, .. } => code(md, &format!("output {}: {ty}", name.text)),
        ItemKind::Import { path: p, .. } => code(md, &format!("{}  # {p}", header(src, it.span))),
        _ => code(md, &header(src, it.span)),
    }
    doc(md, it.doc.as_deref());
}

/// Where the instances declared at `span` are placed, from the evaluated program.
fn placements(db: &dyn Db, here: SourceFile, path: &str, span: Span, md: &mut String) {
    let program = program_of(db, here);
    let mut codes: Vec<String> = Vec::new();
    let mut count = 0;
    for inst in &program.instances {
        if *inst.file == *path && inst.span == span {
            count += 1;
            let code = program.region_code(inst.region).to_string();
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
    }
    if count == 0 {
        return;
    }
    let _ = writeln!(
        md,
        "\nplaced in **{}** ({count} instance{})",
        codes.join("**, **"),
        if count == 1 { "" } else { "s" }
    );
}

/// Where the resources of a module's instances are placed: those whose address is the instance's
/// (`api[eu-west-1].cluster` for `use ... as api` in a loop).
fn module_placements(db: &dyn Db, here: SourceFile, name: &str, md: &mut String) {
    let program = program_of(db, here);
    let mut instances: Vec<&str> = Vec::new();
    let mut codes: Vec<&str> = Vec::new();
    for inst in &program.instances {
        let Some(rest) = inst.address.strip_prefix(name) else {
            continue;
        };
        let instance = match rest.find("].") {
            Some(i) if rest.starts_with('[') => &inst.address[..name.len() + i + 1],
            _ if rest.starts_with('.') => name,
            _ => continue,
        };
        if !instances.contains(&instance) {
            instances.push(instance);
        }
        let code = program.region_code(inst.region);
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    if !instances.is_empty() {
        let _ = writeln!(
            md,
            "\nplaced in **{}** ({} instance{})",
            codes.join("**, **"),
            instances.len(),
            if instances.len() == 1 { "" } else { "s" }
        );
    }
}

fn field(
    db: &dyn Db,
    here: SourceFile,
    at: Span,
    owner: &str,
    name: &str,
    path: &str,
    span: Span,
    ty: &Ty,
    md: &mut String,
) {
    let cat = catalog(db);
    let schema = cat
        .resources
        .get(owner)
        .and_then(|s| s.field(name))
        .or_else(|| {
            cat.record_fields(owner)
                .and_then(|fs| fs.iter().find(|f| f.name == name))
        });
    let owner_shown = owner.rsplit("::").next().unwrap_or(owner);
    code(md, &format!("{owner_shown}.{name}: {ty}"));
    let mut facts = Vec::new();
    let mut field_doc = None;
    if let Some(f) = schema {
        if f.computed {
            facts.push("computed by AWS: known after apply".to_string());
        } else if f.required() {
            facts.push("required".to_string());
        } else if let Some(d) = &f.default
            && d.span != Span::default()
            && let Some(file) = file_named(db, &f.file)
        {
            facts.push(format!("default `{}`", text(file.text(db), d.span)));
        }
        if f.forces_new {
            facts.push("changing it replaces the resource".to_string());
        }
        field_doc = f.doc.clone();
    } else if let Some(file) = file_named(db, path)
        && let Some(fd) = field_decl(&parse_file(db, file).items, span)
    {
        field_doc = fd.doc.clone();
    }
    if !facts.is_empty() {
        let _ = writeln!(md, "\n{}", facts.join(" · "));
    }
    values(db, here, at, name, ty, md);
    doc(md, field_doc.as_deref());
}

/// The values a field assignment takes in each instance of the resource around it.
fn values(db: &dyn Db, here: SourceFile, at: Span, name: &str, ty: &Ty, md: &mut String) {
    let path = here.path(db);
    let items = &parse_file(db, here).items;
    let scope = crate::scope::at(items, at.end);
    let Some(enclosing) = scope.enclosing else {
        if ty.contains_secret() {
            let _ = writeln!(md, "\nvalue: `(sensitive)`");
        }
        return;
    };
    let ItemKind::Resource { name: rname, .. } = &enclosing.item.kind else {
        return;
    };
    let program = program_of(db, here);
    let mut lines = Vec::new();
    for inst in &program.instances {
        if *inst.file == **path && inst.span == rname.span {
            let shown = inst.get(name).map_or_else(|| "—".to_string(), show);
            lines.push(format!(
                "- `{}` ({}): `{shown}`",
                inst.address,
                program.region_code(inst.region)
            ));
        }
    }
    if !lines.is_empty() {
        let more = lines.len().saturating_sub(8);
        lines.truncate(8);
        if more > 0 {
            lines.push(format!("- … {more} more"));
        }
        let _ = writeln!(md, "\n{}", lines.join("\n"));
    }
}

/// A value as hover shows it: secrets hidden, unknowns named.
pub(crate) fn show(v: &Value) -> String {
    fn join(it: impl Iterator<Item = String>, n: usize) -> String {
        let items: Vec<String> = it.collect();
        let more = items.len().saturating_sub(n);
        let mut shown: Vec<String> = items.into_iter().take(n).collect();
        if more > 0 {
            shown.push(format!("… {more} more"));
        }
        shown.join(", ")
    }
    match v {
        Value::Str(s) if s.chars().count() > 80 => {
            format!("\"{}…\"", s.chars().take(80).collect::<String>())
        }
        Value::Str(s) => format!("{s:?}"),
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::None => "none".into(),
        Value::List(items) => format!("[{}]", join(items.iter().map(show), 5)),
        Value::Map(m) | Value::Record(m) => format!(
            "{{ {} }}",
            join(m.iter().map(|(k, v)| format!("{k} = {}", show(v))), 5)
        ),
        Value::Enum(e) => format!(".{}", e.variant),
        Value::Region { code, .. } => code.clone(),
        Value::Ref { addr } | Value::Module { addr } => addr.clone(),
        Value::Family { base, .. } => base.clone(),
        Value::Path(p) => p.to_string(),
        Value::Secret(_) => "(sensitive)".into(),
        Value::Unknown {
            origin: Origin::AfterApply(_),
            ..
        } => "(known after apply)".into(),
        Value::Unknown {
            origin: Origin::Param(p),
            ..
        } => format!("(given at plan time: param {p})"),
        Value::Unknown { .. } => "(unknown)".into(),
    }
}

fn variant(db: &dyn Db, enum_id: &str, name: &str, md: &mut String) {
    let short = enum_id.rsplit(['.', ':']).next().unwrap_or(enum_id);
    code(md, &format!("{short}.{name}"));
    let def = catalog(db).enums.get(enum_id).cloned().or_else(|| {
        let (file, ename) = enum_id.rsplit_once("::")?;
        match carbonc_sema::file_exports(db, file_named(db, file)?).get(ename) {
            Some(carbonc_sema::Export::Enum(e)) => Some(e.clone()),
            _ => None,
        }
    });
    if let Some(def) = def
        && let Some((_, wire, d)) = def.variants.iter().find(|(n, _, _)| n == name)
    {
        if wire != name {
            let _ = writeln!(md, "\nsent to AWS as `{wire}`");
        }
        doc(md, d.as_deref());
    }
}

fn region(db: &dyn Db, here: SourceFile, name: &str, md: &mut String) {
    let program = program_of(db, here);
    match program.regions.iter().find(|r| r.name == name) {
        Some(r) => {
            code(md, &format!("region {name}: Region = {}", r.code));
            let role = if r.primary { "primary" } else { "secondary" };
            let _ = writeln!(md, "\n{role} region");
            if let Some((w, _)) = &r.maintenance {
                let _ = writeln!(md, "maintenance window `{w}`");
            }
        }
        None => {
            let code_of = carbonc_sema::region_names(db)
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, c)| c.clone())
                .unwrap_or_default();
            code(md, &format!("region {name}: Region = {code_of}"));
        }
    }
    // The region's own doc comment.
    for f in crate::user_files(db) {
        for it in &parse_file(db, f).items {
            if let ItemKind::Region { name: n, .. } = &it.kind
                && n.text == name
            {
                doc(md, it.doc.as_deref());
                return;
            }
        }
    }
}

fn resource_type(db: &dyn Db, name: &str, md: &mut String) {
    let Some(s) = catalog(db).resources.get(name) else {
        return;
    };
    let scope = match s.scope {
        carbonc_sema::syntax::ast::Scope::Global => "global",
        carbonc_sema::syntax::ast::Scope::Regional => "regional",
    };
    code(md, &format!("resource_type {name}  # {scope}"));
    let _ = writeln!(md, "\n{}", s.human_name());
    doc(md, s.doc.as_deref());
    let required: Vec<String> = s
        .fields
        .iter()
        .filter(|f| f.required())
        .map(|f| format!("`{}`", f.name))
        .collect();
    if !required.is_empty() {
        let _ = writeln!(md, "\nrequired: {}", required.join(", "));
    }
}
