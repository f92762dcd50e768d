//! Generates a large, realistic jail.conf: global defaults with variables,
//! then one block per jail with addresses, booleans, `+=` and comments.
//! Shared by the criterion benchmark and `examples/gen_jailconf.rs`.

use std::fmt::Write as _;

/// A configuration of `jails` jails (about 280 bytes and 11 lines each).
pub fn jailconf(jails: usize) -> String {
    let mut out = String::with_capacity(300 * jails + 512);
    out.push_str(
        "# Generated benchmark configuration.\n\
         $root = \"/usr/local/jails\";\n\
         path = \"$root/$name\";\n\
         exec.start = \"/bin/sh /etc/rc\";\n\
         exec.stop = \"/bin/sh /etc/rc.shutdown\";\n\
         exec.clean;\n\
         mount.devfs;\n\
         allow.nomount;\n\n",
    );
    for i in 0..jails {
        let (hi, lo) = (i / 250 % 250, i % 250 + 1);
        let _ = write!(
            out,
            "# jail {i}: application server\n\
             app{i} {{\n\
             \t$id = {i};\n\
             \thost.hostname = \"app{i}.example.org\";\n\
             \tip4.addr = \"em0|10.{hi}.{lo}.1/24\";\n\
             \tip6.addr = \"em0|fd00::{i:x}/64\";\n\
             \tallow.raw_sockets = 1;\n\
             \tpersist;\n\
             \texec.start += \"/usr/local/bin/app --id ${{id}}\";\n\
             \tdevfs_ruleset = 4;\n\
             }}\n"
        );
    }
    out
}
