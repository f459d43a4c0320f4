//! The QPQ analyzer: finds the stages of the "IT support" script (an authority claim, a problem probe,
//! social proof, rapport, a favour offered, then the ask — a password, a code, a login walkthrough, remote
//! access, an install — often with urgency or secrecy, or a move to another channel) in a message, an
//! email or a conversation, and weighs their combination and order into a score and a verdict.
//!
//! Pure and bounded: one Aho-Corasick pass per message (linear in the text, no backtracking), a fixed
//! amount of state per conversation, at most [`MAX_FINDINGS`] findings reported; never panics. The phrases
//! (`data/en.lex`) and the weights (`data/en.weights`) are data, so other languages can be added.
#![deny(missing_docs)]

pub mod email;
pub mod input;
pub mod lexicon;
pub mod train;
mod weights;
pub mod words;

pub use weights::Weights;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Serialize;
use std::sync::OnceLock;

/// Findings reported per analysis (the score still counts every stage).
pub const MAX_FINDINGS: usize = 200;

/// A stage of a social-engineering script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// "I'm calling from the IT help desk."
    AuthorityClaim,
    /// "Are you having trouble logging in?"
    ProblemProbe,
    /// "It's been an issue for many people in your office."
    SocialProof,
    /// Friendliness and sympathy.
    Rapport,
    /// "I can fix that for you."
    FavourOffer,
    /// The ask: a password, a code, a login walkthrough, remote access, an install, money, personal data.
    SensitiveRequest,
    /// Rushing.
    Urgency,
    /// "Don't tell anyone."
    Secrecy,
    /// A move to a text, a link, another number.
    ChannelSwitch,
    /// Marks of other common scams (prizes, threats, fees, fake deliveries).
    ScamCue,
    /// "Following up on the ticket you opened": contact the person asked for, which lowers the score (a
    /// scammer can claim it too, so the finding says to check the request is real).
    PriorRequest,
    /// "Visit your nearest branch in person", "call the number on the back of your card": a channel the
    /// person already knows, where genuine organisations send people, which lowers the score.
    OfficialChannel,
}

impl Stage {
    /// The name used in the lexicon and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::AuthorityClaim => "authority_claim",
            Stage::ProblemProbe => "problem_probe",
            Stage::SocialProof => "social_proof",
            Stage::Rapport => "rapport",
            Stage::FavourOffer => "favour_offer",
            Stage::SensitiveRequest => "sensitive_request",
            Stage::Urgency => "urgency",
            Stage::Secrecy => "secrecy",
            Stage::ChannelSwitch => "channel_switch",
            Stage::ScamCue => "scam_cue",
            Stage::PriorRequest => "prior_request",
            Stage::OfficialChannel => "official_channel",
        }
    }

    /// Reads a name.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "authority_claim" => Stage::AuthorityClaim,
            "problem_probe" => Stage::ProblemProbe,
            "social_proof" => Stage::SocialProof,
            "rapport" => Stage::Rapport,
            "favour_offer" => Stage::FavourOffer,
            "sensitive_request" => Stage::SensitiveRequest,
            "urgency" => Stage::Urgency,
            "secrecy" => Stage::Secrecy,
            "channel_switch" => Stage::ChannelSwitch,
            "scam_cue" => Stage::ScamCue,
            "prior_request" => Stage::PriorRequest,
            "official_channel" => Stage::OfficialChannel,
            _ => return None,
        })
    }
}

/// What a sensitive request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A password or sign-in details.
    Credential,
    /// A one-time code or a push approval.
    MfaCode,
    /// Going through a sign-in together.
    LoginWalkthrough,
    /// Remote access or screen sharing.
    RemoteAccess,
    /// Installing or running something.
    SoftwareInstall,
    /// Money, gift cards, card or bank details.
    Payment,
    /// Personal details.
    PersonalInfo,
}

impl RequestKind {
    /// The name used in the lexicon and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Credential => "credential",
            RequestKind::MfaCode => "mfa_code",
            RequestKind::LoginWalkthrough => "login_walkthrough",
            RequestKind::RemoteAccess => "remote_access",
            RequestKind::SoftwareInstall => "software_install",
            RequestKind::Payment => "payment",
            RequestKind::PersonalInfo => "personal_info",
        }
    }

    /// Reads a name.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "credential" => RequestKind::Credential,
            "mfa_code" => RequestKind::MfaCode,
            "login_walkthrough" => RequestKind::LoginWalkthrough,
            "remote_access" => RequestKind::RemoteAccess,
            "software_install" => RequestKind::SoftwareInstall,
            "payment" => RequestKind::Payment,
            "personal_info" => RequestKind::PersonalInfo,
            _ => return None,
        })
    }

    /// Whether it is what the IT-support script is after: access to the employee's account or computer.
    pub fn is_access(self) -> bool {
        matches!(
            self,
            RequestKind::Credential
                | RequestKind::MfaCode
                | RequestKind::LoginWalkthrough
                | RequestKind::RemoteAccess
                | RequestKind::SoftwareInstall
        )
    }
}

/// One stage found in the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The stage.
    pub stage: Stage,
    /// What is asked, for a sensitive request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<RequestKind>,
    /// Which message, in a conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_index: Option<usize>,
    /// Byte offset where the evidence starts (in its message).
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
    /// The words found.
    pub evidence: String,
    /// What it means, for a non-expert.
    #[serde(skip)]
    pub explanation: &'static str,
}

/// The verdict on a text or conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The IT-support (quid pro quo) script.
    Qpq,
    /// Social engineering or a scam of another kind.
    Suspicious,
    /// Nothing of the kind.
    Benign,
}

impl Verdict {
    /// The output name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Qpq => "qpq",
            Verdict::Suspicious => "suspicious",
            Verdict::Benign => "benign",
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// Who wrote it.
    pub from: &'a str,
    /// What they wrote.
    pub text: &'a str,
}

/// The analysis of one text or conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// In [0, 1]: how strongly the text follows a social-engineering script.
    pub score: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// The stages found, in order (at most [`MAX_FINDINGS`]).
    pub stages: Vec<Finding>,
    /// Whether more stages were found than [`MAX_FINDINGS`], so `stages` lists only the first ones.
    pub stages_truncated: bool,
}

struct Pattern {
    /// The phrase's number in the lexicon (its apostrophe variants share it).
    phrase: usize,
    stage: Stage,
    kind: Option<RequestKind>,
    it: bool,
    explanation: &'static str,
}

/// A compiled lexicon and weights.
pub struct Analyzer {
    matcher: Option<AhoCorasick>,
    patterns: Vec<Pattern>,
    weights: Weights,
    linear: Linear,
}

/// The named weights every analysis reads, looked up once when the analyzer is built.
struct Linear {
    bias: f64,
    word_power: f64,
    /// In the order of [`stage_features`].
    stages: [f64; STAGE_FEATURES],
}

impl Linear {
    fn of(weights: &Weights) -> Linear {
        Linear {
            bias: weights.get("bias"),
            word_power: weights.word_power(),
            stages: stage_features(&Seen::default()).map(|(name, _)| weights.get(name)),
        }
    }
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer").field("patterns", &self.patterns.len()).finish_non_exhaustive()
    }
}

/// Per conversation: where each stage was first seen (message, byte), by speaker kind.
#[derive(Default)]
struct Seen {
    authority_it: bool,
    authority_org: bool,
    probe: bool,
    social: bool,
    rapport: bool,
    favour: bool,
    requests: [bool; 7],
    access_after_setup: bool,
    urgency: bool,
    secrecy: bool,
    switch: bool,
    /// The distinct scam-cue phrases seen, up to three (a cue repeated is one cue).
    scam_cues: Vec<usize>,
    prior_request: bool,
    official_channel: bool,
    /// Whether a setup stage (authority, probe or favour) has been seen from each speaker, by the position
    /// of the first one; a later access request from the same speaker completes the script.
    setup_by: Vec<String>,
}

fn kind_index(k: RequestKind) -> usize {
    match k {
        RequestKind::Credential => 0,
        RequestKind::MfaCode => 1,
        RequestKind::LoginWalkthrough => 2,
        RequestKind::RemoteAccess => 3,
        RequestKind::SoftwareInstall => 4,
        RequestKind::Payment => 5,
        RequestKind::PersonalInfo => 6,
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Analyzer {
    /// The built-in English analyzer, compiled once.
    pub fn english() -> &'static Analyzer {
        static ENGLISH: OnceLock<Analyzer> = OnceLock::new();
        ENGLISH.get_or_init(|| {
            // The built-in data is checked by this crate's tests; an error here would be a broken build.
            Analyzer::new(include_str!("../data/en.lex"), include_str!("../data/en.weights"))
                .unwrap_or_else(|_| Analyzer::empty())
        })
    }

    fn empty() -> Analyzer {
        let weights = Weights::default();
        Analyzer { matcher: None, patterns: vec![], linear: Linear::of(&weights), weights }
    }

    /// The dimension of the sentence embedding its weights use, if any.
    pub fn embedding_dimension(&self) -> Option<usize> {
        self.weights.embedding_dimension()
    }

    /// An analyzer for a lexicon and weights.
    pub fn new(lexicon: &str, weights: &str) -> Result<Analyzer, lexicon::LexiconError> {
        let entries = lexicon::parse(lexicon)?;
        let weights = Weights::parse(weights)?;
        let mut phrases: Vec<String> = Vec::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        for e in entries {
            // Explanations live as long as the analyzer; the built-in one lives for the program.
            let explanation: &'static str = Box::leak(e.explanation.into_boxed_str());
            let kind = e.kind.as_deref().and_then(RequestKind::parse);
            let it = e.kind.as_deref() == Some("it");
            for p in e.phrases {
                // Typographic apostrophes are as common as straight ones.
                let variants = if p.contains('\'') { vec![p.replace('\'', "\u{2019}"), p] } else { vec![p] };
                let phrase = patterns.last().map_or(0, |p: &Pattern| p.phrase + 1);
                for v in variants {
                    phrases.push(v);
                    patterns.push(Pattern { phrase, stage: e.stage, kind, it, explanation });
                }
            }
        }
        let matcher = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&phrases)
            .map_err(|e| lexicon::LexiconError { line: 0, message: e.to_string() })?;
        Ok(Analyzer { matcher: Some(matcher), patterns, linear: Linear::of(&weights), weights })
    }

    /// Analyses one text (a message, an email, a transcript).
    pub fn analyze_text(&self, text: &str) -> Analysis {
        self.analyze(&[Message { from: "", text }], false)
    }

    /// Analyses a conversation; findings carry their message index.
    pub fn analyze_conversation(&self, messages: &[Message<'_>]) -> Analysis {
        self.analyze(messages, true)
    }

    /// Analyses a text or conversation (`indexed`: findings carry message indexes) with its sentence
    /// embedding, for weights trained with one ([`Weights::embedding_dimension`]); other weights ignore it.
    pub fn analyze_embedded(&self, messages: &[Message<'_>], indexed: bool, embedding: &[f32]) -> Analysis {
        let extra: f64 = self.weights.embedding.iter().zip(embedding).map(|(w, e)| f64::from(w * e)).sum();
        self.analyze_with(messages, indexed, extra)
    }

    fn analyze(&self, messages: &[Message<'_>], indexed: bool) -> Analysis {
        self.analyze_with(messages, indexed, 0.0)
    }

    /// `extra` is added to the score's log-odds.
    fn analyze_with(&self, messages: &[Message<'_>], indexed: bool, extra: f64) -> Analysis {
        let judged: Vec<&str> = messages.iter().map(|m| words::said_once(m.text)).collect();
        let (seen, findings, stages_truncated) = self.stages(messages, &judged, indexed);
        let mut tally = words::Tally::default();
        // Weights without words (hand-set ones) need no word pass.
        if !self.weights.words.is_empty() {
            for text in judged {
                tally.add(&self.weights.words, text);
            }
        }
        let (score, verdict) = self.judge(&seen, &tally, extra);
        Analysis { score, verdict, stages: findings, stages_truncated }
    }

    /// The stages of a conversation: what was seen, the findings to report, and whether there were more
    /// than [`MAX_FINDINGS`]. What is seen is judged within each message's `judged` part (its first copy,
    /// [`words::said_once`]); the findings are listed from the whole message.
    fn stages(&self, messages: &[Message<'_>], judged: &[&str], indexed: bool) -> (Seen, Vec<Finding>, bool) {
        let mut seen = Seen::default();
        let mut findings: Vec<Finding> = Vec::new();
        let mut truncated = false;
        let Some(matcher) = &self.matcher else {
            return (seen, findings, truncated);
        };
        for (index, m) in messages.iter().enumerate() {
            let judged_end = judged.get(index).map_or(m.text.len(), |j| j.len());
            // Invisible characters hidden inside words ("pass\u{200b}word") are matched through: the
            // search runs on the text without them, and spans are mapped back to the original.
            let visible = words::Visible::of(m.text);
            let text = visible.text();
            for hit in matcher.find_iter(text) {
                let before = text.get(..hit.start()).and_then(|s| s.chars().next_back());
                let after = text.get(hit.end()..).and_then(|s| s.chars().next());
                if before.is_some_and(is_word_char) || after.is_some_and(is_word_char) {
                    continue;
                }
                let (start, end) = (visible.original(hit.start()), visible.original(hit.end().saturating_sub(1)) + 1);
                let Some(p) = self.patterns.get(hit.pattern().as_usize()) else { continue };
                if end <= judged_end {
                    self.note(&mut seen, p, m.from);
                }
                if findings.len() < MAX_FINDINGS {
                    findings.push(Finding {
                        stage: p.stage,
                        kind: p.kind,
                        message_index: indexed.then_some(index),
                        start,
                        end,
                        evidence: m.text.get(start..end).unwrap_or("").to_owned(),
                        explanation: p.explanation,
                    });
                } else {
                    truncated = true;
                }
            }
        }
        (seen, findings, truncated)
    }

    fn note(&self, seen: &mut Seen, p: &Pattern, from: &str) {
        match p.stage {
            Stage::AuthorityClaim if p.it => seen.authority_it = true,
            Stage::AuthorityClaim => seen.authority_org = true,
            Stage::ProblemProbe => seen.probe = true,
            Stage::SocialProof => seen.social = true,
            Stage::Rapport => seen.rapport = true,
            Stage::FavourOffer => seen.favour = true,
            Stage::SensitiveRequest => {
                if let Some(k) = p.kind {
                    if let Some(slot) = seen.requests.get_mut(kind_index(k)) {
                        *slot = true;
                    }
                    if k.is_access() && seen.setup_by.iter().any(|s| s == from) {
                        seen.access_after_setup = true;
                    }
                }
            }
            Stage::Urgency => seen.urgency = true,
            Stage::Secrecy => seen.secrecy = true,
            Stage::ChannelSwitch => seen.switch = true,
            Stage::ScamCue => {
                if seen.scam_cues.len() < 3 && !seen.scam_cues.contains(&p.phrase) {
                    seen.scam_cues.push(p.phrase);
                }
            }
            Stage::PriorRequest => seen.prior_request = true,
            Stage::OfficialChannel => seen.official_channel = true,
        }
        let setup = matches!(p.stage, Stage::AuthorityClaim | Stage::ProblemProbe | Stage::FavourOffer);
        if setup && seen.setup_by.len() < 8 && !seen.setup_by.iter().any(|s| s == from) {
            seen.setup_by.push(from.to_owned());
        }
    }

    fn judge(&self, s: &Seen, tally: &words::Tally, extra: f64) -> (f64, Verdict) {
        let mut z = self.linear.bias + tally.value(self.linear.word_power) + extra;
        for ((_, value), weight) in stage_features(s).iter().zip(&self.linear.stages) {
            z += weight * value;
        }
        let score = 1.0 / (1.0 + (-z).exp());
        let verdict = if score < 0.5 {
            Verdict::Benign
        } else if s.access_after_setup && (s.authority_it || s.favour || s.probe) {
            Verdict::Qpq
        } else {
            Verdict::Suspicious
        };
        (score, verdict)
    }
}

/// How many stage features there are.
const STAGE_FEATURES: usize = 20;

/// The stage features of a conversation, by weight name.
fn stage_features(s: &Seen) -> [(&'static str, f64); STAGE_FEATURES] {
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    let r = |k: RequestKind| flag(s.requests.get(kind_index(k)).copied().unwrap_or(false));
    [
        ("authority_it", flag(s.authority_it)),
        ("authority_org", flag(s.authority_org)),
        ("problem_probe", flag(s.probe)),
        ("social_proof", flag(s.social)),
        ("rapport", flag(s.rapport)),
        ("favour_offer", flag(s.favour)),
        ("request_credential", r(RequestKind::Credential)),
        ("request_mfa_code", r(RequestKind::MfaCode)),
        ("request_login_walkthrough", r(RequestKind::LoginWalkthrough)),
        ("request_remote_access", r(RequestKind::RemoteAccess)),
        ("request_software_install", r(RequestKind::SoftwareInstall)),
        ("request_payment", r(RequestKind::Payment)),
        ("request_personal_info", r(RequestKind::PersonalInfo)),
        ("urgency", flag(s.urgency)),
        ("secrecy", flag(s.secrecy)),
        ("channel_switch", flag(s.switch)),
        ("access_after_setup", flag(s.access_after_setup)),
        ("scam_cue", (s.scam_cues.len() as f64).ln_1p()),
        ("prior_request", flag(s.prior_request)),
        ("official_channel", flag(s.official_channel)),
    ]
}

#[cfg(test)]
mod tests;
