//! `POST /api/v1/analyze` on what the analyzer cannot or can only partly answer: nothing to read, and
//! more stages than an answer lists.

use crate::helpers::{Body, spawn_app};
use bonafide_store::Backend;
use reqwest::Method;
use serde_json::{Value, json};

on_both!(
    regression_15_14_an_empty_text_is_refused_with_a_problem_not_a_verdict,
    regression_15_16_the_answer_says_whether_its_stages_were_cut_short,
);

/// Issue 15, point 14: an empty text was answered `benign` (score 0.19, the bias alone).
async fn regression_15_14_an_empty_text_is_refused_with_a_problem_not_a_verdict(backend: Backend) {
    let app = spawn_app(backend).await;
    let erin = &app.tokens.erin;
    for (body, field) in [
        (json!({ "text": "" }), "text"),
        (json!({ "id": "w", "text": " \n\t\u{200b}\u{feff} " }), "text"),
        (json!({ "messages": [] }), "messages"),
        (json!({ "messages": [{ "from": "x", "text": "" }, { "from": "y", "text": "\u{2060}" }] }), "messages"),
    ] {
        let r = app.post("/api/v1/analyze", erin, body.clone()).await;
        assert_eq!((r.status, r.problem()), (422, "urn:bonafide:problem:invalid-input"), "{body}: {}", r.text);
        assert_eq!(r.header("content-type"), "application/problem+json");
        assert_eq!(r.fields(), [field], "{}", r.text);
        assert!(r.body.get("verdict").is_none() && r.body.get("score").is_none(), "{}", r.text);
    }
    // Text is still analysed, however short.
    let ok = app.post("/api/v1/analyze", erin, json!({ "text": "ok" })).await;
    assert_eq!((ok.status, ok.str("verdict")), (200, "benign"), "{}", ok.text);

    // In a batch, the empty line gets an error object naming its line, and the others their answers.
    let lines = format!(
        "{}\n{}\n{}\n",
        json!({ "id": 1, "text": "lunch?" }),
        json!({ "id": 2, "text": "  " }),
        json!({ "id": 3, "text": "see you" })
    );
    let batch = app
        .send(Method::POST, "/api/v1/analyze", Some(erin), Body::Raw("application/x-ndjson", lines.into_bytes()))
        .await;
    assert_eq!(batch.status, 200, "{}", batch.text);
    let out: Vec<Value> = batch.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(out.len(), 3, "{}", batch.text);
    assert_eq!((out[0]["id"].as_i64(), out[0]["verdict"].as_str()), (Some(1), Some("benign")));
    assert_eq!((out[1]["id"].as_i64(), out[1]["line"].as_i64()), (Some(2), Some(2)), "{}", out[1]);
    assert!(out[1]["error"].as_str().unwrap().contains("nothing to analyse"), "{}", out[1]);
    assert!(out[1].get("verdict").is_none());
    assert_eq!(out[2]["verdict"], "benign");
}

/// Issue 15, point 16: a long message listed its first 200 stages and did not say there were more.
async fn regression_15_16_the_answer_says_whether_its_stages_were_cut_short(backend: Backend) {
    let app = spawn_app(backend).await;
    let erin = &app.tokens.erin;
    let long = "This is the IT help desk, please read me the code we sent you. ".repeat(300);
    let cut = app.post("/api/v1/analyze", erin, json!({ "text": long })).await;
    assert_eq!(cut.status, 200, "{}", cut.text);
    assert_eq!(cut.body["stages"].as_array().unwrap().len(), 200);
    assert_eq!(cut.body["stages_truncated"], true);
    let short = app.post("/api/v1/analyze", erin, json!({ "text": "Please read me the code we sent you." })).await;
    assert!(!short.body["stages"].as_array().unwrap().is_empty(), "{}", short.text);
    assert_eq!(short.body["stages_truncated"], false, "always present: {}", short.text);
    // Conversations and batch lines say it too.
    let chat = json!({ "messages": [{ "from": "x", "text": long }, { "from": "y", "text": "ok" }] });
    assert_eq!(app.post("/api/v1/analyze", erin, chat).await.body["stages_truncated"], true);
    let lines = format!("{}\n{}\n", json!({ "text": long }), json!({ "text": "hello" }));
    let batch = app
        .send(Method::POST, "/api/v1/analyze", Some(erin), Body::Raw("application/x-ndjson", lines.into_bytes()))
        .await;
    let out: Vec<Value> = batch.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!((out[0]["stages_truncated"].as_bool(), out[1]["stages_truncated"].as_bool()), (Some(true), Some(false)));
}
