//! Prints a generated jail.conf of N jails (default 10000) on standard output.

#[path = "../benches/support/generate.rs"]
mod generate;

fn main() {
    let jails = std::env::args()
        .nth(1)
        .map_or(Ok(10_000), |n| n.parse())
        .unwrap_or_else(|e| {
            eprintln!("gen_jailconf: the number of jails: {e}");
            std::process::exit(2)
        });
    print!("{}", generate::jailconf(jails));
}
