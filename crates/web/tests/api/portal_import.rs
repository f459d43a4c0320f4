//! The portal's directory import (issue 15): every error on a line of its own with its line number,
//! counted the same for LF, CRLF (what a browser sends for pasted text) and CR-only files; a repeated
//! column, a line break in a field and a manager found nowhere are named, and nothing is written.

use crate::helpers::{TestApp, spawn_app};
use crate::portal::{Browser, Page, enrol_totp, multipart, set_password, signed_in};
use bonafide_store::Backend;

on_both!(
    regression_15_8_portal_import_errors_are_listed_one_per_line,
    regression_15_9_pasted_and_uploaded_files_report_the_same_line,
    regression_15_10_a_repeated_column_is_refused_naming_both,
    regression_15_11_line_breaks_and_missing_managers_are_named_by_line,
);

/// Ada, a security admin, on the people page.
async fn ada(app: &TestApp) -> (Browser, String) {
    set_password(app, "ada.reyes@example.com").await;
    let seed = enrol_totp(app, "ada.reyes@example.com").await;
    let mut ada = signed_in(app, "ada.reyes@example.com", Some(&seed)).await;
    let people = ada.get("/security/people").await;
    assert_eq!(people.status, 200);
    (ada, people.csrf())
}

async fn paste(ada: &mut Browser, csrf: &str, csv: &str) -> Page {
    ada.post("/security/import", &[("csrf", csrf), ("csv", csv)]).await
}

async fn upload(ada: &mut Browser, csrf: &str, csv: &[u8]) -> Page {
    let (content_type, body) = multipart(&[("csrf", csrf.as_bytes()), ("file", csv), ("csv", b"")], "file");
    let request = ada.client.post(format!("{}/security/import", ada.base)).header("content-type", content_type);
    ada.send(request.body(body)).await
}

/// The errors the page lists, one item each.
fn listed(page: &Page) -> Vec<String> {
    let Some(start) = page.text.find("<ul class=\"errors\">") else { return vec![] };
    let list = &page.text[start..];
    let list = &list[..list.find("</ul>").unwrap()];
    list.split("<li>").skip(1).map(|item| item.split("</li>").next().unwrap().to_owned()).collect()
}

async fn absent(app: &TestApp, email: &str) -> bool {
    app.store.person_by_email(&email.parse().unwrap()).await.unwrap().is_none()
}

async fn regression_15_8_portal_import_errors_are_listed_one_per_line(backend: Backend) {
    let app = spawn_app(backend).await;
    let (mut ada, csrf) = ada(&app).await;
    let csv = "email,display_name,phones\nok@example.com,Ok,\nnot-an-email,Bad,\nph@example.com,Bad Phone,call me\n";
    let refused = paste(&mut ada, &csrf, csv).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    let items = listed(&refused);
    assert_eq!(items.len(), 2, "{}", refused.text);
    assert!(items[0].starts_with("line 3: email: "), "{items:?}");
    assert!(items[1].starts_with("line 4: phones: "), "{items:?}");
    assert!(refused.text.contains("Nothing imported: 2 errors."), "{}", refused.text);
    assert!(absent(&app, "ok@example.com").await, "all or nothing");
    let fine = paste(&mut ada, &csrf, "email,display_name\nok@example.com,Ok\n").await;
    assert_eq!(fine.status, 200, "{}", fine.text);
    assert!(fine.text.contains("1 added") && listed(&fine).is_empty(), "{}", fine.text);
    app.drop_db().await;
}

async fn regression_15_9_pasted_and_uploaded_files_report_the_same_line(backend: Backend) {
    let app = spawn_app(backend).await;
    let (mut ada, csrf) = ada(&app).await;
    let rows = ["email,display_name", "a@example.com,A", "", "not-an-email,B", "c@example.com,C", ""];
    for ending in ["\n", "\r\n", "\r"] {
        let csv = rows.join(ending);
        let pasted = paste(&mut ada, &csrf, &csv).await;
        let uploaded = upload(&mut ada, &csrf, format!("\u{feff}{csv}").as_bytes()).await;
        for page in [pasted, uploaded] {
            assert_eq!(page.status, 422, "{ending:?}: {}", page.text);
            let items = listed(&page);
            assert_eq!(items.len(), 1, "{ending:?}: {items:?}");
            assert!(items[0].starts_with("line 4: email: "), "{ending:?}: {items:?}");
        }
    }
    assert!(absent(&app, "a@example.com").await, "nothing imported");
    let bom = upload(&mut ada, &csrf, "\u{feff}\"email\",\"name\"\r\nbom@example.com,Bo M\r\n".as_bytes()).await;
    assert_eq!(bom.status, 200, "a byte order mark is no part of the first column: {}", bom.text);
    assert!(!absent(&app, "bom@example.com").await);
    app.drop_db().await;
}

async fn regression_15_10_a_repeated_column_is_refused_naming_both(backend: Backend) {
    let app = spawn_app(backend).await;
    let (mut ada, csrf) = ada(&app).await;
    let csv = "email,name,department,Team,display_name\nnew@example.com,First,IT,Desk,Second\n";
    let refused = paste(&mut ada, &csrf, csv).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(
        listed(&refused),
        vec!["line 1: header: column 2 `name` and column 5 `display_name` both give display_name"],
        "{}",
        refused.text
    );
    assert!(absent(&app, "new@example.com").await, "nothing imported");
    app.drop_db().await;
}

async fn regression_15_11_line_breaks_and_missing_managers_are_named_by_line(backend: Backend) {
    let app = spawn_app(backend).await;
    let (mut ada, csrf) = ada(&app).await;
    // Only the manager is wrong: the rows themselves read, so this is the file against the directory.
    let csv = "email,display_name,manager\n\
               new.a@example.com,New A,ada.reyes@example.com\n\
               new.b@example.com,New B,gone@example.com\n\
               new.c@example.com,New C,new.b@example.com\n";
    let refused = paste(&mut ada, &csrf, csv).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(
        listed(&refused),
        vec![
            "line 3: manager_email: manager gone@example.com is not in the directory, nor on a valid row of this file",
            "line 4: manager_email: manager new.b@example.com is on line 3, which has an error",
        ],
        "{}",
        refused.text
    );
    assert!(absent(&app, "new.a@example.com").await, "nothing imported");

    let csv = "email,display_name,department\r\n\
               new.a@example.com,\"New\r\nA\",IT\r\n\
               new.b@example.com,New B,\"Fin\r\nance\"\r\n\
               not-an-email,New C,IT\r\n";
    let refused = paste(&mut ada, &csrf, csv).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(
        listed(&refused),
        vec![
            "line 2: display_name: line breaks are not allowed in display_name",
            "line 4: department: line breaks are not allowed in department",
            "line 6: email: `not-an-email` is not an email address",
        ],
        "a record is named by the line it starts on: {}",
        refused.text
    );

    let csv = "email,display_name,manager\nnew.a@example.com,New A,ada.reyes@example.com\nnew.b@example.com,New B,new.a@example.com\n";
    let imported = paste(&mut ada, &csrf, csv).await;
    assert_eq!(imported.status, 200, "managers in the directory or in the file: {}", imported.text);
    assert!(imported.text.contains("2 added"), "{}", imported.text);
    app.drop_db().await;
}
