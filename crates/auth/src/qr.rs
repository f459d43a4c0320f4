//! QR codes as standalone SVG (no image crate, no external reference), for TOTP enrolment.

use crate::AuthError;
use qrcode::{Color, EcLevel, QrCode};
use std::fmt::Write;

/// Renders `text` as an SVG QR code with a four-module quiet zone.
pub fn qr_svg(text: &str) -> Result<String, AuthError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| AuthError::Crypto(format!("text does not fit in a QR code: {e}")))?;
    let width = code.width();
    let size = width + 8;
    let mut path = String::new();
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == Color::Dark {
            let _ = write!(path, "M{} {}h1v1h-1z", i % width + 4, i / width + 4);
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" role=\"img\" \
         aria-label=\"QR code to scan with an authenticator app\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_svg_with_dark_modules_and_refuses_what_does_not_fit() {
        let svg = qr_svg("otpauth://totp/Bonafide:erin?secret=GEZDGNBVGY3TQOJQ").unwrap();
        assert!(!svg.contains("GEZDGNBV"), "the secret is only in the modules, not in text");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("role=\"img\"") && svg.contains("aria-label"));
        assert!(svg.matches("h1v1h-1z").count() > 100, "finder patterns alone have more");
        assert!(!svg.contains("href"));
        assert!(matches!(qr_svg(&"x".repeat(5000)), Err(AuthError::Crypto(_))));
        // A QR code at level M holds at most 2,331 bytes: the largest enrolment URI is far below that.
        assert!(qr_svg(&"x".repeat(2331)).is_ok());
        assert!(qr_svg(&"x".repeat(2332)).is_err());
    }
}
