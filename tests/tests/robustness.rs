//! No input makes the checker panic: thousands of mutations of the examples, each checked in the
//! same database (so incremental re-checking is exercised too).

use carbonc_gen::{Rng, mutate};
use carbonc_sema::{RootDatabase, check_program};

#[test]
fn thousands_of_mutated_inputs_never_panic() {
    let root = carbonc_tests::repo_root();
    let mut seeds = Vec::new();
    for f in [
        "examples/global.carbon",
        "examples/modules/eks.carbon",
        "examples/modules/aurora_global.carbon",
    ] {
        seeds.push((
            f,
            std::fs::read_to_string(root.join(f)).expect("example exists"),
        ));
    }
    let mut db = RootDatabase::default();
    for (path, text) in &seeds {
        db.set_file(path, text.clone());
    }
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    let mut with_diags = 0;
    let iterations = 2_000;
    for i in 0..iterations {
        let (path, text) = &seeds[rng.below(seeds.len())];
        let mutated = mutate(&mut rng, text);
        let file = db.set_file(path, mutated.clone());
        let root_file = db.file("examples/global.carbon").expect("loaded");
        let diags = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check_program(&db, root_file).clone()
        }));
        let diags = diags.unwrap_or_else(|_| {
            panic!("iteration {i}: checking panicked on this {path}:\n{mutated}")
        });
        with_diags += usize::from(!diags.is_empty());
        // Restore, so that mutations do not accumulate into noise.
        let _ = file;
        db.set_file(path, text.clone());
    }
    // Most mutations break something; a harness that never saw a diagnostic would prove nothing.
    assert!(
        with_diags > iterations / 2,
        "only {with_diags} of {iterations} mutations produced diagnostics"
    );
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::new(42);
    let mut db = RootDatabase::default();
    for _ in 0..500 {
        let len = rng.below(300);
        let text: String = (0..len)
            .map(|_| char::from_u32(rng.below(0x3000) as u32).unwrap_or('?'))
            .collect();
        let f = db.set_file("random.carbon", text);
        let _ = check_program(&db, f);
    }
}

#[test]
fn pathological_nesting_is_an_error_not_a_stack_overflow() {
    let n = 20_000;
    let cases = [
        format!("let a = {}{}", "[".repeat(n), "]".repeat(n)),
        format!("let a = {}1", "-".repeat(n)),
        format!("let a = 1{}", " + 1".repeat(n)),
        format!("let a = {}1{}", "f(".repeat(n), ")".repeat(n)),
        format!("{}{}", "for x in regions {".repeat(n), "}".repeat(n)),
        format!("param p: {}Int{}", "List<".repeat(n), ">".repeat(n)),
        format!(
            "let a = \"{}{}\"",
            "${\"".repeat(2_000),
            "\"}".repeat(2_000)
        ),
    ];
    let mut db = RootDatabase::default();
    for src in cases {
        let f = db.set_file("deep.carbon", src.clone());
        let diags = check_program(&db, f);
        assert!(
            diags
                .iter()
                .any(|d| d.code == "E0001" && d.title.contains("nested")),
            "{}: {diags:#?}",
            &src[..40]
        );
    }
}
