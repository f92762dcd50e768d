//! Reading a jail.conf file with its `.include`d files, as jail(8)'s
//! `include_config()` and `parse_config()` do
//! (freebsd/freebsd-src usr.sbin/jail/config.c).

use std::io::{self, Read as _};

use crate::ast::{Config, ItemKind, Piece};
use crate::error::ParseError;
use crate::parser::parse;

/// jail(8)'s `MAX_INCLUDE_DEPTH`.
pub const MAX_INCLUDE_DEPTH: usize = 32;

/// The path that means standard input, as for `jail -f -`.
pub const STDIN: &str = "-";

/// One file read: the name it is reported under, its text and its tree.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path as jail(8) names it in messages (`STDIN` for standard input).
    pub name: String,
    pub text: String,
    pub config: Config,
}

/// A configuration with every `.include` expanded: `sources[0]` is the main
/// file, and each [`crate::Include`] lists the sources it brought in.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub sources: Vec<Source>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file could not be read (`jail: PATH: No such file or directory`).
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// A file did not parse.
    #[error("{}", .error.errors.first().map(|e| e.jail_message(.name)).unwrap_or_default())]
    Syntax {
        name: String,
        text: String,
        error: ParseError,
    },
    #[error("maximum include depth exceeded")]
    TooDeep,
}

impl LoadError {
    /// The lines jail(8) prints on standard error for this failure, without
    /// the `jail: ` prefix.
    pub fn jail_messages(&self) -> Vec<String> {
        match self {
            LoadError::Syntax { name, error, .. } => {
                error.errors.iter().map(|e| e.jail_message(name)).collect()
            }
            other => vec![other.to_string()],
        }
    }
}

/// Reads `path` (or standard input for `-`) and every file it includes.
pub fn load(path: &str) -> Result<Loaded, LoadError> {
    let is_stdin = path == STDIN;
    let text = if is_stdin { read_stdin()? } else { read(path)? };
    load_text(if is_stdin { "STDIN" } else { path }, text, is_stdin)
}

/// Loads a configuration whose main file's text is already in memory.
/// `name` is used for messages and as the base of relative includes unless
/// `is_stdin`, in which case they are relative to the working directory.
pub fn load_text(name: &str, text: String, is_stdin: bool) -> Result<Loaded, LoadError> {
    let mut loader = Loader {
        sources: Vec::new(),
        depth: 0,
    };
    loader.add(name.to_string(), text, is_stdin)?;
    Ok(Loaded {
        sources: loader.sources,
    })
}

struct Loader {
    sources: Vec<Source>,
    depth: usize,
}

impl Loader {
    /// Parses one file, expands its includes, and returns its index.
    fn add(&mut self, name: String, text: String, is_stdin: bool) -> Result<usize, LoadError> {
        let mut config = match parse(&text) {
            Ok(config) => config,
            Err(error) => return Err(LoadError::Syntax { name, text, error }),
        };
        let base = if is_stdin { None } else { Some(name.clone()) };
        let id = self.sources.len();
        self.sources.push(Source {
            name,
            text,
            config: Config::default(),
        });
        self.expand(&mut config.items, base.as_deref())?;
        self.sources[id].config = config;
        Ok(id)
    }

    fn expand(&mut self, items: &mut [crate::Item], base: Option<&str>) -> Result<(), LoadError> {
        for item in items {
            match &mut item.kind {
                ItemKind::Block(block) => self.expand(&mut block.items, base)?,
                ItemKind::Include(include) => {
                    for pattern in &include.patterns {
                        let pattern = literal(&pattern.pieces);
                        include.files.extend(self.include(&pattern, base)?);
                    }
                }
                ItemKind::Param(_) | ItemKind::Comment(_) => {}
            }
        }
        Ok(())
    }

    /// One `.include` pattern: a relative path is taken from the directory
    /// of the including file; a glob may match nothing; a plain path must
    /// exist.
    fn include(&mut self, pattern: &str, base: Option<&str>) -> Result<Vec<usize>, LoadError> {
        self.depth += 1;
        if self.depth > MAX_INCLUDE_DEPTH {
            return Err(LoadError::TooDeep);
        }
        let path = match base.and_then(|b| b.rfind('/').map(|i| &b[..=i])) {
            Some(dir) if !pattern.starts_with('/') => format!("{dir}{pattern}"),
            _ => pattern.to_string(),
        };
        let mut ids = Vec::new();
        if is_glob(&path) {
            for file in glob_sorted(&path) {
                let text = read(&file)?;
                ids.push(self.add(file, text, false)?);
            }
        } else {
            let text = read(&path)?;
            ids.push(self.add(path, text, false)?);
        }
        self.depth -= 1;
        Ok(ids)
    }
}

fn literal(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.as_str(),
            Piece::Var { .. } => "",
        })
        .collect()
}

/// glob(3) sets `GLOB_MAGCHAR` for `*`, `?` and a bracket expression.
fn is_glob(path: &str) -> bool {
    path.contains(['*', '?']) || path.find('[').is_some_and(|i| path[i..].contains(']'))
}

fn glob_sorted(pattern: &str) -> Vec<String> {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let Ok(paths) = glob::glob_with(pattern, options) else {
        return Vec::new();
    };
    let mut files: Vec<String> = paths
        .filter_map(Result::ok)
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

fn read(path: &str) -> Result<String, LoadError> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, &e))?;
    String::from_utf8(bytes).map_err(|e| LoadError::Io {
        path: path.to_string(),
        message: format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })
}

fn read_stdin() -> Result<String, LoadError> {
    let mut text = String::new();
    io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| io_error("STDIN", &e))?;
    Ok(text)
}

fn io_error(path: &str, e: &io::Error) -> LoadError {
    LoadError::Io {
        path: path.to_string(),
        message: strerror(e),
    }
}

/// The C library's text for an I/O error (what `err(3)` prints).
pub fn strerror(e: &io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(code) => text
            .strip_suffix(&format!(" (os error {code})"))
            .unwrap_or(&text)
            .to_string(),
        None => text,
    }
}
