//! The `bonafide` binary as a newcomer runs it: exit codes, messages with line numbers, the demo.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

mod common;

use common::bonafide;
use std::path::{Path, PathBuf};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const GOOD: &str = "email,name,roles,staff_id,official_phones,department\n\
                    sam@example.com,Sam Carter,it_staff,IT-0042,201-555-0142,IT\n\
                    erin@example.com,Erin Walsh,,,,Finance\n";

#[test]
fn an_import_with_bad_rows_names_each_line_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!("{GOOD}bad-email,Someone,,,,\nx@example.com,X,,,not a number,\n");
    std::fs::write(dir.path().join("people.csv"), csv).unwrap();
    let out = bonafide(dir.path(), &["import", "--db", "sqlite://t.db", "people.csv"]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains("people.csv:4: email:"), "{err}");
    assert!(err.contains("people.csv:5: official_phones:"), "{err}");
    let token = bonafide(dir.path(), &["token", "create", "--db", "sqlite://t.db", "--email", "erin@example.com"]);
    assert_eq!(token.status.code(), Some(3), "nothing was imported, so erin is unknown");

    let out = bonafide(dir.path(), &["import", "--db", "sqlite://t.db", "--skip-invalid", "--json", "people.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["created"].as_u64(), report["invalid_rows"].as_u64()), (Some(2), Some(2)));
}

/// Issue 15, point 9: CRLF files were reported a line early, CR-only files all on line 1.
#[test]
fn regression_15_9_the_cli_reports_lf_crlf_and_cr_files_at_the_same_line() {
    let dir = tempfile::tempdir().unwrap();
    let rows = ["email,name", "a@example.com,A", "", "not-an-email,B", "c@example.com,C", ""];
    for (ending, bom) in [("\n", ""), ("\r\n", "\u{feff}"), ("\r", "")] {
        std::fs::write(dir.path().join("people.csv"), format!("{bom}{}", rows.join(ending))).unwrap();
        let out = bonafide(dir.path(), &["import", "--db", "sqlite://t.db", "people.csv"]);
        assert_eq!(out.status.code(), Some(3), "{ending:?}");
        let err = text(&out.stderr);
        assert!(err.contains("people.csv:4: email: `not-an-email` is not an email address"), "{ending:?}: {err}");
        assert_eq!(err.matches("people.csv:").count(), 1, "one bad row: {err}");
    }
}

/// Issue 15, point 10: a column given twice was read from its last copy.
#[test]
fn regression_15_10_a_repeated_column_is_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("people.csv"), "email,name,team,roles,display_name\nx@example.com,A,,,B\n").unwrap();
    let out = bonafide(dir.path(), &["import", "--db", "sqlite://t.db", "people.csv"]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(
        err.contains("people.csv:1: header: column 2 `name` and column 5 `display_name` both give display_name"),
        "{err}"
    );
    assert!(!dir.path().join("t.db").exists(), "a bad file touches no database");
}

/// Issue 15, point 11: a manager found nowhere was a conflict without a line.
#[test]
fn regression_15_11_a_missing_manager_is_named_by_its_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "email,name,department,manager\n\
               sam@example.com,Sam Carter,IT,\n\
               erin@example.com,Erin Walsh,Finance,sam@example.com\n\
               \n\
               x@example.com,X,IT,gone@example.com\n";
    std::fs::write(dir.path().join("people.csv"), csv).unwrap();
    let out = bonafide(dir.path(), &["import", "--db", "sqlite://t.db", "people.csv"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    let expected = "people.csv:5: manager_email: manager gone@example.com is not in the directory, nor on a valid row";
    assert!(err.contains(expected), "{err}");
    let token = bonafide(dir.path(), &["token", "create", "--db", "sqlite://t.db", "--email", "erin@example.com"]);
    assert_eq!(token.status.code(), Some(3), "nothing was imported, so erin is unknown");
    let out = bonafide(dir.path(), &["import", "--db", "sqlite://t.db", "--skip-invalid", "people.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("imported 2 people (2 created, 0 updated), skipped 1 invalid rows"));
}

/// Issue 14, point 10: the CLI created tokens for suspended people.
#[test]
fn regression_14_10_no_token_is_created_for_a_suspended_person() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "email,name,status\npat@example.com,Pat Doyle,suspended\n";
    std::fs::write(dir.path().join("people.csv"), csv).unwrap();
    let out = bonafide(dir.path(), &["import", "--db", "sqlite://t.db", "people.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = bonafide(dir.path(), &["token", "create", "--db", "sqlite://t.db", "--email", "pat@example.com"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("pat@example.com is suspended"), "{}", text(&out.stderr));
    let db = rusqlite::Connection::open(dir.path().join("t.db")).unwrap();
    let tokens: i64 = db.query_row("SELECT COUNT(*) FROM api_tokens", [], |r| r.get(0)).unwrap();
    assert_eq!(tokens, 0, "nothing written");
}

#[test]
fn a_clean_import_then_a_token_shown_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("people.csv"), GOOD).unwrap();
    let out = bonafide(dir.path(), &["import", "--db", "sqlite://t.db", "people.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("imported 2 people (2 created, 0 updated)"));
    let out =
        bonafide(dir.path(), &["token", "create", "--db", "sqlite://t.db", "--email", "ERIN@example.com", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["api_token"].as_str().unwrap().starts_with("bf_"));
    let db = std::fs::read(dir.path().join("t.db")).unwrap();
    let token = v["api_token"].as_str().unwrap().as_bytes();
    assert!(!db.windows(token.len()).any(|w| w == token), "the token is not stored in clear");
}

#[test]
fn reports_are_filed_from_json_and_eml_files_and_bad_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("people.csv"), GOOD).unwrap();
    assert_eq!(bonafide(dir.path(), &["import", "--db", "sqlite://t.db", "people.csv"]).status.code(), Some(0));
    let json =
        r#"{"channel": "phone", "caller_number": "(555) 010-9999", "asked_for": ["password"], "complied": true}"#;
    std::fs::write(dir.path().join("call.json"), json).unwrap();
    let args = ["report", "--db", "sqlite://t.db", "--email", "erin@example.com"];
    let out = bonafide(dir.path(), &[&args[..], &["--json", "call.json"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["received"], true);
    assert!(v["act_now"][0].as_str().unwrap().contains("Call IT now"), "{v}");
    let eml = "From: IT <it@examp1e.com>\r\nSubject: Password expiry\r\n\r\nReply with your password today.\r\n";
    std::fs::write(dir.path().join("mail.eml"), eml).unwrap();
    let out = bonafide(dir.path(), &[&args[..], &["mail.eml"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("report received: "), "{}", text(&out.stdout));
    std::fs::write(dir.path().join("bad.json"), r#"{"channel": "pigeon"}"#).unwrap();
    let out = bonafide(dir.path(), &[&args[..], &["bad.json"]].concat());
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("channel"), "{}", text(&out.stderr));
    let out = bonafide(dir.path(), &["report", "--db", "sqlite://t.db", "--email", "nobody@example.com", "call.json"]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn scan_reads_json_lines_keeps_going_past_a_bad_line_and_eval_scores_labelled_files() {
    let dir = tempfile::tempdir().unwrap();
    let lines = concat!(
        r#"{"id": "a", "text": "Hi, this is the IT help desk. We noticed unusual sign-in activity. I can fix it for you, just read me the code we sent to your phone."}"#,
        "\n",
        r#"{"id": "b", "text": "Lunch at noon?"}"#,
        "\n",
        "not json\n",
        r#"{"id": "d", "messages": [{"from": "x", "text": "Congratulations, you have won a prize! Claim your reward now with a gift card."}]}"#,
        "\n",
    );
    std::fs::write(dir.path().join("in.ndjson"), lines).unwrap();
    let out = bonafide(dir.path(), &["scan", "--format", "ndjson", "in.ndjson"]);
    assert_eq!(out.status.code(), Some(3), "a bad line makes the exit code non-zero");
    let results: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(results.len(), 4, "one line out per line in, in order");
    assert_eq!((results[0]["id"].as_str(), results[0]["verdict"].as_str()), (Some("a"), Some("qpq")));
    let ask = results[0]["stages"].as_array().unwrap().iter().find(|s| s["stage"] == "sensitive_request").unwrap();
    assert_eq!(ask["kind"], "mfa_code");
    assert_eq!(results[1]["verdict"], "benign");
    assert_eq!(results[2]["line"], 3);
    assert!(results[2]["error"].is_string());
    assert_eq!(results[3]["verdict"], "suspicious");
    assert_eq!(results[3]["stages"][0]["message_index"], 0);

    let labelled = concat!(
        r#"{"id": "1", "text": "This is IT support. Please tell me your password so I can fix your account right now.", "label": "scam"}"#,
        "\n",
        r#"{"id": "2", "text": "See you at the meeting.", "label": "benign"}"#,
        "\n",
        r#"{"id": "3", "text": "Hello there", "label": "scam"}"#,
        "\n",
    );
    std::fs::write(dir.path().join("gold.ndjson"), labelled).unwrap();
    let out = bonafide(dir.path(), &["eval", "--json", "gold.ndjson"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let scores: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &scores[0];
    assert_eq!((s["true_positives"].as_u64(), s["false_negatives"].as_u64()), (Some(1), Some(1)));
    assert_eq!((s["false_positives"].as_u64(), s["true_negatives"].as_u64()), (Some(0), Some(1)));
    assert_eq!(s["recall"], 0.5);
    std::fs::write(dir.path().join("unlabelled.ndjson"), "{\"text\": \"x\"}\n").unwrap();
    let out = bonafide(dir.path(), &["eval", "unlabelled.ndjson"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("unlabelled.ndjson:1"), "{}", text(&out.stderr));
}

/// Issue 15, point 14: an empty text was answered `benign (score 0.19)` with exit 0.
#[test]
fn regression_15_14_empty_text_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [("empty.txt", ""), ("blank.txt", " \n\t\u{200b}\u{feff}\n")] {
        std::fs::write(dir.path().join(name), content).unwrap();
        for format in ["text", "json"] {
            let out = bonafide(dir.path(), &["scan", "--format", format, name]);
            assert_eq!(out.status.code(), Some(3), "{name} {format}: {}", text(&out.stdout));
            assert!(text(&out.stderr).contains(&format!("{name}: `text` is empty")), "{}", text(&out.stderr));
            assert!(!text(&out.stdout).contains("verdict"), "{}", text(&out.stdout));
        }
    }
    // In JSON lines, the empty line is named by its number and the others are answered.
    let lines = concat!(
        r#"{"id": "a", "text": "Lunch at noon?"}"#,
        "\n",
        r#"{"id": "b", "text": " \u200b "}"#,
        "\n",
        r#"{"id": "c", "messages": []}"#,
        "\n",
        r#"{"id": "d", "text": "see you"}"#,
        "\n",
    );
    std::fs::write(dir.path().join("in.ndjson"), lines).unwrap();
    let out = bonafide(dir.path(), &["scan", "--format", "ndjson", "in.ndjson"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("2 input line(s)"), "{}", text(&out.stderr));
    let results: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(results.len(), 4);
    assert_eq!((results[1]["id"].as_str(), results[1]["line"].as_u64()), (Some("b"), Some(2)), "{}", results[1]);
    assert!(results[1]["error"].as_str().unwrap().contains("nothing to analyse"), "{}", results[1]);
    assert_eq!(results[2]["line"], 3, "{}", results[2]);
    assert_eq!((results[0]["verdict"].as_str(), results[3]["verdict"].as_str()), (Some("benign"), Some("benign")));

    // `eval` skips an item with nothing to read, counts it, and scores the rest.
    let labelled = concat!(
        r#"{"id": "1", "text": "See you at the meeting.", "label": "benign"}"#,
        "\n",
        r#"{"id": "2", "text": "", "label": "scam"}"#,
        "\n",
    );
    std::fs::write(dir.path().join("gold.ndjson"), labelled).unwrap();
    let out = bonafide(dir.path(), &["eval", "--json", "gold.ndjson"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let scores: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((scores[0]["items"].as_u64(), scores[0]["skipped_empty"].as_u64()), (Some(1), Some(1)), "{scores}");
    assert_eq!(scores[0]["false_negatives"], 0, "{scores}");
    let out = bonafide(dir.path(), &["eval", "gold.ndjson"]);
    assert!(text(&out.stdout).contains("1 item(s) with nothing to read skipped"), "{}", text(&out.stdout));
}

/// Issue 15, point 16: a long message listed its first 200 stages and did not say there were more.
#[test]
fn regression_15_16_scan_says_whether_its_stages_were_cut_short() {
    let dir = tempfile::tempdir().unwrap();
    let ask = "This is the IT help desk, please read me the code we sent you. ";
    std::fs::write(dir.path().join("long.txt"), ask.repeat(300)).unwrap();
    std::fs::write(dir.path().join("short.txt"), ask).unwrap();
    let scan = |file: &str| -> serde_json::Value {
        let out = bonafide(dir.path(), &["scan", "--format", "json", file]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let long = scan("long.txt");
    assert_eq!((long["stages"].as_array().unwrap().len(), &long["stages_truncated"]), (200, &serde_json::json!(true)));
    let short = scan("short.txt");
    assert!(!short["stages"].as_array().unwrap().is_empty());
    assert_eq!(short["stages_truncated"], false, "always present: {short}");
    let out = bonafide(dir.path(), &["scan", "long.txt"]);
    assert!(text(&out.stdout).contains("the first 200 are shown"), "{}", text(&out.stdout));

    let lines = format!("{}\n{}\n", serde_json::json!({ "text": ask.repeat(300) }), serde_json::json!({ "text": ask }));
    std::fs::write(dir.path().join("in.ndjson"), lines).unwrap();
    let out = bonafide(dir.path(), &["scan", "--format", "ndjson", "in.ndjson"]);
    let results: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        (results[0]["stages_truncated"].as_bool(), results[1]["stages_truncated"].as_bool()),
        (Some(true), Some(false))
    );
}

#[test]
fn the_committed_weights_are_what_the_training_text_gives() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = bonafide(root, &["train", "--check", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "run `bonafide train` after changing the training text: {}",
        text(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(summary["examples"].as_u64().unwrap() > 4000, "{summary}");

    // The check can fail: weights that are not what the text gives are refused, and nothing is written.
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join("stale.weights");
    std::fs::write(&stale, "bias -2.5\n").unwrap();
    let out = bonafide(root, &["train", "--check", "--out", stale.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not what the training text gives"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&stale).unwrap(), "bias -2.5\n");
}

/// The public sets, beside the repository as CI lays it out; BONAFIDE_SHARED_DATA names them when the
/// clone is elsewhere.
fn shared_data(root: &Path) -> PathBuf {
    std::env::var_os("BONAFIDE_SHARED_DATA").map_or_else(|| root.join("../shared/data"), Into::into)
}

/// An item's words for comparing passages: lower-case ASCII letters, digits and apostrophes, and
/// `[Placeholder]`s as one word.
fn passage_words(item: &serde_json::Value) -> Vec<String> {
    let text = match item["messages"].as_array() {
        Some(messages) => messages.iter().filter_map(|m| m["text"].as_str()).collect::<Vec<_>>().join(" "),
        None => item["text"].as_str().unwrap_or_default().to_owned(),
    };
    let lower = text.to_lowercase();
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '\'';
    let mut words = Vec::new();
    let mut rest = lower.as_str();
    while let Some(c) = rest.chars().next() {
        let letters = rest[c.len_utf8()..].bytes().take_while(u8::is_ascii_lowercase).count();
        let len = if c == '[' && letters > 0 && rest.as_bytes().get(1 + letters) == Some(&b']') {
            letters + 2
        } else if is_word(c) {
            rest.find(|c: char| !is_word(c)).unwrap_or(rest.len())
        } else {
            rest = &rest[c.len_utf8()..];
            continue;
        };
        words.push(rest[..len].to_owned());
        rest = &rest[len..];
    }
    words
}

/// Each run of `PASSAGE` words of every item in a folder's NDJSON files, as a hash, with where it is.
fn passages(dir: &Path, mut f: impl FnMut(u64, &str, usize, &[String])) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ndjson"))
        .collect();
    files.sort();
    let hasher = std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for (n, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
            let item: serde_json::Value = serde_json::from_str(line).unwrap();
            for run in passage_words(&item).windows(PASSAGE) {
                f(std::hash::BuildHasher::hash_one(&hasher, run), &name, n + 1, run);
            }
        }
    }
}

const PASSAGE: usize = 12;

/// The training text is the team's own: no item shares a run of twelve words with the public sets.
#[test]
fn the_training_text_shares_no_passage_with_the_public_sets() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut public = std::collections::HashSet::new();
    passages(&shared_data(root), |hash, _, _, _| {
        public.insert(hash);
    });
    assert!(public.len() > 100_000, "the public sets were not read: {} runs", public.len());
    // The first shared run of each training item, by file and line.
    let mut shared = std::collections::BTreeMap::new();
    passages(&root.join("crates/analyzer/train/en"), |hash, file, line, run| {
        if public.contains(&hash) {
            shared.entry((file.to_owned(), line)).or_insert_with(|| run.join(" "));
        }
    });
    let listed: Vec<String> = shared.iter().map(|((file, line), run)| format!("{file}:{line}: {run}")).collect();
    assert!(listed.is_empty(), "training items that repeat a public passage:\n{}", listed.join("\n"));
}

// Floors under the figures measured on the dev sets with the committed weights (README.md, "Analyzer
// quality", gives the figures and the targets).
const VISHING_F1: f64 = 0.95;
const SMS_F1: f64 = 0.96;
const PHISHING_RECALL: f64 = 0.93;
const TECH_CHAT_FPR: f64 = 0.01;
const WORK_EMAIL_FPR: f64 = 0.07;
const STRIPPED_RECALL_LOSS: f64 = 0.05;

/// The figures `bonafide eval` gives on the public development sets (read by path from `../shared/data`,
/// never copied), each a floor a little under the measured value, so a change that loses quality fails.
#[test]
fn on_the_public_dev_sets_the_analyzer_keeps_its_measured_quality() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = shared_data(root);
    let file = |name: &str| data.join(format!("{name}.dev.ndjson")).display().to_string();
    let sets = ["vishing_transcripts", "sms_scam", "phishing_email", "tech_support_chat", "work_email"];
    let files: Vec<String> = sets.iter().map(|s| file(s)).collect();
    let eval = |extra: &[&str]| -> Vec<serde_json::Value> {
        let mut args = vec!["eval", "--json"];
        args.extend_from_slice(extra);
        args.extend(files.iter().map(String::as_str));
        let out = bonafide(root, &args);
        assert_eq!(out.status.code(), Some(0), "the dev sets are read from ../shared/data: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let figure = |scores: &[serde_json::Value], set: &str, name: &str| -> f64 {
        let s = scores.iter().find(|s| s["file"].as_str().unwrap().contains(set)).unwrap();
        s[name].as_f64().unwrap()
    };
    let scores = eval(&[]);
    let floors = [
        ("vishing_transcripts", "f1", VISHING_F1),
        ("sms_scam", "f1", SMS_F1),
        ("phishing_email", "recall", PHISHING_RECALL),
    ];
    for (set, name, floor) in floors {
        let value = figure(&scores, set, name);
        assert!(value >= floor, "{set} {name} {value:.3} < {floor}");
    }
    let ceilings = [("tech_support_chat", TECH_CHAT_FPR), ("work_email", WORK_EMAIL_FPR)];
    for (set, ceiling) in ceilings {
        let value = figure(&scores, set, "false_positive_rate");
        assert!(value <= ceiling, "{set} false-positive rate {value:.3} > {ceiling}");
    }
    // Without the vishing set's artefacts (placeholders, robocall boilerplate) recall holds.
    let stripped = eval(&["--strip-artefacts"]);
    let (before, after) =
        (figure(&scores, "vishing_transcripts", "recall"), figure(&stripped, "vishing_transcripts", "recall"));
    assert!(after >= before - STRIPPED_RECALL_LOSS, "recall {before:.3} falls to {after:.3} without the artefacts");
}

/// `bench analyze` times the analyzer in memory and `bonafide scan --format ndjson` as its own process,
/// which must answer every line; a missing baseline Python is a readable error.
#[test]
fn the_analyzer_benchmark_runs_the_scan_command_itself() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        r#"{"id": "a", "text": "Hi, this is IT support. Read me the code we just sent you."}"#,
        r#"{"id": "b", "messages": [{"from": "x", "text": "lunch at noon?"}, {"from": "y", "text": "sure"}]}"#,
    ];
    std::fs::write(dir.path().join("in.ndjson"), lines.join("\n")).unwrap();
    let args = ["bench", "analyze", "--input", "in.ndjson", "--repeat", "3", "--baseline", "none", "--json"];
    let out = bonafide(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let figures: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(figures["messages"], 2);
    assert!(figures["scan_process_msgs_per_s"].as_f64().unwrap() > 0.0, "{figures}");
    assert!(figures["analyzer_msgs_per_s"].as_f64().unwrap() > 0.0, "{figures}");
    assert!(figures["baseline"].is_null());

    let args = ["bench", "analyze", "--input", "in.ndjson", "--python", "/nonexistent/python"];
    let out = bonafide(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("running the baseline"), "{}", text(&out.stderr));
}

/// `bench risk` at a tiny size, on SQLite and PostgreSQL: every figure is there, the synthetic company
/// spreads over the levels, both snapshots ran and every departments request answered.
#[test]
fn the_risk_benchmark_scores_snapshots_on_both_databases_and_serves_the_departments() {
    let dir = tempfile::tempdir().unwrap();
    let admin =
        std::env::var("BONAFIDE_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let args = [
        "bench",
        "risk",
        "--people",
        "300",
        "--api-people",
        "60",
        "--postgres",
        &admin,
        "--clients",
        "4",
        "--seconds",
        "1",
        "--rounds",
        "1",
        "--warmup",
        "0",
        "--json",
    ];
    let out = bonafide(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["scoring"]["people"], 300, "{r}");
    let levels: Vec<u64> = r["scoring"]["by_level"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).collect();
    assert_eq!(levels.iter().sum::<u64>(), 300, "{r}");
    assert!(levels.iter().filter(|n| **n > 0).count() >= 2, "one level only: {r}");
    let databases: Vec<&str> =
        r["snapshots"].as_array().unwrap().iter().map(|s| s["database"].as_str().unwrap()).collect();
    assert_eq!(databases, ["sqlite", "postgresql"]);
    for s in r["snapshots"].as_array().unwrap() {
        assert!(s["snapshot_ms"].as_f64().unwrap() > 0.0, "{r}");
    }
    assert!(r["departments"]["requests"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(r["departments"]["errors"], 0, "{r}");
    assert_eq!(r["healthz"]["errors"], 0, "{r}");
}

#[test]
fn audit_verify_passes_then_names_the_entry_altered_in_the_database() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("people.csv"), GOOD).unwrap();
    assert_eq!(bonafide(dir.path(), &["import", "--db", "sqlite://t.db", "people.csv"]).status.code(), Some(0));
    let token = ["token", "create", "--db", "sqlite://t.db", "--email", "erin@example.com"];
    assert_eq!(bonafide(dir.path(), &token).status.code(), Some(0));
    let out = bonafide(dir.path(), &["audit", "verify", "--db", "sqlite://t.db", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["entries"].as_i64(), v["broken"].is_null()), (Some(2), true));

    let db = rusqlite::Connection::open(dir.path().join("t.db")).unwrap();
    db.execute("UPDATE audit_log SET target = 'mallory@example.com' WHERE seq = 2", []).unwrap();
    drop(db);
    let out = bonafide(dir.path(), &["audit", "verify", "--db", "sqlite://t.db"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(text(&out.stderr).contains("broken at entry 2"), "{}", text(&out.stderr));
}

#[test]
fn usage_errors_and_missing_secrets_have_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(bonafide(dir.path(), &["no-such-command"]).status.code(), Some(2));
    let out = bonafide(dir.path(), &["serve", "--db", "sqlite://t.db", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("no challenge secret"));
    let out = bonafide(dir.path(), &["migrate", "--db", "mysql://nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("unsupported database url"));
}

#[tokio::test]
async fn the_demo_serves_a_company_with_working_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let (demo, creds) = common::start_demo(dir.path()).await;
    let base = creds["base_url"].as_str().unwrap().to_owned();
    let people = creds["people"].as_array().unwrap();
    assert!(people.len() >= 48);
    let staff = people.iter().filter(|p| p["staff_id"].is_string()).count();
    assert_eq!(staff, 6);
    let employee = people.iter().find(|p| p["roles"] == serde_json::json!(["employee"])).unwrap();
    bonafide_web::install_tls_provider();
    let client = reqwest::Client::new();
    common::wait_healthy(&client, &base).await;
    let me: serde_json::Value =
        common::json_of(client.get(format!("{base}/api/v1/me")).bearer_auth(employee["api_token"].as_str().unwrap()))
            .await;
    assert_eq!(me["email"], employee["email"]);
    // The example company has a campaign under way, and everyone is warned about it.
    let warnings: serde_json::Value = common::json_of(
        client.get(format!("{base}/api/v1/warnings")).bearer_auth(employee["api_token"].as_str().unwrap()),
    )
    .await;
    let warning = warnings[0]["warning"].as_str().unwrap_or_default();
    assert!(warning.contains("+1 555 010 9999") && warning.contains("\"Michael\""), "{warnings}");
    // The portal: the run's password signs the employee in (no second factor is required of employees).
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = no_redirects.get(format!("{base}/signin")).send().await.unwrap();
    let cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let html = form.text().await.unwrap();
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let password = employee["password"].as_str().unwrap();
    let email = employee["email"].as_str().unwrap();
    let signed_in = no_redirects
        .post(format!("{base}/signin"))
        .header("cookie", cookie)
        .form(&[("csrf", csrf.as_str()), ("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()["location"], "/");
    drop(demo);
    let secret = std::fs::metadata(dir.path().join("bonafide-demo.db.secret")).unwrap();
    #[cfg(unix)]
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&secret.permissions()) & 0o077, 0);
}

/// Issue 16: the contact policy kept in files and applied from the command line; every bad field is
/// named with its line and nothing is written (exit 3).
#[test]
fn the_contact_policy_is_set_from_toml_or_json_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    let db = ["--db", "sqlite://t.db"];
    let show = |json: bool| {
        let mut args = vec!["policy", "show"];
        args.extend(db);
        if json {
            args.push("--json");
        }
        bonafide(dir.path(), &args)
    };
    let out = show(false);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("the built-in default is in force"), "{}", text(&out.stdout));
    std::fs::write(dir.path().join("policy.md"), "We **never** ask for codes.\n").unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "channels = [\"phone\", \"fax\"]\nack_due_days = 0\n\n[contact_hours]\nzone = \"Mars/Olympus\"\nfrom = \"08:00\"\nto = \"18:00\"\n",
    )
    .unwrap();
    let set = |rules: &str| {
        let mut args = vec!["policy", "set", rules, "--text", "policy.md"];
        args.extend(db);
        bonafide(dir.path(), &args)
    };
    let out = set("bad.toml");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    for expected in
        ["bad.toml:1: rules.channels[1]", "bad.toml:2: rules.ack_due_days", "bad.toml:5: rules.contact_hours.zone"]
    {
        assert!(err.contains(expected), "{expected:?} not in {err}");
    }
    assert!(text(&show(false).stdout).contains("built-in default"), "nothing was written");
    std::fs::write(dir.path().join("broken.toml"), "channels = [\n\"phone\"\nack").unwrap();
    let out = set("broken.toml");
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("broken.toml:"), "{}", text(&out.stderr));
    std::fs::write(
        dir.path().join("policy.toml"),
        "channels = [\"phone\", \"video\", \"chat\", \"email\", \"in_person\"]\nack_due_days = 7\n\n[categories]\npassword_reset = [\"video\", \"in_person\"]\n",
    )
    .unwrap();
    let out = set("policy.toml");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("published contact policy version 1"), "{}", text(&out.stdout));
    std::fs::write(dir.path().join("policy.json"), r#"{"channels": ["phone", "email"], "ack_due_days": 30}"#).unwrap();
    assert_eq!(set("policy.json").status.code(), Some(0));
    let out = show(true);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (shown["version"].clone(), shown["rules"]["ack_due_days"].clone()),
        (serde_json::json!(2), serde_json::json!(30))
    );
    assert_eq!(shown["text"], "We **never** ask for codes.\n");
    let human = text(&show(false).stdout);
    assert!(human.contains("Version 2") && human.contains("never by"), "{human}");
}

/// Issue 17: a machine client's token, made by the operator with its scopes; bad names and scopes exit 3.
#[test]
fn a_service_token_is_made_with_its_scopes_and_shown_once() {
    let dir = tempfile::tempdir().unwrap();
    let args = |extra: &[&'static str]| {
        let mut a = vec!["token", "create", "--db", "sqlite://t.db"];
        a.extend_from_slice(extra);
        a
    };
    let out = bonafide(dir.path(), &args(&["--service", "nginx-intranet", "--scope", "authorize", "--json"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (made["service"].clone(), made["scopes"].clone()),
        (serde_json::json!("nginx-intranet"), serde_json::json!(["authorize"]))
    );
    assert!(made["api_token"].as_str().unwrap().len() > 30);
    let out = bonafide(dir.path(), &args(&["--service", "nginx", "--scope", "everything"]));
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("unknown scope `everything`"), "{}", text(&out.stderr));
    // A service needs a scope, and a token is for a person or a service, not both.
    assert_eq!(bonafide(dir.path(), &args(&["--service", "nginx"])).status.code(), Some(2));
    assert_eq!(
        bonafide(dir.path(), &args(&["--service", "nginx", "--scope", "authorize", "--email", "a@example.com"]))
            .status
            .code(),
        Some(2)
    );
}

/// Issue 17: access-policy tests kept beside the policies, run on the demo's directory against the
/// version in force or a file not applied yet; a failing case exits 1, a bad policy file 3 with its place.
#[tokio::test]
async fn access_policy_cases_pass_or_fail_against_the_policies_in_force_or_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_demo, creds) = common::start_demo(dir.path()).await;
    bonafide_web::install_tls_provider();
    common::wait_healthy(&reqwest::Client::new(), creds["base_url"].as_str().unwrap()).await;
    let office = serde_json::json!({ "mfa": true, "device_managed": true, "network": "office" });
    let cases = serde_json::json!([
        { "principal": "ana.lopez@example.com", "action": "access", "resource": "payroll-db", "context": office, "expect": "allow" },
        { "principal": "ana.lopez@example.com", "action": "access", "resource": "payroll-db",
          "context": { "mfa": true, "network": "office" }, "expect": "deny" },
        { "principal": "ben.berg@example.com", "action": "access", "resource": "payroll-db", "context": office, "expect": "deny" },
    ]);
    std::fs::write(dir.path().join("cases.json"), cases.to_string()).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["policy", "test", "--db", "sqlite://bonafide-demo.db"];
        args.extend_from_slice(extra);
        bonafide(dir.path(), &args)
    };
    let out = run(&["cases.json"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("3 of 3 cases passed"), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("by high-needs-mfa-and-a-managed-device"), "{}", text(&out.stdout));
    // A file that lets everyone in fails the cases that expect a deny, before it is ever applied.
    std::fs::write(dir.path().join("open.cedar"), "permit (principal, action, resource);").unwrap();
    let out = run(&["cases.json", "--policies", "open.cedar", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.iter().map(|l| l["passed"].as_bool().unwrap()).collect::<Vec<_>>(), [true, false, false]);
    // A policy file that does not compile names its place; a bad case file names its line.
    std::fs::write(
        dir.path().join("broken.cedar"),
        "permit (principal, action, resource);\npermit (principal action, resource);",
    )
    .unwrap();
    let out = run(&["cases.json", "--policies", "broken.cedar"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("broken.cedar:2:"), "{}", text(&out.stderr));
    std::fs::write(dir.path().join("bad.json"), "[\n{\"principal\": \"a@example.com\", \"action\": \"access\"}\n]")
        .unwrap();
    let out = run(&["bad.json"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("bad.json:2:"), "{}", text(&out.stderr));
    // An unknown person fails its case, with the reason.
    let unknown = serde_json::json!([{ "principal": "nobody@example.com", "action": "access", "resource": "wiki", "expect": "deny" }]);
    std::fs::write(dir.path().join("unknown.json"), unknown.to_string()).unwrap();
    let out = run(&["unknown.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("no person has the email nobody@example.com"), "{}", text(&out.stdout));
}

#[test]
fn backup_then_restore_moves_a_company_and_a_broken_file_exits_3_restoring_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("people.csv"), GOOD).unwrap();
    let out = bonafide(dir.path(), &["import", "--db", "sqlite://a.db", "people.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = bonafide(dir.path(), &["backup", "--db", "sqlite://a.db", "--out", "a.backup", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(written["tables"]["people"], 2);
    // A backup cut short, or with one byte changed, is refused with exit code 3; nothing is restored.
    let whole = std::fs::read_to_string(dir.path().join("a.backup")).unwrap();
    let cut = &whole.as_bytes()[..whole.len() / 2];
    let changed = whole.replacen("Erin Walsh", "Erin Wolsh", 1);
    for (name, content) in [("cut.backup", cut), ("changed.backup", changed.as_bytes())] {
        std::fs::write(dir.path().join(name), content).unwrap();
        let out = bonafide(dir.path(), &["restore", name, "--db", "sqlite://b.db"]);
        assert_eq!(out.status.code(), Some(3), "{name}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("cannot restore this backup"), "{}", text(&out.stderr));
    }
    let out = bonafide(dir.path(), &["restore", "a.backup", "--db", "sqlite://b.db", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let restored: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(restored["tables"], written["tables"]);
    let out = bonafide(dir.path(), &["audit", "verify", "--db", "sqlite://b.db"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Into a database that holds a company already: refused, exit code 3.
    let out = bonafide(dir.path(), &["restore", "a.backup", "--db", "sqlite://b.db"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("not empty"), "{}", text(&out.stderr));
}
