//! The staff directory: `GET /api/v1/staff?query=`, `GET /api/v1/staff/{staff_id}` and the generated
//! avatar. Every signed-in person; rate-limited per person so the directory is no enumeration tool.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, Employee};
use crate::routes::rate_limit;
use crate::routes::views::StaffCardView;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use bonafide_domain::StaffId;
use serde::Deserialize;

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    query: String,
}

async fn limited(state: &AppState, who: &Employee) -> Result<(), ApiError> {
    rate_limit(state, &format!("staff:{}", who.0.id), state.config.staff_lookups_per_minute).await
}

pub(crate) async fn search(
    who: Employee,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<Vec<StaffCardView>>, ApiError> {
    if q.query.chars().count() > 100 {
        return Err(ApiError::field("query", "a search is at most 100 characters"));
    }
    limited(&state, &who).await?;
    let cards = state.store.search_staff(&q.query, 50).await?;
    Ok(Json(cards.into_iter().map(StaffCardView::from).collect()))
}

pub(crate) async fn get(
    who: Employee,
    State(state): State<AppState>,
    ApiPath(staff_id): ApiPath<String>,
) -> Result<Json<StaffCardView>, ApiError> {
    limited(&state, &who).await?;
    let id: StaffId = staff_id.parse().map_err(|_| ApiError::NotFound)?;
    let card = state.store.staff_card(&id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(card.into()))
}

/// A generated SVG avatar: initials on a colour derived from the staff id.
pub(crate) async fn photo(
    _: Employee,
    State(state): State<AppState>,
    ApiPath(staff_id): ApiPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    avatar(&state, &staff_id).await
}

/// The staffer's generated avatar (initials on a colour derived from the staff id); for the API and
/// the portal.
pub(crate) async fn avatar(state: &AppState, staff_id: &str) -> Result<impl IntoResponse + use<>, ApiError> {
    let id: StaffId = staff_id.parse().map_err(|_| ApiError::NotFound)?;
    let card = state.store.staff_card(&id).await?.ok_or(ApiError::NotFound)?;
    let initials: String =
        card.display_name.as_str().split_whitespace().filter_map(|w| w.chars().next()).take(2).collect();
    let hue = id.as_str().bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 360;
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"160\" height=\"160\" viewBox=\"0 0 160 160\" role=\"img\">\
         <rect width=\"160\" height=\"160\" fill=\"hsl({hue},45%,35%)\"/>\
         <text x=\"80\" y=\"98\" font-family=\"sans-serif\" font-size=\"56\" fill=\"#fff\" text-anchor=\"middle\">{}</text></svg>",
        escape_xml(&initials)
    );
    Ok(([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "private, max-age=3600")], svg))
}

fn escape_xml(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}
