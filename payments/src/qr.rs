//! QR codes rendered on the server as SVG: no external service, and no QR code in the WASM.
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// An SVG QR code of `content`, `size_px` wide, with a quiet zone.
pub fn svg(content: &str, size_px: u32) -> String {
    let code = QrCode::with_error_correction_level(content.as_bytes(), EcLevel::M)
        .expect("a payment link always fits in a QR code");
    code.render::<svg::Color<'_>>()
        .min_dimensions(size_px, size_px)
        .quiet_zone(true)
        .build()
}
