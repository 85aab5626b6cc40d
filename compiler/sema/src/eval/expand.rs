//! Expansion of loops, conditionals and module instantiations into instances, and evaluation of
//! each instance's fields.

use super::*;

impl<'a> Evaluator<'a> {
    pub(super) fn expand(
        &mut self,
        items: &'a [Item],
        env: &Rc<Env<'a>>,
        keys: &[Value],
        ctx: &[String],
    ) {
        // Loop-local lets first, so that resources in the loop can use them.
        for it in items {
            if let ItemKind::Let { name, value, ty } = &it.kind
                && !keys.is_empty()
            {
                let t = ty
                    .as_ref()
                    .map(|te| Rc::new(self.lower_in(te, &env.frame.file)));
                env.vars
                    .borrow_mut()
                    .insert(name.text.clone(), Binding::Thunk(value, t, env.clone()));
            }
        }
        let suffix = if keys.is_empty() {
            String::new()
        } else {
            format!(
                "[{}]",
                keys.iter().map(key_text).collect::<Vec<_>>().join(", ")
            )
        };
        for it in items {
            match &it.kind {
                ItemKind::Resource {
                    ty,
                    name,
                    placement,
                    body,
                } => {
                    let region = match placement {
                        Some(p) => match self.eval_static(p, env, "a placement") {
                            Some(Value::Region { idx, .. }) => Some(idx),
                            _ => None,
                        },
                        None => None,
                    };
                    let address = format!("{}{}{}", env.frame.prefix, name.text, suffix);
                    if self.by_addr.contains_key(&address) {
                        let file = env.frame.file.clone();
                        self.diag(
                            &file,
                            "E0102",
                            name.span,
                            format!("Two instances have the address `{address}`"),
                            "declared here".into(),
                            Some("give each instance a distinct name or loop key".into()),
                        );
                        continue;
                    }
                    self.by_addr.insert(address.clone(), self.stubs.len());
                    self.stubs.push(Stub {
                        body,
                        env: env.clone(),
                    });
                    let context = self.shared(&ctx.join(", "));
                    let file = self.shared(&env.frame.file);
                    self.program.instances.push(Arc::new(Instance {
                        address,
                        ty: ty.text(),
                        region,
                        file,
                        span: name.span,
                        context,
                        uses: env.frame.uses.clone(),
                        fields: Fields::default(),
                        create_before_destroy: false,
                        prevent_destroy: false,
                    }));
                }
                ItemKind::Use {
                    module,
                    name,
                    placement,
                    args,
                } => self.expand_use(module, name, placement.as_ref(), args, env, &suffix, ctx),
                ItemKind::For { var, iter, items } => {
                    let Some(coll) = self.eval_static(iter, env, "a loop's collection") else {
                        continue;
                    };
                    let Some(elems) = super::expr::elements(&coll) else {
                        continue;
                    };
                    // Every key must be known: it becomes part of an address.
                    let mut unknown = Vec::new();
                    elems.iter().for_each(|e| e.unknowns(&mut unknown));
                    if let Some(Value::Unknown { origin, .. }) = unknown.first() {
                        let why = match origin {
                            Origin::AfterApply(a) => {
                                format!("`{}` is known only after apply", a.join("`, `"))
                            }
                            Origin::Param(p) => {
                                format!("parameter `{p}` has no value at check time")
                            }
                            Origin::Error => String::new(),
                        };
                        let file = env.frame.file.clone();
                        if !why.is_empty() {
                            self.diag(
                                &file,
                                "E0113",
                                iter.span,
                                "A loop's collection must be known before apply".into(),
                                why,
                                Some(
                                    "loop over regions, literals, lets or parameters with values"
                                        .into(),
                                ),
                            );
                        }
                        continue;
                    }
                    for el in elems {
                        let child = Rc::new(Env {
                            vars: RefCell::new(HashMap::default()),
                            parent: Some(env.clone()),
                            frame: env.frame.clone(),
                        });
                        child
                            .vars
                            .borrow_mut()
                            .insert(var.text.clone(), Binding::Val(el.clone()));
                        let mut k = keys.to_vec();
                        k.push(el.clone());
                        let shown = match &el {
                            Value::Region { idx, .. } => self.program.regions[*idx].name.clone(),
                            v => key_text(v),
                        };
                        let mut c = ctx.to_vec();
                        c.push(format!("{} = {shown}", var.text));
                        self.expand(items, &child, &k, &c);
                    }
                }
                ItemKind::If {
                    cond,
                    then_items,
                    else_items,
                } => match self.eval_static(cond, env, "an `if` condition") {
                    Some(Value::Bool(true)) => self.expand(then_items, env, keys, ctx),
                    Some(Value::Bool(false)) => {
                        if let Some(e) = else_items {
                            self.expand(e, env, keys, ctx);
                        }
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }

    pub(super) fn expand_use(
        &mut self,
        module: &'a ast::Path,
        name: &'a ast::Name,
        placement: Option<&'a Expr>,
        args: &'a [ast::Assign],
        env: &Rc<Env<'a>>,
        suffix: &str,
        ctx: &[String],
    ) {
        let Some((mod_item, _id, mod_file)) = self.find_module(module, env) else {
            return;
        };
        let ItemKind::Module {
            items, region_var, ..
        } = &mod_item.kind
        else {
            return;
        };
        let region = match placement {
            Some(p) => self.eval_static(p, env, "a placement"),
            None => None,
        };
        let address = format!("{}{}{}", env.frame.prefix, name.text, suffix);
        let file_frame = self.frame(&mod_file);
        let prefix = format!("{address}.");
        let names = match self.module_names.get(&(mod_item as *const Item)) {
            Some(names) => names.clone(),
            None => {
                let names = Rc::new(self.frame_names(items, &mod_file, None));
                self.module_names
                    .insert(mod_item as *const Item, names.clone());
                names
            }
        };
        let mut uses = env.frame.uses.clone();
        uses.push((env.frame.file.clone(), name.span));
        let frame = Rc::new(Frame {
            file: mod_file.clone(),
            prefix,
            names,
            parent: file_frame,
            uses,
        });
        let menv = Rc::new(Env {
            vars: RefCell::new(HashMap::default()),
            parent: None,
            frame,
        });
        if let (Some(rv), Some(r)) = (region_var, region.clone()) {
            menv.vars
                .borrow_mut()
                .insert(rv.text.clone(), Binding::Val(r));
        }
        let mut site: Option<Rc<UseSite>> = None;
        for it in items {
            match &it.kind {
                ItemKind::Param {
                    name: pn,
                    ty,
                    default,
                } => {
                    let t = self.lower_in(ty, &mod_file);
                    let b = match args.iter().find(|a| a.name.text == pn.text) {
                        Some(a) => {
                            let site = site
                                .get_or_insert_with(|| {
                                    Rc::new(UseSite {
                                        module: address.clone(),
                                        file: env.frame.file.clone(),
                                        region: match &region {
                                            Some(Value::Region { idx, .. }) => Some(*idx),
                                            _ => None,
                                        },
                                        context: ctx.join(", "),
                                    })
                                })
                                .clone();
                            self.pending_params.push(PendingParam {
                                param: &pn.text,
                                placed: super::placement::carries_placement(&t, self.cat, 8)
                                    .then(|| t.clone()),
                                env: menv.clone(),
                                span: a.value.span,
                                site,
                            });
                            Binding::Thunk(&a.value, Some(Rc::new(t)), env.clone())
                        }
                        None => match default {
                            Some(d) => Binding::Thunk(d, Some(Rc::new(t)), menv.clone()),
                            None => Binding::Val(Value::error()),
                        },
                    };
                    menv.vars.borrow_mut().insert(pn.text.clone(), b);
                }
                ItemKind::Let {
                    name: ln,
                    value,
                    ty,
                } => {
                    let t = ty.as_ref().map(|te| Rc::new(self.lower_in(te, &mod_file)));
                    menv.vars
                        .borrow_mut()
                        .insert(ln.text.clone(), Binding::Thunk(value, t, menv.clone()));
                }
                _ => {}
            }
        }
        let mut outputs = BTreeMap::new();
        for it in items {
            if let ItemKind::Output {
                name: on,
                value,
                ty,
                ..
            } = &it.kind
            {
                outputs.insert(
                    on.text.clone(),
                    (
                        value,
                        ty.as_ref().map(|te| self.lower_in(te, &mod_file)),
                        menv.clone(),
                    ),
                );
            }
        }
        self.modules.insert(address.clone(), ModuleInst { outputs });
        let mut c = ctx.to_vec();
        c.push(format!("in module instance `{address}`"));
        self.expand(items, &menv, &[], &c);
    }

    pub(super) fn find_module(
        &self,
        p: &ast::Path,
        env: &Rc<Env<'a>>,
    ) -> Option<(&'a Item, String, String)> {
        let frame = &env.frame;
        let lookup = |fr: &Rc<Frame<'a>>, n: &str| {
            let (found, owner) = match fr.names.get(n) {
                Some(found) => (found.clone(), fr.clone()),
                None => {
                    let p = fr.parent.as_ref()?;
                    (p.names.get(n)?.clone(), p.clone())
                }
            };
            match found {
                Name::Deferred { .. } => self.realize(n, &owner),
                found => Some(found),
            }
        };
        match p.segments.as_slice() {
            [one] => match lookup(frame, &one.text)? {
                Name::Module(it, id) => Some((it, id.clone(), id.rsplit_once("::")?.0.to_string())),
                _ => None,
            },
            [alias, name] => match lookup(frame, &alias.text)? {
                Name::Import(path) => {
                    let fr = self.frame(&path)?;
                    let n = match fr.names.get(&name.text)? {
                        Name::Deferred { .. } => self.realize(&name.text, &fr)?,
                        n => n.clone(),
                    };
                    match n {
                        Name::Module(it, id) => Some((it, id, path.clone())),
                        _ => None,
                    }
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The shared copy of `text`, for what many instances hold the same of (their file, their
    /// loop and module bindings, their field names).
    fn shared(&mut self, text: &str) -> Arc<str> {
        if let Some(c) = self.shared.get(text) {
            return c.clone();
        }
        let c: Arc<str> = Arc::from(text);
        self.shared.insert(text.to_string(), c.clone());
        c
    }

    pub(super) fn eval_instance(&mut self, idx: usize) {
        if self.done[idx] == self.generation + 1 || !self.evaluating.borrow_mut().insert(idx) {
            return;
        }
        // What was pushed so far belongs to the instance that led here (or to the phase).
        let outer = self.owners.last().map_or(self.outside, |o| o + 1);
        self.own_diags(outer);
        let body = self.stubs[idx].body;
        let env = self.stubs[idx].env.clone();
        let cat = self.cat;
        let Some(schema) = cat.resources.get(&self.program.instances[idx].ty) else {
            self.done[idx] = self.generation + 1;
            return;
        };
        self.owners.push(idx);
        let mut fields = Fields::with_capacity(schema.fields.len());
        Arc::make_mut(&mut self.program.instances[idx]).create_before_destroy =
            schema.create_before_destroy;
        for a in body {
            if a.name.text == "lifecycle" {
                // Without the record type, so that only the fields written are present: an
                // unwritten `create_before_destroy` keeps the schema's default.
                if let Ok(Value::Record(m)) = self.eval(&a.value, &env, None) {
                    let inst = Arc::make_mut(&mut self.program.instances[idx]);
                    if let Some(b) = m.get("create_before_destroy").and_then(Value::as_bool) {
                        inst.create_before_destroy = b;
                    }
                    inst.prevent_destroy = m
                        .get("prevent_destroy")
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                }
                continue;
            }
            let Some(f) = schema.field(&a.name.text) else {
                continue;
            };
            if f.computed {
                continue;
            }
            let v = match self.eval(&a.value, &env, Some(&f.ty)) {
                Ok(v) => v,
                Err((s, m)) => {
                    let file = env.frame.file.clone();
                    let ctx = self.program.instances[idx].context.clone();
                    let label = if ctx.is_empty() {
                        "evaluated here".to_string()
                    } else {
                        format!("evaluated here ({ctx})")
                    };
                    self.diag(&file, "E0204", s, capitalise(&m), label, None);
                    Value::error()
                }
            };
            let written = if env.frame.uses.is_empty() {
                None
            } else {
                self.written_at(&a.value, &env)
            };
            let literal = written
                .as_ref()
                .map_or_else(|| is_literal(&a.value), |w| w.2);
            let written_at = written.map(|(file, span, _)| Box::new((file, span)));
            fields.insert(
                self.shared(&a.name.text),
                FieldVal {
                    value: secret_if(v, &f.ty),
                    span: a.value.span,
                    explicit: true,
                    literal,
                    written_at,
                },
            );
        }
        let span = self.program.instances[idx].span;
        let mut empty: Option<Rc<Env<'a>>> = None;
        for f in &schema.fields {
            // Metrics are read through references (`x.metrics.name`), never planned or stored.
            if fields.contains_key(&f.name) || f.metric {
                continue;
            }
            if f.computed {
                let key = self.shared(&f.name);
                let inst = &self.program.instances[idx];
                let (addr, region) = (&inst.address, inst.region);
                let known = self.known_attr(addr, &f.name);
                fields.insert(
                    key,
                    FieldVal {
                        value: known.unwrap_or(Value::Unknown {
                            origin: Origin::AfterApply(vec![format!("{addr}.{}", f.name)]),
                            region,
                        }),
                        span,
                        explicit: false,
                        literal: false,
                        written_at: None,
                    },
                );
            } else if let Some(d) = &f.default {
                let key: *const crate::ty::FieldSchema = f;
                let v = match self.literal_defaults.get(&key) {
                    Some(v) => v.clone(),
                    None => {
                        let empty = empty.get_or_insert_with(|| {
                            Rc::new(Env {
                                vars: RefCell::new(HashMap::default()),
                                parent: None,
                                frame: env.frame.clone(),
                            })
                        });
                        match self.eval(d, empty, Some(&f.ty)) {
                            // A literal default is the same for every instance of the type.
                            Ok(v) if super::is_literal(d) => {
                                self.literal_defaults.insert(key, v.clone());
                                v
                            }
                            Ok(v) => v,
                            Err(_) => Value::error(),
                        }
                    }
                };
                fields.insert(
                    self.shared(&f.name),
                    FieldVal {
                        value: secret_if(v, &f.ty),
                        span,
                        explicit: false,
                        literal: false,
                        written_at: None,
                    },
                );
            }
        }
        fields.shrink_to_fit();
        Arc::make_mut(&mut self.program.instances[idx]).fields = fields;
        self.done[idx] = self.generation + 1;
        self.evaluating.borrow_mut().remove(&idx);
        self.check_placement(idx);
        self.owners.pop();
        self.own_diags(idx + 1);
    }

    /// Where the user wrote the value of `e`, evaluated in `env` inside a module, and whether
    /// what is written there is a literal of that very value. While `e` is a module parameter (or
    /// an element or attribute of one), the value comes from the argument its `use` passed,
    /// followed out through nested modules; in the code that passed it, a `let` is followed to
    /// its expression, a record literal to the field taken from it, and an `if` to the branch
    /// that was taken, so the place is the one that decided the value. `None` when `e` is not a
    /// parameter of a module.
    fn written_at(&mut self, e: &'a Expr, env: &Rc<Env<'a>>) -> Option<(String, Span, bool)> {
        let (mut e, mut env) = (e, env.clone());
        // What is still to be taken from `e`'s value, outermost first.
        let mut path: Vec<Step> = Vec::new();
        // Whether `e` is in code that passed a parameter (set once one has been crossed).
        let mut outside = false;
        let mut found = None;
        // Bounded: a chain of modules and `let`s is as deep as the program's nesting.
        for _ in 0..256 {
            while let Some(Step::Take(step)) = path.first() {
                let taken = match (step, &e.kind) {
                    (Value::Str(k), ExprKind::Record(fields)) => {
                        fields.iter().find(|f| f.name.text == *k).map(|f| &f.value)
                    }
                    (Value::Int(i), ExprKind::List(items)) => {
                        usize::try_from(*i).ok().and_then(|i| items.get(i))
                    }
                    _ => None,
                };
                let Some(next) = taken else { break };
                e = next;
                path.remove(0);
            }
            // `[param]` still counts as the place: the value the user wrote is the element.
            if outside && path.iter().all(|s| matches!(s, Step::Wrap)) {
                found = Some((env.frame.file.clone(), e.span, is_literal(e)));
            }
            let name = match &e.kind {
                ExprKind::Name(n) => &n.text,
                ExprKind::Field { base, name } => {
                    path.insert(0, Step::Take(Value::Str(name.text.clone())));
                    e = base;
                    continue;
                }
                ExprKind::Index { base, args } => {
                    // A key or position known at check time (`sizes[r.code]`, `windows[i]`).
                    let key = match &args[..] {
                        [k] => self.quiet_eval(k, &env),
                        _ => None,
                    };
                    path.insert(
                        0,
                        match key {
                            Some(k @ (Value::Str(_) | Value::Int(_))) => Step::Take(k),
                            _ => Step::Opaque,
                        },
                    );
                    e = base;
                    continue;
                }
                // `[param]` in a module: a list made of the one value passed. (In the code that
                // passed it, a list is the value itself.)
                ExprKind::List(items) if items.len() == 1 && !outside => {
                    path.insert(0, Step::Wrap);
                    e = &items[0];
                    continue;
                }
                ExprKind::If {
                    cond,
                    then_expr,
                    else_expr,
                } => {
                    match self.quiet_eval(cond, &env).and_then(|v| v.as_bool()) {
                        Some(true) => e = then_expr,
                        Some(false) => e = else_expr,
                        None => return found,
                    }
                    continue;
                }
                _ => return found,
            };
            // The binding `name` stands for: a parameter's argument lives in the environment of
            // the `use`, whose frame is not this one; a `let`'s expression in this frame.
            let mut cur = Some(env.clone());
            let mut next = None;
            while let Some(c) = cur {
                match c.vars.borrow().get(name.as_str()) {
                    Some(Binding::Thunk(x, _, tenv) | Binding::Memo(_, _, x, _, tenv)) => {
                        let param = !Rc::ptr_eq(&tenv.frame, &c.frame);
                        next = Some((*x, tenv.clone(), param));
                        break;
                    }
                    Some(_) => break,
                    None => cur = c.parent.clone(),
                }
            }
            // A file-level `let`, evaluated in an environment of its own.
            if next.is_none()
                && let Some(Name::Let(x, _)) = env.frame.names.get(name.as_str())
            {
                let fresh = Rc::new(Env {
                    vars: RefCell::new(HashMap::default()),
                    parent: None,
                    frame: env.frame.clone(),
                });
                next = Some((*x, fresh, false));
            }
            let Some((x, outer, param)) = next else {
                return found;
            };
            if param {
                // The argument holds the value, or (while attributes remain to be taken) it.
                outside = true;
                found = Some((outer.frame.file.clone(), x.span, false));
            }
            (e, env) = (x, outer);
        }
        found
    }

    /// `e`'s value, evaluated again where it was evaluated already (so what it reports again
    /// is dropped).
    fn quiet_eval(&mut self, e: &'a Expr, env: &Rc<Env<'a>>) -> Option<Value> {
        let n = self.program.diags.len();
        let v = self.eval(e, env, None).ok();
        self.program.diags.truncate(n);
        v
    }

    pub(super) fn check_outputs(&mut self, root: SourceFile) {
        let path = root.path(self.db).clone();
        let Some(frame) = self.frame(&path) else {
            return;
        };
        let env = Rc::new(Env {
            vars: RefCell::new(HashMap::default()),
            parent: None,
            frame,
        });
        for it in &parse_file(self.db, root).items {
            if let ItemKind::Output {
                name,
                value,
                ty,
                endpoint,
            } = &it.kind
            {
                if *endpoint {
                    self.program
                        .endpoints
                        .push((name.text.clone(), path.clone(), name.span));
                }
                let t = ty.as_ref().map(|te| self.lower_in(te, &path));
                let v = match self.eval(value, &env, t.as_ref()) {
                    Ok(v) => v,
                    Err((s, m)) => {
                        self.diag(
                            &path,
                            "E0204",
                            s,
                            capitalise(&m),
                            "evaluated here".into(),
                            None,
                        );
                        Value::error()
                    }
                };
                self.program.outputs.push((name.text.clone(), v));
            }
        }
    }
}

/// A value assigned to a `Secret<...>` field is a secret, even when it was written as plain text.
fn secret_if(v: Value, ty: &Ty) -> Value {
    if ty.is_secret() && !v.is_secret() && v != Value::None && v != Value::error() {
        Value::Secret(Box::new(v))
    } else {
        v
    }
}

/// Whether `e` is a literal: a string without interpolation, a number, a boolean, a variant.
/// A step from a value to the part of it a field holds, for [`Evaluator::written_at`].
enum Step {
    /// A record's field, a map's key, a list's element.
    Take(Value),
    /// `[x]`: a list around the value, which is still the one the user wrote.
    Wrap,
    /// Something no literal can be narrowed to.
    Opaque,
}

fn is_literal(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Int(_) | ExprKind::Bool(_) | ExprKind::Variant(_) => true,
        ExprKind::Str(parts) => parts.iter().all(|p| matches!(p, ast::StrPart::Text(_))),
        _ => false,
    }
}
