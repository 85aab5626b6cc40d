//! The `carbonc` binary as a user meets it: exit codes, output formats, bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(
        // At run time: a test binary built from another checkout (the shared target directory) still
        // reads this one.
        &std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..")
}

fn carbonc_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_carbonc"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("carbonc runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn carbonc(args: &[&str]) -> (i32, String, String) {
    carbonc_in(&repo(), args)
}

/// A scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("carbonc-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[test]
fn clean_example_exits_zero_silently() {
    let (code, out, err) = carbonc(&["check", "examples/global.carbon"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let (code, _, _) = carbonc(&[
        "validate",
        "examples/single_region.carbon",
        "examples/aurora_global.carbon",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn errors_exit_one_with_rendered_diagnostics() {
    let (code, _, err) = carbonc(&["check", "tests/check/err/kms_key_other_region.carbon"]);
    assert_eq!(code, 1);
    assert!(err.contains("[E0301]"), "{err}");
    assert!(err.contains("Help:"), "{err}");
    assert!(err.contains("error(s)"), "{err}");
    assert!(
        !err.contains("\u{1b}["),
        "no colour when stderr is not a terminal"
    );
}

#[test]
fn json_format_has_one_object_per_diagnostic() {
    let (code, out, _) = carbonc(&[
        "check",
        "--message-format",
        "json",
        "tests/check/err/kms_key_other_region.carbon",
    ]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert!(!lines.is_empty());
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).expect("valid JSON");
        assert_eq!(v["code"], "E0301");
        assert_eq!(v["severity"], "error");
        assert!(v["line"].as_u64().unwrap() > 0 && v["column"].as_u64().unwrap() > 0);
        assert_eq!(v["file"], "tests/check/err/kms_key_other_region.carbon");
        let labels = v["labels"].as_array().expect("labels");
        assert!(labels.len() >= 2, "primary and secondary labels: {v}");
        assert_eq!(labels[0]["primary"], true);
        // The help is an edit: a fix with its replacement, where the label is.
        let fix = &v["fixes"][0];
        assert_eq!(fix["applicability"], "machine-applicable", "{v}");
        assert!(fix["title"].as_str().unwrap().contains("db_key[r]"), "{v}");
        let edit = &fix["edits"][0];
        assert_eq!(edit["text"], "db_key[r]");
        assert_eq!(
            (edit["line"].clone(), edit["column"].clone()),
            (v["line"].clone(), v["column"].clone())
        );
    }
}

/// Three mistakes `--fix` can correct for certain: a misspelt name, a misspelt field, a key of
/// another region. Comments and layout stay as written.
const FIXABLE: &str = r#"# Keys and an alias per region.
region use1 { code = "us-east-1", role = .primary, maintenance = "sun:05:00-sun:06:00" }
region euw1 { code = "eu-west-1", role = .secondary, maintenance = "tue:02:00-tue:03:00" }
region apse1 { code = "ap-southeast-1", role = .secondary, maintenance = "thu:18:00-thu:19:00" }

for r in regions {
    # The data key of the region.
    resource aws.kms.Key data_key @ r {
        descripton = "data key in ${r.code}" # misspelt field
    }

    resource aws.kms.Alias data_key_alias @ r {
        name = "alias/data"
        target_key = data_kye[r] # misspelt name
    }

    resource aws.secretsmanager.Secret app @ r {
        name = "app/${r.code}"
        kms_key = data_key[use1] # another region's key
    }

    resource aws.secretsmanager.Rotation app_rotation @ r {
        secret = app[r]
        rotation_lambda_arn = "arn:aws:lambda:us-east-1:123456789012:function:rotate"
    }
}
"#;

#[test]
fn check_fix_corrects_certain_mistakes_and_keeps_the_layout() {
    let dir = scratch("fix");
    let file = dir.join("main.carbon");
    std::fs::write(&file, FIXABLE).unwrap();
    // The region rules run on a program without name errors: the third mistake shows, and is
    // fixed, in the second round.
    let (code, _, err) = carbonc_in(&dir, &["check", "main.carbon"]);
    assert_eq!(code, 1);
    assert_eq!(err.matches("Error:").count(), 2, "{err}");
    let (code, _, err) = carbonc_in(&dir, &["check", "--fix", "main.carbon"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("fixed `main.carbon` (3 fixes)"), "{err}");
    let fixed = std::fs::read_to_string(&file).unwrap();
    let expected = FIXABLE
        .replace("descripton", "description")
        .replace("data_kye[r]", "data_key[r]")
        .replace("data_key[use1]", "data_key[r]");
    assert_eq!(fixed, expected);
    let (code, _, err) = carbonc_in(&dir, &["check", "main.carbon"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let (code, _, err) = carbonc_in(&dir, &["fmt", "--check", "main.carbon"]);
    assert_eq!(code, 0, "{err}");
    // Nothing left to fix: the file is not touched again.
    let (code, _, err) = carbonc_in(&dir, &["check", "--fix", "main.carbon"]);
    assert_eq!((code, err.as_str()), (0, ""));
}

#[test]
fn check_fix_leaves_a_file_with_a_syntax_error_alone() {
    let dir = scratch("fix-syntax");
    let file = dir.join("main.carbon");
    let text = FIXABLE.replace("# The data key of the region.", "resource {");
    std::fs::write(&file, &text).unwrap();
    let (code, _, err) = carbonc_in(&dir, &["check", "--fix", "main.carbon"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("not fixing `main.carbon`: it has a syntax error"),
        "{err}"
    );
    assert!(err.contains("[E0001]"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn github_format_emits_annotations() {
    let (code, out, _) = carbonc(&[
        "check",
        "--message-format",
        "github",
        "tests/check/err/kms_key_other_region.carbon",
    ]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("::error file=tests/check/err/kms_key_other_region.carbon,line="),
        "{out}"
    );
    assert!(out.contains("title=E0301 "), "{out}");
    assert!(
        !out.trim_end().contains('\n') || out.lines().all(|l| l.starts_with("::")),
        "one line per annotation: {out}"
    );
}

#[test]
fn unreadable_inputs_are_one_line_errors() {
    let d = scratch("bad");
    std::fs::write(d.join("latin1.carbon"), b"region r { code = \"\xe9\" }").unwrap();
    std::fs::create_dir_all(d.join("dir.carbon")).unwrap();
    for (arg, why) in [
        ("missing.carbon", "no such file"),
        ("dir.carbon", "is a directory"),
        ("latin1.carbon", "not valid UTF-8"),
    ] {
        let (code, _, err) = carbonc_in(&d, &["check", arg]);
        assert_eq!(code, 1, "{arg}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(arg) && err.contains(why), "{err}");
    }
}

#[test]
fn usage_errors_exit_two() {
    let (code, _, _) = carbonc(&["check"]);
    assert_eq!(code, 2);
    let (code, _, _) = carbonc(&["frobnicate"]);
    assert_eq!(code, 2);
    let (code, _, _) = carbonc(&["check", "--message-format", "xml", "examples/global.carbon"]);
    assert_eq!(code, 2);
}

#[test]
fn import_problems_are_diagnostics_at_the_import() {
    let d = scratch("imports");
    let region = "region use1 { code = \"us-east-1\" role = .primary }\n";
    std::fs::write(
        d.join("a.carbon"),
        format!("import \"b.carbon\" as b\n{region}"),
    )
    .unwrap();
    std::fs::write(d.join("b.carbon"), "import \"a.carbon\" as a\n").unwrap();
    std::fs::write(
        d.join("c.carbon"),
        "import \"nowhere.carbon\" as n\nimport \"sub\" as s\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.join("sub")).unwrap();
    let (code, _, err) = carbonc_in(&d, &["check", "a.carbon"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("[E1102]") && err.contains("Import cycle"),
        "{err}"
    );
    let (code, _, err) = carbonc_in(&d, &["check", "c.carbon"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("[E1101]") && err.contains("nowhere.carbon") && err.contains("no such file"),
        "{err}"
    );
    assert!(err.contains("is a directory"), "{err}");
}

#[test]
fn unknown_region_code_is_a_diagnostic() {
    let d = scratch("region");
    std::fs::write(
        d.join("r.carbon"),
        "region x { code = \"eu-west-9\" role = .primary }\n",
    )
    .unwrap();
    let (code, _, err) = carbonc_in(&d, &["check", "r.carbon"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("[E0305]")
            && err.contains("eu-west-9")
            && err.contains("did you mean `eu-west-1`?"),
        "{err}"
    );
}

#[test]
fn carbon_toml_sets_policy_severities() {
    let d = scratch("severity");
    std::fs::copy(
        repo().join("tests/check/err/policy_secret_without_rotation.carbon"),
        d.join("main.carbon"),
    )
    .unwrap();
    let (code, _, err) = carbonc_in(&d, &["check", "main.carbon"]);
    assert_eq!(code, 0, "a warning does not fail the check: {err}");
    assert!(err.contains("[P0107] Warning"), "{err}");
    std::fs::write(d.join("carbon.toml"), "[severity]\nP0107 = \"error\"\n").unwrap();
    let (code, _, err) = carbonc_in(&d, &["check", "main.carbon"]);
    assert_eq!(code, 1);
    assert!(err.contains("[P0107] Error"), "{err}");
    std::fs::write(d.join("carbon.toml"), "[severity]\nP0107 = \"off\"\n").unwrap();
    let (code, _, err) = carbonc_in(&d, &["check", "main.carbon"]);
    assert_eq!((code, err.as_str()), (0, ""));
    std::fs::write(d.join("carbon.toml"), "[severity]\nE0201 = \"off\"\n").unwrap();
    let (code, _, err) = carbonc_in(&d, &["check", "main.carbon"]);
    assert_eq!(code, 1);
    assert!(err.contains("`E0201` cannot be reconfigured"), "{err}");
    std::fs::write(d.join("carbon.toml"), "[severity]\nP0107 = loud\n").unwrap();
    let (code, _, err) = carbonc_in(&d, &["check", "main.carbon"]);
    assert_eq!(code, 1);
    assert!(err.contains("carbon.toml:2:"), "{err}");
}

/// How many regions must stay up during maintenance is the project's: all but one by default,
/// `[availability] regions` in carbon.toml otherwise.
#[test]
fn carbon_toml_sets_the_regions_that_stay_available() {
    let d = scratch("availability");
    std::fs::copy(
        repo().join("tests/check/err/maintenance_four_regions_two_at_once.carbon"),
        d.join("main.carbon"),
    )
    .unwrap();
    let (code, _, err) = carbonc_in(&d, &["check", "main.carbon"]);
    assert_eq!(code, 1);
    assert!(err.contains("fewer than three regions available"), "{err}");
    std::fs::write(d.join("carbon.toml"), "[availability]\nregions = 2\n").unwrap();
    let (code, _, err) = carbonc_in(&d, &["check", "main.carbon"]);
    assert_eq!((code, err.as_str()), (0, ""));
    std::fs::write(d.join("carbon.toml"), "[availability]\nregions = 4\n").unwrap();
    let (code, _, err) = carbonc_in(&d, &["check", "main.carbon"]);
    assert_eq!(code, 1);
    assert!(err.contains("lower `[availability] regions`"), "{err}");
    // More than the program has (a carbon.toml shared with a bigger program): said, not a crash.
    std::fs::write(d.join("carbon.toml"), "[availability]\nregions = 5\n").unwrap();
    let (code, _, err) = carbonc_in(&d, &["check", "main.carbon"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("five regions must stay available, but the program has four regions"),
        "{err}"
    );
    for bad in ["regions = 0", "regions = \"two\"", "region = 2"] {
        std::fs::write(d.join("carbon.toml"), format!("[availability]\n{bad}\n")).unwrap();
        let (code, _, err) = carbonc_in(&d, &["check", "main.carbon"]);
        assert_eq!(code, 1, "{bad}");
        assert!(
            err.contains("carbon.toml") && err.contains("availability"),
            "{bad}: {err}"
        );
    }
    // The two-region example checks clean under the default.
    let (code, _, err) = carbonc(&[
        "check",
        "examples/two_regions.carbon",
        "examples/four_regions.carbon",
    ]);
    assert_eq!((code, err.as_str()), (0, ""));
}
