//! The risk settings security writes: each factor's points, caps and decay, the tolerance of the company
//! and of each department, and the smallest group whose figures are shown. Read from JSON with every
//! bad field named.

use super::{Factor, RiskWeights, Tolerance};
use crate::policy::RuleError;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Everything risk is computed and judged with.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskSettings {
    /// The base and each factor's weight.
    pub weights: RiskWeights,
    /// The company's tolerance.
    pub company: Tolerance,
    /// Departments' own tolerances (others take the company's).
    pub departments: BTreeMap<String, Tolerance>,
    /// Groups smaller than this show no figures.
    pub min_group: usize,
}

impl Default for RiskSettings {
    fn default() -> Self {
        Self {
            weights: RiskWeights::default(),
            company: Tolerance::default(),
            departments: BTreeMap::new(),
            min_group: 5,
        }
    }
}

fn number(field: &str, v: &Value, range: std::ops::RangeInclusive<f64>, errors: &mut Vec<RuleError>) -> Option<f64> {
    match v.as_f64() {
        Some(n) if n.is_finite() && range.contains(&n) => Some(n),
        _ => {
            errors.push(RuleError::new(field, format!("a number from {} to {}", range.start(), range.end())));
            None
        }
    }
}

fn object<'a>(field: &str, v: &'a Value, errors: &mut Vec<RuleError>) -> Option<&'a Map<String, Value>> {
    let o = v.as_object();
    if o.is_none() {
        errors.push(RuleError::new(field, "an object"));
    }
    o
}

fn tolerance(field: &str, v: &Value, errors: &mut Vec<RuleError>) -> Tolerance {
    let mut t = Tolerance::default();
    for (name, value) in object(field, v, errors).into_iter().flatten() {
        let f = format!("{field}.{name}");
        match name.as_str() {
            "max_high_share" if value.is_null() => t.max_high_share = None,
            "max_high_share" => t.max_high_share = number(&f, value, 0.0..=1.0, errors).or(t.max_high_share),
            "no_privileged_critical" => match value.as_bool() {
                Some(b) => t.no_privileged_critical = b,
                None => errors.push(RuleError::new(&f, "true or false")),
            },
            _ => errors.push(RuleError::new(&f, "unknown: max_high_share or no_privileged_critical")),
        }
    }
    t
}

fn tolerance_json(t: &Tolerance) -> Value {
    json!({ "max_high_share": t.max_high_share, "no_privileged_critical": t.no_privileged_critical })
}

impl RiskSettings {
    /// The tolerance `department` is held to (the company's when it has none of its own, or for none).
    pub fn tolerance_for(&self, department: Option<&str>) -> Tolerance {
        department.and_then(|d| self.departments.get(d)).copied().unwrap_or(self.company)
    }

    /// Reads settings from their JSON form; a field left out keeps its default.
    pub fn from_json(v: &Value) -> Result<RiskSettings, Vec<RuleError>> {
        let mut s = RiskSettings::default();
        let mut errors = Vec::new();
        let Some(fields) = v.as_object() else {
            return Err(vec![RuleError::new("settings", "an object")]);
        };
        let factor_of = |field: &str, name: &str, errors: &mut Vec<RuleError>| {
            let f = Factor::from_name(name);
            if f.is_none() {
                errors.push(RuleError::new(field, format!("unknown factor; factors are {}", Factor::NAMES.join(", "))));
            }
            f
        };
        for (name, value) in fields {
            match name.as_str() {
                "base" => {
                    if let Some(n) = number("base", value, 0.0..=100.0, &mut errors) {
                        s.weights.base = n;
                    }
                }
                "weights" | "caps" | "decay_days" => {
                    for (factor, v) in object(name, value, &mut errors).into_iter().flatten() {
                        let field = format!("{name}.{factor}");
                        let Some(f) = factor_of(&field, factor, &mut errors) else { continue };
                        let w =
                            s.weights.factors.entry(f).or_insert(super::Weight { points: 0.0, cap: 1.0, full_days: 0 });
                        match name.as_str() {
                            "weights" => w.points = number(&field, v, -100.0..=100.0, &mut errors).unwrap_or(w.points),
                            _ if f.is_flag() => errors.push(RuleError::new(&field, "a flag has no caps or decay")),
                            "caps" => w.cap = number(&field, v, 1.0..=100.0, &mut errors).unwrap_or(w.cap),
                            _ => {
                                if let Some(d) = number(&field, v, 1.0..=3650.0, &mut errors) {
                                    if d.fract() == 0.0 {
                                        w.full_days = d as u32;
                                    } else {
                                        errors.push(RuleError::new(&field, "whole days"));
                                    }
                                }
                            }
                        }
                    }
                }
                "tolerance" => {
                    for (key, v) in object("tolerance", value, &mut errors).into_iter().flatten() {
                        match key.as_str() {
                            "company" => s.company = tolerance("tolerance.company", v, &mut errors),
                            "departments" => {
                                for (d, t) in object("tolerance.departments", v, &mut errors).into_iter().flatten() {
                                    let field = format!("tolerance.departments.{d}");
                                    if d.trim().is_empty() || d.chars().count() > 120 {
                                        errors.push(RuleError::new(&field, "a department's name, 1 to 120 characters"));
                                        continue;
                                    }
                                    let t = tolerance(&field, t, &mut errors);
                                    s.departments.insert(d.trim().to_owned(), t);
                                }
                            }
                            other => errors
                                .push(RuleError::new(&format!("tolerance.{other}"), "unknown: company or departments")),
                        }
                    }
                }
                "min_group" => match value.as_u64() {
                    Some(n @ 1..=1000) => s.min_group = n as usize,
                    _ => errors.push(RuleError::new("min_group", "a whole number from 1 to 1000")),
                },
                other => errors
                    .push(RuleError::new(other, "unknown: base, weights, caps, decay_days, tolerance or min_group")),
            }
        }
        if errors.is_empty() { Ok(s) } else { Err(errors) }
    }

    /// The JSON form [`RiskSettings::from_json`] reads, with every value spelled out.
    pub fn to_json(&self) -> Value {
        let mut weights = Map::new();
        let mut caps = Map::new();
        let mut decay = Map::new();
        for (f, w) in &self.weights.factors {
            weights.insert(f.as_str().to_owned(), json!(w.points));
            if !f.is_flag() {
                caps.insert(f.as_str().to_owned(), json!(w.cap));
                decay.insert(f.as_str().to_owned(), json!(w.full_days));
            }
        }
        let departments: Map<String, Value> =
            self.departments.iter().map(|(d, t)| (d.clone(), tolerance_json(t))).collect();
        json!({
            "base": self.weights.base,
            "weights": weights,
            "caps": caps,
            "decay_days": decay,
            "tolerance": { "company": tolerance_json(&self.company), "departments": departments },
            "min_group": self.min_group,
        })
    }
}
