//! QR codes of the otpauth:// URI for authenticator apps, as SVG (for the
//! portal) and PNG (to save or print).

use std::io::Write;

use qrcode::render::svg;
use qrcode::{Color, QrCode};

use crate::{CoreError, Result};

/// Pixels per module in the PNG, and the quiet zone in modules.
const SCALE: usize = 8;
const QUIET: usize = 4;

fn code(text: &str) -> Result<QrCode> {
    QrCode::new(text.as_bytes()).map_err(|e| CoreError::Internal(format!("QR code: {e}")))
}

pub fn svg(text: &str) -> Result<String> {
    Ok(code(text)?
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build())
}

/// A black-and-white PNG (1 bit per pixel, RFC 2083).
pub fn png(text: &str) -> Result<Vec<u8>> {
    let code = code(text)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let row_bytes = side.div_ceil(8);
    let mut raw = Vec::with_capacity((row_bytes + 1) * side);
    for y in 0..side {
        raw.push(0); // filter: none
        let mut row = vec![0xFFu8; row_bytes]; // 1 = white
        let my = (y / SCALE).checked_sub(QUIET).filter(|&m| m < modules);
        for x in 0..side {
            let mx = (x / SCALE).checked_sub(QUIET).filter(|&m| m < modules);
            if let (Some(mx), Some(my)) = (mx, my)
                && colors[my * modules + mx] == Color::Dark
            {
                row[x / 8] &= !(0x80 >> (x % 8));
            }
        }
        raw.extend_from_slice(&row);
    }
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    zlib.write_all(&raw)
        .map_err(|e| CoreError::Internal(format!("PNG: {e}")))?;
    let idat = zlib
        .finish()
        .map_err(|e| CoreError::Internal(format!("PNG: {e}")))?;
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(side as u32).to_be_bytes());
    ihdr.extend_from_slice(&(side as u32).to_be_bytes());
    // Bit depth 1, greyscale, deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_forms_are_well_formed() {
        let uri = "otpauth://totp/mx:bob%40example.test?secret=JBSWY3DPEHPK3PXP&issuer=mx";
        let svg = super::svg(uri).unwrap();
        assert!(svg.contains("<svg") && svg.ends_with("</svg>"));
        let png = super::png(uri).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(&png[12..16], b"IHDR");
        assert!(png.ends_with(&[0xAE, 0x42, 0x60, 0x82]), "IEND's CRC");
    }
}
