//! The directory's own contacts among a campaign's indicators.
//!
//! A fraudster who claims to be a real staffer gives that staffer's staff id and name, and often spoofs
//! their official number or address. Those values still tie reports together (they are what the reports
//! share), but they are not the fraudster's: a campaign that blocked checks on them would block every
//! genuine call from the person being impersonated, and two reports would be enough to do it. So they
//! block checks only once a security admin confirms the campaign covers them (`covers_official`); until
//! then security gets one `staff_impersonated` alert, and the warning names the real staffer as the one
//! being claimed, never their contacts as the fraud's.

use crate::checks::{NewAlert, insert_campaign_alert};
use crate::codec::{indicator_from, millis};
use crate::{StoreError, dynamic};
use bonafide_correlate::{Indicator, IndicatorKind};
use sqlx::{AnyConnection, Row};
use std::sync::LazyLock;
use time::OffsetDateTime;

/// True for a row `ci` of `campaign_indicators` that is the directory's own: a staffer's official number
/// or address, a staff id someone in the directory has, or one of the company's domains.
pub(crate) const OFFICIAL: &str = "((ci.kind = 'phone' AND EXISTS (SELECT 1 FROM person_contacts pc \
      WHERE pc.value = ci.value AND pc.kind = 'official_phone')) \
   OR (ci.kind = 'email' AND EXISTS (SELECT 1 FROM person_contacts pc \
      WHERE pc.value = ci.value AND pc.kind = 'official_address')) \
   OR (ci.kind = 'staff_id' AND EXISTS (SELECT 1 FROM people p WHERE p.staff_id = ci.value)) \
   OR (ci.kind = 'domain' AND ci.note = 'own_domain'))";

static OFFICIAL_OF: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT ci.kind, ci.value, ci.note FROM campaign_indicators ci WHERE ci.campaign_id = $1 AND {OFFICIAL} \
         ORDER BY ci.kind, ci.value"
    )
});

/// Campaign `cluster`'s indicators that are the directory's own.
pub(crate) async fn official_indicators<'c, E>(conn: E, cluster: &str) -> Result<Vec<Indicator>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(dynamic(OFFICIAL_OF.clone())).bind(cluster).fetch_all(conn).await?;
    Ok(rows.iter().map(indicator_from).collect::<Result<Vec<_>, _>>()?.into_iter().flatten().collect())
}

/// The real staffer a campaign claims to be, by a staff id in its indicators: (display name, staff id).
pub(crate) async fn impersonated(
    tx: &mut AnyConnection,
    cluster: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT p.display_name, p.staff_id FROM campaign_indicators ci JOIN people p ON p.staff_id = ci.value \
         WHERE ci.campaign_id = $1 AND ci.kind = 'staff_id' ORDER BY p.staff_id LIMIT 1",
    )
    .bind(cluster)
    .fetch_optional(&mut *tx)
    .await?;
    row.map(|r| Ok((r.try_get("display_name")?, r.try_get("staff_id")?))).transpose()
}

/// The name the contacts of `cluster` gave most often, as the correlation normalised it.
pub(crate) async fn most_claimed_name(tx: &mut AnyConnection, cluster: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "SELECT i.value, COUNT(*) AS n FROM report_indicators i JOIN reports r ON r.id = i.report_id \
         WHERE r.cluster_id = $1 AND i.kind = 'name' GROUP BY i.value ORDER BY n DESC, i.value LIMIT 1",
    )
    .bind(cluster)
    .fetch_optional(&mut *tx)
    .await?;
    row.map(|r| r.try_get("value").map_err(StoreError::from)).transpose()
}

/// Raises the `staff_impersonated` alert for campaign `cluster` once, when its indicators include the
/// directory's own contacts and no security admin has confirmed that it covers them.
pub(crate) async fn alert_if_impersonating(
    tx: &mut AnyConnection,
    cluster: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let row = sqlx::query("SELECT covers_official, official_alerted_at FROM campaigns WHERE id = $1")
        .bind(cluster)
        .fetch_one(&mut *tx)
        .await?;
    if row.try_get::<i64, _>("covers_official")? == 1 || row.try_get::<Option<i64>, _>("official_alerted_at")?.is_some()
    {
        return Ok(());
    }
    let official = official_indicators(&mut *tx, cluster).await?;
    if official.is_empty() {
        return Ok(());
    }
    let named: Vec<String> = official.iter().map(describe).collect();
    let message = format!(
        "Campaign {cluster} claims a real staffer's identity: its reports share the directory's own {}. Their \
         caller id or sender may be spoofed. Checks are not blocked on these until a security admin confirms the \
         campaign covers them.",
        named.join(", ")
    );
    let alert = NewAlert { kind: "staff_impersonated", severity: "high", person: None, check: None };
    insert_campaign_alert(tx, alert, Some(cluster), &message, now).await?;
    sqlx::query("UPDATE campaigns SET official_alerted_at = $2 WHERE id = $1")
        .bind(cluster)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

fn describe(i: &Indicator) -> String {
    let what = match i.kind {
        IndicatorKind::Phone => "official number",
        IndicatorKind::Email => "official address",
        IndicatorKind::StaffId => "staff id",
        IndicatorKind::Domain => "domain",
        _ => "contact",
    };
    format!("{what} {}", i.value)
}
