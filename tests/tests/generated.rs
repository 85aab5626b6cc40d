//! Generated programs (`carbonc-gen`) through every comparison of `carbonc_gen::differential`:
//! the whole-program evaluation against the one-instance resolver, loading order, and an
//! incremental re-check after an edit against a cold check. The long campaigns (100,000 programs,
//! 10 million fuzz inputs) are `carbonc-fuzz differential` and `carbonc-fuzz fuzz` in release.

use carbonc_gen::{Options, differential, generate};
use carbonc_sema::{RootDatabase, catalog};

#[test]
fn generated_programs_agree_everywhere() {
    let db = RootDatabase::default();
    let cat = catalog(&db);
    let n = 150;
    let (mut ruled, mut instances) = (0, 0);
    for seed in 1..=n {
        let program = generate(seed, cat, &Options::default());
        match differential::check(&program, seed ^ 0x5EED) {
            Ok(o) => {
                ruled += usize::from(o.ruled);
                instances += o.instances;
            }
            Err(why) => {
                panic!("seed {seed} (`carbonc-fuzz show {seed}` prints the program): {why}")
            }
        }
    }
    // A generator whose programs never reached the rules, or made no instances, would prove
    // little about the evaluator. About half of the programs make mistakes on purpose (most of
    // them type or name errors), so somewhat under half reach the rules here; without mistakes
    // nearly all do (below).
    assert!(
        ruled * 5 > 2 * n as usize,
        "only {ruled} of {n} programs were well-typed"
    );
    assert!(
        instances > 20 * n as usize,
        "only {instances} instances in {n} programs"
    );
}

/// Without deliberate mistakes, programs are well-typed: they reach the evaluator and the domain
/// rules. (About one in ten cannot be: a CloudFront distribution's certificate must be a us-east-1
/// lookup, and a program without that region gets `none` for it or, in a module, no certificate.
/// The generator should leave such a resource out instead.)
#[test]
fn programs_without_mistakes_reach_the_rules() {
    let db = RootDatabase::default();
    let cat = catalog(&db);
    let opts = Options {
        mistakes: false,
        ..Options::default()
    };
    let n = 150;
    let ruled = (1..=n)
        .filter(|&seed| {
            let program = generate(seed, cat, &opts);
            differential::check(&program, seed ^ 0x5EED).is_ok_and(|o| o.ruled)
        })
        .count();
    assert!(
        ruled * 100 >= 90 * n as usize,
        "only {ruled} of {n} programs were well-typed"
    );
}

#[test]
fn the_generator_is_deterministic_and_varied() {
    let db = RootDatabase::default();
    let cat = catalog(&db);
    let a = generate(7, cat, &Options::default());
    let b = generate(7, cat, &Options::default());
    assert_eq!(a.files, b.files);
    let c = generate(8, cat, &Options::default());
    assert_ne!(a.files, c.files);
    // Across seeds: every resource type, loops, modules, imports and mistakes appear.
    let all: String = (1..=60)
        .flat_map(|s| generate(s, cat, &Options::default()).files)
        .map(|(_, t)| t)
        .collect();
    for ty in cat.resources.values().filter(|s| !s.lookup) {
        assert!(
            all.contains(&format!("resource {} ", ty.name)),
            "{} never generated",
            ty.name
        );
    }
    for shape in [
        "for r in regions",
        "for az in",
        "if r.role",
        "use lib",
        "import \"lib",
        "module ",
        "endpoint output",
        "undefined_name",
    ] {
        assert!(all.contains(shape), "`{shape}` never generated");
    }
}
