//! The casbin policy (RBAC with domains) of `policies/`: who may do what.
//!
//! Lines are validated before they reach casbin: four fields for `p`, three for
//! `g`, two for `g2`, no empty field, and no pattern characters (the model
//! matches exactly; casbin's regexMatch panics on a bad pattern and keyMatch
//! slices by byte index, see SECURITY-NOTES.md).

use casbin::{CachedApi, CachedEnforcer, CoreApi, DefaultModel, MemoryAdapter, MgmtApi};

/// One policy line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `p, subject, domain, object, action`
    Allow { sub: String, dom: String, obj: String, act: String },
    /// `g, member, role, domain`
    Member { member: String, role: String, dom: String },
    /// `g2, action, action group`
    Action { act: String, group: String },
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("policy model: {0}")]
    Model(String),
    #[error("casbin: {0}")]
    Casbin(String),
}

/// Parses policy CSV text (comments with `#`, blank lines ignored).
pub fn parse(text: &str) -> Result<Vec<Line>, PolicyError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let bad = |message: &str| PolicyError::Line { line: i + 1, message: message.to_string() };
        if f.iter().any(|x| x.is_empty()) {
            return Err(bad("empty field"));
        }
        if !f.iter().all(|x| valid_field(x)) {
            return Err(bad("only names, codes and `*` are allowed (no patterns)"));
        }
        out.push(match (f[0], f.len()) {
            ("p", 5) => Line::Allow { sub: f[1].into(), dom: f[2].into(), obj: f[3].into(), act: f[4].into() },
            ("g", 4) => Line::Member { member: f[1].into(), role: f[2].into(), dom: f[3].into() },
            ("g2", 3) => Line::Action { act: f[1].into(), group: f[2].into() },
            ("p", _) => return Err(bad("a p line has subject, domain, object, action")),
            ("g", _) => return Err(bad("a g line has member, role, domain")),
            ("g2", _) => return Err(bad("a g2 line has action, group")),
            _ => return Err(bad("a line starts with p, g or g2")),
        });
    }
    Ok(out)
}

/// A field is `*`, or letters and digits (any script) with `-_./:`, and at
/// most one trailing parenthesised group (督导室(考核办)). Patterns never pass.
fn valid_field(x: &str) -> bool {
    if x == "*" {
        return true;
    }
    let ok_chars = x.chars().all(|c| c.is_alphanumeric() || "-_./:()".contains(c));
    let parens = match (x.find('('), x.rfind('('), x.find(')')) {
        (None, None, None) => true,
        (Some(o), Some(o2), Some(c)) => o == o2 && o > 0 && c == x.len() - 1 && o + 1 < c,
        _ => false,
    };
    ok_chars && parens
}

const DECISIONS_KEPT: usize = 20_000;

/// The enforcer over the model and a set of lines. A `Policy` never changes
/// once built (a changed policy is a new one), so casbin's cached enforcer
/// may keep each decision: every check otherwise walks all the lines.
pub struct Policy {
    enforcer: CachedEnforcer,
}

impl Policy {
    pub async fn new(model: &str, lines: &[Line]) -> Result<Policy, PolicyError> {
        let m = DefaultModel::from_str(model).await.map_err(|e| PolicyError::Model(e.to_string()))?;
        let mut enforcer =
            CachedEnforcer::new(m, MemoryAdapter::default()).await.map_err(|e| PolicyError::Casbin(e.to_string()))?;
        let (mut p, mut g, mut g2) = (Vec::new(), Vec::new(), Vec::new());
        for l in lines {
            match l {
                Line::Allow { sub, dom, obj, act } => p.push(vec![sub.clone(), dom.clone(), obj.clone(), act.clone()]),
                Line::Member { member, role, dom } => g.push(vec![member.clone(), role.clone(), dom.clone()]),
                Line::Action { act, group } => g2.push(vec![act.clone(), group.clone()]),
            }
        }
        let casbin = |e: casbin::Error| PolicyError::Casbin(e.to_string());
        if !p.is_empty() {
            enforcer.add_policies(p).await.map_err(casbin)?;
        }
        if !g.is_empty() {
            enforcer.add_grouping_policies(g).await.map_err(casbin)?;
        }
        if !g2.is_empty() {
            enforcer.add_named_grouping_policies("g2", g2).await.map_err(casbin)?;
        }
        // Decisions kept: subjects × objects × actions seen (indicator checks add up).
        enforcer.set_cache(Box::new(casbin::DefaultCache::new(DECISIONS_KEPT)));
        Ok(Policy { enforcer })
    }

    /// Whether `sub` may `act` on `obj` in organisation `dom`. Errors deny.
    pub fn allows(&self, sub: &str, dom: &str, obj: &str, act: &str) -> bool {
        self.enforcer.enforce((sub, dom, obj, act)).unwrap_or(false)
    }

    /// Whether `sub` may `act` on an indicator: granted on the indicator itself
    /// or on any ancestor. `path` lists the indicator's code and its ancestors'.
    pub fn allows_on_indicator(&self, sub: &str, dom: &str, rubric: &str, path: &[&str], act: &str) -> bool {
        path.iter().any(|code| self.allows(sub, dom, &format!("{rubric}/{code}"), act))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_validated() {
        assert!(parse("p, dept:秘书科, chengkou, chengkou-jxx/1, score").is_ok());
        assert!(parse("p, dept:督导室(考核办), chengkou, chengkou-jxx/2, score").is_ok());
        for bad in ["p, a, b, c", "p, a, , c, d", "x, a, b", "p, a, b, regexMatch(.*), d", "p, a, b, ^c$, d", "g, a, b"]
        {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let err = parse("# c\n\np, a, b, c").unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
    }
}
