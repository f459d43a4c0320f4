//! The analyzer on scripts the team wrote: the IT-support script is `qpq`, other scams `suspicious`, a
//! genuine help-desk exchange that mentions passwords `benign`.

use super::*;

fn verdict(text: &str) -> Verdict {
    Analyzer::english().analyze_text(text).verdict
}

#[test]
fn the_it_support_script_is_qpq_with_its_stages_explained() {
    let text = "Hi, this is Mike from the IT help desk. Are you having trouble logging in today? A lot of people \
        in your office have had the same issue. I can fix it for you right now, just read me the code we just \
        sent to your phone.";
    let a = Analyzer::english().analyze_text(text);
    assert_eq!(a.verdict, Verdict::Qpq, "{a:?}");
    let stages: Vec<Stage> = a.stages.iter().map(|f| f.stage).collect();
    for s in
        [Stage::AuthorityClaim, Stage::ProblemProbe, Stage::SocialProof, Stage::FavourOffer, Stage::SensitiveRequest]
    {
        assert!(stages.contains(&s), "{s:?} in {stages:?}");
    }
    let ask = a.stages.iter().find(|f| f.stage == Stage::SensitiveRequest).unwrap();
    assert_eq!(ask.kind, Some(RequestKind::MfaCode));
    assert_eq!(&text[ask.start..ask.end], ask.evidence);
    assert!(!ask.explanation.is_empty());
    assert!(a.score > 0.9, "{}", a.score);
}

#[test]
fn a_genuine_help_desk_answer_that_mentions_passwords_is_benign() {
    assert_eq!(
        verdict(
            "Thanks for your ticket. We reset your account; you will be asked to choose a new password when you next sign in."
        ),
        Verdict::Benign
    );
    assert_eq!(verdict("I forgot my password again, can someone reset it for me?"), Verdict::Benign);
    assert_eq!(verdict("sudo apt-get install openssh-server and then restart the service"), Verdict::Benign);
}

#[test]
fn other_scams_are_suspicious() {
    let text = "Congratulations! You have won a cash prize. To claim your reward pay the processing fee with gift cards within 24 hours.";
    assert_eq!(verdict(text), Verdict::Suspicious);
}

#[test]
fn being_sent_to_a_channel_you_know_or_a_request_you_made_lowers_the_score() {
    let a = Analyzer::english();
    let call = "This is Northfield Bank. We noticed a card payment of 420 dollars that looks unusual. If it was \
        not you, ";
    let known = a.analyze_text(&format!("{call}hang up and call the number on the back of your card."));
    let given = a.analyze_text(&format!("{call}let us know."));
    assert!(known.stages.iter().any(|f| f.stage == Stage::OfficialChannel), "{known:?}");
    assert!(known.score < given.score, "{} !< {}", known.score, given.score);

    let followed =
        a.analyze_text("Hi, this is the service desk following up on the ticket you opened about your laptop.");
    let cold = a.analyze_text("Hi, this is the service desk calling about your laptop.");
    assert!(followed.stages.iter().any(|f| f.stage == Stage::PriorRequest), "{followed:?}");
    assert!(followed.score < cold.score, "{} !< {}", followed.score, cold.score);
}

#[test]
fn order_and_speaker_matter_in_a_conversation() {
    let a = Analyzer::english();
    // The employee says they have a problem and mention their password; the helper never asks for it.
    let genuine = [
        Message { from: "erin", text: "Hi, I'm locked out and can't log in, my password has expired." },
        Message {
            from: "desk",
            text: "No worries, I've sent a reset link to your manager; choose a new password there.",
        },
    ];
    assert_ne!(a.analyze_conversation(&genuine).verdict, Verdict::Qpq);
    // A stranger sets up the script, then asks.
    let attack = [
        Message {
            from: "caller",
            text: "Hello, this is the service desk, we noticed unusual sign-in activity on your account.",
        },
        Message { from: "erin", text: "Oh no, what should I do?" },
        Message { from: "caller", text: "I can fix that for you. Please tell me the code on your phone." },
    ];
    let found = a.analyze_conversation(&attack);
    assert_eq!(found.verdict, Verdict::Qpq, "{found:?}");
    assert!(found.stages.iter().any(|f| f.message_index == Some(2) && f.stage == Stage::SensitiveRequest));
}

#[test]
fn words_inside_other_words_do_not_match() {
    let a = Analyzer::english().analyze_text("The visa application for the winners' circle");
    assert!(a.stages.iter().all(|f| f.evidence.to_lowercase() != "winner"), "{:?}", a.stages);
}

#[test]
fn typographic_apostrophes_match() {
    let a = Analyzer::english().analyze_text("Please don\u{2019}t tell anyone about this call.");
    assert!(a.stages.iter().any(|f| f.stage == Stage::Secrecy), "{:?}", a.stages);
}

/// Issue 15, point 15: "hi" repeated 1,000 times was `suspicious` (0.77), 10,000 times 0.999.
#[test]
fn regression_15_15_a_greeting_repeated_ten_thousand_times_is_as_benign_as_once() {
    let a = Analyzer::english();
    let once = a.analyze_text("hi");
    assert_eq!(once.verdict, Verdict::Benign);
    for n in [1_000, 10_000] {
        let repeated = a.analyze_text(&"hi ".repeat(n));
        assert_eq!(repeated.verdict, Verdict::Benign, "hi × {n}: {}", repeated.score);
        assert!(repeated.score < 0.5, "hi × {n}: {}", repeated.score);
        // A passage said over and over is judged once.
        assert_eq!(repeated.score, once.score, "hi × {n}");
    }
}

/// Issue 15, point 16: a long message listed its first 200 stages and did not say there were more.
#[test]
fn regression_15_16_an_answer_says_when_its_stages_were_cut_short() {
    let a = Analyzer::english();
    let ask = "please read me the code we sent. ";
    let cut = a.analyze_text(&ask.repeat(MAX_FINDINGS + 1));
    assert_eq!((cut.stages.len(), cut.stages_truncated), (MAX_FINDINGS, true));
    let whole = a.analyze_text(&ask.repeat(MAX_FINDINGS / 2));
    assert!(!whole.stages.is_empty() && whole.stages.len() < MAX_FINDINGS);
    assert!(!whole.stages_truncated);
    // Exactly as many as are listed is not cut short.
    let exact = a.analyze_text("read me the code. ".repeat(MAX_FINDINGS).as_str());
    assert_eq!((exact.stages.len(), exact.stages_truncated), (MAX_FINDINGS, false), "{:?}", exact.stages.first());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Benign texts of the kinds the analyzer reads: chat, texts, e-mail, calls, a help-desk answer.
    const BENIGN: [&str; 10] = [
        "hi",
        "Lunch at noon? See you there.",
        "Thanks for your ticket. We reset your account; you will be asked to choose a new password when you \
         next sign in.",
        "I forgot my password again, can someone reset it for me?",
        "sudo apt-get install openssh-server and then restart the service",
        "Hey, are we still on for Saturday? Mum says bring the kids.",
        "Subject: Minutes of Tuesday's meeting\n\nAttached are the minutes. Please send corrections by Friday.",
        "Hi, this is Sam from Riverside Dental confirming your appointment on Monday at 10. See you then.",
        "ok",
        "Your parcel was delivered to your front porch at 14:02.",
    ];

    proptest! {
        /// Issue 15, point 15: repetition alone raised the score until a benign text was flagged.
        #[test]
        fn regression_15_15_repetition_never_flips_a_benign_text(
            which in 0..BENIGN.len(),
            n in 1usize..=200,
            separator in prop::sample::select(vec![" ", "\n", "\n\n", ". "]),
        ) {
            let a = Analyzer::english();
            let text = BENIGN[which];
            let once = a.analyze_text(text);
            prop_assert_eq!(once.verdict, Verdict::Benign, "{}", once.score);
            let repeated = a.analyze_text(&vec![text; n].join(separator));
            prop_assert_eq!(repeated.verdict, Verdict::Benign, "{:?} × {}: {} (once {})", text, n, repeated.score, once.score);
            prop_assert_eq!(repeated.score, once.score, "{:?} × {}", text, n);
        }

        /// The same for any text of ordinary words that scores benign once.
        #[test]
        fn repeating_any_benign_run_of_words_keeps_it_benign(words in "([a-z]{1,8} ){1,20}", n in 2usize..=200) {
            let a = Analyzer::english();
            let once = a.analyze_text(&words);
            prop_assume!(once.verdict == Verdict::Benign);
            let repeated = a.analyze_text(&words.repeat(n));
            prop_assert_eq!(repeated.verdict, Verdict::Benign, "{:?} × {}: {} (once {})", words, n, repeated.score, once.score);
        }

        #[test]
        fn any_text_is_analysed_within_bounds(text in "\\PC{0,2000}") {
            let a = Analyzer::english().analyze_text(&text);
            prop_assert!((0.0..=1.0).contains(&a.score));
            prop_assert!(a.stages.len() <= MAX_FINDINGS);
            for f in &a.stages {
                prop_assert_eq!(text.get(f.start..f.end), Some(f.evidence.as_str()));
            }
        }
    }
}

#[test]
fn a_ten_megabyte_message_and_a_hundred_thousand_messages_are_handled() {
    let big = "please read me the code we sent. ".repeat(10 * 1024 * 1024 / 33);
    let a = Analyzer::english().analyze_text(&big);
    assert_eq!(a.stages.len(), MAX_FINDINGS);
    let messages: Vec<Message<'_>> =
        (0..100_000).map(|_| Message { from: "x", text: "hello from the help desk" }).collect();
    let c = Analyzer::english().analyze_conversation(&messages);
    assert_eq!(c.stages.len(), MAX_FINDINGS);
}

#[test]
fn invisible_characters_hidden_in_words_do_not_hide_the_ask() {
    let text = "This is the help desk. Please tell me your pass\u{200b}word\u{2060} now.";
    let a = Analyzer::english().analyze_text(text);
    let ask = a.stages.iter().find(|f| f.stage == Stage::SensitiveRequest).unwrap();
    assert_eq!(ask.kind, Some(RequestKind::Credential));
    // The span is the original text's, invisible character included, and ends where the word does.
    assert_eq!(&text[ask.start..ask.end], ask.evidence);
    assert!(ask.evidence.ends_with("pass\u{200b}word"), "{:?}", ask.evidence);
}

#[test]
fn bad_weights_lines_are_refused_with_their_line_number() {
    let lexicon = include_str!("../data/en.lex");
    for (weights, line) in [
        ("bias 1\nurgency x\n", 2),
        ("# c\n\nbias inf\n", 3),
        ("b:nopair 1\n", 1),
        ("e:99999 0.5\n", 1),
        ("e:x 0.5\n", 1),
        ("lonely\n", 1),
    ] {
        let err = Analyzer::new(lexicon, weights).unwrap_err();
        assert_eq!(err.line, line, "{weights:?}: {err}");
    }
    let a = Analyzer::new(lexicon, "bias 0\ne:2 1.5\n").unwrap();
    assert_eq!(a.embedding_dimension(), Some(3));
}
