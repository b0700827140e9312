//! Vectors are stored as little-endian float32 blobs: 4 bytes per dimension, no header.

use std::borrow::Cow;

use aios_error::{AiosError, Result};

/// The blob bytes of a vector (borrowed as-is on little-endian machines).
pub fn to_blob(vector: &[f32]) -> Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        // SAFETY: f32 has no padding and any byte pattern is a valid u8; the length is
        // the exact byte size of the slice.
        Cow::Borrowed(unsafe {
            std::slice::from_raw_parts(vector.as_ptr().cast::<u8>(), std::mem::size_of_val(vector))
        })
    } else {
        Cow::Owned(vector.iter().flat_map(|x| x.to_le_bytes()).collect())
    }
}

/// Appends the floats of a blob to `out`; the blob must be a whole number of floats.
pub fn extend_from_blob(out: &mut Vec<f32>, blob: &[u8]) -> Result<()> {
    if !blob.len().is_multiple_of(4) {
        return Err(AiosError::new(
            "DATA_CORRUPT",
            format!("vector blob of {} bytes is not a float32 array", blob.len()),
        ));
    }
    out.extend(
        blob.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
    );
    Ok(())
}

/// Checks that every component is finite; names the first bad one.
pub fn check_finite(vector: &[f32], what: &str) -> Result<()> {
    // Without an early exit inside a chunk the test compiles to SIMD; only a batch that
    // has a bad component pays for finding it.
    if vector
        .chunks(256)
        .all(|c| c.iter().fold(true, |ok, x| ok & x.is_finite()))
    {
        return Ok(());
    }
    match vector.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(i) => Err(AiosError::invalid(format!(
            "{what}: expected finite numbers, got {} at index {i}",
            vector[i]
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_blob() {
        let v = [1.0f32, -0.5, 3.25e-8, f32::MAX];
        let blob = to_blob(&v);
        assert_eq!(blob.len(), 16);
        assert_eq!(&blob[..4], &1.0f32.to_le_bytes());
        let mut out = Vec::new();
        extend_from_blob(&mut out, &blob).unwrap();
        assert_eq!(out, v);
    }

    #[test]
    fn rejects_partial_floats_and_non_finite() {
        let mut out = Vec::new();
        assert_eq!(
            extend_from_blob(&mut out, &[0, 1, 2]).unwrap_err().code,
            "DATA_CORRUPT"
        );
        let err = check_finite(&[0.0, f32::NAN], "vectors").unwrap_err();
        assert_eq!(err.code, "INVALID_INPUT");
        assert!(err.message.contains("index 1"));
        assert!(check_finite(&[0.0, 1.0], "v").is_ok());
    }
}
