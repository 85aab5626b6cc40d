use carbonc_diagnostics::Diagnostic; use crate::eval::Program; pub(crate) fn check(_p: &Program, _out: &mut Vec<Diagnostic>) {}
