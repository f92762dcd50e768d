//! The rule for tests whose prerequisite (the shared corpus, root, a
//! containerd) may be missing; shared with the shim's end-to-end tests.

/// True when `available`; otherwise skips (false) or, under `CI=true`, fails
/// with `what` as the reason.
pub fn prerequisite(available: bool, what: &str) -> bool {
    if available {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("prerequisite missing under CI=true: {what}");
    }
    eprintln!("SKIPPED: {what}");
    false
}
