//! Loading files from disk into the database, following imports.

use std::path::Path;

use carbonc_sema::{RootDatabase, SourceFile};

/// Why a path could not be read, in one line.
pub fn read(path: &str) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    })?;
    if meta.is_dir() {
        return Err("is a directory, not a .carbon file".into());
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// `./a/../b/c.carbon` -> `b/c.carbon`: one spelling per file, so that a file has one name in the
/// database, in diagnostics and in plan digests.
pub fn normalize(path: &str) -> String {
    carbonc_sema::resolve_import_path("", path.trim_start_matches("./"))
}

/// Loads `root` and every file it imports (`carbonc_sema::load_imports`, the walk the language
/// server uses too). Imports that cannot be read are recorded so that the checker reports them at
/// the import.
pub fn load_program(db: &mut RootDatabase, root: &str) -> Result<SourceFile, String> {
    let root = &normalize(root);
    let file = db.set_file(root, read(root)?);
    carbonc_sema::load_imports(db, file, read);
    Ok(file)
}

/// The project configuration beside the root file (`carbon.toml`), if any: severity overrides
/// and the regions that must stay available.
///
/// ```toml
/// [severity]
/// P0107 = "off"      # error | warning | off
/// E0604 = "warning"
///
/// [availability]
/// regions = 1
/// ```
pub fn config(root: &str) -> Result<carbonc_sema::Config, String> {
    let dir = Path::new(root).parent().unwrap_or(Path::new(""));
    let path = dir.join("carbon.toml");
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(e) => return Err(format!("{shown}: cannot read: {e}")),
    };
    carbonc_sema::config_from_toml(&text, &shown)
}
