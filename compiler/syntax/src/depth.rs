//! A nesting limit. Later phases walk expressions recursively; an input such as 50 000 nested
//! brackets or a chain of 50 000 `+` would overflow their stack. Expressions nested deeper than
//! [`MAX_DEPTH`] are reported and replaced by error nodes, and the deep tree is dismantled without
//! recursion.

use crate::ast::{Expr, ExprKind, Item, ItemKind, StrPart, TypeExpr, TypeExprKind};
use crate::{Span, SyntaxError};

pub const MAX_DEPTH: usize = 256;
/// Nesting of declarations (`for`, `if`, `module`) and of types (`List<List<...>>`).
pub const MAX_ITEM_DEPTH: usize = 64;

/// The direct sub-expressions of `e`.
fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Str(parts) => parts
            .iter()
            .filter_map(|p| match p {
                StrPart::Interp(x) => Some(x),
                StrPart::Text(_) => None,
            })
            .collect(),
        ExprKind::List(items) => items.iter().collect(),
        ExprKind::Record(fields) => fields.iter().map(|f| &f.value).collect(),
        ExprKind::ListComp {
            iter, cond, body, ..
        } => {
            let mut v = vec![&**iter, &**body];
            v.extend(cond.as_deref());
            v
        }
        ExprKind::MapComp {
            iter,
            cond,
            key,
            value,
            ..
        } => {
            let mut v = vec![&**iter, &**key, &**value];
            v.extend(cond.as_deref());
            v
        }
        ExprKind::If {
            cond,
            then_expr,
            else_expr,
        } => vec![&**cond, &**then_expr, &**else_expr],
        ExprKind::Binary { lhs, rhs, .. } => vec![&**lhs, &**rhs],
        ExprKind::Unary { expr, .. } => vec![&**expr],
        ExprKind::Field { base, .. } => vec![&**base],
        ExprKind::Index { base, args } => {
            let mut v = vec![&**base];
            v.extend(args.iter());
            v
        }
        ExprKind::Call { callee, args } => {
            let mut v = vec![&**callee];
            v.extend(args.iter().map(|a| &a.value));
            v
        }
        ExprKind::Int(_)
        | ExprKind::Bool(_)
        | ExprKind::None
        | ExprKind::Name(_)
        | ExprKind::Variant(_)
        | ExprKind::Error => Vec::new(),
    }
}

/// Whether `e` nests deeper than the limit, measured without recursion.
fn too_deep(e: &Expr) -> bool {
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        if d > MAX_DEPTH {
            return true;
        }
        stack.extend(children(e).into_iter().map(|c| (c, d + 1)));
    }
    false
}

/// Moves every sub-expression out of `e` into `out`, leaving `e` shallow.
fn take_children(e: &mut Expr, out: &mut Vec<Expr>) {
    let kind = std::mem::replace(&mut e.kind, ExprKind::Error);
    match kind {
        ExprKind::Str(parts) => out.extend(parts.into_iter().filter_map(|p| match p {
            StrPart::Interp(x) => Some(x),
            StrPart::Text(_) => None,
        })),
        ExprKind::List(items) => out.extend(items),
        ExprKind::Record(fields) => out.extend(fields.into_iter().map(|f| f.value)),
        ExprKind::ListComp {
            iter, cond, body, ..
        } => {
            out.extend([*iter, *body]);
            out.extend(cond.map(|c| *c));
        }
        ExprKind::MapComp {
            iter,
            cond,
            key,
            value,
            ..
        } => {
            out.extend([*iter, *key, *value]);
            out.extend(cond.map(|c| *c));
        }
        ExprKind::If {
            cond,
            then_expr,
            else_expr,
        } => out.extend([*cond, *then_expr, *else_expr]),
        ExprKind::Binary { lhs, rhs, .. } => out.extend([*lhs, *rhs]),
        ExprKind::Unary { expr, .. } => out.push(*expr),
        ExprKind::Field { base, .. } => out.push(*base),
        ExprKind::Index { base, args } => {
            out.push(*base);
            out.extend(args);
        }
        ExprKind::Call { callee, args } => {
            out.push(*callee);
            out.extend(args.into_iter().map(|a| a.value));
        }
        _ => {}
    }
}

/// Drops an expression tree of any depth without recursion.
fn dismantle(e: Expr) {
    let mut stack = vec![e];
    while let Some(mut e) = stack.pop() {
        take_children(&mut e, &mut stack);
    }
}

fn item_exprs(it: &Item) -> Vec<&Expr> {
    match &it.kind {
        ItemKind::Region { fields, .. } => fields.iter().map(|a| &a.value).collect(),
        ItemKind::Param { default, .. } => default.iter().collect(),
        ItemKind::Let { value, .. } | ItemKind::Output { value, .. } => vec![value],
        ItemKind::Resource {
            placement, body, ..
        }
        | ItemKind::Use {
            placement,
            args: body,
            ..
        } => placement
            .iter()
            .chain(body.iter().map(|a| &a.value))
            .collect(),
        ItemKind::For { iter, .. } => vec![iter],
        ItemKind::If { cond, .. } => vec![cond],
        ItemKind::Fn { body, .. } => vec![body],
        ItemKind::Record { fields, .. } | ItemKind::ResourceType { fields, .. } => {
            fields.iter().filter_map(|f| f.default.as_ref()).collect()
        }
        _ => Vec::new(),
    }
}

fn nested_items(it: &mut Item) -> Vec<&mut Vec<Item>> {
    match &mut it.kind {
        ItemKind::Module { items, .. } | ItemKind::For { items, .. } => vec![items],
        ItemKind::If {
            then_items,
            else_items,
            ..
        } => {
            let mut v = vec![then_items];
            v.extend(else_items.as_mut());
            v
        }
        _ => Vec::new(),
    }
}

fn type_children(t: &TypeExpr) -> Vec<&TypeExpr> {
    match &t.kind {
        TypeExprKind::Generic { args, .. } => args.iter().collect(),
        TypeExprKind::Optional(t) => vec![&**t],
        _ => Vec::new(),
    }
}

fn type_too_deep(t: &TypeExpr) -> bool {
    let mut stack = vec![(t, 1usize)];
    while let Some((t, d)) = stack.pop() {
        if d > MAX_ITEM_DEPTH {
            return true;
        }
        stack.extend(type_children(t).into_iter().map(|c| (c, d + 1)));
    }
    false
}

fn item_types(it: &Item) -> Vec<&TypeExpr> {
    match &it.kind {
        ItemKind::Param { ty, .. } => vec![ty],
        ItemKind::Let { ty, .. } | ItemKind::Output { ty, .. } => ty.iter().collect(),
        ItemKind::Fn { params, ret, .. } => params.iter().map(|p| &p.ty).chain([ret]).collect(),
        ItemKind::Record { fields, .. } | ItemKind::ResourceType { fields, .. } => {
            fields.iter().map(|f| &f.ty).collect()
        }
        _ => Vec::new(),
    }
}

/// Drops a type of any depth without recursion.
fn dismantle_type(t: TypeExpr) {
    let mut stack = vec![t];
    while let Some(t) = stack.pop() {
        match t.kind {
            TypeExprKind::Generic { args, .. } => stack.extend(args),
            TypeExprKind::Optional(inner) => stack.push(*inner),
            _ => {}
        }
    }
}

/// Drops an item of any nesting without recursion.
fn dismantle_item(it: Item) {
    let mut stack = vec![it];
    while let Some(it) = stack.pop() {
        match it.kind {
            ItemKind::Region { fields, .. } => fields.into_iter().for_each(|a| dismantle(a.value)),
            ItemKind::Param { default, ty, .. } => {
                default.into_iter().for_each(dismantle);
                dismantle_type(ty);
            }
            ItemKind::Let { value, ty, .. } | ItemKind::Output { value, ty, .. } => {
                dismantle(value);
                ty.into_iter().for_each(dismantle_type);
            }
            ItemKind::Resource {
                placement, body, ..
            }
            | ItemKind::Use {
                placement,
                args: body,
                ..
            } => {
                placement.into_iter().for_each(dismantle);
                body.into_iter().for_each(|a| dismantle(a.value));
            }
            ItemKind::Module { items, .. } => stack.extend(items),
            ItemKind::For { iter, items, .. } => {
                dismantle(iter);
                stack.extend(items);
            }
            ItemKind::If {
                cond,
                then_items,
                else_items,
            } => {
                dismantle(cond);
                stack.extend(then_items);
                stack.extend(else_items.into_iter().flatten());
            }
            ItemKind::Fn {
                params, ret, body, ..
            } => {
                dismantle(body);
                dismantle_type(ret);
                params.into_iter().for_each(|p| dismantle_type(p.ty));
            }
            ItemKind::Record { fields, .. } | ItemKind::ResourceType { fields, .. } => {
                for f in fields {
                    dismantle_type(f.ty);
                    f.default.into_iter().for_each(dismantle);
                }
            }
            _ => {}
        }
    }
}

/// Replaces items that nest too deeply (expressions, types or declarations) by error items and
/// reports each.
pub(crate) fn limit_depth(items: &mut [Item], errors: &mut Vec<SyntaxError>) {
    limit(items, errors, 1);
}

fn limit(items: &mut [Item], errors: &mut Vec<SyntaxError>, level: usize) {
    for it in items.iter_mut() {
        let why = if level > MAX_ITEM_DEPTH {
            Some(format!(
                "Declarations nested more than {MAX_ITEM_DEPTH} levels deep"
            ))
        } else if item_exprs(it).into_iter().any(too_deep) {
            Some(format!(
                "Expression nested more than {MAX_DEPTH} levels deep"
            ))
        } else if item_types(it).into_iter().any(type_too_deep) {
            Some(format!(
                "Type nested more than {MAX_ITEM_DEPTH} levels deep"
            ))
        } else {
            None
        };
        if let Some(message) = why {
            errors.push(SyntaxError {
                span: Span {
                    start: it.span.start,
                    end: it.span.start + 1,
                },
                message,
                label: "this declaration nests too deeply".into(),
                help: Some("split it up with `let` bindings, functions or modules".into()),
            });
            let span = it.span;
            dismantle_item(std::mem::replace(
                it,
                Item {
                    kind: ItemKind::Error,
                    span,
                    doc: None,
                },
            ));
            continue;
        }
        for nested in nested_items(it) {
            limit(nested, errors, level + 1);
        }
    }
}
