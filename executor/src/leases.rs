//! What jails on bridges hold: each container's epair unit and addresses,
//! taken when it is created and released when it is deleted (also by
//! `delete --force` after a crash), kept under the runtime root in
//! `.network/ID.json`, one file per container written atomically, and
//! decided under the directory's lock, so that concurrent creates never
//! get the same unit or address.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use runj_translator::bridge::{Addressing, Bridge, EPAIR_MAX_UNIT};

use crate::error::{Context, Error, Result};
use crate::state::{read_own, write_atomically};

/// The leases under one runtime root.
#[derive(Debug, Clone)]
pub struct Leases {
    dir: PathBuf,
}

impl Leases {
    /// The leases of the containers under `root`.
    pub fn under(root: &Path) -> Self {
        Leases {
            dir: root.join(".network"),
        }
    }

    fn file(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Takes for container `id` the unit and the addresses `wanted` leaves
    /// open, and the fixed ones it names, unless another container holds
    /// them; a unit `in_use` says the system has (an epair some other tool
    /// made) is passed over. Returns the bridge with all of them.
    pub fn take(
        &self,
        id: &str,
        wanted: &Bridge,
        in_use: impl FnMut(u16) -> bool,
    ) -> Result<Bridge> {
        let _lock = crate::journal::lock(&self.dir)?;
        let bridge = allocate(wanted, &self.held(Some(id))?, in_use).map_err(Error::Plan)?;
        let json = serde_json::to_vec_pretty(&bridge).expect("a bridge serializes");
        write_atomically(&self.file(id), &json)?;
        Ok(bridge)
    }

    /// What [`Leases::take`] would give now, taking nothing.
    pub fn preview(&self, wanted: &Bridge, in_use: impl FnMut(u16) -> bool) -> Result<Bridge> {
        allocate(wanted, &self.held(None)?, in_use).map_err(Error::Plan)
    }

    /// Releases what container `id` holds, if anything.
    pub fn release(&self, id: &str) -> Result<()> {
        let _lock = crate::journal::lock(&self.dir)?;
        let file = self.file(id);
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::os(format!("remove {}", file.display()), e))
            }
            _ => Ok(()),
        }
    }

    /// The containers holding an epair on the bridge `name`.
    pub fn users(&self, name: &str) -> Result<Vec<String>> {
        Ok(self
            .held(None)?
            .into_iter()
            .filter(|(_, b)| b.name == name)
            .map(|(id, _)| id)
            .collect())
    }

    /// Every lease but `except`'s, by container id.
    fn held(&self, except: Option<&str>) -> Result<Vec<(String, Bridge)>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::os(format!("read {}", self.dir.display()), e)),
        };
        let mut held = Vec::new();
        for entry in entries.filter_map(|e| e.ok()) {
            let path = entry.path();
            let Some(id) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            if Some(id) == except || id.starts_with('.') {
                continue;
            }
            let bytes = read_own(&path).context(|| format!("read {}", path.display()))?;
            let bridge = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Plan(format!("{}: {e}", path.display())))?;
            held.push((id.to_string(), bridge));
        }
        held.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(held)
    }
}

/// `wanted` with its unit and addresses decided against what `taken`
/// holds: the lowest unit neither held nor `in_use`, each family's first
/// free candidate; a fixed one another container holds, or a bridge
/// another container uses with other addressing, is refused.
pub fn allocate(
    wanted: &Bridge,
    taken: &[(String, Bridge)],
    mut in_use: impl FnMut(u16) -> bool,
) -> Result<Bridge, String> {
    let mut bridge = wanted.clone();
    let units: Vec<u16> = taken.iter().filter_map(|(_, b)| b.epair).collect();
    bridge.epair = Some(match wanted.epair {
        Some(unit) if units.contains(&unit) => {
            return Err(format!("epair{unit} is taken by another container"));
        }
        Some(unit) => unit,
        None => (0..=EPAIR_MAX_UNIT)
            .find(|u| !units.contains(u) && !in_use(*u))
            .ok_or("every epair unit is taken")?,
    });
    let same: Vec<&(String, Bridge)> = taken
        .iter()
        .filter(|(_, b)| b.name == wanted.name)
        .collect();
    let name = &wanted.name;
    for (mine, theirs) in [
        (&mut bridge.ipv4, family(&same, |b| &b.ipv4)),
        (&mut bridge.ipv6, family(&same, |b| &b.ipv6)),
    ] {
        let Some(mine) = mine else { continue };
        if let Some((id, other)) = theirs
            .iter()
            .find(|(_, o)| (o.subnet, o.gateway) != (mine.subnet, mine.gateway))
        {
            return Err(format!(
                "bridge {name} is {} with gateway {} for container \"{id}\", not {} with gateway {}",
                other.subnet, other.gateway, mine.subnet, mine.gateway
            ));
        }
        let held: Vec<IpAddr> = theirs.iter().filter_map(|(_, o)| o.address).collect();
        mine.address = Some(match mine.address {
            Some(a) => match theirs.iter().find(|(_, o)| o.address == Some(a)) {
                Some((id, _)) => {
                    return Err(format!(
                        "address {a} on bridge {name} is taken by container \"{id}\""
                    ));
                }
                None => a,
            },
            None => mine
                .candidates()
                .find(|a| !held.contains(a))
                .ok_or_else(|| {
                    format!(
                        "subnet {} of bridge {name} has no free address",
                        mine.subnet
                    )
                })?,
        });
    }
    Ok(bridge)
}

/// One family's addressing of each container on the bridge.
fn family<'a>(
    same: &[&'a (String, Bridge)],
    of: impl Fn(&'a Bridge) -> &'a Option<Addressing>,
) -> Vec<(&'a str, &'a Addressing)> {
    same.iter()
        .filter_map(|(id, b)| of(b).as_ref().map(|a| (id.as_str(), a)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bridge(name: &str, subnet: &str, gateway: &str, address: Option<&str>) -> Bridge {
        Bridge {
            name: name.into(),
            epair: None,
            ipv4: Some(Addressing {
                subnet: subnet.parse().unwrap(),
                gateway: gateway.parse().unwrap(),
                address: address.map(|a| a.parse().unwrap()),
            }),
            ipv6: None,
        }
    }

    /// No epair but runj's on the system.
    fn none(_: u16) -> bool {
        false
    }

    fn address(b: &Bridge) -> String {
        b.ipv4.as_ref().unwrap().address.unwrap().to_string()
    }

    #[test]
    fn the_next_free_unit_and_address() {
        let wanted = bridge("runj0", "10.88.0.0/16", "10.88.0.1", None);
        let mut taken = Vec::new();
        for (n, expected) in ["10.88.0.2", "10.88.0.3", "10.88.0.4"].iter().enumerate() {
            let got = allocate(&wanted, &taken, none).unwrap();
            assert_eq!(got.epair, Some(n as u16));
            assert_eq!(address(&got), *expected);
            taken.push((format!("c{n}"), got));
        }
        let others = allocate(&wanted, &taken, |u| u < 5).unwrap();
        assert_eq!(
            others.epair,
            Some(5),
            "units another tool has are passed over"
        );
        taken.remove(0);
        let again = allocate(&wanted, &taken, none).unwrap();
        assert_eq!(
            (again.epair, address(&again)),
            (Some(0), "10.88.0.2".into())
        );
        let other = allocate(
            &bridge("runj1", "10.99.0.0/24", "10.99.0.1", None),
            &taken,
            none,
        )
        .unwrap();
        assert_eq!(
            address(&other),
            "10.99.0.2",
            "another bridge has its own addresses"
        );
    }

    #[test]
    fn what_is_held_is_refused() {
        let first = allocate(
            &bridge("runj0", "10.88.0.0/16", "10.88.0.1", Some("10.88.0.5")),
            &[],
            none,
        )
        .unwrap();
        let taken = vec![("web".to_string(), first)];
        for (wanted, why) in [
            (
                bridge("runj0", "10.88.0.0/16", "10.88.0.1", Some("10.88.0.5")),
                "address 10.88.0.5 on bridge runj0 is taken by container \"web\"",
            ),
            (
                bridge("runj0", "10.99.0.0/16", "10.99.0.1", None),
                "bridge runj0 is 10.88.0.0/16 with gateway 10.88.0.1 for container \"web\", not 10.99.0.0/16 with gateway 10.99.0.1",
            ),
            (
                Bridge {
                    epair: Some(0),
                    ..bridge("runj1", "10.99.0.0/16", "10.99.0.1", None)
                },
                "epair0 is taken by another container",
            ),
        ] {
            assert_eq!(allocate(&wanted, &taken, none).unwrap_err(), why);
        }
        let full = bridge("runj2", "10.0.0.0/30", "10.0.0.1", None);
        let one = allocate(&full, &[], none).unwrap();
        let err = allocate(&full, &[("a".into(), one)], none).unwrap_err();
        assert_eq!(
            err,
            "subnet 10.0.0.0/30 of bridge runj2 has no free address"
        );
    }

    #[test]
    fn leases_are_kept_and_released() {
        let root = tempfile::tempdir().unwrap();
        let leases = Leases::under(root.path());
        let wanted = bridge("runj0", "10.88.0.0/16", "10.88.0.1", None);
        let a = leases.take("a", &wanted, none).unwrap();
        let b = leases.take("b", &wanted, none).unwrap();
        assert_ne!(address(&a), address(&b));
        assert_eq!(leases.users("runj0").unwrap(), ["a", "b"]);
        assert_eq!(
            address(&leases.preview(&wanted, none).unwrap()),
            "10.88.0.4"
        );
        leases.release("a").unwrap();
        leases.release("a").unwrap();
        assert_eq!(
            address(&leases.take("c", &wanted, none).unwrap()),
            address(&a)
        );
        let again = leases.take("b", &wanted, none).unwrap();
        assert_eq!(again, b, "a container's own lease is not held against it");
    }
}
