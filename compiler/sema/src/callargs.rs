//! Matching call arguments to a function's parameters: by position, or by name (`f(b = 1, a = 2)`).

use carbonc_syntax::ast::{Arg, Expr};

/// The argument expression for each parameter, in parameter order, or what is wrong.
pub(crate) fn order<'e>(params: &[String], args: &'e [Arg]) -> Result<Vec<&'e Expr>, String> {
    if args.iter().all(|a| a.name.is_none()) {
        if args.len() != params.len() {
            return Err(format!(
                "this function takes {} argument(s) but {} were given",
                params.len(),
                args.len()
            ));
        }
        return Ok(args.iter().map(|a| &a.value).collect());
    }
    if args.iter().any(|a| a.name.is_none()) {
        return Err("name every argument or none of them".into());
    }
    if let Some(extra) = args
        .iter()
        .find_map(|a| a.name.as_ref().filter(|n| !params.contains(&n.text)))
    {
        return Err(format!("this function has no parameter `{}`", extra.text));
    }
    let mut out = Vec::new();
    for p in params {
        match args
            .iter()
            .find(|a| a.name.as_ref().is_some_and(|n| n.text == *p))
        {
            Some(a) => out.push(&a.value),
            None => return Err(format!("missing argument `{p}`")),
        }
    }
    Ok(out)
}
