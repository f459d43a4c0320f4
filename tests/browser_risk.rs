//! QPQ risk in a real browser (headless Chromium through chromedriver) against `bonafide demo`: an
//! employee reads their own risk and what lowers it on the home page; the security admin (enrolling
//! TOTP, which the role requires) opens the dashboard `/security/risk` at a phone's width (360 px) and at
//! a desktop's (1280 px): every section and chart is there, each trend has a line or says it has no
//! history yet, the charts are drawn at a width that reads, and at 360 px nothing is wider than the
//! page. The checks are of structure, not of the demo's numbers. When a step fails, a screenshot is
//! kept in `target/browser-screenshots/`.
//!
//! Needs `chromium` and `chromedriver`, as `tests/browser.rs`; under `CI=true` a missing browser fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

#[path = "common/browser.rs"]
mod chrome;
mod common;

use chrome::{Step, enrol_totp, expect_text, fail, sign_in};
use fantoccini::Client;
use serde_json::json;

/// The employee's home shows their level and at least one step that lowers it.
async fn employee_reads_their_advice(c: &Client, base: &str, email: &str, password: &str) -> Step {
    sign_in(c, base, email, password).await?;
    expect_text(c, "Your QPQ risk").await?;
    let found = c
        .execute(
            "const s = document.querySelector('section.risk');
             return s ? [!!s.querySelector('.badge[class*=risk-]'), s.textContent.includes('What lowers it:'), s.querySelectorAll('ul:not(.plain) li').length] : null;",
            vec![],
        )
        .await
        .map_err(|e| fail("the risk section", e))?;
    let (level, advice, steps) = (found[0] == json!(true), found[1] == json!(true), found[2].as_u64().unwrap_or(0));
    if !(level && advice && steps > 0) {
        return Err(format!("the home page's risk section lacks its level or its advice: {found}"));
    }
    Ok(())
}

/// What the dashboard shows at the window's width, measured by the page itself.
const MEASURE: &str = "const el = document.documentElement;
    const ids = ['company', 'departments', 'trend', 'people', 'settings'].filter(id => !document.getElementById(id));
    const charts = [...document.querySelectorAll('svg.chart')];
    const trends = [...document.querySelectorAll('svg.chart.trend')];
    const honest = trends.every(t => t.querySelector('circle') || t.textContent.includes('No history yet'));
    const wide = charts.filter(c => c.getBoundingClientRect().right > el.clientWidth + 0.5).map(c => c.id);
    const narrowest = Math.min(...charts.map(c => c.getBoundingClientRect().width));
    const ok = charts.every(c => c.getAttribute('role') === 'img' && c.querySelector('title') && c.querySelector('desc'));
    return {
        missing: ids, charts: charts.length, trends: trends.length, honest, wide, narrowest, labelled: ok,
        company: !!document.getElementById('company-levels'),
        ranked: !!document.getElementById('departments-ranked')
            || [...document.querySelectorAll('main p')].some(p => p.textContent.startsWith('No department has')),
        form: !!document.querySelector(\"form[action='/security/risk/settings'] textarea\"),
        scroll: el.scrollWidth, client: el.clientWidth,
    };";

/// At a window `width` px wide, the dashboard has every section and chart, and no chart is wider than
/// the page; at a phone's width the page does not scroll sideways and the charts keep most of it.
async fn dashboard_at(c: &Client, base: &str, width: u32) -> Step {
    c.set_window_size(width, 900).await.map_err(|e| fail("window size", e))?;
    c.goto(&format!("{base}/security/risk")).await.map_err(|e| fail("open /security/risk", e))?;
    expect_text(c, "<h1>QPQ risk</h1>").await?;
    let m = c.execute(MEASURE, vec![]).await.map_err(|e| fail("measuring the dashboard", e))?;
    let why = |what: &str| Err(format!("at {width} px {what}: {m}"));
    if m["missing"] != json!([]) || !m["company"].as_bool().unwrap_or(false) || !m["ranked"].as_bool().unwrap_or(false)
    {
        return why("a section is missing");
    }
    if m["charts"].as_u64().unwrap_or(0) < 3 || m["trends"].as_u64().unwrap_or(0) < 1 || m["labelled"] != json!(true) {
        return why("the charts are missing or unlabelled");
    }
    if m["honest"] != json!(true) {
        return why("a trend has neither days nor says it has no history");
    }
    if !m["form"].as_bool().unwrap_or(false) {
        return why("the settings form is missing");
    }
    if m["wide"] != json!([]) {
        return why("a chart is wider than the page");
    }
    if width <= 400 {
        if m["scroll"].as_f64() > m["client"].as_f64() {
            return why("the page scrolls sideways");
        }
        // 12-unit text in a 360-unit chart: at 300 px or more it reads at 10 px or more.
        if m["narrowest"].as_f64().unwrap_or(0.0) < 300.0 {
            return why("a chart is too narrow to read");
        }
    }
    Ok(())
}

async fn story(employee: &Client, security: &Client, base: &str, people: [(&str, &str); 2]) -> Step {
    let [(employee_email, password), (security_email, _)] = people;
    employee_reads_their_advice(employee, base, employee_email, password).await?;
    // The security admin's role needs a second factor: enrolling one signs them in fully.
    sign_in(security, base, security_email, password).await?;
    expect_text(security, "Your role needs a second factor").await?;
    enrol_totp(security).await?;
    dashboard_at(security, base, 360).await?;
    dashboard_at(security, base, 1280).await?;
    security.set_window_size(360, 900).await.map_err(|e| fail("window size", e))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_employee_reads_their_advice_and_security_the_risk_dashboard_at_360_and_1280_px() {
    let Some(mut rig) = chrome::rig().await else { return };
    let base = rig.base.clone();
    let employee = rig.person("roles", json!(["employee"]));
    let (employee_email, password) =
        (employee["email"].as_str().unwrap().to_owned(), employee["password"].as_str().unwrap().to_owned());
    let security_email = rig.person("email", json!("rhea.grant@example.com"))["email"].as_str().unwrap().to_owned();
    let (employee_browser, security_browser) = (rig.browser().await, rig.browser().await);
    let people = [(employee_email.as_str(), password.as_str()), (security_email.as_str(), password.as_str())];
    let outcome = story(&employee_browser, &security_browser, &base, people).await;
    chrome::finish("risk", &outcome, &[("employee", &employee_browser), ("security", &security_browser)]).await;
    outcome.unwrap();
}
