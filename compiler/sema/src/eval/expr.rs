//! Evaluation of expressions.

use super::*;

impl<'a> Evaluator<'a> {
    pub(super) fn lookup(&mut self, name: &str, env: &Rc<Env<'a>>, span: Span) -> EResult {
        let mut e = Some(env.clone());
        while let Some(cur) = e {
            // Only what is needed is copied out of the binding: its value, or a thunk's parts.
            let thunk = match cur.vars.borrow().get(name) {
                Some(Binding::Val(v)) => return Ok(v.clone()),
                Some(Binding::Memo(v, generation, ..)) if *generation == self.generation => {
                    return Ok(v.clone());
                }
                Some(Binding::InProgress) => {
                    return Err((span, format!("`{name}` depends on itself")));
                }
                Some(Binding::Thunk(x, t, tenv) | Binding::Memo(_, _, x, t, tenv)) => {
                    Some((*x, t.clone(), tenv.clone()))
                }
                None => None,
            };
            match thunk {
                Some((x, t, tenv)) => {
                    // The binding is there: replaced in place, its name is not copied again.
                    if let Some(b) = cur.vars.borrow_mut().get_mut(name) {
                        *b = Binding::InProgress;
                    }
                    let r = self.eval(x, &tenv, t.as_deref());
                    let v = r.as_ref().cloned().unwrap_or_else(|_| Value::error());
                    let v = match (t.as_deref(), v) {
                        (Some(Ty::Secret(_)), v) if !v.is_secret() && !v.is_unknown() => {
                            Value::Secret(Box::new(v))
                        }
                        (_, v) => v,
                    };
                    if let Some(b) = cur.vars.borrow_mut().get_mut(name) {
                        *b = Binding::Memo(v.clone(), self.generation, x, t, tenv);
                    }
                    return r.map(|_| v);
                }
                None => e = cur.parent.clone(),
            }
        }
        let frame = env.frame.clone();
        if let Some(n) = frame.names.get(name).cloned() {
            return self.name_value(name, n, &frame);
        }
        // Module bodies see their file's lets, functions, enums, modules and imports, but not its
        // resources or parameters.
        if let Some(parent) = &frame.parent
            && let Some(n) = parent.names.get(name).cloned()
            && let Some(n) = match n {
                Name::Deferred { value: false, .. } => self.realize(name, parent),
                n => Some(n),
            }
            && !matches!(
                n,
                Name::Family { .. } | Name::Param { .. } | Name::Deferred { param: true, .. }
            )
        {
            return self.name_value(name, n, &parent.clone());
        }
        if let Some(idx) = self.program.regions.iter().position(|r| r.name == name) {
            return Ok(Value::Region {
                idx,
                code: self.program.regions[idx].code.clone(),
            });
        }
        if name == "regions" {
            return Ok(Value::List(
                self.program
                    .regions
                    .iter()
                    .enumerate()
                    .map(|(idx, r)| Value::Region {
                        idx,
                        code: r.code.clone(),
                    })
                    .collect(),
            ));
        }
        if builtins::NAMES.contains(&name) {
            return Ok(Value::Path(Path::Builtin(name.to_string())));
        }
        // The first segment of a qualified prelude name, such as `aws` in `aws.kms.KeySpec.RSA_2048`.
        let prefix = format!("{name}.");
        if self.cat.enums.keys().any(|id| id.starts_with(&prefix)) {
            return Ok(Value::Path(Path::Namespace(name.to_string())));
        }
        Ok(Value::error())
    }

    /// Variant `variant` of enum `id` (an error value when it has none), made once per
    /// evaluation and shared by every use.
    fn variant_value(&mut self, id: &str, variant: &str) -> Value {
        if let Some(v) = self.variants.get(id).and_then(|m| m.get(variant)) {
            return v.clone();
        }
        let v = enum_value(self.db, self.cat, id, variant).unwrap_or_else(Value::error);
        self.variants
            .entry(id.to_string())
            .or_default()
            .insert(variant.to_string(), v.clone());
        v
    }

    /// The value of a name declared in `owner`.
    pub(super) fn name_value(&mut self, name: &str, n: Name<'a>, owner: &Rc<Frame<'a>>) -> EResult {
        Ok(match n {
            Name::Family {
                keys: 0,
                module: false,
            } => Value::Ref {
                addr: format!("{}{name}", owner.prefix),
            },
            Name::Family {
                keys: 0,
                module: true,
            } => Value::Module {
                addr: format!("{}{name}", owner.prefix),
            },
            Name::Family { keys, module } => Value::Family {
                base: format!("{}{name}", owner.prefix),
                keys,
                module,
            },
            Name::Let(x, t) => {
                let key = (owner.file.clone(), name.to_string());
                match self.let_memo.get(&key) {
                    Some(Some(v)) => v.clone(),
                    Some(None) => return Err((x.span, format!("`{name}` depends on itself"))),
                    None => {
                        self.let_memo.insert(key.clone(), None);
                        let env = Rc::new(Env {
                            vars: RefCell::new(HashMap::default()),
                            parent: None,
                            frame: owner.clone(),
                        });
                        let v = self.eval(x, &env, t.as_ref());
                        let v = match (v, &t) {
                            (Ok(v), Some(Ty::Secret(_))) if !v.is_secret() && !v.is_unknown() => {
                                Value::Secret(Box::new(v))
                            }
                            (Ok(v), _) => v,
                            (Err(e), _) => {
                                self.let_memo.insert(key, Some(Value::error()));
                                return Err(e);
                            }
                        };
                        self.let_memo.insert(key, Some(v.clone()));
                        v
                    }
                }
            }
            Name::Param { default, ty, span } => {
                let key = (owner.file.clone(), name.to_string());
                if let Some(Some(v)) = self.let_memo.get(&key) {
                    return Ok(v.clone());
                }
                self.let_memo.insert(key.clone(), None);
                let var = (owner.file == self.root)
                    .then(|| self.db.inputs().vars(self.db).get(name).cloned())
                    .flatten();
                let v = match (var, default) {
                    (Some(var), _) => self.var_value(name, &var, &ty, span),
                    (None, Some(d)) => {
                        let env = Rc::new(Env {
                            vars: RefCell::new(HashMap::default()),
                            parent: None,
                            frame: owner.clone(),
                        });
                        let v = self.eval(d, &env, Some(&ty))?;
                        if ty.is_secret() && !v.is_secret() && !v.is_unknown() {
                            Value::Secret(Box::new(v))
                        } else {
                            v
                        }
                    }
                    (None, None) => Value::Unknown {
                        origin: Origin::Param(name.to_string()),
                        region: None,
                    },
                };
                self.let_memo.insert(key, Some(v.clone()));
                v
            }
            Name::Fn(_) => Value::Path(Path::Fn {
                file: owner.file.clone(),
                name: name.to_string(),
            }),
            Name::Import(p) => Value::Path(Path::Import(p)),
            Name::Enum(id) => Value::Path(Path::Enum(id)),
            Name::Module(_, id) => Value::Path(Path::Module(id)),
            Name::Deferred { value: true, .. } if self.value_home.as_ref() == Some(&owner.file) => {
                match self.realize(name, owner) {
                    Some(n) => return self.name_value(name, n, owner),
                    None => Value::error(),
                }
            }
            Name::Deferred { value: true, .. } => {
                let (root, _) = self
                    .scope
                    .clone()
                    .expect("deferred names are of file parts");
                let Some(file) = self.db.workspace().files(self.db).get(&owner.file).copied()
                else {
                    return Ok(Value::error());
                };
                let (v, diags) = imported_value(self.db, root, file, name.to_string());
                self.program.diags.extend(diags.iter().cloned());
                return v.clone();
            }
            Name::Deferred { value: false, .. } => match self.realize(name, owner) {
                Some(n) => return self.name_value(name, n, owner),
                None => Value::error(),
            },
        })
    }

    /// The `metrics` of an instance of resource type `ty` in `region` with these fields: each
    /// `metric` its type declares, evaluated in the schema's file with the instance's fields in
    /// scope (a computed one unknown until apply, or known from state), and with the region it
    /// lives in, the instance's unless the declaration names one.
    fn metrics(&mut self, ty: &str, region: Option<usize>, fields: &Fields) -> Value {
        let cat = self.cat;
        let Some(schema) = cat.records.get(&format!("{ty}.Metrics")) else {
            return Value::error();
        };
        let Some(frame) = cat.resources.get(ty).and_then(|r| self.frame(&r.file)) else {
            return Value::error();
        };
        let code = region
            .and_then(|i| self.program.regions.get(i))
            .map(|r| r.code.clone());
        // Besides the fields, a metric may name `region_code`: the code of the resource's region
        // (a regional web ACL's metrics carry it as their `Region` dimension).
        let vars = fields
            .iter()
            .map(|(k, f)| (k.to_string(), Binding::Val(f.value.clone())))
            .chain(
                code.clone()
                    .map(|c| ("region_code".to_string(), Binding::Val(Value::Str(c)))),
            )
            .collect();
        let env = Rc::new(Env {
            vars: RefCell::new(vars),
            parent: None,
            frame,
        });
        let mut out = Entries::new();
        for m in &schema.fields {
            let Some(e) = &m.default else { continue };
            let mut v = self
                .eval(e, &env, Some(&m.ty))
                .unwrap_or_else(|_| Value::error());
            if let Value::Record(r) = &mut v
                && matches!(r.get("region"), None | Some(Value::None))
                && let Some(code) = &code
            {
                r.insert("region".into(), Value::Str(code.clone()));
            }
            out.insert(m.name.clone(), v);
        }
        Value::Record(out)
    }

    pub(super) fn attr(&mut self, base: &Value, field: &str, span: Span) -> EResult {
        Ok(match base {
            Value::Unknown { region, origin } => Value::Unknown {
                origin: origin.clone(),
                region: *region,
            },
            Value::Secret(v) => match self.attr(v, field, span)? {
                v @ Value::Unknown { .. } => v,
                v => Value::Secret(Box::new(v)),
            },
            Value::Region { idx, code } => {
                let r = &self.program.regions[*idx];
                match field {
                    "code" => Value::Str(code.clone()),
                    "name" => Value::Str(r.name.clone()),
                    "role" => {
                        let v = if r.primary { "primary" } else { "secondary" };
                        Value::enum_variant(crate::regions::ROLE_ENUM, v, v)
                    }
                    "maintenance" => r
                        .maintenance
                        .as_ref()
                        .map_or(Value::None, |(w, _)| Value::Str(w.clone())),
                    _ => Value::error(),
                }
            }
            Value::Ref { addr } => {
                let Some(&idx) = self.by_addr.get(addr) else {
                    // Another file's instance: its type and region from that file's skeleton,
                    // its written values as that file's part evaluated them.
                    let Some(inst) = self.remote_header(addr) else {
                        return Err((span, format!("no resource instance `{addr}`")));
                    };
                    let schema_field = self
                        .cat
                        .resources
                        .get(&inst.ty)
                        .and_then(|s| s.field(field));
                    let valued = || self.remote_instance(addr).unwrap_or(inst);
                    return Ok(match schema_field {
                        Some(f) if f.metric => {
                            let inst = valued();
                            let (ty, region, fields) =
                                (inst.ty.clone(), inst.region, inst.fields.clone());
                            self.metrics(&ty, region, &fields)
                        }
                        Some(f) if f.computed => {
                            self.known_attr(addr, field)
                                .unwrap_or_else(|| Value::Unknown {
                                    origin: Origin::AfterApply(vec![format!("{addr}.{field}")]),
                                    region: inst.region,
                                })
                        }
                        Some(_) => valued().get(field).cloned().unwrap_or(Value::None),
                        None => Value::error(),
                    });
                };
                let cat = self.cat;
                let schema_field = cat
                    .resources
                    .get(&self.program.instances[idx].ty)
                    .and_then(|s| s.field(field));
                match schema_field {
                    Some(f) if f.metric => {
                        self.eval_instance(idx);
                        let inst = &self.program.instances[idx];
                        let (ty, region, fields) =
                            (inst.ty.clone(), inst.region, inst.fields.clone());
                        self.metrics(&ty, region, &fields)
                    }
                    Some(f) if f.computed => match self.known_attr(addr, field) {
                        // Known from state: the resource exists and keeps this value.
                        Some(v) => v,
                        None => Value::Unknown {
                            origin: Origin::AfterApply(vec![format!("{addr}.{field}")]),
                            region: self.program.instances[idx].region,
                        },
                    },
                    Some(_) => {
                        self.eval_instance(idx);
                        self.program.instances[idx]
                            .get(field)
                            .cloned()
                            .unwrap_or(Value::None)
                    }
                    None => Value::error(),
                }
            }
            Value::Module { addr } => {
                if !self.modules.contains_key(addr)
                    && let Some(v) = self.remote_module_output(addr, field)
                {
                    return Ok(v);
                }
                let out = self
                    .modules
                    .get(addr)
                    .and_then(|m| m.outputs.get(field))
                    .map(|(x, t, e)| (*x, t.clone(), e.clone()));
                match out {
                    Some((x, t, e)) => self.eval(x, &e, t.as_ref())?,
                    None => Value::error(),
                }
            }
            Value::Record(m) | Value::Map(m) => match m.get(field) {
                Some(v) => v.clone(),
                None if matches!(base, Value::Map(_)) => {
                    return Err((span, format!("the map has no key `{field}`")));
                }
                None => Value::None,
            },
            Value::Path(Path::Import(path)) => {
                let Some(fr) = self.frame(path) else {
                    return Ok(Value::error());
                };
                match fr.names.get(field).cloned() {
                    Some(n) => self.name_value(field, n, &fr)?,
                    None => Value::error(),
                }
            }
            Value::Path(Path::Enum(id)) => self.variant_value(id, field),
            Value::Path(Path::Namespace(prefix)) => {
                let full = format!("{prefix}.{field}");
                if self.cat.enums.contains_key(&full) {
                    Value::Path(Path::Enum(full))
                } else {
                    Value::Path(Path::Namespace(full))
                }
            }
            _ => Value::error(),
        })
    }

    pub(super) fn eval(
        &mut self,
        e: &'a Expr,
        env: &Rc<Env<'a>>,
        expected: Option<&Ty>,
    ) -> EResult {
        let core = expected.map(|t| t.core().clone());
        Ok(match &e.kind {
            ExprKind::Error => Value::error(),
            ExprKind::Int(n) => Value::Int(*n),
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::None => Value::None,
            ExprKind::Str(parts) => {
                let mut out = String::new();
                let mut secret = false;
                let mut unknowns: Vec<Value> = Vec::new();
                for p in parts {
                    match p {
                        ast::StrPart::Text(t) => out.push_str(t),
                        ast::StrPart::Interp(x) => {
                            let v = self.eval(x, env, None)?;
                            secret |= v.is_secret();
                            match v.reveal() {
                                u @ Value::Unknown { .. } => {
                                    unknowns.push(u.clone());
                                }
                                v => out.push_str(&v.display_plain().map_err(|m| (x.span, m))?),
                            }
                        }
                    }
                }
                let v = Value::merge_unknowns(&unknowns).unwrap_or(Value::Str(out));
                if secret {
                    Value::Secret(Box::new(v))
                } else {
                    v
                }
            }
            ExprKind::Name(n) => {
                let v = self.lookup(&n.text, env, n.span)?;
                if n.text != "regions" && v == Value::error() && !self.known_name(&n.text, env) {
                    // An undeclared name was reported by the checker; fall back to an error value.
                    return Ok(Value::error());
                }
                v
            }
            ExprKind::Variant(v) => match &core {
                Some(Ty::Enum(id)) => self.variant_value(id, &v.text),
                _ => Value::error(),
            },
            ExprKind::List(items) => {
                let et = match &core {
                    Some(Ty::List(t)) => Some((**t).clone()),
                    _ => None,
                };
                let mut out = Vec::new();
                for it in items {
                    out.push(self.eval(it, env, et.as_ref())?);
                }
                Value::List(out)
            }
            ExprKind::Record(fields) => {
                let record = match &core {
                    Some(Ty::Record(id)) => self.record_fields(id),
                    _ => &[],
                };
                let value_ty = match &core {
                    Some(Ty::Map(v)) => Some(&**v),
                    _ => None,
                };
                let mut m = Entries::new();
                for f in fields {
                    let ty = value_ty
                        .or_else(|| record.iter().find(|r| r.name == f.name.text).map(|r| &r.ty));
                    m.insert(f.name.text.clone(), self.eval(&f.value, env, ty)?);
                }
                let mut empty = None;
                for r in record {
                    if !m.contains_key(&r.name)
                        && let Some(d) = &r.default
                    {
                        let empty = empty.get_or_insert_with(|| {
                            Rc::new(Env {
                                vars: RefCell::new(HashMap::default()),
                                parent: None,
                                frame: env.frame.clone(),
                            })
                        });
                        let v = self
                            .eval(d, empty, Some(&r.ty))
                            .unwrap_or_else(|_| Value::error());
                        m.insert(r.name.clone(), v);
                    }
                }
                if matches!(core, Some(Ty::Map(_))) {
                    Value::Map(m)
                } else {
                    Value::Record(m)
                }
            }
            ExprKind::ListComp {
                var,
                iter,
                cond,
                body,
            } => {
                let et = match &core {
                    Some(Ty::List(t)) => Some((**t).clone()),
                    _ => None,
                };
                let mut out = Vec::new();
                for child in self.comprehension(var, iter, cond.as_deref(), env)? {
                    out.push(self.eval(body, &child, et.as_ref())?);
                }
                Value::List(out)
            }
            ExprKind::MapComp {
                var,
                iter,
                cond,
                key,
                value,
            } => {
                let vt = match &core {
                    Some(Ty::Map(t)) => Some((**t).clone()),
                    _ => None,
                };
                let mut out = BTreeMap::new();
                for child in self.comprehension(var, iter, cond.as_deref(), env)? {
                    let k = self.eval(key, &child, None)?;
                    let Some(k) = k.as_str().map(str::to_string) else {
                        return Ok(Value::error());
                    };
                    if out.contains_key(&k) {
                        return Err((key.span, format!("duplicate map key `{k}`")));
                    }
                    out.insert(k, self.eval(value, &child, vt.as_ref())?);
                }
                Value::Map(out.into())
            }
            ExprKind::If {
                cond,
                then_expr,
                else_expr,
            } => match self.eval(cond, env, None)?.as_bool() {
                Some(true) => self.eval(then_expr, env, expected)?,
                Some(false) => self.eval(else_expr, env, expected)?,
                None => Value::error(),
            },
            ExprKind::Unary { op, expr } => match (op, self.eval(expr, env, None)?) {
                (ast::UnOp::Not, Value::Bool(b)) => Value::Bool(!b),
                (ast::UnOp::Neg, Value::Int(n)) => Value::Int(
                    n.checked_neg()
                        .ok_or((e.span, "integer overflow".to_string()))?,
                ),
                (_, v @ Value::Unknown { .. }) => v,
                _ => Value::error(),
            },
            ExprKind::Binary { op, lhs, rhs } => {
                self.eval_binary(*op, lhs, rhs, env, expected, e.span)?
            }
            ExprKind::Field { base, name } => {
                let b = self.eval(base, env, None)?;
                self.attr(&b, &name.text, name.span)?
            }
            ExprKind::Index { base, args } => {
                let b = self.eval(base, env, None)?;
                let mut keys = Vec::new();
                for a in args {
                    keys.push(self.eval(a, env, None)?);
                }
                self.index(&b, &keys, e.span)?
            }
            ExprKind::Call { callee, args } => self.eval_call(callee, args, env, e.span)?,
        })
    }

    pub(super) fn known_name(&self, name: &str, env: &Rc<Env<'a>>) -> bool {
        env.frame.names.contains_key(name) || self.program.regions.iter().any(|r| r.name == name)
    }

    pub(super) fn iter_values(
        &mut self,
        iter: &'a Expr,
        env: &Rc<Env<'a>>,
    ) -> Result<Vec<Value>, (Span, String)> {
        Ok(elements(&self.eval(iter, env, None)?).unwrap_or_default())
    }

    /// One environment per element of `iter` binding `var`, for those that pass `cond`.
    fn comprehension(
        &mut self,
        var: &ast::Name,
        iter: &'a Expr,
        cond: Option<&'a Expr>,
        env: &Rc<Env<'a>>,
    ) -> Result<Vec<Rc<Env<'a>>>, (Span, String)> {
        let mut out = Vec::new();
        for el in self.iter_values(iter, env)? {
            let child = Rc::new(Env {
                vars: RefCell::new(HashMap::from_iter([(var.text.clone(), Binding::Val(el))])),
                parent: Some(env.clone()),
                frame: env.frame.clone(),
            });
            if let Some(c) = cond
                && self.eval(c, &child, None)?.as_bool() != Some(true)
            {
                continue;
            }
            out.push(child);
        }
        Ok(out)
    }

    pub(super) fn index(&mut self, b: &Value, keys: &[Value], span: Span) -> EResult {
        if let Some(u) = Value::merge_unknowns(keys) {
            return Ok(u);
        }
        Ok(match b {
            Value::Family {
                base,
                keys: n,
                module,
            } => {
                if keys.len() != *n {
                    return Ok(Value::error());
                }
                let addr = format!(
                    "{base}[{}]",
                    keys.iter().map(key_text).collect::<Vec<_>>().join(", ")
                );
                let exists = if *module {
                    self.modules.contains_key(&addr) || self.remote_module_exists(&addr)
                } else {
                    self.by_addr.contains_key(&addr) || self.remote_header(&addr).is_some()
                };
                if !exists {
                    return Err((
                        span,
                        format!(
                            "there is no instance `{addr}`: the loop that declares it never produced these keys"
                        ),
                    ));
                }
                if *module {
                    Value::Module { addr }
                } else {
                    Value::Ref { addr }
                }
            }
            Value::List(l) => {
                let i = keys[0].as_int().unwrap_or(-1);
                l.get(usize::try_from(i).unwrap_or(usize::MAX))
                    .cloned()
                    .ok_or((
                        span,
                        format!(
                            "index {i} is out of range for a list of {} element(s)",
                            l.len()
                        ),
                    ))?
            }
            Value::Map(m) => {
                let k = keys[0].as_str().unwrap_or("");
                m.get(k)
                    .cloned()
                    .ok_or((span, format!("the map has no key `{k}`")))?
            }
            Value::Secret(v) => Value::Secret(Box::new(self.index(v, keys, span)?)),
            v @ Value::Unknown { .. } => v.clone(),
            _ => Value::error(),
        })
    }

    pub(super) fn eval_binary(
        &mut self,
        op: ast::BinOp,
        lhs: &'a Expr,
        rhs: &'a Expr,
        env: &Rc<Env<'a>>,
        expected: Option<&Ty>,
        span: Span,
    ) -> EResult {
        use ast::BinOp::*;
        if op == Coalesce {
            let a = self.eval(lhs, env, expected)?;
            return if a == Value::None {
                self.eval(rhs, env, expected)
            } else {
                Ok(a)
            };
        }
        let a = self.eval(lhs, env, None)?;
        let b = match (op, &a) {
            (And, Value::Bool(false)) => return Ok(Value::Bool(false)),
            (Or, Value::Bool(true)) => return Ok(Value::Bool(true)),
            (Eq | Ne, Value::Enum(e)) => {
                let t = Ty::Enum(e.id.clone());
                self.eval(rhs, env, Some(&t))?
            }
            _ => self.eval(rhs, env, None)?,
        };
        let secret = a.is_secret() || b.is_secret();
        let (a, b) = (a.reveal().clone(), b.reveal().clone());
        if let Some(u) = Value::merge_unknowns([&a, &b]) {
            return Ok(u);
        }
        let int = |f: fn(i64, i64) -> Option<i64>, msg: &str| -> EResult {
            match (a.as_int(), b.as_int()) {
                (Some(x), Some(y)) => f(x, y).map(Value::Int).ok_or((span, msg.to_string())),
                _ => Ok(Value::error()),
            }
        };
        let v = match op {
            Eq => Value::Bool(a == b),
            Ne => Value::Bool(a != b),
            And | Or => match (a.as_bool(), b.as_bool()) {
                (Some(x), Some(y)) => Value::Bool(if op == And { x && y } else { x || y }),
                _ => Value::error(),
            },
            Lt | Le | Gt | Ge => match (a.as_int(), b.as_int()) {
                (Some(x), Some(y)) => Value::Bool(match op {
                    Lt => x < y,
                    Le => x <= y,
                    Gt => x > y,
                    _ => x >= y,
                }),
                _ => Value::error(),
            },
            Add => match (&a, &b) {
                (Value::Str(x), Value::Str(y)) => Value::Str(format!("{x}{y}")),
                _ => int(i64::checked_add, "integer overflow")?,
            },
            Sub => int(i64::checked_sub, "integer overflow")?,
            Mul => int(i64::checked_mul, "integer overflow")?,
            Div => int(i64::checked_div, "division by zero")?,
            Rem => int(i64::checked_rem, "division by zero")?,
            Coalesce => unreachable!("handled above"),
        };
        Ok(if secret {
            Value::Secret(Box::new(v))
        } else {
            v
        })
    }

    pub(super) fn eval_call(
        &mut self,
        callee: &'a Expr,
        args: &'a [ast::Arg],
        env: &Rc<Env<'a>>,
        span: Span,
    ) -> EResult {
        let f = self.eval(callee, env, None)?;
        let Value::Path(p) = f else {
            return Ok(Value::error());
        };
        if let Path::Builtin(name) = &p {
            let name = name.as_str();
            let mut vals = Vec::new();
            for a in args {
                vals.push(self.eval(&a.value, env, None)?);
            }
            let mut unknowns = Vec::new();
            vals.iter().for_each(|v| v.unknowns(&mut unknowns));
            if let Some(u) = Value::merge_unknowns(unknowns) {
                return Ok(u);
            }
            let secret = name != "reveal"
                && (vals.iter().any(Value::is_secret)
                    || (name == "json" && vals.iter().any(Value::contains_secret)));
            let plain: Vec<Value> = if name == "reveal" {
                vals
            } else {
                vals.iter().map(|v| v.reveal().clone()).collect()
            };
            if plain.iter().any(|v| *v == Value::error()) {
                return Ok(Value::error());
            }
            // A failing call on a secret must not quote the secret in its message.
            let v = builtins::eval(name, &plain).map_err(|m| {
                if secret {
                    (
                        span,
                        format!("`{name}` failed on a sensitive value (the details are hidden)"),
                    )
                } else {
                    (span, m)
                }
            })?;
            return Ok(if secret {
                Value::Secret(Box::new(v))
            } else {
                v
            });
        }
        if let Path::Fn { file, name } = &p {
            // Functions run in their own file's frame, wherever they are called from.
            let Some(frame) = self.frame(file) else {
                return Ok(Value::error());
            };
            let n = match frame.names.get(name).cloned() {
                Some(Name::Deferred { .. }) => self.realize(name, &frame),
                n => n,
            };
            let Some(Name::Fn(it)) = n else {
                return Ok(Value::error());
            };
            return self.call_fn(it, args, env, &frame);
        }
        Ok(Value::error())
    }

    pub(super) fn call_fn(
        &mut self,
        it: &'a Item,
        args: &'a [ast::Arg],
        env: &Rc<Env<'a>>,
        frame: &Rc<Frame<'a>>,
    ) -> EResult {
        let ItemKind::Fn {
            params, body, ret, ..
        } = &it.kind
        else {
            return Ok(Value::error());
        };
        let fenv = Rc::new(Env {
            vars: RefCell::new(HashMap::default()),
            parent: None,
            frame: frame.clone(),
        });
        let names: Vec<String> = params.iter().map(|p| p.name.text.clone()).collect();
        let Ok(ordered) = crate::callargs::order(&names, args) else {
            return Ok(Value::error());
        };
        if self.call_depth >= MAX_CALL_DEPTH {
            return Err((
                body.span,
                format!("functions call each other more than {MAX_CALL_DEPTH} levels deep"),
            ));
        }
        for (p, x) in params.iter().zip(ordered) {
            let t = self.lower_in(&p.ty, &frame.file);
            let v = self.eval(x, env, Some(&t))?;
            fenv.vars
                .borrow_mut()
                .insert(p.name.text.clone(), Binding::Val(v));
        }
        let rt = self.lower_in(ret, &frame.file);
        self.call_depth += 1;
        let r = self.eval(body, &fenv, Some(&rt));
        self.call_depth -= 1;
        r
    }
}

/// The elements a `for` visits: a list's items, or a map's (or record's) `{ key, value }` entries
/// in key order.
pub(super) fn elements(v: &Value) -> Option<Vec<Value>> {
    Some(match v.reveal() {
        Value::List(l) => l.clone(),
        Value::Map(m) | Value::Record(m) => m
            .iter()
            .map(|(k, v)| {
                Value::Record(Entries::from([
                    ("key".into(), Value::Str(k.clone())),
                    ("value".into(), v.clone()),
                ]))
            })
            .collect(),
        _ => return None,
    })
}
