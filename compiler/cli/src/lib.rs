//! The CLI's reusable part: loading programs from disk into the database. The binary (`main.rs`)
//! and the cross-crate tests in `tests/` share it.

pub mod load;
