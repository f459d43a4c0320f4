//! QPQ risk ([`bonafide_app::risk`]): `GET /api/v1/risk/me` (everyone: their own score, its explanation
//! and advice), `GET /api/v1/risk/people` (security admins: named people) and
//! `GET /api/v1/risk/departments` (security admins and auditors: aggregates only).

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Api, ApiQuery};
use axum::Json;
use axum::extract::State;
use bonafide_app::access::{Everyone, SecurityAdmins, SecurityReaders};
use bonafide_app::risk::{self, GroupRisk, PersonRisk};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
pub(crate) struct FactorView {
    factor: &'static str,
    words: &'static str,
    value: f64,
    points: f64,
}

#[derive(Serialize)]
pub(crate) struct AdviceView {
    factor: &'static str,
    step: &'static str,
    points: f64,
}

#[derive(Serialize)]
pub(crate) struct PersonView {
    email: String,
    display_name: String,
    department: String,
    score: f64,
    level: &'static str,
    base: f64,
    factors: Vec<FactorView>,
    advice: Vec<AdviceView>,
}

impl From<PersonRisk> for PersonView {
    fn from(p: PersonRisk) -> Self {
        PersonView {
            email: p.email,
            display_name: p.display_name,
            department: p.department,
            score: p.score.score,
            level: p.score.level.as_str(),
            base: p.score.base,
            factors: p
                .score
                .contributions
                .iter()
                .map(|c| FactorView {
                    factor: c.factor.as_str(),
                    words: c.factor.in_words(),
                    value: c.value,
                    points: c.points,
                })
                .collect(),
            advice: p
                .advice
                .iter()
                .filter_map(|(f, points)| f.step().map(|step| AdviceView { factor: f.as_str(), step, points: *points }))
                .collect(),
        }
    }
}

/// `GET /api/v1/risk/me`: the caller's own score.
pub(crate) async fn me(
    Api(who, ..): Api<Everyone>,
    State(state): State<AppState>,
) -> Result<Json<PersonView>, ApiError> {
    Ok(Json(risk::me(&state.app, &who).await?.into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeopleQuery {
    department: Option<String>,
    level: Option<String>,
}

/// `GET /api/v1/risk/people[?department=&level=]`: named people, highest score first.
pub(crate) async fn people(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PeopleQuery>,
) -> Result<Json<Vec<PersonView>>, ApiError> {
    let people = risk::people(&state.app, &who, q.department.as_deref(), q.level.as_deref()).await?;
    Ok(Json(people.into_iter().map(Into::into).collect()))
}

#[derive(Serialize)]
pub(crate) struct GroupView {
    /// None: the company.
    department: Option<String>,
    people: usize,
    /// Whether the group is too small to show ("fewer than 5 people").
    hidden: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    by_level: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    high_or_above: Option<f64>,
    breaches: Vec<&'static str>,
}

impl From<GroupRisk> for GroupView {
    fn from(g: GroupRisk) -> Self {
        let p = g.profile.as_ref();
        GroupView {
            department: g.department,
            // A hidden group shows no count either, only that it is small.
            people: if p.is_some() { g.people } else { 0 },
            hidden: p.is_none(),
            mean: p.map(|p| p.mean),
            by_level: p.map(|p| {
                let [low, medium, high, critical] = p.by_level;
                serde_json::json!({ "low": low, "medium": medium, "high": high, "critical": critical })
            }),
            high_or_above: p.map(|p| (p.high_or_above * 1000.0).round() / 1000.0),
            breaches: g.breaches.iter().map(|b| b.as_str()).collect(),
        }
    }
}

/// `GET /api/v1/risk/departments`: the company, then each department.
pub(crate) async fn departments(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
) -> Result<Json<Vec<GroupView>>, ApiError> {
    Ok(Json(risk::departments(&state.app, &who).await?.into_iter().map(Into::into).collect()))
}
