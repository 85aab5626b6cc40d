//! One module per kind of request, each handler a function of the [`crate::server::Server`]
//! that converts its parameters, asks `carbonc-ide` on a snapshot (`Server::on_file`) and
//! converts the answer; `server.rs` hands every protocol entry point to one of them.

pub(crate) mod documents;
pub(crate) mod editing;
pub(crate) mod navigation;
pub(crate) mod views;
