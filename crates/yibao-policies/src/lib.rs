//! The policy registry: every version of every region's schemes, compiled, and the choice of the
//! version in force on a date.
//!
//! The bundled tree `policies/<region>/<scheme>/<effective-date>.policy` is embedded in the
//! binary at build time, so the CLI, the server and the wasm module carry the same policies.
//! Problems are reported grouped by file; a broken file does not hide the others.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[cfg(feature = "bundled")]
use include_dir::{include_dir, Dir};
use sha2::{Digest, Sha256};
use yibao_engine::{Date, Policy};
use yibao_lang::ast::{Item, PolicyFile};
use yibao_lang::{compile_with, Diagnostic, Overrides, SourceMap, Span};

#[cfg(feature = "bundled")]
static BUNDLED: Dir = include_dir!("$CARGO_MANIFEST_DIR/../../policies");

/// The bundled policy files as `(path, text)`, path relative to `policies/`.
#[cfg(feature = "bundled")]
pub fn bundled_files() -> Vec<(String, String)> {
    let mut out = vec![];
    collect(&BUNDLED, &mut out);
    out.sort();
    out
}

#[cfg(feature = "bundled")]
fn collect(dir: &Dir, out: &mut Vec<(String, String)>) {
    for f in dir.files() {
        if f.path().extension().is_some_and(|e| e == "policy") {
            if let Some(text) = f.contents_utf8() {
                out.push((
                    f.path().to_string_lossy().replace('\\', "/"),
                    text.to_string(),
                ));
            }
        }
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}

/// One version of one policy.
#[derive(Debug, Clone)]
pub struct Version {
    /// `region.scheme`.
    pub id: String,
    /// The effective date.
    pub effective: Date,
    /// The file it was read from (a name in the registry's source map).
    pub file: String,
    /// The tree after `extends` was applied, kept to recompile with overrides.
    merged: Option<PolicyFile>,
    /// The SHA-256 of the version's text.
    pub content_hash: String,
    /// The compiled policy, when the version has no error.
    pub policy: Option<Arc<Policy>>,
}

/// All versions read, their diagnostics, and the sources to render them with.
#[derive(Debug, Default)]
pub struct Registry {
    /// Every file read, for rendering diagnostics.
    pub map: SourceMap,
    versions: Vec<Version>,
    /// Diagnostics by file name, in the order the files were given.
    pub diagnostics: Vec<(String, Vec<Diagnostic>)>,
}

/// No version of a policy covers the date asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectError {
    UnknownPolicy {
        id: String,
        known: Vec<String>,
    },
    NoVersion {
        id: String,
        date: Date,
        versions: Vec<Date>,
    },
    Broken {
        id: String,
        effective: Date,
        file: String,
    },
}

impl std::fmt::Display for SelectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SelectError::UnknownPolicy { id, known } => {
                write!(f, "no policy `{id}`; known policies: {}", known.join(", "))
            }
            SelectError::NoVersion { id, date, versions } => write!(
                f,
                "no version of `{id}` is in force on {date}; versions take effect on: {}",
                versions
                    .iter()
                    .map(Date::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            SelectError::Broken {
                id,
                effective,
                file,
            } => {
                write!(
                    f,
                    "version {effective} of `{id}` has errors ({file}); run `yibao check` on it"
                )
            }
        }
    }
}

impl std::error::Error for SelectError {}

impl Registry {
    /// The policies bundled in this build (feature `bundled`, on by default).
    #[cfg(feature = "bundled")]
    pub fn bundled() -> Registry {
        Registry::from_files(bundled_files())
    }

    /// Reads every `*.policy` file under `dir` (recursively; names relative to `dir`, with `/`)
    /// and compiles them as [`Registry::from_files`] does. Only reading the folder can fail;
    /// policy errors are in [`Registry::diagnostics`].
    pub fn from_dir(dir: &std::path::Path) -> std::io::Result<Registry> {
        fn walk(
            root: &std::path::Path,
            dir: &std::path::Path,
            out: &mut Vec<(String, String)>,
        ) -> std::io::Result<()> {
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.is_dir() {
                    walk(root, &path, out)?;
                } else if path.extension().is_some_and(|e| e == "policy") {
                    let name = path.strip_prefix(root).unwrap_or(&path);
                    let name = name.to_string_lossy().replace('\\', "/");
                    out.push((name, std::fs::read_to_string(&path)?));
                }
            }
            Ok(())
        }
        let mut files = vec![];
        walk(dir, dir, &mut files)?;
        files.sort();
        Ok(Registry::from_files(files))
    }

    /// Reads, resolves and compiles the given `(name, text)` files.
    pub fn from_files(files: Vec<(String, String)>) -> Registry {
        let mut reg = Registry::default();
        let mut asts: Vec<(u32, String, Option<PolicyFile>, String)> = vec![];
        for (name, text) in files {
            let id = reg.map.add(name.clone(), text.as_str());
            let ast = match yibao_lang::parse::parse(id, &text) {
                Ok(a) => Some(a),
                Err(d) => {
                    reg.diagnostics.push((name.clone(), d));
                    None
                }
            };
            asts.push((id, name, ast, text));
        }
        // Index versions by (policy id, effective date).
        let mut index: BTreeMap<(String, Date), usize> = BTreeMap::new();
        let mut extra: HashMap<String, Vec<Diagnostic>> = HashMap::new();
        for (i, (_, name, ast, _)) in asts.iter().enumerate() {
            let Some(ast) = ast else { continue };
            let Some((eff, eff_span)) = effective_of(ast) else {
                continue;
            };
            let key = (ast.header.id.node.clone(), eff);
            if let Some(prev) = index.get(&key) {
                let prev_name = &asts[*prev].1;
                extra.entry(name.clone()).or_default().push(
                    Diagnostic::error(
                        "yibao::overlapping-versions",
                        format!(
                            "`{}` already has a version taking effect on {eff} (in {prev_name})",
                            key.0
                        ),
                        eff_span,
                    )
                    .with_help("each version of a policy needs its own effective date"),
                );
                continue;
            }
            check_path(name, ast, eff, eff_span, &mut extra);
            index.insert(key, i);
        }
        // Resolve extends (with cycle detection) and compile.
        let mut merged: HashMap<usize, Result<(PolicyFile, String), ()>> = HashMap::new();
        let keys: Vec<usize> = index.values().copied().collect();
        for i in keys {
            resolve(i, &asts, &index, &mut merged, &mut extra, &mut vec![]);
        }
        for ((id, eff), i) in &index {
            let name = asts[*i].1.clone();
            let (m, hash) = match merged.get(i) {
                Some(Ok((m, h))) => (Some(m.clone()), h.clone()),
                _ => (None, String::new()),
            };
            let mut policy = None;
            if let Some(m) = &m {
                let c = compile_with(m, &reg.map, hash.clone(), &Overrides::default());
                if !c.diagnostics.is_empty() {
                    extra.entry(name.clone()).or_default().extend(c.diagnostics);
                }
                policy = c.policy.map(Arc::new);
            }
            reg.versions.push(Version {
                id: id.clone(),
                effective: *eff,
                file: name,
                merged: m,
                content_hash: hash,
                policy,
            });
        }
        // Diagnostics grouped by the file they are in.
        for (file, diags) in extra {
            let mut by_file: HashMap<String, Vec<Diagnostic>> = HashMap::new();
            for d in diags {
                let f = d
                    .span
                    .and_then(|s| reg.map.get(s.file))
                    .map(|f| f.name.clone())
                    .unwrap_or_else(|| file.clone());
                by_file.entry(f).or_default().push(d);
            }
            for (f, ds) in by_file {
                match reg.diagnostics.iter_mut().find(|(n, _)| *n == f) {
                    Some((_, v)) => v.extend(ds),
                    None => reg.diagnostics.push((f, ds)),
                }
            }
        }
        for (_, ds) in reg.diagnostics.iter_mut() {
            ds.sort_by_key(|d| (d.span.map(|s| (s.file, s.start)), d.severity));
            ds.dedup();
        }
        reg.diagnostics.sort_by(|a, b| a.0.cmp(&b.0));
        reg
    }

    /// Whether any file has an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|(_, ds)| ds.iter().any(Diagnostic::is_error))
    }

    /// Every version, ordered by policy id and date.
    pub fn versions(&self) -> &[Version] {
        &self.versions
    }

    /// Policy ids, sorted.
    pub fn policy_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.versions.iter().map(|v| v.id.clone()).collect();
        ids.dedup();
        ids
    }

    /// The version of `id` in force on `date`: the latest taking effect on or before it.
    pub fn select(&self, id: &str, date: Date) -> Result<&Version, SelectError> {
        let versions: Vec<&Version> = self.versions.iter().filter(|v| v.id == id).collect();
        if versions.is_empty() {
            return Err(SelectError::UnknownPolicy {
                id: id.to_string(),
                known: self.policy_ids(),
            });
        }
        let pick = select_version(
            &versions.iter().map(|v| v.effective).collect::<Vec<_>>(),
            date,
        );
        match pick.and_then(|i| versions.get(i)) {
            Some(v) if v.policy.is_some() => Ok(v),
            Some(v) => Err(SelectError::Broken {
                id: id.to_string(),
                effective: v.effective,
                file: v.file.clone(),
            }),
            None => Err(SelectError::NoVersion {
                id: id.to_string(),
                date,
                versions: versions.iter().map(|v| v.effective).collect(),
            }),
        }
    }

    /// The compiled policy of `id` in force on `date`.
    pub fn policy(&self, id: &str, date: Date) -> Result<Arc<Policy>, SelectError> {
        let v = self.select(id, date)?;
        v.policy.clone().ok_or_else(|| SelectError::Broken {
            id: id.to_string(),
            effective: v.effective,
            file: v.file.clone(),
        })
    }

    /// A version exactly, by its effective date.
    pub fn version(&self, id: &str, effective: Date) -> Option<&Version> {
        self.versions
            .iter()
            .find(|v| v.id == id && v.effective == effective)
    }

    /// Recompiles a version with parameter overrides.
    pub fn with_overrides(
        &self,
        v: &Version,
        overrides: &Overrides,
    ) -> Result<Arc<Policy>, Vec<Diagnostic>> {
        if overrides.values.is_empty() {
            if let Some(p) = &v.policy {
                return Ok(p.clone());
            }
        }
        let Some(m) = &v.merged else {
            return Err(vec![Diagnostic::error(
                "yibao::broken",
                format!("version {} of `{}` has errors", v.effective, v.id),
                Span::new(0, 0, 0),
            )]);
        };
        let c = compile_with(m, &self.map, v.content_hash.clone(), overrides);
        match c.policy {
            Some(p) => Ok(Arc::new(p)),
            None => {
                // An unknown override is about the request, not a clause: cite the first line of
                // this version's own file (the compiler has no span for it).
                let own = self
                    .map
                    .files()
                    .iter()
                    .enumerate()
                    .find(|(_, f)| f.name == v.file)
                    .and_then(|(i, f)| {
                        let end = f.text.find('\n').unwrap_or(f.text.len());
                        Some(Span::new(u32::try_from(i).ok()?, 0, end))
                    });
                Err(c
                    .diagnostics
                    .into_iter()
                    .filter(Diagnostic::is_error)
                    .map(|mut d| {
                        if d.code == "yibao::unknown-override" {
                            d.span = own.or(d.span);
                        }
                        d
                    })
                    .collect())
            }
        }
    }

    /// The source text of a version's own file.
    pub fn source_text(&self, v: &Version) -> Option<&str> {
        self.map
            .files()
            .iter()
            .find(|f| f.name == v.file)
            .map(|f| &*f.text)
    }
}

/// Index of the version in force on `date` among `effective` dates (any order): the latest on
/// or before `date`.
pub fn select_version(effective: &[Date], date: Date) -> Option<usize> {
    effective
        .iter()
        .enumerate()
        .filter(|(_, e)| **e <= date)
        .max_by_key(|(_, e)| **e)
        .map(|(i, _)| i)
}

fn effective_of(ast: &PolicyFile) -> Option<(Date, Span)> {
    ast.items.iter().find_map(|i| match &i.node {
        Item::Effective(d, _) => Some((d.node, d.span)),
        _ => None,
    })
}

/// `policies/<region>/<scheme>/<date>.policy` should agree with what the file says.
fn check_path(
    name: &str,
    ast: &PolicyFile,
    eff: Date,
    eff_span: Span,
    extra: &mut HashMap<String, Vec<Diagnostic>>,
) {
    let parts: Vec<&str> = name
        .trim_end_matches(".policy")
        .rsplit('/')
        .take(3)
        .collect();
    if let [date, scheme, region] = parts.as_slice() {
        let id = format!("{region}.{scheme}");
        if id != ast.header.id.node && !region.is_empty() && date.parse::<Date>().is_ok() {
            extra
                .entry(name.to_string())
                .or_default()
                .push(Diagnostic::warning(
                    "yibao::path",
                    format!(
                        "file is under `{region}/{scheme}/` but declares `{}`",
                        ast.header.id.node
                    ),
                    ast.header.id.span,
                ));
        }
        if let Ok(d) = date.parse::<Date>() {
            if d != eff {
                extra
                    .entry(name.to_string())
                    .or_default()
                    .push(Diagnostic::warning(
                        "yibao::path",
                        format!("file is named for {d} but takes effect on {eff}"),
                        eff_span,
                    ));
            }
        }
    }
}

type Merged = HashMap<usize, Result<(PolicyFile, String), ()>>;

fn resolve(
    i: usize,
    asts: &[(u32, String, Option<PolicyFile>, String)],
    index: &BTreeMap<(String, Date), usize>,
    merged: &mut Merged,
    extra: &mut HashMap<String, Vec<Diagnostic>>,
    stack: &mut Vec<usize>,
) -> Option<(PolicyFile, String)> {
    if let Some(r) = merged.get(&i) {
        return r.as_ref().ok().cloned();
    }
    let (_, name, Some(ast), _) = &asts[i] else {
        return None;
    };
    let own_text_hash = Sha256::new();
    let ext = ast.items.iter().find_map(|it| match &it.node {
        Item::Extends { id, date } => Some((id.clone(), date.clone(), it.span)),
        _ => None,
    });
    let result = match ext {
        None => Ok((ast.clone(), hash_hex(own_text_hash, ast_text(asts, i)))),
        Some((pid, pdate, span)) => {
            if stack.contains(&i) {
                extra
                    .entry(name.clone())
                    .or_default()
                    .push(Diagnostic::error(
                        "yibao::extends-cycle",
                        "versions extend each other in a cycle",
                        span,
                    ));
                Err(())
            } else {
                match index.get(&(pid.node.clone(), pdate.node)) {
                    None => {
                        let versions: Vec<String> = index
                            .keys()
                            .filter(|(id, _)| *id == pid.node)
                            .map(|(_, d)| d.to_string())
                            .collect();
                        let help = if versions.is_empty() {
                            format!("no version of `{}` was found", pid.node)
                        } else {
                            format!("versions of `{}`: {}", pid.node, versions.join(", "))
                        };
                        extra.entry(name.clone()).or_default().push(
                            Diagnostic::error(
                                "yibao::extends-missing",
                                format!(
                                    "cannot extend `{}@{}`: no such version",
                                    pid.node, pdate.node
                                ),
                                span,
                            )
                            .with_help(help),
                        );
                        Err(())
                    }
                    Some(&p) => {
                        stack.push(i);
                        let parent = resolve(p, asts, index, merged, extra, stack);
                        stack.pop();
                        match parent {
                            None => Err(()),
                            Some((pf, phash)) => match yibao_lang::merge::merge(&pf, ast) {
                                Ok(m) => {
                                    let mut h = own_text_hash;
                                    h.update(phash.as_bytes());
                                    h.update([0]);
                                    Ok((m, hash_hex(h, ast_text(asts, i))))
                                }
                                Err(ds) => {
                                    extra.entry(name.clone()).or_default().extend(ds);
                                    Err(())
                                }
                            },
                        }
                    }
                }
            }
        }
    };
    merged.insert(i, result.clone());
    result.ok()
}

fn ast_text(asts: &[(u32, String, Option<PolicyFile>, String)], i: usize) -> &str {
    asts.get(i).map(|a| a.1.as_str()).unwrap_or("")
}

fn hash_hex(mut h: Sha256, extra: &str) -> String {
    h.update(extra.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
