//! Runtime options: `ctr run --runtime-config-path FILE` (and any containerd
//! client setting `runtimeoptions.v1.Options.config_path`) names a
//! `runj.ext.json`, which the shim copies into the bundle, where `runj`
//! reads it, as runj's Go shim does.
//!
//! containerd sends the options as a `google.protobuf.Any` with the bare type
//! URL `runtimeoptions.v1.Options`. The message
//! (`api/types/runtimeoptions/v1/api.proto`: `type_url = 1`, `config_path = 2`,
//! `config_body = 3`) is not among the protos `containerd-shim-protos`
//! vendors, so it is decoded here field by field.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use containerd_shim::protos::protobuf::CodedInputStream;
use containerd_shim::protos::protobuf::rt::WireType;
use containerd_shim::protos::protobuf::well_known_types::any::Any;

use crate::error::{Error, IoContext, Result};

/// The options' message name, the last segment of the `Any` type URL.
pub const OPTIONS_TYPE: &str = "runtimeoptions.v1.Options";
/// The only file name runj accepts for its bundle extension.
pub const EXT_FILE: &str = "runj.ext.json";

/// `runtimeoptions.v1.Options`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RuntimeOptions {
    /// The type of what `config_path` holds, for clients that say; unused.
    pub type_url: String,
    /// A configuration file for the runtime: for runj, a `runj.ext.json`.
    pub config_path: String,
    /// A configuration inline (CRI's runtime `options` table).
    pub config_body: Vec<u8>,
}

impl RuntimeOptions {
    /// Decodes the options containerd attached to a request; an empty `Any`
    /// means none.
    pub fn decode(any: &Any) -> Result<Self> {
        let mut options = RuntimeOptions::default();
        if any.type_url.is_empty() && any.value.is_empty() {
            return Ok(options);
        }
        let name = any.type_url.rsplit('/').next().unwrap_or_default();
        if name != OPTIONS_TYPE {
            return Err(Error::InvalidArgument(format!(
                "runtime options of type {:?} are not supported: runj takes {OPTIONS_TYPE} \
                 (ctr run --runtime-config-path {EXT_FILE})",
                any.type_url
            )));
        }
        let malformed = |e| Error::InvalidArgument(format!("malformed {OPTIONS_TYPE}: {e}"));
        let mut input = CodedInputStream::from_bytes(&any.value);
        while let Some(tag) = input.read_raw_tag_or_eof().map_err(malformed)? {
            let (field, wire_type) = (tag >> 3, tag & 7);
            let length_delimited = wire_type == WireType::LengthDelimited as u32;
            match field {
                1 if length_delimited => {
                    options.type_url = input.read_string().map_err(malformed)?
                }
                2 if length_delimited => {
                    options.config_path = input.read_string().map_err(malformed)?
                }
                3 if length_delimited => {
                    options.config_body = input.read_bytes().map_err(malformed)?
                }
                _ => {
                    let wire_type = WireType::new(wire_type).ok_or_else(|| {
                        Error::InvalidArgument(format!(
                            "malformed {OPTIONS_TYPE}: wire type {wire_type} of field {field}"
                        ))
                    })?;
                    input.skip_field(wire_type).map_err(malformed)?;
                }
            }
        }
        Ok(options)
    }

    /// Copies the configuration file into `bundle` as [`EXT_FILE`] (mode
    /// 0600); `false` when there is none.
    pub fn install(&self, bundle: &Path) -> Result<bool> {
        if !self.config_body.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "inline runtime configuration (config_body) is not supported: \
                 name a {EXT_FILE} with config_path"
            )));
        }
        if self.config_path.is_empty() {
            return Ok(false);
        }
        let source = Path::new(&self.config_path);
        if !source.is_absolute() {
            return Err(Error::InvalidArgument(format!(
                "runtime config path {} is not absolute",
                source.display()
            )));
        }
        if source.file_name().is_none_or(|name| name != EXT_FILE) {
            return Err(Error::InvalidArgument(format!(
                "bad file name {}: only files named {EXT_FILE} are supported \
                 for --runtime-config-path",
                source.display()
            )));
        }
        let contents = std::fs::read(source)
            .context(|| format!("read runtime config {}", source.display()))?;
        let target = bundle.join(EXT_FILE);
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&target)
            .and_then(|mut file| file.write_all(&contents))
            .context(|| format!("write {}", target.display()))?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use containerd_shim::protos::protobuf::CodedOutputStream;

    use super::*;

    fn options_any(type_url: &str, fields: &[(u32, &[u8])]) -> Any {
        let mut value = Vec::new();
        {
            let mut output = CodedOutputStream::vec(&mut value);
            for (field, bytes) in fields {
                output.write_bytes(*field, bytes).unwrap();
            }
            output.write_uint32(9, 7).unwrap();
            output.flush().unwrap();
        }
        Any {
            type_url: type_url.into(),
            value,
            ..Default::default()
        }
    }

    #[test]
    fn decodes_what_ctr_sends() {
        let any = options_any(OPTIONS_TYPE, &[(2, b"/etc/runj/runj.ext.json")]);
        let options = RuntimeOptions::decode(&any).unwrap();
        assert_eq!(options.config_path, "/etc/runj/runj.ext.json");
        assert!(options.config_body.is_empty());
        // The prefixed form of the type URL is the same message.
        let any = options_any(
            "type.googleapis.com/runtimeoptions.v1.Options",
            &[(1, b"json"), (3, b"{}")],
        );
        let options = RuntimeOptions::decode(&any).unwrap();
        assert_eq!(options.type_url, "json");
        assert_eq!(options.config_body, b"{}");
    }

    #[test]
    fn no_options_and_foreign_options() {
        assert_eq!(
            RuntimeOptions::decode(&Any::default()).unwrap(),
            RuntimeOptions::default()
        );
        let error = RuntimeOptions::decode(&options_any("containerd.runc.v1.Options", &[]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("not supported"), "{error}");
        let truncated = Any {
            type_url: OPTIONS_TYPE.into(),
            value: vec![0x12, 0x05, b'/'],
            ..Default::default()
        };
        assert!(matches!(
            RuntimeOptions::decode(&truncated),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn installs_runj_ext_json_into_the_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join(EXT_FILE);
        std::fs::write(&source, r#"{"network":{"ipv4":{"mode":"inherit"}}}"#).unwrap();
        let bundle = dir.path().join("bundle");
        std::fs::create_dir(&bundle).unwrap();
        let options = RuntimeOptions {
            config_path: source.to_str().unwrap().into(),
            ..Default::default()
        };
        assert!(options.install(&bundle).unwrap());
        let installed = bundle.join(EXT_FILE);
        assert_eq!(
            std::fs::read(&installed).unwrap(),
            std::fs::read(&source).unwrap()
        );
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&installed).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(!RuntimeOptions::default().install(&bundle).unwrap());
    }

    #[test]
    fn refuses_other_file_names_relative_paths_and_inline_bodies() {
        let bundle = tempfile::tempdir().unwrap();
        let install = |options: RuntimeOptions| options.install(bundle.path()).unwrap_err();
        let error = install(RuntimeOptions {
            config_path: "/etc/runj/ext.json".into(),
            ..Default::default()
        });
        assert_eq!(
            error.to_string(),
            "bad file name /etc/runj/ext.json: only files named runj.ext.json are \
             supported for --runtime-config-path"
        );
        assert!(matches!(
            install(RuntimeOptions {
                config_path: "runj.ext.json".into(),
                ..Default::default()
            }),
            Error::InvalidArgument(_)
        ));
        assert!(matches!(
            install(RuntimeOptions {
                config_body: b"x".to_vec(),
                ..Default::default()
            }),
            Error::InvalidArgument(_)
        ));
        let missing = install(RuntimeOptions {
            config_path: "/nonexistent/runj.ext.json".into(),
            ..Default::default()
        });
        assert!(matches!(missing, Error::Io { .. }), "{missing}");
    }
}
