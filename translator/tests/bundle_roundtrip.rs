//! A jail migrated to an OCI bundle (`runj migrate`) plans back (`runj
//! plan`) to the jail it came from.

use std::path::Path;

use runj_translator::conf::resolve;
use runj_translator::oci::{BundleOptions, compile};
use runj_translator::{lower, migrate_all};

const JAILS: &str = r#"
$root = "/usr/local/jails";
path = "$root/$name";
exec.clean;
mount.devfs;
devfs_ruleset = 4;

web {
	host.hostname = "web.example.org";
	ip4.addr = "lo1|192.0.2.10/24", 192.0.2.11;
	ip6.addr = 2001:db8::10;
	interface = lo1;
	allow.raw_sockets;
	allow.nochflags;
	allow.mount;
	allow.mount.tmpfs;
	allow.mount.nullfs;
	enforce_statfs = 1;
	sysvshm = new;
	securelevel = 3;
	children.max = 2;
	exec.start = "/bin/sh /etc/rc";
	exec.stop = "/bin/sh /etc/rc.shutdown";
	exec.timeout = 30;
	mount = "/usr/ports $root/web/usr/ports nullfs ro";
	depend = db;
}

db {
	vnet;
	vnet.interface = epair0b;
	host = new;
	persist;
	command = "/usr/local/bin/postgres -D '/var/db/pg data'";
	exec.prestart = "logger starting db";
	meta.owner = "dba team";
}

idle {
	host = inherit;
	ip4 = inherit;
	persist;
}
"#;

#[test]
fn migrated_bundles_plan_back_to_their_jails() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = runj_grammar::load_text(
        "jail.conf",
        JAILS.into(),
        false,
        runj_grammar::Parallelism::One,
    )
    .unwrap();
    let jails = resolve(&loaded, runj_grammar::Parallelism::One);
    let migrations = migrate_all(&jails, &Default::default(), runj_grammar::Parallelism::One);
    assert_eq!(migrations.len(), 3);
    for (jail, migration) in jails.iter().zip(migrations) {
        let original = lower(jail).plan.unwrap();
        let config = migration
            .config
            .unwrap_or_else(|| panic!("{}: {:?}", jail.name, migration.notes));
        let bundle = dir.path().join(&jail.name);
        std::fs::create_dir(&bundle).unwrap();
        for (name, text) in config.texts() {
            std::fs::write(bundle.join(name), text).unwrap();
        }
        let compiled = compile(&bundle, &BundleOptions::default());
        assert!(
            compiled.diagnostics.0.is_empty(),
            "{}: {:?}",
            jail.name,
            compiled.diagnostics
        );
        assert_eq!(
            compiled.plan.unwrap().comparable(),
            original.comparable(),
            "{}\n{config:#?}",
            jail.name
        );
    }
}

#[test]
fn conf_examples_basic_plans_back() {
    let basic = Path::new(env!("CARGO_MANIFEST_DIR")).join("../conf-examples/basic.conf");
    let loaded =
        runj_grammar::load(basic.to_str().unwrap(), runj_grammar::Parallelism::One).unwrap();
    let jails = resolve(&loaded, runj_grammar::Parallelism::One);
    let dir = tempfile::tempdir().unwrap();
    for (jail, migration) in jails.iter().zip(migrate_all(
        &jails,
        &Default::default(),
        runj_grammar::Parallelism::One,
    )) {
        let bundle = dir.path().join(&jail.name);
        std::fs::create_dir(&bundle).unwrap();
        for (name, text) in migration.config.unwrap().texts() {
            std::fs::write(bundle.join(name), text).unwrap();
        }
        let compiled = compile(&bundle, &BundleOptions::default());
        assert_eq!(
            compiled.plan.map(|p| p.comparable()),
            lower(jail).plan.map(|p| p.comparable()),
            "{:?}",
            compiled.diagnostics
        );
    }
}
