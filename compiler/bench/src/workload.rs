//! The scaling workloads of `carbonc-bench check`: copies of a *stack* (`workload/stack.carbon`)
//! that declares every resource family of the reference footprint (IAM, KMS, the VPC network,
//! EKS through a module, WAF, Route53, Aurora Global Database through a module, Secrets Manager
//! with rotation, ElastiCache Global Datastore, ACM, CloudFront, load balancer lookups) over three
//! regions: 127 resources per stack, with loops, conditions, module instantiations and
//! placement-checked references.
//!
//! Each stack's secret is encrypted with the us-east-1 key of *another* stack, and its EKS node
//! groups run under another stack's node role, so that references cross the program in one of
//! three shapes (`Refs`); with several files, those references cross files through imports.

use std::fmt;

const STACK: &str = include_str!("../workload/stack.carbon");
const EKS_MODULE: &str = include_str!("../../../examples/modules/eks.carbon");
const AURORA_MODULE: &str = include_str!("../../../examples/modules/aurora_global.carbon");

/// Resources one stack declares (checked by `a_stack_has_the_resources_it_claims`).
pub const STACK_RESOURCES: usize = 127;

const REGIONS: &str =
    "region use1 { code = \"us-east-1\" role = .primary maintenance = \"sun:05:00-sun:06:00\" }
region euw1 { code = \"eu-west-1\" role = .secondary maintenance = \"tue:02:00-tue:03:00\" }
region apse1 { code = \"ap-southeast-1\" role = .secondary maintenance = \"thu:18:00-thu:19:00\" }
";

/// Where a stack's cross-stack references point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refs {
    /// To the stack declared just before (the first stack to itself).
    Backward,
    /// To the stack declared just after (the last stack to itself).
    Forward,
    /// Half the program away: each stack of the first half to its partner in the second half,
    /// which refers to itself (imports may not form cycles).
    Far,
}

impl Refs {
    pub const ALL: [Refs; 3] = [Refs::Backward, Refs::Forward, Refs::Far];

    fn target(self, k: usize, stacks: usize) -> usize {
        match self {
            Refs::Backward => k.saturating_sub(1),
            Refs::Forward => (k + 1).min(stacks - 1),
            Refs::Far if k < stacks / 2 => k + stacks / 2,
            Refs::Far => k,
        }
    }

    pub fn parse(s: &str) -> Option<Refs> {
        Refs::ALL.into_iter().find(|r| r.to_string() == s)
    }
}

impl fmt::Display for Refs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refs::Backward => "backward",
            Refs::Forward => "forward",
            Refs::Far => "far",
        })
    }
}

/// A workspace of at least `n` resources (whole stacks) in `files` files (`1`: everything in the
/// root file; more: a root declaring the regions and importing `files` unit files). Paths are
/// relative (`bench/root.carbon`, `bench/unit0.carbon`, `bench/modules/eks.carbon`); the root is
/// the file whose path ends in `root.carbon`.
pub fn stacks(n: usize, files: usize, refs: Refs) -> Vec<(String, String)> {
    let stacks = n.div_ceil(STACK_RESOURCES).max(1);
    let files = files.clamp(1, stacks);
    let per_file = stacks.div_ceil(files);
    let file_of = |k: usize| k / per_file;
    let modules = "import \"modules/eks.carbon\" as eks\nimport \"modules/aurora_global.carbon\" as aurora\nparam db_master_password: Secret<String>\n";
    let mut out = vec![
        (
            "bench/modules/eks.carbon".to_string(),
            EKS_MODULE.to_string(),
        ),
        (
            "bench/modules/aurora_global.carbon".to_string(),
            AURORA_MODULE.to_string(),
        ),
    ];
    let mut root = format!("# generated: {stacks} stacks, references {refs}\n{REGIONS}");
    let mut units: Vec<String> = vec![String::new(); files];
    for (f, unit) in units.iter_mut().enumerate() {
        if files > 1 {
            root.push_str(&format!("import \"unit{f}.carbon\" as unit{f}\n"));
            unit.push_str(modules);
        } else {
            root.push_str(modules);
        }
    }
    let mut imports: Vec<std::collections::BTreeSet<usize>> = vec![Default::default(); files];
    for k in 0..stacks {
        let j = refs.target(k, stacks);
        let (f, g) = (file_of(k), file_of(j));
        let via = if f == g {
            String::new()
        } else {
            imports[f].insert(g);
            format!("unit{g}.")
        };
        let text = STACK
            .replace("{key}", &format!("{via}data_key_{j}[use1]"))
            .replace("{node_role}", &format!("{via}eks_node_role_{j}"))
            .replace("{k}", &k.to_string());
        if files > 1 {
            units[f].push_str(&text);
        } else {
            root.push_str(&text);
        }
    }
    if files > 1 {
        for (f, (mut unit, imports)) in units.into_iter().zip(imports).enumerate() {
            for g in imports {
                unit.insert_str(0, &format!("import \"unit{g}.carbon\" as unit{g}\n"));
            }
            out.push((format!("bench/unit{f}.carbon"), unit));
        }
    }
    out.push(("bench/root.carbon".into(), root));
    out
}

/// The shape a new user tried first (issue 13): `n` KMS keys and `n` Secrets Manager secrets in
/// one file over three regions, each secret encrypted with a key of its own region, and none of
/// them rotated (so P0107 warns about every secret).
pub fn keys_and_secrets(n: usize) -> Vec<(String, String)> {
    let regions = ["use1", "euw1", "apse1"];
    let mut s = format!("# generated: {n} keys and {n} secrets\n{REGIONS}");
    for i in 0..n / 2 {
        let r = regions[i % 3];
        s.push_str(&format!(
            "resource aws.kms.Key k{i} @ {r} {{ description = \"key {i}\" }}\nresource aws.secretsmanager.Secret s{i} @ {r} {{ name = \"app/s{i}\", kms_key = k{i} }}\n"
        ));
    }
    vec![("bench/root.carbon".into(), s)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use carbonc_diagnostics::Diagnostic;
    use carbonc_sema::{check_program, evaluate_program};

    fn check(files: &[(String, String)]) -> (usize, Vec<Diagnostic>) {
        let (db, root) = crate::load(files);
        let diags = check_program(&db, root).clone();
        (evaluate_program(&db, root).instances.len(), diags)
    }

    #[test]
    fn a_stack_has_the_resources_it_claims() {
        let (n, diags) = check(&stacks(1, 1, Refs::Backward));
        assert!(diags.is_empty(), "{diags:#?}");
        assert_eq!(n, STACK_RESOURCES);
    }

    #[test]
    fn every_shape_checks_clean_in_one_file_and_in_many() {
        for refs in Refs::ALL {
            for files in [1, 3] {
                let ws = stacks(6 * STACK_RESOURCES, files, refs);
                let (n, diags) = check(&ws);
                assert!(diags.is_empty(), "{refs} in {files} file(s): {diags:#?}");
                assert_eq!(n, 6 * STACK_RESOURCES, "{refs} in {files} file(s)");
            }
        }
    }

    #[test]
    fn references_cross_files_in_the_shape_asked_for() {
        let ws = stacks(6 * STACK_RESOURCES, 3, Refs::Forward);
        let unit0 = &ws
            .iter()
            .find(|(p, _)| p == "bench/unit0.carbon")
            .unwrap()
            .1;
        assert!(unit0.contains("import \"unit1.carbon\" as unit1"));
        assert!(unit0.contains("kms_key = unit1.data_key_2[use1]"));
        let far = stacks(6 * STACK_RESOURCES, 3, Refs::Far);
        let unit0 = &far
            .iter()
            .find(|(p, _)| p == "bench/unit0.carbon")
            .unwrap()
            .1;
        assert!(unit0.contains("kms_key = unit1.data_key_3[use1]"));
        assert!(unit0.contains("kms_key = unit2.data_key_4[use1]"));
    }

    #[test]
    fn a_misplaced_cross_file_key_is_still_found() {
        let mut ws = stacks(6 * STACK_RESOURCES, 3, Refs::Backward);
        let unit1 = ws
            .iter_mut()
            .find(|(p, _)| p == "bench/unit1.carbon")
            .unwrap();
        unit1.1 = unit1
            .1
            .replacen("unit0.data_key_1[use1]", "unit0.data_key_1[euw1]", 1);
        let (_, diags) = check(&ws);
        assert_eq!(
            diags.iter().map(|d| d.code).collect::<Vec<_>>(),
            ["E0301"],
            "{diags:#?}"
        );
    }

    #[test]
    fn the_keys_and_secrets_shape_warns_about_every_secret() {
        let (n, diags) = check(&keys_and_secrets(60));
        assert_eq!(n, 60);
        assert_eq!(diags.len(), 30, "{diags:#?}");
        assert!(diags.iter().all(|d| d.code == "P0107"), "{diags:#?}");
    }
}
