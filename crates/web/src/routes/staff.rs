//! The staff directory ([`bonafide_app::directory`]): `GET /api/v1/staff?query=`,
//! `GET /api/v1/staff/{staff_id}` and the generated avatar. Every signed-in person; rate-limited per
//! person so the directory is no enumeration tool.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Api, ApiPath, ApiQuery};
use crate::routes::views::StaffCardView;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use bonafide_app::directory;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchQuery {
    /// Part of a name, team or staff id; empty lists the directory's first page.
    #[serde(default)]
    query: String,
}

/// Searches the IT staff directory.
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", params(SearchQuery),
    responses((status = 200, body = Vec<StaffCardView>)))]
pub(crate) async fn search(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<Vec<StaffCardView>>, ApiError> {
    let cards = directory::search_staff(&state.app, &who, &q.query).await?;
    Ok(Json(cards.into_iter().map(StaffCardView::from).collect()))
}

/// One staffer's directory card.
#[utoipa::path(get, path = "/api/v1/staff/{staff_id}", tag = "staff", params(("staff_id" = String, Path)),
    responses((status = 200, body = StaffCardView)))]
pub(crate) async fn get(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiPath(staff_id): ApiPath<String>,
) -> Result<Json<StaffCardView>, ApiError> {
    Ok(Json(directory::staff_card(&state.app, &who, &staff_id).await?.into()))
}

/// A generated SVG avatar: initials on a colour derived from the staff id.
#[utoipa::path(get, path = "/api/v1/staff/{staff_id}/photo", tag = "staff", params(("staff_id" = String, Path)),
    responses((status = 200, description = "The avatar", content_type = "image/svg+xml", body = String)))]
pub(crate) async fn photo(
    Api(who, ..): Api,
    State(state): State<AppState>,
    ApiPath(staff_id): ApiPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    let svg = directory::avatar(&state.app, &who, &staff_id).await?;
    Ok(svg_response(svg))
}

/// An SVG image the browser may keep privately for an hour.
pub(crate) fn svg_response(svg: String) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "private, max-age=3600")], svg)
}
