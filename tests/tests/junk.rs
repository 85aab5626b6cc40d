//! One mistake, one error: junk lines typed into any example cost one syntax error each, and
//! nothing else (no name errors for what the parser lost, no missing fields, no type errors).
//! N junk lines at N places (with code between them) give exactly N diagnostics, for N up to 10,
//! over every example and module.

use carbonc_cli::load::load_program;
use carbonc_sema::{RootDatabase, check_program};
use carbonc_tests::{carbon_files, repo_root};

/// Lines of garbage: words, operators, a stray `@`, an unterminated string.
const JUNK: [&str; 7] = [
    "this is junk %% 42",
    "foo bar baz",
    "= = 3",
    "\"unterminated",
    "@ # junk",
    "42 + + 7",
    "!? % ^",
];

/// A small deterministic generator (the test must fail the same way twice).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// `lines` with `n` junk lines inserted at places that have a line of code between each two.
fn with_junk(lines: &[&str], n: usize, rng: &mut Lcg) -> (String, Vec<usize>) {
    let code: Vec<usize> = (0..lines.len())
        .filter(|&i| {
            let t = lines[i].trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .collect();
    loop {
        let mut at: Vec<usize> = (0..n).map(|_| rng.below(lines.len() + 1)).collect();
        at.sort_unstable();
        at.dedup();
        let apart = at
            .windows(2)
            .all(|w| code.iter().any(|&c| w[0] <= c && c < w[1]));
        if at.len() != n || !apart {
            continue;
        }
        let mut out: Vec<&str> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if at.contains(&i) {
                out.push(JUNK[rng.below(JUNK.len())]);
            }
            out.push(line);
        }
        if at.contains(&lines.len()) {
            out.push(JUNK[rng.below(JUNK.len())]);
        }
        return (out.join("\n"), at);
    }
}

#[test]
fn each_junk_line_costs_one_error() {
    std::env::set_current_dir(repo_root()).expect("repository root exists");
    let mut files = carbon_files("examples");
    files.extend(carbon_files("examples/modules"));
    assert!(files.len() >= 6, "{files:?}");
    let mut failures = Vec::new();
    let mut runs = 0;
    for path in &files {
        let original = std::fs::read_to_string(path).expect("readable");
        let lines: Vec<&str> = original.lines().collect();
        let mut rng = Lcg(path.len() as u64 * 7919);
        let mut db = RootDatabase::default();
        let root = load_program(&mut db, path).expect("loads");
        for n in 1..=10 {
            for _ in 0..3 {
                let (text, at) = with_junk(&lines, n, &mut rng);
                db.set_file(path, text.clone());
                let diags: Vec<_> = check_program(&db, root)
                    .iter()
                    .filter(|d| &d.primary.file == path)
                    .cloned()
                    .collect();
                runs += 1;
                if diags.len() != n || diags.iter().any(|d| d.code != "E0001") {
                    let got: Vec<String> = diags
                        .iter()
                        .map(|d| {
                            let line = text[..d.primary.span.start as usize].lines().count();
                            format!("{} at line {line}: {}", d.code, d.title)
                        })
                        .collect();
                    failures.push(format!(
                        "{path}: {n} junk lines before lines {at:?} (0-based) gave {}:\n  {}",
                        diags.len(),
                        got.join("\n  ")
                    ));
                }
            }
        }
    }
    eprintln!("{runs} programs with junk lines checked");
    assert!(
        failures.is_empty(),
        "{} of {runs} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
