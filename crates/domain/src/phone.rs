//! Phone numbers in E.164 form, read with the company's default region.

use crate::InvalidInput;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// The region used to read numbers written without a country code (`(555) 010-9999`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneRegion(phonenumber::country::Id);

impl PhoneRegion {
    /// The region's ISO 3166 code, e.g. `US`.
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
}

impl Default for PhoneRegion {
    fn default() -> Self {
        Self(phonenumber::country::Id::US)
    }
}

impl FromStr for PhoneRegion {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .to_ascii_uppercase()
            .parse::<phonenumber::country::Id>()
            .map(Self)
            .map_err(|_| InvalidInput::new("default_region", format!("`{s}` is not an ISO 3166 region code")))
    }
}

/// A phone number normalised to E.164 (`+15550109999`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Reads `raw` in any common national or international format.
    ///
    /// Numbers that libphonenumber cannot place in a numbering plan are refused: a directory entry must
    /// be a number someone can dial.
    pub fn parse(raw: &str, region: PhoneRegion) -> Result<Self, InvalidInput> {
        let (trimmed, number) = Self::read(raw, region)?;
        if !phonenumber::is_valid(&number) {
            return Err(InvalidInput::new("phone", format!("`{trimmed}` is not a valid phone number")));
        }
        Ok(Self(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    /// Reads `raw` like [`PhoneNumber::parse`] but without asking whether the number exists in its
    /// numbering plan: for comparing a number someone claims or reports with known ones, where a number
    /// that does not exist simply matches nothing. (The numbering-plan check is most of the cost.)
    pub fn normalize(raw: &str, region: PhoneRegion) -> Result<Self, InvalidInput> {
        let (_, number) = Self::read(raw, region)?;
        Ok(Self(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    fn read(raw: &str, region: PhoneRegion) -> Result<(&str, phonenumber::PhoneNumber), InvalidInput> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.len() > 64 {
            return Err(InvalidInput::new("phone", "a phone number is 1 to 64 characters"));
        }
        let number = phonenumber::parse(Some(region.0), trimmed)
            .map_err(|_| InvalidInput::new("phone", format!("`{trimmed}` is not a phone number")))?;
        Ok((trimmed, number))
    }

    /// Restores a number that was normalised before (e.g. read back from storage).
    pub fn from_e164_unchecked(e164: String) -> Self {
        Self(e164)
    }

    /// The E.164 text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as people read and dial it: international format with the country's own grouping
    /// (`+1 201-555-0100`, `+44 20 7946 0018`); the E.164 text if it cannot be placed.
    pub fn readable(&self) -> String {
        match phonenumber::parse(None, &self.0) {
            Ok(n) => n.format().mode(phonenumber::Mode::International).to_string(),
            Err(_) => self.0.clone(),
        }
    }

    /// The `tel:` URI that dials the number (RFC 3966, global form).
    pub fn tel_uri(&self) -> String {
        format!("tel:{}", self.0)
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_forms_of_one_number_agree() {
        let us = PhoneRegion::default();
        let forms =
            ["(201) 555-0123", "201-555-0123", "+1 201 555 0123", "1-201-555-0123", "+1.201.555.0123", "2015550123"];
        for form in forms {
            assert_eq!(PhoneNumber::parse(form, us).map(|p| p.to_string()), Ok("+12015550123".to_owned()), "{form}");
        }
    }

    #[test]
    fn the_default_region_decides_numbers_without_a_country_code() {
        let gb: PhoneRegion = "gb".parse().unwrap();
        assert_eq!(gb.code(), "GB");
        assert_eq!(PhoneNumber::parse("020 7946 0018", gb).map(|p| p.to_string()), Ok("+442079460018".to_owned()));
    }

    #[test]
    fn normalising_agrees_with_parsing_and_keeps_numbers_outside_the_plan() {
        let us = PhoneRegion::default();
        assert_eq!(PhoneNumber::normalize("(201) 555-0123", us), PhoneNumber::parse("+1 201 555 0123", us));
        // 555-01xx numbers are fictional: not dialable, but a caller can still show one.
        assert!(PhoneNumber::parse("+1 555 010 9999", us).is_err());
        assert_eq!(PhoneNumber::normalize("(555) 010-9999", us).map(|p| p.to_string()), Ok("+15550109999".to_owned()));
        assert!(PhoneNumber::normalize("IT DESK", us).is_err());
    }

    #[test]
    fn regression_15_4_numbers_read_in_their_countrys_grouping_and_dial_as_tel_uris() {
        let us = PhoneNumber::parse("2015550100", PhoneRegion::default()).unwrap();
        assert_eq!((us.readable(), us.tel_uri()), ("+1 201-555-0100".to_owned(), "tel:+12015550100".to_owned()));
        let gb = PhoneNumber::parse("020 7946 0018", "GB".parse().unwrap()).unwrap();
        assert_eq!(gb.readable(), "+44 20 7946 0018");
        // A fictional number a fraudster shows is still grouped; garbage stored before is shown as it is.
        let fiction = PhoneNumber::normalize("(555) 010-9999", PhoneRegion::default()).unwrap();
        assert_eq!(fiction.readable(), "+1 555-010-9999");
        assert_eq!(PhoneNumber::from_e164_unchecked("+".into()).readable(), "+");
    }

    #[test]
    fn garbage_is_refused() {
        for bad in ["", "call me", "12", "+999 123", &"9".repeat(80)] {
            assert!(PhoneNumber::parse(bad, PhoneRegion::default()).is_err(), "{bad}");
        }
        assert!("XX".parse::<PhoneRegion>().is_err());
    }
}
