//! Reading a jail.conf file with its `.include`d files, as jail(8)'s
//! `include_config()` and `parse_config()` do
//! (freebsd/freebsd-src usr.sbin/jail/config.c).

use std::io::{self, Read as _};

use crate::ast::{Config, ItemKind, Piece};
use crate::error::ParseError;
use crate::parallelism::Parallelism;
use crate::parser::parse_in;
use crate::text::escaped;

/// jail(8)'s `MAX_INCLUDE_DEPTH`.
pub const MAX_INCLUDE_DEPTH: usize = 32;

/// The path that means standard input, as for `jail -f -`.
pub const STDIN: &str = "-";

/// One file read: the name it is reported under, its text (bytes, as
/// jail(8) reads it) and its tree.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path as jail(8) names it in messages (`STDIN` for standard input).
    pub name: String,
    pub text: Vec<u8>,
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
        text: Vec<u8>,
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

/// Reads `path` (or standard input for `-`) and every file it includes,
/// each file on up to as many threads as `parallelism` allows.
pub fn load(path: &str, parallelism: Parallelism) -> Result<Loaded, LoadError> {
    let is_stdin = path == STDIN;
    let text = if is_stdin { read_stdin()? } else { read(path)? };
    let name = if is_stdin { "STDIN" } else { path };
    load_text(name, text, is_stdin, parallelism)
}

/// Loads a configuration whose main file's text is already in memory.
/// `name` is used for messages and as the base of relative includes unless
/// `is_stdin`, in which case they are relative to the working directory.
pub fn load_text(
    name: &str,
    text: Vec<u8>,
    is_stdin: bool,
    parallelism: Parallelism,
) -> Result<Loaded, LoadError> {
    let mut loader = Loader {
        sources: Vec::new(),
        depth: 0,
        parallelism,
    };
    loader.add(name.to_string(), text, is_stdin)?;
    Ok(Loaded {
        sources: loader.sources,
    })
}

struct Loader {
    sources: Vec<Source>,
    depth: usize,
    parallelism: Parallelism,
}

impl Loader {
    /// Parses one file, expands its includes, and returns its index.
    fn add(&mut self, name: String, text: Vec<u8>, is_stdin: bool) -> Result<usize, LoadError> {
        let mut config = match parse_in(&text, self.parallelism) {
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
                        let pattern = literal(&pattern.pieces)?;
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
            for file in glob_sorted(&path)? {
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

/// An include pattern's text. File names are read as UTF-8 here (the
/// `glob` crate matches `&str` patterns): one that is not is an error.
fn literal(pieces: &[Piece]) -> Result<String, LoadError> {
    let bytes: Vec<u8> = pieces
        .iter()
        .flat_map(|p| match p {
            Piece::Text(t) => t.as_bytes(),
            Piece::Var { .. } => &[],
        })
        .copied()
        .collect();
    String::from_utf8(bytes).map_err(|e| not_utf8(&escaped(e.as_bytes())))
}

fn not_utf8(path: &str) -> LoadError {
    LoadError::Io {
        path: path.to_string(),
        message: "an included file's name must be UTF-8".to_string(),
    }
}

/// glob(3) sets `GLOB_MAGCHAR` for `*`, `?` and a bracket expression.
fn is_glob(path: &str) -> bool {
    path.contains(['*', '?']) || path.find('[').is_some_and(|i| path[i..].contains(']'))
}

fn glob_sorted(pattern: &str) -> Result<Vec<String>, LoadError> {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let Ok(paths) = glob::glob_with(pattern, options) else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for path in paths.filter_map(Result::ok) {
        let path = path.into_os_string().into_string();
        files.push(path.map_err(|p| not_utf8(&p.to_string_lossy()))?);
    }
    files.sort();
    Ok(files)
}

fn read(path: &str) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|e| io_error(path, &e))
}

fn read_stdin() -> Result<Vec<u8>, LoadError> {
    let mut text = Vec::new();
    io::stdin()
        .read_to_end(&mut text)
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
