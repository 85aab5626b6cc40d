//! Types, and the schema model read from the stdlib prelude.

use std::collections::BTreeMap;
use std::fmt;

use carbonc_syntax::Span;
use carbonc_syntax::ast::{self, Scope};

/// Where a referenced resource must live, relative to the resource that names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Placement {
    /// `@ same`: the referencing resource's own region.
    Same,
    /// `@ any`: any region.
    Any,
    /// `@ "us-east-1"`: one fixed region.
    Fixed(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// An error was already reported, or the type cannot be known; compatible with everything.
    Unknown,
    String,
    Int,
    Bool,
    Region,
    /// The type of the literal `none`.
    NoneTy,
    List(Box<Ty>),
    Map(Box<Ty>),
    Secret(Box<Ty>),
    Optional(Box<Ty>),
    /// A reference to a resource of the given type.
    Ref {
        target: String,
        placement: Option<Placement>,
    },
    Enum(String),
    Record(String),
    /// A record literal before it meets its expected type.
    AnonRecord(Vec<(String, Ty)>),
    /// An instance of a module (by module id).
    Module(String),
    /// A resource or module instance declared inside `for` loops: index it with one key per loop.
    Family {
        elem: Box<Ty>,
        keys: Vec<Ty>,
    },
}

impl Ty {
    pub fn is_secret(&self) -> bool {
        match self {
            Ty::Secret(_) => true,
            Ty::Optional(t) => t.is_secret(),
            _ => false,
        }
    }

    pub fn contains_secret(&self) -> bool {
        match self {
            Ty::Secret(_) => true,
            Ty::Optional(t) | Ty::List(t) | Ty::Map(t) => t.contains_secret(),
            Ty::AnonRecord(fs) => fs.iter().any(|(_, t)| t.contains_secret()),
            _ => false,
        }
    }

    /// Strips `Secret` and `Optional` wrappers.
    pub fn core(&self) -> &Ty {
        match self {
            Ty::Secret(t) | Ty::Optional(t) => t.core(),
            t => t,
        }
    }

    pub fn secret(self) -> Ty {
        match self {
            Ty::Secret(_) | Ty::Unknown => self,
            t => Ty::Secret(Box::new(t)),
        }
    }
}

/// Short display names: user types are shown without their file.
pub fn short_name(id: &str) -> &str {
    id.rsplit("::").next().unwrap_or(id)
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Unknown => write!(f, "_"),
            Ty::String => write!(f, "String"),
            Ty::Int => write!(f, "Int"),
            Ty::Bool => write!(f, "Bool"),
            Ty::Region => write!(f, "Region"),
            Ty::NoneTy => write!(f, "none"),
            Ty::List(t) => write!(f, "List<{t}>"),
            Ty::Map(t) => write!(f, "Map<String, {t}>"),
            Ty::Secret(t) => write!(f, "Secret<{t}>"),
            Ty::Optional(t) => write!(f, "{t}?"),
            Ty::Ref { target, placement } => match placement {
                None => write!(f, "Ref<{target}>"),
                Some(Placement::Same) => write!(f, "Ref<{target} @ same>"),
                Some(Placement::Any) => write!(f, "Ref<{target} @ any>"),
                Some(Placement::Fixed(r)) => write!(f, "Ref<{target} @ \"{r}\">"),
            },
            Ty::Enum(id) | Ty::Record(id) => write!(f, "{}", short_name(id)),
            Ty::AnonRecord(fields) => {
                write!(f, "{{ ")?;
                for (i, (n, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{n}: {t}")?;
                }
                write!(f, " }}")
            }
            Ty::Module(id) => write!(f, "module {}", short_name(id)),
            Ty::Family { elem, keys } => {
                write!(f, "{elem}[")?;
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k}")?;
                }
                write!(f, "]")
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldSchema {
    pub name: String,
    pub ty: Ty,
    pub default: Option<ast::Expr>,
    pub computed: bool,
    pub forces_new: bool,
    /// A CloudWatch metric of a resource type (`metric name = ...`), or the type's `metrics`
    /// field that holds them: computed by the checker's evaluator, never sent or stored.
    pub metric: bool,
    pub doc: Option<String>,
    pub file: String,
    pub span: Span,
}

impl FieldSchema {
    pub fn required(&self) -> bool {
        !self.computed && self.default.is_none() && !matches!(self.ty, Ty::Optional(_))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceSchema {
    pub name: String,
    pub scope: Scope,
    pub lookup: bool,
    /// Replacements create the new resource before destroying the old one.
    pub create_before_destroy: bool,
    pub fields: Vec<FieldSchema>,
    pub doc: Option<String>,
    pub file: String,
    pub span: Span,
}

impl ResourceSchema {
    pub fn field(&self, name: &str) -> Option<&FieldSchema> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// "KMS key", "EKS cluster": used in diagnostic titles.
    pub fn human_name(&self) -> String {
        human_type_name(&self.name)
    }
}

/// A readable name for a resource type: `aws.kms.Key` -> "KMS key".
pub fn human_type_name(ty: &str) -> String {
    let mut parts = ty.split('.').skip(1);
    let service = parts.next().unwrap_or("");
    let kind = parts.next().unwrap_or(ty);
    let service = match service {
        "ec2" => "",
        "iam" => "IAM",
        "kms" => "KMS",
        "eks" => "EKS",
        "rds" => "Aurora",
        "elasticache" => "ElastiCache",
        "route53" => "Route53",
        "acm" => "ACM",
        "elbv2" => "",
        "cloudfront" => "CloudFront",
        "wafv2" => "WAF",
        "secretsmanager" => "Secrets Manager",
        "sns" => "SNS",
        "cloudwatch" => "CloudWatch",
        "s3" => "S3",
        "synthetics" => "CloudWatch Synthetics",
        other => other,
    };
    let mut words = String::new();
    for (i, c) in kind.chars().enumerate() {
        let prev_lower = i > 0 && kind.chars().nth(i - 1).is_some_and(|p| p.is_lowercase());
        if c.is_uppercase() && prev_lower {
            words.push(' ');
        }
        words.push(c);
    }
    let words = match words.as_str() {
        "Vpc" => "VPC".to_string(),
        "Eip" => "Elastic IP".to_string(),
        "Ip Set" => "IP set".to_string(),
        "Web Acl" => "web ACL".to_string(),
        w => w.to_lowercase(),
    };
    if service.is_empty() {
        let mut c = words.chars();
        match c.next() {
            Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
            None => words,
        }
    } else {
        format!("{service} {words}")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumDef {
    pub id: String,
    /// `(identifier, wire value, doc)`.
    pub variants: Vec<(String, String, Option<String>)>,
    pub doc: Option<String>,
}

impl EnumDef {
    pub fn has(&self, v: &str) -> bool {
        self.variants.iter().any(|(n, _, _)| n == v)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordDef {
    pub id: String,
    pub fields: Vec<FieldSchema>,
    pub doc: Option<String>,
}

/// Types and schemas every file can see: the prelude (`stdlib/aws`), plus user enums and records,
/// all keyed by their id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalog {
    pub resources: BTreeMap<String, ResourceSchema>,
    pub enums: BTreeMap<String, EnumDef>,
    pub records: BTreeMap<String, RecordDef>,
}

impl Catalog {
    pub fn record_fields(&self, id: &str) -> Option<&[FieldSchema]> {
        self.records.get(id).map(|r| r.fields.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::human_type_name;

    #[test]
    fn human_names() {
        assert_eq!(human_type_name("aws.kms.Key"), "KMS key");
        assert_eq!(human_type_name("aws.eks.NodeGroup"), "EKS node group");
        assert_eq!(human_type_name("aws.ec2.Subnet"), "Subnet");
        assert_eq!(human_type_name("aws.ec2.SecurityGroup"), "Security group");
        assert_eq!(human_type_name("aws.wafv2.WebAcl"), "WAF web ACL");
        assert_eq!(human_type_name("aws.acm.Certificate"), "ACM certificate");
    }
}
