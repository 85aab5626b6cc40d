//! The differential check every generated program goes through. Two ways of computing the same
//! answer must agree:
//! - the whole-program evaluation (`evaluate_program`) and the one-instance-at-a-time evaluation
//!   `apply` uses (`InstanceResolver`), on every instance;
//! - a check in a fresh database and the same check after the files were given in another order
//!   and computed ahead on three threads (`warm_on`): no result may depend on the order files
//!   arrive in, nor on the thread that computed it;
//! - an incremental re-check after an edit and a cold check of the edited program (salsa may
//!   re-use only what the edit did not change).
//!
//! When the evaluator is split into per-file queries, the old and the new evaluation join this
//! list until the old one is removed.

use carbonc_sema::{InstanceResolver, RootDatabase, check_program, configurable, evaluate_program};

use crate::{Program, Rng, mutate};

/// What one program exercised.
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcome {
    pub instances: usize,
    pub diagnostics: usize,
    /// The program has errors.
    pub errors: bool,
    /// No syntax, name or type error: the evaluator and the domain rules ran in the check.
    pub ruled: bool,
}

fn load(files: &[(String, String)]) -> RootDatabase {
    let mut db = RootDatabase::default();
    for (path, text) in files {
        db.set_file(path, text.clone());
    }
    db
}

/// Runs every comparison on `program`; `Err` describes the first disagreement.
pub fn check(program: &Program, edit_seed: u64) -> Result<Outcome, String> {
    let mut db = load(&program.files);
    let root = db.file(program.root()).ok_or("the root is loaded")?;
    let diags = check_program(&db, root).clone();
    let whole = evaluate_program(&db, root).clone();

    let mut resolver = InstanceResolver::new(&db, root);
    for inst in &whole.instances {
        let first = whole.instance(&inst.address);
        let one = resolver.instance(&inst.address);
        if one != first {
            return Err(format!(
                "instance `{}`: the resolver gives\n{one:#?}\nthe whole evaluation\n{first:#?}",
                inst.address
            ));
        }
    }
    drop(resolver);

    let mut reversed: Vec<(String, String)> = program.files.clone();
    reversed.reverse();
    let other = load(&reversed);
    let other_root = other.file(program.root()).ok_or("the root is loaded")?;
    carbonc_sema::warm_on(&other, other_root, 3);
    if check_program(&other, other_root) != &diags {
        return Err(format!(
            "diagnostics depend on the order files were loaded in, or on the threads that computed them:\n{:#?}\nvs\n{diags:#?}",
            check_program(&other, other_root)
        ));
    }
    if evaluate_program(&other, other_root) != &whole {
        return Err(
            "the evaluated program depends on the order files were loaded in, or on the threads"
                .into(),
        );
    }

    // An edit, re-checked incrementally, against the edited program checked cold.
    let mut rng = Rng::new(edit_seed);
    let (path, text) = &program.files[rng.below(program.files.len())];
    let edited = mutate(&mut rng, text);
    db.set_file(path, edited.clone());
    let incremental = check_program(&db, root).clone();
    let mut files = program.files.clone();
    for f in &mut files {
        if &f.0 == path {
            f.1 = edited.clone();
        }
    }
    let cold = load(&files);
    let cold_root = cold.file(program.root()).ok_or("the root is loaded")?;
    if check_program(&cold, cold_root) != &incremental {
        return Err(format!(
            "after editing {path}, the incremental check differs from a cold one:\n{incremental:#?}\nvs\n{:#?}\nthe edited file:\n{edited}",
            check_program(&cold, cold_root)
        ));
    }
    Ok(Outcome {
        instances: whole.instances.len(),
        diagnostics: diags.len(),
        errors: diags.iter().any(|d| d.is_error()),
        ruled: !diags.iter().any(|d| d.is_error() && !configurable(d.code)),
    })
}
