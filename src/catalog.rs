//! The crew as data: employees (`agents/*.toml`), skill descriptions (`skills/*.toml`) and
//! prompt templates (`prompts/*.j2`), read from the home and validated at load.
//!
//! Raw file structs are parsed, then resolved into [`Employee`] and [`SkillDoc`]; a file that
//! does not validate never gets past [`Catalog::load`], and its error names file, line and
//! field. This module knows nothing of how a skill runs: the registry in `skills` pairs each
//! description with its implementation and refuses a description without one.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{FileError, Result, line_of};
use crate::lang::Text;

/// What a skill's effect is, which tells the owner how much care it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectClass {
    Read,
    Asset,
    StoreWrite,
    Price,
    Spend,
    MoneyOut,
    CustomerFacing,
    ApprovalItem,
    Draft,
    Proposal,
}

/// A skill pattern: an exact id, `prefix.*`, or `*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SkillPattern(String);

impl SkillPattern {
    pub fn parse(text: &str) -> Option<SkillPattern> {
        let ok = text == "*"
            || text
                .strip_suffix(".*")
                .map(|p| !p.is_empty() && !p.contains('*'))
                .unwrap_or_else(|| text.contains('.') && !text.contains('*'));
        ok.then(|| SkillPattern(text.to_string()))
    }

    pub fn matches(&self, skill: &str) -> bool {
        match self.0.strip_suffix('*') {
            Some(prefix) => skill.starts_with(prefix),
            None => self.0 == skill,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Employee {
    pub id: String,
    pub name: Text,
    pub role: Text,
    pub skills: Vec<SkillPattern>,
    pub prompt: String,
}

impl Employee {
    pub fn can(&self, skill: &str) -> bool {
        self.skills.iter().any(|p| p.matches(skill))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Phrasings {
    #[serde(default)]
    pub zh: Vec<String>,
    #[serde(default)]
    pub en: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SkillDoc {
    pub id: String,
    pub employee: String,
    pub effect: EffectClass,
    pub name: Text,
    pub description: Text,
    pub phrasings: Phrasings,
    /// The file it came from, for errors that concern it later (e.g. no implementation).
    #[serde(skip)]
    pub file: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmployee {
    id: Spanned<String>,
    name: Text,
    role: Text,
    skills: Vec<Spanned<String>>,
    prompt: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSkill {
    id: Spanned<String>,
    employee: Spanned<String>,
    effect: EffectClass,
    name: Text,
    description: Text,
    #[serde(default)]
    phrasings: Phrasings,
}

/// Employees, skill descriptions and prompt templates, validated.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub employees: Vec<Employee>,
    pub skills: Vec<SkillDoc>,
    /// Template name (file stem) to template source.
    pub prompts: BTreeMap<String, String>,
}

impl Catalog {
    /// Loads `agents/`, `skills/` and `prompts/` under `root`.
    pub fn load(root: &Path) -> Result<Catalog> {
        let prompts = load_prompts(&root.join("prompts"))?;
        let mut employees = Vec::new();
        for (path, source) in read_dir_sorted(&root.join("agents"), "toml")? {
            employees.push(parse_employee(&path, &source, &prompts)?);
        }
        let mut skills = Vec::new();
        for (path, source) in read_dir_sorted(&root.join("skills"), "toml")? {
            skills.push(parse_skill(&path, &source, &employees)?);
        }
        if !employees.iter().any(|e| e.id == "planner") {
            return Err(FileError::new(root.join("agents"), None, "no planner: agents/planner.toml is missing").into());
        }
        Ok(Catalog { employees, skills, prompts })
    }

    pub fn employee(&self, id: &str) -> Option<&Employee> {
        self.employees.iter().find(|e| e.id == id)
    }

    pub fn skill(&self, id: &str) -> Option<&SkillDoc> {
        self.skills.iter().find(|s| s.id == id)
    }

    /// The employees that do work (everyone but the planner).
    pub fn workers(&self) -> impl Iterator<Item = &Employee> {
        self.employees.iter().filter(|e| e.id != "planner")
    }
}

fn read_dir_sorted(dir: &Path, ext: &str) -> Result<Vec<(PathBuf, String)>> {
    let entries = fs::read_dir(dir).map_err(|source| crate::Error::Io { path: dir.to_path_buf(), source })?;
    let mut paths: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == ext)).collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = fs::read_to_string(&p).map_err(|source| crate::Error::Io { path: p.clone(), source })?;
            Ok((p, text))
        })
        .collect()
}

fn load_prompts(dir: &Path) -> Result<BTreeMap<String, String>> {
    let mut prompts = BTreeMap::new();
    for (path, source) in read_dir_sorted(dir, "j2")? {
        // Compile once here so a broken template is reported at load, with its line.
        let mut env = minijinja::Environment::new();
        if let Err(err) = env.add_template("check", &source) {
            return Err(FileError::new(&path, err.line(), err.to_string()).into());
        }
        prompts.insert(file_stem(&path), source);
    }
    Ok(prompts)
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

fn at(path: &Path, source: &str, span: std::ops::Range<usize>, message: String) -> FileError {
    FileError::new(path, Some(line_of(source, span.start)), message)
}

fn parse_employee(path: &Path, source: &str, prompts: &BTreeMap<String, String>) -> Result<Employee> {
    let raw: RawEmployee = toml::from_str(source).map_err(|e| FileError::from_toml(path, source, &e))?;
    if raw.id.get_ref() != &file_stem(path) {
        let msg = format!("id `{}` must match the file name `{}.toml`", raw.id.get_ref(), file_stem(path));
        return Err(at(path, source, raw.id.span(), msg).into());
    }
    let mut skills = Vec::new();
    for pattern in &raw.skills {
        match SkillPattern::parse(pattern.get_ref()) {
            Some(p) => skills.push(p),
            None => {
                let msg = format!("skills: `{}` is not a skill id, `prefix.*` or `*`", pattern.get_ref());
                return Err(at(path, source, pattern.span(), msg).into());
            }
        }
    }
    if !prompts.contains_key(raw.prompt.get_ref()) {
        let msg = format!("prompt: no template prompts/{}.j2", raw.prompt.get_ref());
        return Err(at(path, source, raw.prompt.span(), msg).into());
    }
    Ok(Employee { id: raw.id.into_inner(), name: raw.name, role: raw.role, skills, prompt: raw.prompt.into_inner() })
}

fn parse_skill(path: &Path, source: &str, employees: &[Employee]) -> Result<SkillDoc> {
    let raw: RawSkill = toml::from_str(source).map_err(|e| FileError::from_toml(path, source, &e))?;
    let id = raw.id.get_ref();
    if id != &file_stem(path) {
        let msg = format!("id `{id}` must match the file name `{}.toml`", file_stem(path));
        return Err(at(path, source, raw.id.span(), msg).into());
    }
    match employees.iter().find(|e| &e.id == raw.employee.get_ref()) {
        None => {
            let msg = format!("employee: no employee `{}` in agents/", raw.employee.get_ref());
            return Err(at(path, source, raw.employee.span(), msg).into());
        }
        Some(e) if !e.can(id) => {
            let msg = format!("employee: `{}` has no skill pattern matching `{id}` in agents/{}.toml", e.id, e.id);
            return Err(at(path, source, raw.employee.span(), msg).into());
        }
        Some(_) => {}
    }
    Ok(SkillDoc {
        id: raw.id.into_inner(),
        employee: raw.employee.into_inner(),
        effect: raw.effect,
        name: raw.name,
        description: raw.description,
        phrasings: raw.phrasings,
        file: path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_prefixes_and_exact_ids() {
        let p = SkillPattern::parse("promo.*").unwrap();
        assert!(p.matches("promo.create_discount"));
        assert!(!p.matches("ops.set_price"));
        assert!(SkillPattern::parse("*").unwrap().matches("ops.set_price"));
        assert!(SkillPattern::parse("ops.set_price").unwrap().matches("ops.set_price"));
        assert!(SkillPattern::parse("pro*mo").is_none());
        assert!(SkillPattern::parse("nodot").is_none());
    }
}
