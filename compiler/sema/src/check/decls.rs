//! Checking declarations: resources, modules, loops, parameters, outputs.

use super::*;

impl<'a> Checker<'a> {
    pub(super) fn check_all(&mut self) {
        for imp in file_imports(self.db, self.file_handle()) {
            let ws = self.db.workspace();
            if let Some(reason) = ws.unreadable(self.db).get(&imp.path) {
                self.err(
                    "E1101",
                    imp.span,
                    format!("Cannot read imported file `{}`", imp.path),
                    reason.clone(),
                    Some("check the path; imports are relative to the importing file".into()),
                );
            } else if !ws.files(self.db).contains_key(&imp.path) {
                self.err(
                    "E1101",
                    imp.span,
                    format!("Cannot find imported file `{}`", imp.path),
                    "no such file",
                    Some("check the path; imports are relative to the importing file".into()),
                );
            } else if import_cycle_edges(self.db).contains(&(self.path.clone(), imp.path.clone())) {
                self.err(
                    "E1102",
                    imp.span,
                    "Import cycle",
                    format!("`{}` imports this file back", imp.path),
                    Some("move the shared declarations into a third file that both import".into()),
                );
            }
        }
        let items = self.items;
        self.check_items(items, 0);
    }

    pub(super) fn file_handle(&self) -> SourceFile {
        self.db.workspace().files(self.db)[&self.path]
    }

    pub(super) fn check_items(&mut self, items: &'a [Item], depth: usize) {
        self.locals.push(BTreeMap::new());
        // Loop-local lets are visible to the whole loop body.
        for it in items {
            if depth > 0
                && let ItemKind::Let { name, ty, value } = &it.kind
            {
                let t = match ty {
                    Some(te) => self.lower(te, true),
                    None => {
                        let q = self.quiet;
                        self.quiet = true;
                        let t = self.infer(value, None);
                        self.quiet = q;
                        t
                    }
                };
                self.push_local(name, t);
            }
        }
        for it in items {
            self.check_item(it, depth);
        }
        self.locals.pop();
    }

    pub(super) fn check_item(&mut self, it: &'a Item, depth: usize) {
        let top = depth == 0 && self.module_decls.is_none();
        match &it.kind {
            ItemKind::Import { .. } if !top || depth > 0 => {
                self.not_here(it.span, "`import` belongs at the top of a file")
            }
            ItemKind::Import { alias, .. } => self.note_decl(alias.span, Ty::Unknown),
            ItemKind::Error => {}
            ItemKind::Region { name, fields } => {
                if !top {
                    self.not_here(it.span, "regions are declared at the top level of a file");
                }
                self.note(
                    name.span,
                    Target::Region {
                        name: name.text.clone(),
                    },
                    Ty::Region,
                );
                crate::regions::check_region_decl(self, name, fields);
            }
            ItemKind::Param { ty, default, name } => {
                let t = self.lower(ty, true);
                self.note_decl(name.span, t);
                self.note_type(ty);
                if depth > 0 {
                    self.not_here(
                        it.span,
                        "parameters are declared at the top level of a file or module",
                    );
                }
                let t = self.lower(ty, false);
                if let Some(d) = default {
                    self.check_expr(d, &t, "the parameter's type");
                }
            }
            ItemKind::Let { ty, value, name } => {
                let t = match ty {
                    Some(te) => {
                        self.note_type(te);
                        let t = self.lower(te, false);
                        self.check_expr(value, &t, "the declared type");
                        t
                    }
                    None => self.infer(value, None),
                };
                self.note_decl(name.span, t);
            }
            ItemKind::Resource {
                ty,
                name,
                placement,
                body,
            } => self.check_resource(ty, name, placement.as_ref(), body),
            ItemKind::Use {
                module,
                name,
                placement,
                args,
            } => self.check_use(module, name, placement.as_ref(), args),
            ItemKind::Output {
                ty, value, name, ..
            } => {
                if depth > 0 {
                    self.not_here(
                        it.span,
                        "outputs are declared at the top level of a file or module",
                    );
                } else if self.in_module() && ty.is_none() {
                    self.err(
                        "E0112",
                        name.span,
                        "Module outputs declare their type",
                        "no type",
                        Some(format!("write `output {}: <Type> = ...`; the module's users are checked against it", name.text)),
                    );
                }
                let declared = ty.as_ref().map(|te| self.lower(te, false));
                if let Some(te) = ty {
                    self.note_type(te);
                }
                let t = match &declared {
                    Some(d) => {
                        self.check_expr(value, d, "the declared type");
                        d.clone()
                    }
                    None => self.infer(value, None),
                };
                self.note_decl(name.span, t.clone());
                if top && t.contains_secret() {
                    let d = Diagnostic::error("E1001", "Secret value in an output", self.label(value.span, "this value is secret"))
                        .with_note("outputs are printed and stored in plain text")
                        .with_help("output something that is not secret, or convert it visibly with `reveal(...)` if exposing it is intended");
                    self.emit(d);
                }
            }
            ItemKind::Module {
                items,
                region_var,
                name,
            } => {
                self.note_decl(name.span, Ty::Unknown);
                if !top {
                    self.not_here(it.span, "modules are declared at the top level of a file");
                    return;
                }
                let mut decls = BTreeMap::new();
                let mut dups = Vec::new();
                collect(items, 0, &mut decls, &mut dups, true);
                for (n, s, p) in dups {
                    self.duplicate(&n, s, p);
                }
                self.module_decls = Some(decls);
                self.locals.push(BTreeMap::new());
                if let Some(r) = region_var {
                    self.push_local(r, Ty::Region);
                }
                self.check_items(items, 0);
                self.locals.pop();
                self.module_decls = None;
            }
            ItemKind::For { var, iter, items } => {
                let t = self.infer(iter, None);
                if t.contains_secret() {
                    // Loop keys become resource addresses, which are printed and stored.
                    let d = carbonc_diagnostics::Diagnostic::error("E1001", "A secret decides which instances exist", self.label(iter.span, format!("this collection is `{t}`")))
                        .with_note("loop keys become resource addresses, which appear in plans, graphs and state")
                        .with_help("loop over something that is not secret; a secret can only be a field's value");
                    self.emit(d);
                }
                let elem = self.elem_ty(&t, iter.span);
                self.locals.push(BTreeMap::new());
                self.push_local(var, elem);
                self.check_items(items, depth + 1);
                self.locals.pop();
            }
            ItemKind::If {
                cond,
                then_items,
                else_items,
            } => {
                self.check_expr(cond, &Ty::Bool, "a condition");
                self.check_items(then_items, depth + 1);
                if let Some(e) = else_items {
                    self.check_items(e, depth + 1);
                }
            }
            ItemKind::Fn {
                params,
                ret,
                body,
                name,
            } => {
                self.note_decl(name.span, Ty::Unknown);
                self.note_type(ret);
                for p in params {
                    self.note_type(&p.ty);
                }
                if !top {
                    self.not_here(it.span, "functions are declared at the top level of a file");
                }
                self.locals.push(BTreeMap::new());
                for p in params {
                    let t = self.lower(&p.ty, false);
                    self.push_local(&p.name, t);
                }
                let r = self.lower(ret, false);
                self.check_expr(body, &r, "the declared return type");
                self.locals.pop();
            }
            ItemKind::Enum { variants, name } => {
                self.note_decl(name.span, Ty::Unknown);
                let id = self.user_type_id(&name.text);
                for v in variants {
                    self.note(
                        v.name.span,
                        Target::Variant {
                            enum_id: id.clone(),
                            name: v.name.text.clone(),
                        },
                        Ty::Enum(id.clone()),
                    );
                }
                let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
                for v in variants {
                    if let Some(prev) = seen.insert(&v.name.text, v.name.span) {
                        self.duplicate(&v.name.text, v.name.span, prev);
                    }
                }
            }
            ItemKind::Record { fields, name } => {
                self.note_decl(name.span, Ty::Unknown);
                let owner = self.user_type_id(&name.text);
                for f in fields {
                    self.note_type(&f.ty);
                    let t = self.lower(&f.ty, false);
                    let target = Target::Field {
                        owner: owner.clone(),
                        name: f.name.text.clone(),
                        file: self.path.clone(),
                        span: f.span,
                    };
                    self.note(f.name.span, target, t.clone());
                    if let Some(d) = &f.default {
                        self.check_expr(d, &t, "the field's type");
                    }
                }
            }
            ItemKind::ResourceType { path, fields, .. } => {
                self.note(
                    path.span,
                    Target::ResourceType { name: path.text() },
                    Ty::Unknown,
                );
                if let Some(schema) = self.cat.resources.get(&path.text()) {
                    for f in fields {
                        if let Some(fs) = schema.field(&f.name.text) {
                            let fs = fs.clone();
                            self.note_field(f.name.span, &path.text(), &fs);
                        }
                        self.note_type(&f.ty);
                    }
                }
                if carbonc_stdlib::prelude_namespace(&self.path).is_none() {
                    self.not_here(it.span, "resource types are declared in `stdlib/aws`");
                }
            }
        }
    }

    pub(super) fn not_here(&mut self, span: Span, why: &str) {
        self.err(
            "E0112",
            span,
            "Declaration not allowed here",
            why.to_string(),
            Some(capital(why)),
        );
    }

    pub(super) fn elem_ty(&mut self, t: &Ty, span: Span) -> Ty {
        match t.core() {
            Ty::List(e) => (**e).clone(),
            Ty::Map(v) => Ty::AnonRecord(vec![
                ("key".into(), Ty::String),
                ("value".into(), (**v).clone()),
            ]),
            Ty::Unknown => Ty::Unknown,
            // A record literal whose values share one type is a map.
            Ty::AnonRecord(fs) if fs.windows(2).all(|w| w[0].1 == w[1].1) => Ty::AnonRecord(vec![
                ("key".into(), Ty::String),
                (
                    "value".into(),
                    fs.first().map_or(Ty::Unknown, |(_, t)| t.clone()),
                ),
            ]),
            other => {
                self.err(
                    "E0203",
                    span,
                    format!("Cannot iterate over `{other}`"),
                    "not a list or map",
                    Some("iterate over a list (such as `regions`) or a map".into()),
                );
                Ty::Unknown
            }
        }
    }

    pub(super) fn check_resource(
        &mut self,
        ty: &ast::Path,
        name: &ast::Name,
        placement: Option<&Expr>,
        body: &[ast::Assign],
    ) {
        if self.cat.resources.contains_key(&ty.text()) {
            self.note(
                ty.span,
                Target::ResourceType { name: ty.text() },
                Ty::Unknown,
            );
            let own = Ty::Ref {
                target: ty.text(),
                placement: None,
            };
            self.note_decl(name.span, own);
        }
        let Some(schema) = self.cat.resources.get(&ty.text()) else {
            let names = || self.cat.resources.keys().map(String::as_str);
            let fix = self.typo(ty.span, &ty.text(), names());
            let help = did_you_mean(&ty.text(), names()).or_else(|| {
                Some("resource types live in `stdlib/aws`, for example `aws.kms.Key`".into())
            });
            self.err_fix(
                "E0103",
                ty.span,
                format!("Unknown resource type `{}`", ty.text()),
                "no schema has this name",
                fix,
                help,
            );
            // Without a schema nothing is expected of the values: what they would be checked
            // against (an enum for `.variant`, say) is the unknown type's mistake, not theirs.
            let quiet = std::mem::replace(&mut self.quiet, true);
            for a in body {
                self.infer(&a.value, None);
            }
            self.quiet = quiet;
            return;
        };
        let regional = schema.scope == Scope::Regional;
        match (regional, placement) {
            (true, None) => {
                let d = Diagnostic::error(
                    "E0303",
                    format!("{} `{}` has no region", schema.human_name(), name.text),
                    self.label(name.span, "needs a placement"),
                );
                let d = match self.placement_fix(name.span) {
                    Some(fix) => d.with_fix(fix),
                    None => d.with_help(format!(
                        "place it in a region: `resource {} {} @ <region> {{ ... }}`",
                        ty.text(),
                        name.text
                    )),
                };
                self.emit(d);
            }
            (false, Some(p)) => {
                let d = Diagnostic::error(
                    "E0304",
                    format!("{} is global and takes no region", schema.human_name()),
                    self.label(p.span, "placement given here"),
                )
                .with_fix(Fix::replace(
                    "remove the `@ ...`: this resource type lives in no region",
                    self.path.clone(),
                    Span::new(name.span.end as usize, p.span.end as usize),
                    "",
                    carbonc_diagnostics::Applicability::MachineApplicable,
                ));
                self.emit(d);
            }
            (_, Some(p)) => self.check_expr(p, &Ty::Region, "a placement"),
            _ => {}
        }
        let mut fields = schema.fields.clone();
        // Every resource accepts `lifecycle = { create_before_destroy = true, prevent_destroy = true }`.
        fields.push(FieldSchema {
            name: "lifecycle".into(),
            ty: Ty::Optional(Box::new(Ty::Record(crate::items::LIFECYCLE_RECORD.into()))),
            default: None,
            computed: false,
            forces_new: false,
            metric: false,
            doc: None,
            file: String::new(),
            span: Span::default(),
        });
        self.check_fields(&fields, body, name.span, &schema.human_name(), &schema.name);
    }

    /// Checks `name = value` assignments against declared fields (resource, record or module params).
    pub(super) fn check_fields(
        &mut self,
        fields: &[FieldSchema],
        body: &[ast::Assign],
        owner_span: Span,
        owner: &str,
        owner_ty: &str,
    ) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for a in body {
            if let Some(prev) = seen.insert(&a.name.text, a.name.span) {
                self.duplicate(&a.name.text, a.name.span, prev);
            }
            if let Some(f) = fields.iter().find(|f| f.name == a.name.text) {
                self.note_field(a.name.span, owner_ty, f);
            }
            match fields.iter().find(|f| f.name == a.name.text) {
                None => {
                    let names = || {
                        fields
                            .iter()
                            .filter(|f| !f.computed)
                            .map(|f| f.name.as_str())
                    };
                    // Renamed when a field is close, else removed (which drops what was written:
                    // offered, never applied unasked).
                    let fix = self.typo(a.name.span, &a.name.text, names()).or_else(|| {
                        let src = self.source()?;
                        Some(Fix::replace(
                            format!("remove the field `{}`", a.name.text),
                            self.path.clone(),
                            crate::suggest::removal(src, a.span),
                            "",
                            carbonc_diagnostics::Applicability::MaybeIncorrect,
                        ))
                    });
                    let help = did_you_mean(&a.name.text, names())
                        .or_else(|| Some("remove this field".into()));
                    self.err_fix(
                        "E0104",
                        a.name.span,
                        format!("{owner} has no field `{}`", a.name.text),
                        format!("unknown field of `{owner_ty}`"),
                        fix,
                        help,
                    );
                    self.infer(&a.value, None);
                }
                Some(f) if f.computed => {
                    let fix = self.source().map(|src| {
                        Fix::replace(
                            "remove it: its value is known after apply",
                            self.path.clone(),
                            crate::suggest::removal(src, a.span),
                            "",
                            carbonc_diagnostics::Applicability::MachineApplicable,
                        )
                    });
                    self.err_fix(
                        "E0106",
                        a.name.span,
                        format!("`{}` is computed by AWS and cannot be set", a.name.text),
                        "computed field",
                        fix,
                        Some("remove it: its value is known after apply".into()),
                    );
                    self.infer(&a.value, None);
                }
                Some(f) => {
                    let expected = f.ty.clone();
                    self.check_expr(&a.value, &expected, &format!("field `{}`", f.name));
                }
            }
        }
        // A misspelt field is reported as unknown (with "did you mean"); the field it was meant to
        // be is not reported as missing as well.
        let meant: Vec<String> = body
            .iter()
            .filter(|a| !fields.iter().any(|f| f.name == a.name.text))
            .filter_map(|a| did_you_mean(&a.name.text, fields.iter().map(|f| f.name.as_str())))
            .collect();
        let missing: Vec<&FieldSchema> = fields
            .iter()
            .filter(|f| f.required() && !seen.contains_key(f.name.as_str()))
            .filter(|f| {
                !meant
                    .iter()
                    .any(|m| m == &format!("did you mean `{}`?", f.name))
            })
            .collect();
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|f| format!("`{}`", f.name)).collect();
            let example: Vec<String> = missing
                .iter()
                .map(|f| format!("{} = <{}>", f.name, f.ty))
                .collect();
            let title = if missing.len() == 1 {
                format!("{owner} is missing the required field {}", names[0])
            } else {
                format!(
                    "{owner} is missing the required fields {}",
                    names.join(", ")
                )
            };
            let d = Diagnostic::error("E0105", title, self.label(owner_span, "declared here"))
                .with_help(format!("add {}", example.join(", ")));
            self.emit(d);
        }
    }

    pub(super) fn check_use(
        &mut self,
        module: &ast::Path,
        name: &ast::Name,
        placement: Option<&Expr>,
        args: &[ast::Assign],
    ) {
        let location = self.module_location(module);
        if let Some((file, m)) = &location
            && self.index.is_some()
        {
            if let [alias, _] = module.segments.as_slice()
                && let Some((_, at)) = self.lookup_decl_at(&alias.text)
            {
                self.note_local(alias.span, at, Ty::Unknown);
            }
            if let (Some(last), Some(at)) = (
                module.segments.last(),
                index::find_decl(self.db, file, &[m.as_str()]),
            ) {
                let target = Target::Decl {
                    file: file.clone(),
                    span: at,
                };
                self.note(last.span, target, Ty::Unknown);
            }
        }
        let Some(sig) = self.module_by_path(module) else {
            // `alias.name` of an import: its modules are the candidates.
            let of_import = match module.segments.as_slice() {
                [alias, last] => self.import_exports(&alias.text).map(|ex| {
                    let names: Vec<&str> = ex
                        .iter()
                        .filter(|(_, e)| matches!(e, Export::Module(_)))
                        .map(|(n, _)| n.as_str())
                        .collect();
                    (alias.text.clone(), last.span, last.text.clone(), names)
                }),
                _ => None,
            };
            let (fix, help) = match &of_import {
                Some((alias, span, last, names)) => (
                    self.typo(*span, last, names.iter().copied()),
                    Some(if names.is_empty() {
                        format!("the file imported as `{alias}` declares no module")
                    } else {
                        format!(
                            "the modules of `{alias}` are {}",
                            names
                                .iter()
                                .map(|n| format!("`{alias}.{n}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }),
                ),
                None => (
                    None,
                    Some("a module of another file is used as `alias.module`, with the file imported as `alias`".into()),
                ),
            };
            self.err_fix(
                "E0109",
                module.span,
                format!("Cannot find module `{}`", module.text()),
                "no module with this name",
                fix,
                help,
            );
            for a in args {
                self.infer(&a.value, None);
            }
            return;
        };
        match (sig.regional, placement) {
            (true, None) => {
                let fix = self.placement_fix(name.span);
                self.err_fix(
                    "E0303",
                    name.span,
                    format!("Module `{}` needs a region", module.text()),
                    "needs a placement",
                    fix,
                    Some(format!(
                        "place it: `use {} as {} @ <region> {{ ... }}`",
                        module.text(),
                        name.text
                    )),
                )
            }
            (false, Some(p)) => {
                let fix = Fix::replace(
                    "remove the `@ ...`",
                    self.path.clone(),
                    Span::new(name.span.end as usize, p.span.end as usize),
                    "",
                    carbonc_diagnostics::Applicability::MachineApplicable,
                );
                self.err_fix(
                    "E0304",
                    p.span,
                    format!("Module `{}` is global and takes no region", module.text()),
                    "placement given here",
                    Some(fix),
                    None,
                )
            }
            (_, Some(p)) => self.check_expr(p, &Ty::Region, "a placement"),
            _ => {}
        }
        self.note_decl(name.span, Ty::Module(sig.id.clone()));
        let fields: Vec<FieldSchema> = sig
            .params
            .iter()
            .map(|(n, t, has_default)| {
                // Where the parameter is declared, for the editor (the signature has no spans).
                let (file, span) = match (&location, self.index.is_some()) {
                    (Some((file, m)), true) => (
                        file.clone(),
                        index::find_decl(self.db, file, &[m.as_str(), n.as_str()])
                            .unwrap_or_default(),
                    ),
                    _ => (String::new(), Span::default()),
                };
                FieldSchema {
                    name: n.clone(),
                    ty: t.clone(),
                    default: has_default.then(|| Expr {
                        kind: ExprKind::None,
                        span: Span::default(),
                    }),
                    computed: false,
                    forces_new: false,
                    metric: false,
                    doc: None,
                    file,
                    span,
                }
            })
            .collect();
        self.check_fields(
            &fields,
            args,
            name.span,
            &format!("Module `{}`", module.text()),
            &module.text(),
        );
    }
}
