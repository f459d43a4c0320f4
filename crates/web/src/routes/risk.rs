//! QPQ risk ([`bonafide_app::risk`]): `GET /api/v1/risk/me` (everyone: their own score, its explanation
//! and advice), `GET /api/v1/risk/people` (security admins: named people) and
//! `GET /api/v1/risk/departments` and `/risk/trend` (security admins and auditors: aggregates only), and
//! `/api/v1/risk/settings` (security admins: versioned, previewed before saving).

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Api, ApiJson, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bonafide_app::AppError;
use bonafide_app::access::{Everyone, SecurityAdmins, SecurityReaders};
use bonafide_app::risk::{self, GroupRisk, PersonRisk};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub(crate) struct FactorView {
    factor: &'static str,
    words: &'static str,
    value: f64,
    points: f64,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AdviceView {
    factor: &'static str,
    step: &'static str,
    points: f64,
}

#[derive(Serialize, ToSchema)]
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
#[utoipa::path(get, path = "/api/v1/risk/me", tag = "risk", responses((status = 200, body = PersonView)))]
pub(crate) async fn me(
    Api(who, ..): Api<Everyone>,
    State(state): State<AppState>,
) -> Result<Json<PersonView>, ApiError> {
    Ok(Json(risk::me(&state.app, &who).await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeopleQuery {
    department: Option<String>,
    #[param(pattern = "^\\s*(low|medium|high|critical)?\\s*$")]
    level: Option<String>,
    /// `json` (the default) or `csv`.
    #[param(pattern = "^\\s*(json|csv)?\\s*$")]
    format: Option<String>,
}

/// Whether `format` asks for CSV (else JSON); anything else is a 422.
fn csv_wanted(format: Option<&str>) -> Result<bool, ApiError> {
    match format.map(str::trim) {
        None | Some("") | Some("json") => Ok(false),
        Some("csv") => Ok(true),
        Some(_) => Err(AppError::field("format", "json or csv").into()),
    }
}

/// A CSV answer (RFC 4180: fields with a comma, quote or line break quoted; a leading `=`, `+`, `-` or
/// `@` prefixed with `'`, so that a spreadsheet does not run it).
fn csv(name: &str, header: &[&str], rows: Vec<Vec<String>>) -> Response {
    let field = |f: &str| {
        let f = if f.starts_with(['=', '+', '-', '@']) && f.parse::<f64>().is_err() {
            format!("'{f}")
        } else {
            f.to_owned()
        };
        if f.contains([',', '"', '\n', '\r']) { format!("\"{}\"", f.replace('"', "\"\"")) } else { f }
    };
    let mut out = header.join(",");
    out.push_str("\r\n");
    for row in rows {
        out.push_str(&row.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    let mut r = (StatusCode::OK, out).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// `GET /api/v1/risk/people[?department=&level=&format=csv]`: named people, highest score first.
#[utoipa::path(get, path = "/api/v1/risk/people", tag = "risk", params(PeopleQuery), responses((status = 200, description = "Named people, highest score first", content((Vec<PersonView> = "application/json"), (String = "text/csv")))))]
pub(crate) async fn people(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PeopleQuery>,
) -> Result<Response, ApiError> {
    let as_csv = csv_wanted(q.format.as_deref())?;
    let people = risk::people(&state.app, &who, q.department.as_deref(), q.level.as_deref()).await?;
    if as_csv {
        let rows = people
            .iter()
            .map(|p| {
                let top = p.score.contributions.iter().take(2).map(|c| c.factor.as_str()).collect::<Vec<_>>().join(" ");
                vec![
                    p.email.clone(),
                    p.display_name.clone(),
                    p.department.clone(),
                    p.score.score.to_string(),
                    p.score.level.as_str().to_owned(),
                    top,
                ]
            })
            .collect();
        return Ok(csv("risk-people", &["email", "name", "department", "score", "level", "top_factors"], rows));
    }
    Ok(Json(people.into_iter().map(PersonView::from).collect::<Vec<_>>()).into_response())
}

#[derive(Serialize, ToSchema)]
pub(crate) struct GroupView {
    /// None: the company.
    department: Option<String>,
    people: usize,
    /// Whether the group is too small to show ("fewer than 5 people").
    hidden: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    mean: Option<f64>,
    /// People per level: `{low, medium, high, critical}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::BTreeMap<String, u64>>)]
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct FormatQuery {
    /// `json` (the default) or `csv`.
    #[param(pattern = "^\\s*(json|csv)?\\s*$")]
    format: Option<String>,
}

fn group_rows(groups: Vec<GroupRisk>) -> Vec<Vec<String>> {
    groups
        .into_iter()
        .map(|g| {
            let v = GroupView::from(g);
            let level = |name: &str| v.by_level.as_ref().map(|b| b[name].to_string()).unwrap_or_default();
            vec![
                v.department.clone().unwrap_or_else(|| "(company)".to_owned()),
                if v.hidden { "fewer than the minimum".to_owned() } else { v.people.to_string() },
                v.mean.map(|m| m.to_string()).unwrap_or_default(),
                level("low"),
                level("medium"),
                level("high"),
                level("critical"),
                v.high_or_above.map(|h| h.to_string()).unwrap_or_default(),
                v.breaches.join(" "),
            ]
        })
        .collect()
}

/// `GET /api/v1/risk/departments[?format=csv]`: the company, then each department.
#[utoipa::path(get, path = "/api/v1/risk/departments", tag = "risk", params(FormatQuery), responses((status = 200, description = "The company, then each department", content((Vec<GroupView> = "application/json"), (String = "text/csv")))))]
pub(crate) async fn departments(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> Result<Response, ApiError> {
    let as_csv = csv_wanted(q.format.as_deref())?;
    let groups = risk::departments(&state.app, &who).await?;
    if as_csv {
        let header = ["department", "people", "mean", "low", "medium", "high", "critical", "high_or_above", "breaches"];
        return Ok(csv("risk-departments", &header, group_rows(groups)));
    }
    Ok(Json(groups.into_iter().map(GroupView::from).collect::<Vec<_>>()).into_response())
}

/// The risk settings (see the README's risk section): all of them in answers, any subset in `PUT` and the
/// preview (the rest stays as it is).
#[derive(Deserialize, ToSchema)]
#[schema(as = RiskSettings)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Describes the JSON the use case reads and writes; never built.
pub(crate) struct RiskSettingsDoc {
    /// Every person's score before any factor.
    base: Option<f64>,
    /// Points per factor at full strength (negative lowers the risk).
    weights: Option<std::collections::BTreeMap<String, f64>>,
    /// The most a counted factor counts for.
    caps: Option<std::collections::BTreeMap<String, f64>>,
    /// Days after which an event stops counting fully, per factor.
    decay_days: Option<std::collections::BTreeMap<String, u32>>,
    tolerance: Option<ToleranceDoc>,
    /// Groups smaller than this show no figures.
    min_group: Option<u32>,
}

/// The company's stated tolerance, and each department's where it differs.
#[derive(Deserialize, ToSchema)]
#[schema(as = RiskTolerance)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct ToleranceDoc {
    company: Option<LimitDoc>,
    departments: Option<std::collections::BTreeMap<String, LimitDoc>>,
}

/// One tolerance line.
#[derive(Deserialize, ToSchema)]
#[schema(as = RiskLimit)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct LimitDoc {
    /// The largest share of people at high or critical, in [0, 1].
    max_high_share: Option<f64>,
    /// Whether a privileged person at critical is a breach.
    no_privileged_critical: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct SettingsView {
    version: u32,
    #[schema(value_type = RiskSettingsDoc)]
    settings: serde_json::Value,
}

/// `GET /api/v1/risk/settings`: the settings in force (version 0: the defaults).
#[utoipa::path(get, path = "/api/v1/risk/settings", tag = "risk", responses((status = 200, body = SettingsView)))]
pub(crate) async fn settings(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
) -> Result<Json<SettingsView>, ApiError> {
    let (version, settings) = risk::settings(&state.app, &who).await?;
    Ok(Json(SettingsView { version, settings }))
}

/// `PUT /api/v1/risk/settings` `{base?, weights?, caps?, decay_days?, tolerance?, min_group?}`: the next
/// version (a 422 names each bad field; the version in force stays).
#[utoipa::path(put, path = "/api/v1/risk/settings", tag = "risk", request_body = RiskSettingsDoc, responses((status = 200, body = SettingsView)))]
pub(crate) async fn put_settings(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<SettingsView>, ApiError> {
    risk::put_settings(&state.app, &who, &body).await?;
    let (version, settings) = risk::settings(&state.app, &who).await?;
    Ok(Json(SettingsView { version, settings }))
}

/// `POST /api/v1/risk/settings/preview` (settings as for `PUT`): the groups as they would be.
#[utoipa::path(post, path = "/api/v1/risk/settings/preview", tag = "risk", request_body = RiskSettingsDoc, responses((status = 200, body = Vec<GroupView>)))]
pub(crate) async fn preview(
    Api(who, ..): Api<SecurityAdmins>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<Vec<GroupView>>, ApiError> {
    Ok(Json(risk::preview(&state.app, &who, &body).await?.into_iter().map(Into::into).collect()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrendQuery {
    department: Option<String>,
    /// 90 by default.
    #[param(minimum = 1, maximum = 366)]
    days: Option<u16>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct TrendPoint {
    day: String,
    people: i64,
    mean: f64,
    low: i64,
    medium: i64,
    high: i64,
    critical: i64,
    high_or_above: f64,
}

/// `GET /api/v1/risk/trend[?department=&days=90]`: the daily profiles (the company's without a
/// department).
#[utoipa::path(get, path = "/api/v1/risk/trend", tag = "risk", params(TrendQuery), responses((status = 200, body = Vec<TrendPoint>)))]
pub(crate) async fn trend(
    Api(who, ..): Api<SecurityReaders>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TrendQuery>,
) -> Result<Json<Vec<TrendPoint>>, ApiError> {
    let points = risk::trend(&state.app, &who, q.department.as_deref(), q.days.unwrap_or(90)).await?;
    Ok(Json(
        points
            .into_iter()
            .map(|g| {
                let [low, medium, high, critical] = g.by_level;
                TrendPoint {
                    day: g.day,
                    people: g.people,
                    mean: g.mean,
                    low,
                    medium,
                    high,
                    critical,
                    high_or_above: g.high_or_above,
                }
            })
            .collect(),
    ))
}
