//! Type inference and checking of expressions.

use super::*;

impl<'a> Checker<'a> {
    /// Checks `e` against `expected`, reporting a mismatch. `what` says where the type comes from.
    pub(crate) fn check_expr(&mut self, e: &Expr, expected: &Ty, what: &str) {
        let actual = self.infer(e, Some(expected));
        self.assignable(&actual, expected, e.span, what);
    }

    pub(super) fn assignable(&mut self, actual: &Ty, expected: &Ty, span: Span, what: &str) {
        if actual.contains_secret()
            && !expected.contains_secret()
            && !matches!(expected, Ty::Unknown)
        {
            let d = Diagnostic::error("E1001", format!("Secret value flows into {what}"), self.label(span, format!("this value is `{actual}`")))
                .with_note(format!("{what} is `{expected}`, which is not secret: it would appear in plan output and state"))
                .with_help("use a `Secret<...>` field, or convert it visibly with `reveal(...)` if exposing it is intended");
            self.emit(d);
            return;
        }
        if !compatible(actual, expected) {
            self.err(
                "E0201",
                span,
                format!("Mismatched types: expected `{expected}`, found `{actual}`"),
                format!("expected `{expected}` for {what}"),
                None,
            );
        }
    }

    pub(crate) fn infer(&mut self, e: &Expr, expected: Option<&Ty>) -> Ty {
        let expected_core = expected.map(|t| t.core().clone());
        match &e.kind {
            ExprKind::Error => Ty::Unknown,
            ExprKind::Int(_) => Ty::Int,
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::None => Ty::NoneTy,
            ExprKind::Str(parts) => {
                let mut secret = false;
                for p in parts {
                    if let ast::StrPart::Interp(x) = p {
                        let t = self.infer(x, None);
                        secret |= t.is_secret();
                        match t.core() {
                            Ty::String
                            | Ty::Int
                            | Ty::Bool
                            | Ty::Enum(_)
                            | Ty::Region
                            | Ty::Unknown => {}
                            other => self.err(
                                "E0201",
                                x.span,
                                format!("Cannot interpolate a value of type `{other}`"),
                                "not a string, number, boolean, enum or region",
                                Some(
                                    "interpolate one of its fields, or use `join(...)` for lists"
                                        .into(),
                                ),
                            ),
                        }
                    }
                }
                if secret {
                    Ty::Secret(Box::new(Ty::String))
                } else {
                    Ty::String
                }
            }
            ExprKind::Name(n) => self.name_ty(n),
            ExprKind::Variant(v) => match &expected_core {
                Some(Ty::Enum(id)) => {
                    self.note_variant(id, v);
                    self.check_variant(id, v);
                    Ty::Enum(id.clone())
                }
                Some(Ty::Unknown) => Ty::Unknown,
                _ => {
                    let hint = expected_core
                        .as_ref()
                        .map_or(String::new(), |t| format!(" (a `{t}` is expected here)"));
                    self.err(
                        "E0201",
                        e.span,
                        format!("Cannot tell which enum `.{}` belongs to{hint}", v.text),
                        "enum variant without a known enum",
                        Some(format!("write the enum's name: `Enum.{}`", v.text)),
                    );
                    Ty::Unknown
                }
            },
            ExprKind::List(items) => {
                let elem_expected = match &expected_core {
                    Some(Ty::List(t)) => Some((**t).clone()),
                    _ => None,
                };
                let mut elem = elem_expected.clone();
                for it in items {
                    match &elem {
                        Some(t) => {
                            let t = t.clone();
                            self.check_expr(it, &t, "a list element");
                        }
                        None => elem = Some(self.infer(it, None)),
                    }
                }
                Ty::List(Box::new(elem.unwrap_or(Ty::Unknown)))
            }
            ExprKind::Record(fields) => match &expected_core {
                Some(Ty::Record(id)) => {
                    let id = id.clone();
                    match self.record_by_id(&id) {
                        Some(defs) => {
                            self.check_fields(
                                &defs,
                                fields,
                                e.span,
                                &format!("Record `{}`", crate::ty::short_name(&id)),
                                crate::ty::short_name(&id),
                            );
                        }
                        None => {
                            for f in fields {
                                self.infer(&f.value, None);
                            }
                        }
                    }
                    Ty::Record(id)
                }
                Some(Ty::Map(v)) => {
                    let v = (**v).clone();
                    for f in fields {
                        self.check_expr(&f.value, &v, "a map value");
                    }
                    Ty::Map(Box::new(v))
                }
                _ => Ty::AnonRecord(
                    fields
                        .iter()
                        .map(|f| (f.name.text.clone(), self.infer(&f.value, None)))
                        .collect(),
                ),
            },
            ExprKind::ListComp {
                var,
                iter,
                cond,
                body,
            } => {
                self.enter_comprehension(var, iter, cond.as_deref());
                let exp = match &expected_core {
                    Some(Ty::List(t)) => Some((**t).clone()),
                    _ => None,
                };
                let b = self.infer(body, exp.as_ref());
                self.locals.pop();
                Ty::List(Box::new(b))
            }
            ExprKind::MapComp {
                var,
                iter,
                cond,
                key,
                value,
            } => {
                self.enter_comprehension(var, iter, cond.as_deref());
                self.check_expr(key, &Ty::String, "a map key");
                let exp = match &expected_core {
                    Some(Ty::Map(t)) => Some((**t).clone()),
                    _ => None,
                };
                let v = self.infer(value, exp.as_ref());
                self.locals.pop();
                Ty::Map(Box::new(v))
            }
            ExprKind::If {
                cond,
                then_expr,
                else_expr,
            } => {
                self.check_expr(cond, &Ty::Bool, "a condition");
                let a = self.infer(then_expr, expected);
                let b = self.infer(else_expr, expected.or(Some(&a)));
                if a == Ty::NoneTy && b != Ty::NoneTy {
                    Ty::Optional(Box::new(b))
                } else if b == Ty::NoneTy && a != Ty::NoneTy {
                    Ty::Optional(Box::new(a))
                } else if compatible(&b, &a) {
                    a
                } else if compatible(&a, &b) {
                    b
                } else {
                    self.err(
                        "E0201",
                        else_expr.span,
                        format!("`if` branches differ: `{a}` and `{b}`"),
                        format!("this is `{b}`"),
                        Some("make both branches the same type".into()),
                    );
                    Ty::Unknown
                }
            }
            ExprKind::Unary { op, expr } => match op {
                ast::UnOp::Not => {
                    self.check_expr(expr, &Ty::Bool, "`!`");
                    Ty::Bool
                }
                ast::UnOp::Neg => {
                    self.check_expr(expr, &Ty::Int, "`-`");
                    Ty::Int
                }
            },
            ExprKind::Binary { op, lhs, rhs } => self.infer_binary(*op, lhs, rhs, expected),
            ExprKind::Field { base, name } => self.infer_field(e, base, name),
            ExprKind::Index { base, args } => self.infer_index(base, args),
            ExprKind::Call { callee, args } => self.infer_call(e, callee, args),
        }
    }

    /// Binds a comprehension's variable in a new scope (the caller pops it) and checks its condition.
    fn enter_comprehension(&mut self, var: &ast::Name, iter: &Expr, cond: Option<&Expr>) {
        let t = self.infer(iter, None);
        let elem = self.elem_ty(&t, iter.span);
        // The elements of a secret collection are secrets.
        let elem = if t.is_secret() { elem.secret() } else { elem };
        self.locals.push(BTreeMap::new());
        self.push_local(var, elem);
        if let Some(c) = cond {
            self.check_expr(c, &Ty::Bool, "a condition");
        }
    }

    pub(super) fn check_variant(&mut self, id: &str, v: &ast::Name) {
        if let Some(def) = self.enum_by_id(id)
            && !def.has(&v.text)
        {
            let names = || def.variants.iter().map(|(n, _, _)| n.as_str());
            let fix = self.typo(v.span, &v.text, names());
            let help = did_you_mean(&v.text, names()).or_else(|| {
                let all: Vec<String> = def
                    .variants
                    .iter()
                    .take(8)
                    .map(|(n, _, _)| format!("`.{n}`"))
                    .collect();
                Some(format!("use one of {}", all.join(", ")))
            });
            self.err_fix(
                "E0111",
                v.span,
                format!(
                    "`{}` has no variant `{}`",
                    crate::ty::short_name(id),
                    v.text
                ),
                "unknown variant",
                fix,
                help,
            );
        }
    }

    pub(super) fn infer_binary(
        &mut self,
        op: ast::BinOp,
        lhs: &Expr,
        rhs: &Expr,
        expected: Option<&Ty>,
    ) -> Ty {
        use ast::BinOp::*;
        match op {
            Or | And => {
                self.check_expr(lhs, &Ty::Bool, &format!("`{}`", op.symbol()));
                self.check_expr(rhs, &Ty::Bool, &format!("`{}`", op.symbol()));
                Ty::Bool
            }
            Eq | Ne => {
                let a = self.infer(lhs, None);
                let a_core = a.core().clone();
                let b = self.infer(rhs, Some(&a_core));
                if !compatible(&b, &a) && !compatible(&a, &b) {
                    self.err(
                        "E0201",
                        rhs.span,
                        format!("Cannot compare `{a}` with `{b}`"),
                        format!("this is `{b}`"),
                        None,
                    );
                }
                // Comparing a secret tells something about it: the answer is a secret too.
                if a.is_secret() || b.is_secret() {
                    Ty::Bool.secret()
                } else {
                    Ty::Bool
                }
            }
            Lt | Le | Gt | Ge => {
                let a = self.infer(lhs, None);
                let b = self.infer(rhs, None);
                self.assignable(a.core(), &Ty::Int, lhs.span, &format!("`{}`", op.symbol()));
                self.assignable(b.core(), &Ty::Int, rhs.span, &format!("`{}`", op.symbol()));
                if a.is_secret() || b.is_secret() {
                    Ty::Bool.secret()
                } else {
                    Ty::Bool
                }
            }
            Add => {
                let a = self.infer(lhs, None);
                if matches!(a.core(), Ty::String) {
                    let b = self.infer(rhs, None);
                    self.assignable(b.core(), &Ty::String, rhs.span, "`+` on strings");
                    if a.is_secret() || b.is_secret() {
                        Ty::Secret(Box::new(Ty::String))
                    } else {
                        Ty::String
                    }
                } else {
                    self.assignable(&a, &Ty::Int, lhs.span, "`+`");
                    self.check_expr(rhs, &Ty::Int, "`+`");
                    Ty::Int
                }
            }
            Sub | Mul | Div | Rem => {
                self.check_expr(lhs, &Ty::Int, &format!("`{}`", op.symbol()));
                self.check_expr(rhs, &Ty::Int, &format!("`{}`", op.symbol()));
                Ty::Int
            }
            Coalesce => {
                let a = self.infer(
                    lhs,
                    expected.map(|t| Ty::Optional(Box::new(t.clone()))).as_ref(),
                );
                let inner = match a {
                    Ty::Optional(t) => *t,
                    Ty::NoneTy => Ty::Unknown,
                    t => t,
                };
                let b = self.infer(rhs, Some(&inner));
                self.assignable(&b, &inner, rhs.span, "the other side of `??`");
                inner
            }
        }
    }

    /// Flattens `a.b.c` into names when the expression is a plain path.
    pub(super) fn as_path(e: &Expr) -> Option<Vec<&ast::Name>> {
        match &e.kind {
            ExprKind::Name(n) => Some(vec![n]),
            ExprKind::Field { base, name } => {
                let mut p = Self::as_path(base)?;
                p.push(name);
                Some(p)
            }
            _ => None,
        }
    }

    pub(super) fn infer_field(&mut self, whole: &Expr, base: &Expr, name: &ast::Name) -> Ty {
        // Paths first: `alias.item`, `Enum.Variant`, `aws.kms.KeySpec.X`.
        if let Some(path) = Self::as_path(base)
            && self.local(&path[0].text).is_none()
        {
            let first = &path[0].text;
            match (self.lookup_decl(first), path.len()) {
                (Some(Decl::Import), 1) => {
                    let Some(exports) = self.import_exports(first) else {
                        return Ty::Unknown;
                    };
                    if let Some((_, at)) = self.lookup_decl_at(first) {
                        self.note_local(path[0].span, at, Ty::Unknown);
                    }
                    let t = match exports.get(&name.text) {
                        Some(Export::Value(t)) => t.clone(),
                        _ => Ty::Unknown,
                    };
                    self.note_imported(name.span, first, &name.text, t);
                    return match exports.get(&name.text) {
                        Some(Export::Value(t)) => t.clone(),
                        Some(_) => {
                            self.err(
                                "E0201",
                                whole.span,
                                format!("`{first}.{}` is not a value", name.text),
                                "used as a value here",
                                None,
                            );
                            Ty::Unknown
                        }
                        None => {
                            let names = || exports.keys().map(String::as_str);
                            let fix = self.typo(name.span, &name.text, names());
                            let help = did_you_mean(&name.text, names());
                            self.err_fix(
                                "E0101",
                                name.span,
                                format!("`{first}` has no item `{}`", name.text),
                                "not declared in the imported file",
                                fix,
                                help,
                            );
                            Ty::Unknown
                        }
                    };
                }
                (Some(Decl::Import), 2) => {
                    if let Some(Export::Enum(def)) = self
                        .import_exports(first)
                        .and_then(|x| x.get(&path[1].text))
                    {
                        let id = def.id.clone();
                        if let Some((_, at)) = self.lookup_decl_at(first) {
                            self.note_local(path[0].span, at, Ty::Unknown);
                        }
                        self.note_imported(path[1].span, first, &path[1].text, Ty::Unknown);
                        self.note_variant(&id, name);
                        self.check_variant(&id, name);
                        return Ty::Enum(id);
                    }
                }
                (Some(Decl::Enum(_)), 1) => {
                    let id = self.user_type_id(first);
                    if let Some((_, at)) = self.lookup_decl_at(first) {
                        self.note_local(path[0].span, at, Ty::Unknown);
                    }
                    self.note_variant(&id, name);
                    self.check_variant(&id, name);
                    return Ty::Enum(id);
                }
                (None, _) if !self.regions.contains(first) && first != "regions" => {
                    let text: Vec<&str> = path.iter().map(|n| n.text.as_str()).collect();
                    let id = text.join(".");
                    if self.cat.enums.contains_key(&id) {
                        self.note_variant(&id, name);
                        self.check_variant(&id, name);
                        return Ty::Enum(id);
                    }
                }
                _ => {}
            }
        }
        let bt = self.infer(base, None);
        self.field_of(&bt, name)
    }

    pub(super) fn field_of(&mut self, bt: &Ty, name: &ast::Name) -> Ty {
        let missing = |ck: &mut Self, owner: String, options: Vec<String>| {
            let fix = ck.typo(name.span, &name.text, options.iter().map(String::as_str));
            let help = did_you_mean(&name.text, options.iter().map(String::as_str));
            ck.err_fix(
                "E0202",
                name.span,
                format!("`{owner}` has no field `{}`", name.text),
                "unknown field",
                fix,
                help,
            );
            Ty::Unknown
        };
        match bt {
            Ty::Unknown => Ty::Unknown,
            Ty::Secret(t) => self.field_of(t, name).secret(),
            Ty::Optional(t) => match self.field_of(t, name) {
                Ty::Optional(x) => Ty::Optional(x),
                Ty::Unknown => Ty::Unknown,
                x => Ty::Optional(Box::new(x)),
            },
            Ty::Region => match name.text.as_str() {
                "name" | "code" | "maintenance" | "role" => {
                    let t = if name.text == "role" {
                        Ty::Enum(crate::regions::ROLE_ENUM.into())
                    } else {
                        Ty::String
                    };
                    let target = Target::Builtin {
                        name: format!("Region.{}", name.text),
                    };
                    self.note(name.span, target, t.clone());
                    t
                }
                _ => missing(
                    self,
                    "Region".into(),
                    vec![
                        "name".into(),
                        "code".into(),
                        "role".into(),
                        "maintenance".into(),
                    ],
                ),
            },
            Ty::Ref { target, .. } => match self.cat.resources.get(target) {
                Some(s) => match s.field(&name.text) {
                    Some(f) => {
                        let f = f.clone();
                        self.note_field(name.span, target, &f);
                        f.ty
                    }
                    None => missing(
                        self,
                        target.clone(),
                        s.fields.iter().map(|f| f.name.clone()).collect(),
                    ),
                },
                None => Ty::Unknown,
            },
            Ty::Record(id) => match self.record_by_id(id) {
                Some(fs) => match fs.iter().find(|f| f.name == name.text) {
                    Some(f) => {
                        self.note_field(name.span, id, f);
                        f.ty.clone()
                    }
                    None => missing(
                        self,
                        crate::ty::short_name(id).to_string(),
                        fs.iter().map(|f| f.name.clone()).collect(),
                    ),
                },
                None => Ty::Unknown,
            },
            Ty::AnonRecord(fs) => match fs.iter().find(|(n, _)| *n == name.text) {
                Some((_, t)) => t.clone(),
                None => missing(
                    self,
                    bt.to_string(),
                    fs.iter().map(|(n, _)| n.clone()).collect(),
                ),
            },
            Ty::Map(v) => (**v).clone(),
            Ty::Module(id) => match self.module_sig_by_id(id) {
                Some(sig) => match sig.outputs.iter().find(|(n, _)| *n == name.text) {
                    Some((_, t)) => {
                        if self.index.is_some()
                            && let Some((file, m)) = id.rsplit_once("::")
                            && let Some(at) = index::find_decl(self.db, file, &[m, &name.text])
                        {
                            let target = Target::Field {
                                owner: id.clone(),
                                name: name.text.clone(),
                                file: file.to_string(),
                                span: at,
                            };
                            self.note(name.span, target, t.clone());
                        }
                        t.clone()
                    }
                    None => missing(
                        self,
                        format!("module {}", crate::ty::short_name(id)),
                        sig.outputs.iter().map(|(n, _)| n.clone()).collect(),
                    ),
                },
                None => Ty::Unknown,
            },
            Ty::Family { .. } => {
                self.err(
                    "E0110",
                    name.span,
                    format!(
                        "`{bt}` is a family of instances: index it before reading `{}`",
                        name.text
                    ),
                    "not indexed",
                    Some("index it with the loop's keys, for example `name[r].field`".into()),
                );
                Ty::Unknown
            }
            other => {
                self.err(
                    "E0202",
                    name.span,
                    format!("`{other}` has no fields"),
                    "no field here",
                    None,
                );
                Ty::Unknown
            }
        }
    }

    pub(super) fn infer_index(&mut self, base: &Expr, args: &[Expr]) -> Ty {
        let bt = self.infer(base, None);
        match bt.core() {
            Ty::Family { elem, keys } => {
                if keys.len() != args.len() {
                    self.err(
                        "E0110",
                        base.span.cover(args.last().map_or(base.span, |a| a.span)),
                        format!(
                            "Wrong number of keys: this family is declared inside {} `for` loop(s)",
                            keys.len()
                        ),
                        format!("indexed with {} key(s)", args.len()),
                        Some("give one key per enclosing loop, for example `db_key[r]`".into()),
                    );
                }
                for a in args {
                    self.infer(a, None);
                }
                (**elem).clone()
            }
            Ty::List(t) => {
                self.index_args(args, &Ty::Int);
                (**t).clone()
            }
            Ty::Map(t) => {
                self.index_args(args, &Ty::String);
                (**t).clone()
            }
            Ty::Unknown => {
                for a in args {
                    self.infer(a, None);
                }
                Ty::Unknown
            }
            other => {
                self.err(
                    "E0203",
                    base.span,
                    format!("Cannot index into `{other}`"),
                    "not a list, map or resource family",
                    Some(
                        "only lists, maps and resources declared inside `for` loops can be indexed"
                            .into(),
                    ),
                );
                Ty::Unknown
            }
        }
    }

    pub(super) fn index_args(&mut self, args: &[Expr], key: &Ty) {
        if args.len() != 1 {
            self.err(
                "E0110",
                args.get(1).map_or(Span::default(), |a| a.span),
                "Lists and maps take one index",
                "extra index",
                None,
            );
        }
        for a in args {
            self.check_expr(a, key, "an index");
        }
    }

    pub(super) fn infer_call(&mut self, whole: &Expr, callee: &Expr, args: &[ast::Arg]) -> Ty {
        // User functions: `f(...)` or `alias.f(...)`.
        let sig = match Self::as_path(callee).as_deref() {
            Some([n]) if self.local(&n.text).is_none() => match self.lookup_decl_at(&n.text) {
                Some((Decl::Fn(it), at)) => {
                    self.note_local(n.span, at, Ty::Unknown);
                    Some(self.fn_sig(it))
                }
                _ => None,
            },
            Some([a, n]) if matches!(self.lookup_decl(&a.text), Some(Decl::Import)) => {
                if let Some((_, at)) = self.lookup_decl_at(&a.text) {
                    self.note_local(a.span, at, Ty::Unknown);
                }
                self.note_imported(n.span, &a.text, &n.text, Ty::Unknown);
                match self.import_exports(&a.text).and_then(|x| x.get(&n.text)) {
                    Some(Export::Fn(f)) => Some(f.clone()),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(sig) = sig {
            let names: Vec<String> = sig.params.iter().map(|(n, _)| n.clone()).collect();
            match crate::callargs::order(&names, args) {
                Ok(ordered) => {
                    for (x, (pn, pt)) in ordered.into_iter().zip(&sig.params) {
                        self.check_expr(x, pt, &format!("parameter `{pn}`"));
                    }
                }
                Err(msg) => {
                    self.err("E0108", whole.span, capital(&msg), "in this call", None);
                    for a in args {
                        self.infer(&a.value, None);
                    }
                }
            }
            return sig.ret;
        }
        let ExprKind::Name(n) = &callee.kind else {
            self.infer(callee, None);
            self.err(
                "E0107",
                callee.span,
                "This value cannot be called",
                "not a function",
                None,
            );
            return Ty::Unknown;
        };
        if !builtins::NAMES.contains(&n.text.as_str()) {
            let fix = self.typo(n.span, &n.text, builtins::NAMES.iter().copied());
            let help = did_you_mean(&n.text, builtins::NAMES.iter().copied());
            self.err_fix(
                "E0107",
                n.span,
                format!("Cannot find function `{}`", n.text),
                "unknown function",
                fix,
                help,
            );
            for a in args {
                self.infer(&a.value, None);
            }
            return Ty::Unknown;
        }
        self.note(
            n.span,
            Target::Builtin {
                name: n.text.clone(),
            },
            Ty::Unknown,
        );
        let tys: Vec<Ty> = args.iter().map(|a| self.infer(&a.value, None)).collect();
        match builtins::check(&n.text, &tys) {
            Ok(t) => t,
            Err(msg) => {
                let help = builtins::signature(&n.text).map(|s| format!("the signature is `{s}`"));
                self.err("E0108", whole.span, capital(&msg), "in this call", help);
                Ty::Unknown
            }
        }
    }
}

impl<'a> Checker<'a> {
    fn note_variant(&mut self, id: &str, v: &ast::Name) {
        if self.index.is_some() {
            let target = Target::Variant {
                enum_id: id.to_string(),
                name: v.text.clone(),
            };
            self.note(v.span, target, Ty::Enum(id.to_string()));
        }
    }
}
