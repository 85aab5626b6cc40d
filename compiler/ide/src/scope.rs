//! What surrounds an offset in the syntax tree: the enclosing loops, module and resource, and the
//! names visible there. Completion and quick fixes read it; both must work on half-typed text, so
//! it is computed from the recovered tree alone.

use carbonc_sema::syntax::Span;
use carbonc_sema::syntax::ast::{self, Item, ItemKind};

/// A name visible at an offset.
#[derive(Clone, Debug)]
pub(crate) struct Visible<'a> {
    pub name: &'a ast::Name,
    pub item: Option<&'a Item>,
    /// The loop variables of the `for` loops the declaration is inside, outermost first.
    pub loops: Vec<&'a str>,
    /// The placement expression of a resource or module instance (`@ r`).
    pub placement: Option<&'a ast::Expr>,
}

/// The resource or `use` whose body holds the offset.
#[derive(Clone, Debug)]
pub(crate) struct Enclosing<'a> {
    pub item: &'a Item,
    pub placement: Option<&'a ast::Expr>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Scope<'a> {
    pub visible: Vec<Visible<'a>>,
    /// The loop variables around the offset, outermost first.
    pub loops: Vec<&'a ast::Name>,
    pub enclosing: Option<Enclosing<'a>>,
    pub in_module: bool,
}

impl<'a> Scope<'a> {
    pub fn lookup(&self, name: &str) -> Option<&Visible<'a>> {
        self.visible.iter().rev().find(|v| v.name.text == name)
    }
}

/// Declarations made by `items` (resources and instances in nested loops and conditionals too).
fn declared<'a>(items: &'a [Item], loops: &[&'a str], top: bool, out: &mut Vec<Visible<'a>>) {
    for it in items {
        let visible = |name: &'a ast::Name, placement: Option<&'a ast::Expr>| Visible {
            name,
            item: Some(it),
            loops: loops.to_vec(),
            placement,
        };
        match &it.kind {
            ItemKind::Resource {
                name, placement, ..
            }
            | ItemKind::Use {
                name, placement, ..
            } => out.push(visible(name, placement.as_ref())),
            ItemKind::For { var, items, .. } => {
                let mut inner = loops.to_vec();
                inner.push(&var.text);
                declared(items, &inner, false, out);
            }
            ItemKind::If {
                then_items,
                else_items,
                ..
            } => {
                declared(then_items, loops, false, out);
                if let Some(e) = else_items {
                    declared(e, loops, false, out);
                }
            }
            // Outputs are not names a program can refer to.
            ItemKind::Output { .. } => {}
            k if top => out.extend(k.name().map(|n| visible(n, None))),
            _ => {}
        }
    }
}

fn local<'a>(name: &'a ast::Name) -> Visible<'a> {
    Visible {
        name,
        item: None,
        loops: Vec::new(),
        placement: None,
    }
}

/// The scope at `offset` of a file whose items are `items`.
pub(crate) fn at(items: &[Item], offset: u32) -> Scope<'_> {
    let mut scope = Scope::default();
    declared(items, &[], true, &mut scope.visible);
    descend(items, offset, &mut scope);
    scope
}

fn inside(span: Span, offset: u32) -> bool {
    span.start < offset && offset <= span.end
}

fn descend<'a>(items: &'a [Item], offset: u32, scope: &mut Scope<'a>) {
    for it in items {
        if !inside(it.span, offset) {
            continue;
        }
        match &it.kind {
            ItemKind::Module {
                items, region_var, ..
            } => {
                scope.in_module = true;
                // A module sees the file's lets, functions, types and imports, not its resources.
                scope.visible.retain(|v| {
                    !matches!(
                        v.item.map(|i| &i.kind),
                        Some(
                            ItemKind::Resource { .. }
                                | ItemKind::Use { .. }
                                | ItemKind::Param { .. }
                        )
                    )
                });
                if let Some(r) = region_var {
                    scope.visible.push(local(r));
                    scope.loops.push(r);
                }
                declared(items, &[], true, &mut scope.visible);
                descend(items, offset, scope);
            }
            ItemKind::For { var, items, .. } => {
                scope.visible.push(local(var));
                scope.loops.push(var);
                for sub in items {
                    if let ItemKind::Let { name, .. } = &sub.kind {
                        scope.visible.push(local(name));
                    }
                }
                descend(items, offset, scope);
            }
            ItemKind::If {
                then_items,
                else_items,
                ..
            } => {
                descend(then_items, offset, scope);
                if let Some(e) = else_items {
                    descend(e, offset, scope);
                }
            }
            ItemKind::Fn { params, .. } => {
                for p in params {
                    scope.visible.push(local(&p.name));
                }
            }
            ItemKind::Resource { placement, .. } | ItemKind::Use { placement, .. } => {
                scope.enclosing = Some(Enclosing {
                    item: it,
                    placement: placement.as_ref(),
                });
            }
            _ => {}
        }
    }
}

/// The source text of a span.
pub(crate) fn text(src: &str, span: Span) -> &str {
    src.get(span.range()).unwrap_or("")
}

/// The item whose declared name is at `span`, anywhere in the tree.
pub(crate) fn item_named(items: &[Item], span: Span) -> Option<&Item> {
    items
        .iter()
        .filter(|it| it.span.start <= span.start && span.end <= it.span.end)
        .find_map(|it| match it.kind.name() {
            Some(n) if n.span == span => Some(it),
            _ => it
                .kind
                .nested()
                .into_iter()
                .find_map(|l| item_named(l, span)),
        })
}

/// The field declaration (of a record or resource type) at `span` (its whole declaration).
pub(crate) fn field_decl(items: &[Item], span: Span) -> Option<&ast::FieldDecl> {
    items.iter().find_map(|it| match &it.kind {
        ItemKind::Record { fields, .. } | ItemKind::ResourceType { fields, .. } => fields
            .iter()
            .find(|f| f.span == span || f.name.span == span),
        _ => None,
    })
}
