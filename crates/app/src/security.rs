//! The security team's desk: alerts (lockouts and more) and the company settings (an authenticator for
//! every employee). The IT service desk's number, which people are told to call, is the contact
//! policy's (`policy`); a number saved here before it moved there is still used until a version names one.

use crate::access::{EVERYONE, SECURITY_ADMINS};
use crate::{App, AppError, Caller};
use bonafide_domain::PhoneNumber;
use bonafide_store::Alert;

/// The company setting that makes TOTP mandatory for every employee (IT staff and security admins
/// always need it).
pub(crate) const EMPLOYEE_TOTP_SETTING: &str = "employee_totp_required";
/// The company setting that held the IT service desk's number before the contact policy did.
pub(crate) const SERVICE_DESK_SETTING: &str = "service_desk_phone";

/// The most alerts one listing shows.
pub const ALERTS_LIMIT: i64 = 200;

/// The newest alerts, at most `limit` (capped at [`ALERTS_LIMIT`]): security admins.
pub async fn alerts(app: &App, who: &Caller, limit: i64) -> Result<Vec<Alert>, AppError> {
    app.authorize(who, SECURITY_ADMINS, "alerts.list").await?;
    Ok(app.store().list_alerts(limit.clamp(1, ALERTS_LIMIT)).await?)
}

/// The company's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompanySettings {
    /// Every employee must use an authenticator app.
    pub employee_totp_required: bool,
}

/// The company's settings: security admins.
pub async fn company(app: &App, who: &Caller) -> Result<CompanySettings, AppError> {
    app.authorize(who, SECURITY_ADMINS, "settings.get").await?;
    Ok(CompanySettings { employee_totp_required: employee_totp_required(app).await? })
}

/// Saves the company's settings: security admins.
pub async fn set_company(app: &App, who: &Caller, employee_totp_required: bool) -> Result<CompanySettings, AppError> {
    app.authorize(who, SECURITY_ADMINS, "settings.set").await?;
    let required = if employee_totp_required { "true" } else { "false" };
    let event = who.event("settings.changed", "company").with(serde_json::json!({
        "employee_totp_required": employee_totp_required, "via": who.via.as_str(),
    }));
    app.store().set_settings(&[(EMPLOYEE_TOTP_SETTING, required)], app.now(), &event).await?;
    Ok(CompanySettings { employee_totp_required })
}

/// Whether every employee must enrol an authenticator.
pub(crate) async fn employee_totp_required(app: &App) -> Result<bool, AppError> {
    Ok(app.store().setting(EMPLOYEE_TOTP_SETTING).await?.is_some_and(|v| v == "true"))
}

/// The number to tell people to call: the contact policy's, else the company's setting from before the
/// policy held it, else the first IT staffer's official number.
pub(crate) async fn service_desk_number(app: &App) -> Option<PhoneNumber> {
    if let Ok(policy) = app.policy_at(app.now()).await
        && let Some(n) = &policy.rules.service_desk_number
    {
        return Some(n.clone());
    }
    if let Ok(Some(n)) = app.store().setting(SERVICE_DESK_SETTING).await
        && !n.is_empty()
    {
        return Some(PhoneNumber::from_e164_unchecked(n));
    }
    let staff = app.store().search_staff("IT-", 1).await.ok()?;
    staff.into_iter().next().and_then(|c| c.official_numbers.first().cloned())
}

/// The IT service desk's number, for the red "not verified" page (every signed-in person).
pub async fn desk_number(app: &App, who: &Caller) -> Result<Option<PhoneNumber>, AppError> {
    app.authorize(who, EVERYONE, "settings.desk_number").await?;
    Ok(service_desk_number(app).await)
}
