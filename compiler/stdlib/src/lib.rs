//! `carbonc-stdlib`: the carbon standard library, embedded in the binary so that `carbonc` and the
//! language server work from any directory. The sources live in the repository's `stdlib/` folder.
//!
//! Architecture invariant: data only; no code depends on anything here but the file list.

/// `(path relative to stdlib/, contents)` of every stdlib file. Files under `aws/` are the prelude:
/// their resource types, enums and records are always in scope.
pub const FILES: &[(&str, &str)] = &[
    (
        "aws/acm.carbon",
        include_str!("../../../stdlib/aws/acm.carbon"),
    ),
    (
        "aws/cloudfront.carbon",
        include_str!("../../../stdlib/aws/cloudfront.carbon"),
    ),
    (
        "aws/ec2.carbon",
        include_str!("../../../stdlib/aws/ec2.carbon"),
    ),
    (
        "aws/eks.carbon",
        include_str!("../../../stdlib/aws/eks.carbon"),
    ),
    (
        "aws/elasticache.carbon",
        include_str!("../../../stdlib/aws/elasticache.carbon"),
    ),
    (
        "aws/iam.carbon",
        include_str!("../../../stdlib/aws/iam.carbon"),
    ),
    (
        "aws/kms.carbon",
        include_str!("../../../stdlib/aws/kms.carbon"),
    ),
    (
        "aws/rds.carbon",
        include_str!("../../../stdlib/aws/rds.carbon"),
    ),
    (
        "aws/route53.carbon",
        include_str!("../../../stdlib/aws/route53.carbon"),
    ),
    (
        "aws/secretsmanager.carbon",
        include_str!("../../../stdlib/aws/secretsmanager.carbon"),
    ),
    (
        "aws/wafv2.carbon",
        include_str!("../../../stdlib/aws/wafv2.carbon"),
    ),
];

/// Prelude files define the namespace `aws.<service>` from their file name.
pub fn prelude_namespace(path: &str) -> Option<String> {
    let rest = path.strip_prefix("std/aws/")?.strip_suffix(".carbon")?;
    Some(format!("aws.{rest}"))
}
