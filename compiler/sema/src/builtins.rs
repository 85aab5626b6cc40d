//! Builtin functions: their type rules and their evaluation. Pure; no clock, no IO.

use crate::ty::Ty;
use crate::value::Value;

pub const NAMES: &[&str] = &[
    "cidrsubnet",
    "cidrhost",
    "format",
    "join",
    "split",
    "upper",
    "lower",
    "replace",
    "length",
    "concat",
    "contains",
    "keys",
    "values",
    "merge",
    "lookup",
    "range",
    "index_of",
    "reveal",
    "to_string",
    "json",
];

/// One-line signature, for help texts and hover.
pub fn signature(name: &str) -> Option<&'static str> {
    Some(match name {
        "cidrsubnet" => "cidrsubnet(prefix: String, newbits: Int, netnum: Int) -> String",
        "cidrhost" => "cidrhost(prefix: String, hostnum: Int) -> String",
        "format" => "format(fmt: String, args...) -> String",
        "join" => "join(sep: String, list: List<String>) -> String",
        "split" => "split(sep: String, s: String) -> List<String>",
        "upper" => "upper(s: String) -> String",
        "lower" => "lower(s: String) -> String",
        "replace" => "replace(s: String, from: String, to: String) -> String",
        "length" => "length(x: List<T> | Map<String, T> | String) -> Int",
        "concat" => "concat(a: List<T>, b: List<T>) -> List<T>",
        "contains" => "contains(list: List<T>, value: T) -> Bool",
        "keys" => "keys(map: Map<String, T>) -> List<String>",
        "values" => "values(map: Map<String, T>) -> List<T>",
        "merge" => "merge(a: Map<String, T>, b: Map<String, T>) -> Map<String, T>",
        "lookup" => "lookup(map: Map<String, T>, key: String, default: T) -> T",
        "range" => "range(n: Int) -> List<Int>",
        "index_of" => "index_of(list: List<T>, value: T) -> Int",
        "reveal" => "reveal(secret: Secret<T>) -> T",
        "to_string" => "to_string(x: Int | Bool | String | enum | Region) -> String",
        "json" => "json(x: T) -> String",
        _ => return None,
    })
}

/// The result type of a call, or a message saying what is wrong with the arguments.
pub fn check(name: &str, args: &[Ty]) -> Result<Ty, String> {
    // `json` encodes a whole value: a secret anywhere in it makes the text secret.
    let secret = name != "reveal"
        && (args.iter().any(Ty::is_secret)
            || (name == "json" && args.iter().any(Ty::contains_secret)));
    let plain: Vec<Ty> = args.iter().map(|t| as_map(strip_secret(t))).collect();
    let arity = |n: usize| -> Result<(), String> {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!(
                "`{name}` takes {n} argument(s) but {} were given",
                args.len()
            ))
        }
    };
    let want = |i: usize, t: &Ty| -> Result<(), String> {
        if compatible(&plain[i], t) {
            Ok(())
        } else {
            Err(format!(
                "argument {} of `{name}` must be `{t}`, found `{}`",
                i + 1,
                plain[i]
            ))
        }
    };
    let elem = |t: &Ty| match t {
        Ty::List(e) | Ty::Map(e) => (**e).clone(),
        _ => Ty::Unknown,
    };
    let out = match name {
        "cidrsubnet" => {
            arity(3)?;
            want(0, &Ty::String)?;
            want(1, &Ty::Int)?;
            want(2, &Ty::Int)?;
            Ty::String
        }
        "cidrhost" => {
            arity(2)?;
            want(0, &Ty::String)?;
            want(1, &Ty::Int)?;
            Ty::String
        }
        "format" => {
            if args.is_empty() {
                return Err("`format` needs a format string".into());
            }
            want(0, &Ty::String)?;
            Ty::String
        }
        "join" => {
            arity(2)?;
            want(0, &Ty::String)?;
            want(1, &Ty::List(Box::new(Ty::String)))?;
            Ty::String
        }
        "split" => {
            arity(2)?;
            want(0, &Ty::String)?;
            want(1, &Ty::String)?;
            Ty::List(Box::new(Ty::String))
        }
        "upper" | "lower" => {
            arity(1)?;
            want(0, &Ty::String)?;
            Ty::String
        }
        "replace" => {
            arity(3)?;
            for i in 0..3 {
                want(i, &Ty::String)?;
            }
            Ty::String
        }
        "length" => {
            arity(1)?;
            match &plain[0] {
                Ty::List(_) | Ty::Map(_) | Ty::String | Ty::Unknown => Ty::Int,
                t => return Err(format!("`length` takes a list, map or string, found `{t}`")),
            }
        }
        "concat" => {
            arity(2)?;
            match (&plain[0], &plain[1]) {
                (Ty::List(a), Ty::List(b)) if compatible(a, b) || compatible(b, a) => {
                    Ty::List(a.clone())
                }
                (Ty::Unknown, t) | (t, Ty::Unknown) => t.clone(),
                (a, b) => {
                    return Err(format!(
                        "`concat` takes two lists of one type, found `{a}` and `{b}`"
                    ));
                }
            }
        }
        "contains" | "index_of" => {
            arity(2)?;
            if !matches!(plain[0], Ty::List(_) | Ty::Unknown) {
                return Err(format!("`{name}` takes a list first, found `{}`", plain[0]));
            }
            want(1, &elem(&plain[0]))?;
            if name == "contains" {
                Ty::Bool
            } else {
                Ty::Int
            }
        }
        "keys" | "values" => {
            arity(1)?;
            if !matches!(plain[0], Ty::Map(_) | Ty::Unknown | Ty::AnonRecord(_)) {
                return Err(format!("`{name}` takes a map, found `{}`", plain[0]));
            }
            if name == "keys" {
                Ty::List(Box::new(Ty::String))
            } else {
                Ty::List(Box::new(elem(&plain[0])))
            }
        }
        "merge" => {
            arity(2)?;
            match (&plain[0], &plain[1]) {
                (Ty::Map(a), Ty::Map(_)) => Ty::Map(a.clone()),
                (Ty::Unknown, t) | (t, Ty::Unknown) => t.clone(),
                (a, b) => return Err(format!("`merge` takes two maps, found `{a}` and `{b}`")),
            }
        }
        "lookup" => {
            arity(3)?;
            want(1, &Ty::String)?;
            let e = elem(&plain[0]);
            want(2, &e)?;
            e
        }
        "range" => {
            arity(1)?;
            want(0, &Ty::Int)?;
            Ty::List(Box::new(Ty::Int))
        }
        "reveal" => {
            arity(1)?;
            match &args[0] {
                Ty::Secret(t) => (**t).clone(),
                Ty::Unknown => Ty::Unknown,
                t => return Err(format!("`reveal` takes a `Secret<T>`, found `{t}`")),
            }
        }
        "json" => {
            arity(1)?;
            Ty::String
        }
        "to_string" => {
            arity(1)?;
            match &plain[0] {
                Ty::Int | Ty::Bool | Ty::String | Ty::Enum(_) | Ty::Region | Ty::Unknown => {
                    Ty::String
                }
                t => return Err(format!("`to_string` takes a scalar, found `{t}`")),
            }
        }
        _ => return Err(format!("unknown function `{name}`")),
    };
    Ok(if secret { out.secret() } else { out })
}

/// A record literal used as a map: `{ team = "x" }` is a `Map<String, String>`.
fn as_map(t: &Ty) -> Ty {
    match t {
        Ty::AnonRecord(fs) => {
            let first = fs.first().map_or(Ty::Unknown, |(_, t)| t.clone());
            if fs.iter().all(|(_, t)| *t == first) {
                Ty::Map(Box::new(first))
            } else {
                Ty::Map(Box::new(Ty::Unknown))
            }
        }
        t => t.clone(),
    }
}

fn strip_secret(t: &Ty) -> &Ty {
    match t {
        Ty::Secret(t) => t,
        t => t,
    }
}

fn compatible(actual: &Ty, want: &Ty) -> bool {
    match (actual, want) {
        (Ty::Unknown, _) | (_, Ty::Unknown) => true,
        (Ty::List(a), Ty::List(b)) | (Ty::Map(a), Ty::Map(b)) => compatible(a, b),
        (Ty::AnonRecord(fs), Ty::Map(v)) => fs.iter().all(|(_, t)| compatible(t, v)),
        (a, b) => a == b,
    }
}

/// Evaluates a builtin on known values. Unknown arguments give an unknown result (caller's job).
pub fn eval(name: &str, args: &[Value]) -> Result<Value, String> {
    use Value as V;
    // The checker reports a wrong number of arguments, but a program with errors is still
    // evaluated for the editor (hover, inlay hints): the count is checked again here, by the
    // checker's own table, before any argument is read.
    check(name, &vec![Ty::Unknown; args.len()])?;
    let args: Vec<Value> = args
        .iter()
        .map(|a| match a {
            V::Record(m) => V::Map(m.clone()),
            a => a.clone(),
        })
        .collect();
    let args = args.as_slice();
    let s = |i: usize| -> Result<&str, String> {
        match args.get(i) {
            Some(V::Str(s)) => Ok(s),
            _ => Err(format!("argument {} of `{name}` must be a string", i + 1)),
        }
    };
    let n = |i: usize| -> Result<i64, String> {
        match args.get(i) {
            Some(V::Int(n)) => Ok(*n),
            _ => Err(format!("argument {} of `{name}` must be a number", i + 1)),
        }
    };
    Ok(match name {
        "cidrsubnet" => V::Str(crate::cidr::subnet(s(0)?, n(1)?, n(2)?)?),
        "cidrhost" => V::Str(crate::cidr::host(s(0)?, n(1)?)?),
        "format" => V::Str(format_values(s(0)?, &args[1..])?),
        "join" => match args.get(1) {
            Some(V::List(items)) => {
                let parts: Result<Vec<String>, String> =
                    items.iter().map(|v| v.display_plain()).collect();
                V::Str(parts?.join(s(0)?))
            }
            _ => return Err("`join` takes a list".into()),
        },
        "split" => V::List(s(1)?.split(s(0)?).map(|p| V::Str(p.to_string())).collect()),
        "upper" => V::Str(s(0)?.to_uppercase()),
        "lower" => V::Str(s(0)?.to_lowercase()),
        "replace" => V::Str(s(0)?.replace(s(1)?, s(2)?)),
        "length" => match &args[0] {
            V::List(l) => V::Int(l.len() as i64),
            V::Map(m) => V::Int(m.len() as i64),
            V::Str(s) => V::Int(s.chars().count() as i64),
            _ => return Err("`length` takes a list, map or string".into()),
        },
        "concat" => match (&args[0], &args[1]) {
            (V::List(a), V::List(b)) => V::List(a.iter().chain(b).cloned().collect()),
            _ => return Err("`concat` takes two lists".into()),
        },
        "contains" | "index_of" => match &args[0] {
            V::List(l) => {
                let pos = l.iter().position(|v| v == &args[1]);
                if name == "contains" {
                    V::Bool(pos.is_some())
                } else {
                    match pos {
                        Some(p) => V::Int(p as i64),
                        None => return Err("`index_of`: the value is not in the list".into()),
                    }
                }
            }
            _ => return Err(format!("`{name}` takes a list")),
        },
        "keys" => match &args[0] {
            V::Map(m) => V::List(m.keys().map(|k| V::Str(k.clone())).collect()),
            _ => return Err("`keys` takes a map".into()),
        },
        "values" => match &args[0] {
            V::Map(m) => V::List(m.values().cloned().collect()),
            _ => return Err("`values` takes a map".into()),
        },
        "merge" => match (&args[0], &args[1]) {
            (V::Map(a), V::Map(b)) => {
                // The second map's entry wins, as a later key in a literal does.
                V::Map(
                    a.iter()
                        .chain(b)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )
            }
            _ => return Err("`merge` takes two maps".into()),
        },
        "lookup" => match &args[0] {
            V::Map(m) => m.get(s(1)?).cloned().unwrap_or_else(|| args[2].clone()),
            _ => return Err("`lookup` takes a map".into()),
        },
        "range" => {
            let k = n(0)?;
            if !(0..=10_000).contains(&k) {
                return Err(format!(
                    "`range({k})`: the count must be between 0 and 10000"
                ));
            }
            V::List((0..k).map(V::Int).collect())
        }
        "reveal" => match &args[0] {
            V::Secret(v) => (**v).clone(),
            v => v.clone(),
        },
        "to_string" => V::Str(args[0].display_plain()?),
        "json" => {
            let mut out = String::new();
            json(&args[0], &mut out)?;
            V::Str(out)
        }
        _ => return Err(format!("unknown function `{name}`")),
    })
}

/// `v` as compact JSON: records and maps as objects (keys in order), lists as arrays, enum values
/// as their AWS value, regions as their code, `none` as null; a secret's value as itself (the
/// caller marks the text secret).
fn json(v: &Value, out: &mut String) -> Result<(), String> {
    use std::fmt::Write as _;
    match v {
        Value::Str(s) => json_string(s, out),
        Value::Int(n) => write!(out, "{n}").expect("a String takes writes"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::None => out.push_str("null"),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(item, out)?;
            }
            out.push(']');
        }
        Value::Map(m) | Value::Record(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(k, out);
                out.push(':');
                json(item, out)?;
            }
            out.push('}');
        }
        Value::Enum(e) => json_string(&e.wire, out),
        Value::Region { code, .. } => json_string(code, out),
        Value::Secret(inner) => json(inner, out)?,
        Value::Ref { addr } | Value::Module { addr } => {
            return Err(format!(
                "`json` cannot encode `{addr}` itself; encode its attributes (`{addr}.arn`, ...)"
            ));
        }
        other => return Err(format!("`json` cannot encode {other:?}")),
    }
    Ok(())
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn format_values(fmt: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    let mut next = args.iter();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('%') => out.push('%'),
            Some('s') | Some('d') => match next.next() {
                Some(v) => out.push_str(&v.display_plain()?),
                None => return Err("`format` has more `%` verbs than arguments".into()),
            },
            other => {
                return Err(format!(
                    "`format`: unknown verb `%{}`",
                    other.map(String::from).unwrap_or_default()
                ));
            }
        }
    }
    if next.next().is_some() {
        return Err("`format` has more arguments than `%` verbs".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {

    use super::*;

    /// Found by `carbonc-fuzz fuzz`: `merge(x)` in a program with errors, evaluated for hover,
    /// indexed a second argument that was not there.
    #[test]
    fn a_wrong_number_of_arguments_is_an_error_when_evaluated_too() {
        let map = Value::Map(crate::Entries::new());
        for name in NAMES {
            for n in 0..4 {
                let args = vec![map.clone(); n];
                let _ = eval(name, &args);
            }
        }
        let err = eval("merge", &[map]).expect_err("one map is not enough");
        assert!(err.contains("2 argument"), "{err}");
    }

    #[test]
    fn json_encodes_a_record_for_an_rds_rotation_secret() {
        let record = Value::Record(crate::Entries::from([
            ("engine".to_string(), Value::Str("postgres".into())),
            ("port".to_string(), Value::Int(5432)),
            (
                "password".to_string(),
                Value::Secret(Box::new(Value::Str("p\"w\\d\n".into()))),
            ),
            ("replica".to_string(), Value::None),
            ("ha".to_string(), Value::Bool(true)),
            (
                "regions".to_string(),
                Value::List(vec![Value::Region {
                    idx: 0,
                    code: "us-east-1".into(),
                }]),
            ),
        ]));
        assert_eq!(
            eval("json", &[record]).unwrap(),
            Value::Str(
                r#"{"engine":"postgres","ha":true,"password":"p\"w\\d\n","port":5432,"regions":["us-east-1"],"replica":null}"#
                    .into()
            )
        );
        let err = eval("json", &[Value::Ref { addr: "db".into() }]).unwrap_err();
        assert!(err.contains("encode its attributes"), "{err}");
    }

    #[test]
    fn json_of_anything_holding_a_secret_is_a_secret() {
        let record = Ty::AnonRecord(vec![
            ("host".into(), Ty::String),
            ("password".into(), Ty::Secret(Box::new(Ty::String))),
        ]);
        assert_eq!(
            check("json", &[record]).unwrap(),
            Ty::Secret(Box::new(Ty::String))
        );
        assert_eq!(
            check("json", &[Ty::List(Box::new(Ty::Int))]).unwrap(),
            Ty::String
        );
        assert!(check("json", &[]).is_err());
    }
}
