//! `containerd-shim-runj-v1`: the containerd shim for runj.

#[tokio::main]
async fn main() {
    #[cfg(target_os = "freebsd")]
    if let Err(e) = runj_shim::reaper::acquire_subreaper() {
        eprintln!("{}: {e}", runj_shim::service::RUNTIME_ID);
        std::process::exit(1);
    }
    containerd_shim::asynchronous::run::<runj_shim::service::Service>(
        runj_shim::service::RUNTIME_ID,
        None,
    )
    .await;
}
