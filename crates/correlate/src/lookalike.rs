//! Look-alike domains: `examp1e.com`, `example-it-help.com`, `exarnple.com`, `еxample.com` (Cyrillic е),
//! `example.com.login-check.net` all imitate `example.com`.
//!
//! A domain is reduced to a skeleton (confusable characters mapped to the letter they imitate, added
//! words such as `-it-help` removed) and compared with the skeletons of the company's domains: equal, one
//! edit apart, or containing the company's name.

/// Words fraudsters add to a company's name to make a domain look official.
const ADDED_WORDS: &[&str] = &[
    "it",
    "ict",
    "help",
    "helpdesk",
    "desk",
    "support",
    "service",
    "services",
    "servicedesk",
    "login",
    "logon",
    "signin",
    "sign",
    "in",
    "secure",
    "security",
    "sso",
    "portal",
    "team",
    "admin",
    "account",
    "accounts",
    "verify",
    "verification",
    "auth",
    "mail",
    "online",
    "web",
    "update",
    "hr",
    "password",
    "reset",
    "mfa",
    "vpn",
    "remote",
    "tech",
    "corp",
    "inc",
    "group",
    "global",
    "my",
    "the",
    "check",
    "access",
];

/// Two-label public suffixes common enough to matter here (`example.co.uk`).
const SECOND_LEVEL: &[&str] = &["co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc"];

/// The company domain `domain` imitates, if any (never `domain` itself).
pub fn imitated<'a>(domain: &str, own: &'a [String]) -> Option<&'a str> {
    let domain = domain.to_lowercase();
    own.iter().map(String::as_str).find(|mine| {
        let mine = mine.to_lowercase();
        if mine == domain || mine.is_empty() {
            return false;
        }
        // `example.com.login-check.net`: the company's whole domain inside another.
        if domain.starts_with(&format!("{mine}.")) || domain.contains(&format!(".{mine}.")) {
            return true;
        }
        let (theirs, ours) = (skeleton(core(&domain)), skeleton(core(&mine)));
        if ours.len() < 3 {
            return theirs == ours;
        }
        theirs == ours
            || (ours.len() >= 5 && within_one_edit(&theirs, &ours))
            || (ours.len() >= 4 && (theirs.starts_with(&ours) || theirs.ends_with(&ours)))
    })
}

/// The registrable name without its public suffix: `example` for `mail.example.co.uk`.
fn core(domain: &str) -> &str {
    let labels: Vec<&str> = domain.trim_end_matches('.').split('.').collect();
    let n = labels.len();
    let suffix = match labels.as_slice() {
        [.., second, last] if last.len() == 2 && SECOND_LEVEL.contains(second) && n >= 3 => 2,
        _ => 1,
    };
    labels.get(n.saturating_sub(suffix + 1)).copied().unwrap_or(domain)
}

/// Confusables mapped to the letter they imitate, separators and added words removed.
fn skeleton(name: &str) -> String {
    let words: Vec<&str> = name.split(['-', '_']).filter(|w| !w.is_empty() && !ADDED_WORDS.contains(w)).collect();
    let mut mapped = String::with_capacity(name.len());
    for c in words.concat().chars() {
        mapped.push(match c {
            '0' | 'о' | 'ο' | 'օ' => 'o',
            '1' | 'i' | 'l' | '|' | 'і' | 'ӏ' | 'ι' | '!' => 'l',
            '3' | 'е' | 'ε' => 'e',
            '4' | '@' | 'а' | 'α' => 'a',
            '5' | '$' | 'ѕ' => 's',
            '7' => 't',
            '8' => 'b',
            'р' | 'ρ' => 'p',
            'с' | 'ϲ' => 'c',
            'у' | 'γ' => 'y',
            'х' | 'χ' => 'x',
            'ј' => 'j',
            'ԁ' => 'd',
            'ɡ' => 'g',
            'ν' => 'v',
            'к' | 'κ' => 'k',
            'м' => 'm',
            'н' => 'h',
            'т' | 'τ' => 't',
            'в' => 'b',
            _ => c,
        });
    }
    // Multi-letter look-alikes after single ones: `rn` reads as `m`, `vv` as `w`.
    mapped.replace("rn", "m").replace("vv", "w")
}

/// Whether `a` and `b` differ by at most one insertion, deletion, substitution or swap of neighbours.
fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a == b {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long.iter()).take_while(|(x, y)| x == y).count();
    let (s_rest, l_rest) = (short.get(prefix..).unwrap_or(&[]), long.get(prefix..).unwrap_or(&[]));
    if short.len() == long.len() {
        // One substitution, or one swap of neighbours.
        let sub = s_rest.get(1..) == l_rest.get(1..);
        let swap = s_rest.len() >= 2
            && s_rest.first() == l_rest.get(1)
            && s_rest.get(1) == l_rest.first()
            && s_rest.get(2..) == l_rest.get(2..);
        sub || swap
    } else {
        s_rest == l_rest.get(1..).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own() -> Vec<String> {
        vec!["example.com".to_owned(), "acme-corp.co.uk".to_owned()]
    }

    #[test]
    fn look_alikes_of_the_company_domains_are_found() {
        let own = own();
        for fake in [
            "examp1e.com",
            "exarnple.com",
            "example-it-help.com",
            "it-support-example.net",
            "exampel.com",
            "examplle.com",
            "еxample.com",
            "example.com.login-check.net",
            "examplehelp.org",
            "acme-corp-helpdesk.co.uk",
            "acmecorp.com",
        ] {
            assert!(imitated(fake, &own).is_some(), "{fake} imitates a company domain");
        }
    }

    #[test]
    fn the_company_itself_and_unrelated_domains_are_not_look_alikes() {
        let own = own();
        for fine in ["example.com", "gmail.com", "contoso.com", "sample.com", "exam.com", "microsoft.com", "corp.com"] {
            assert_eq!(imitated(fine, &own), None, "{fine}");
        }
    }

    #[test]
    fn one_edit_means_one() {
        assert!(within_one_edit("example", "exampel"));
        assert!(within_one_edit("example", "exmple"));
        assert!(within_one_edit("example", "examplee"));
        assert!(within_one_edit("example", "exbmple"));
        assert!(!within_one_edit("example", "elpmaxe"));
        assert!(!within_one_edit("example", "exa"));
    }
}
