//! Moving a window's blobs into a buffer the caller owns and reuses. Handed to Node one
//! by one, every blob was a new external buffer: V8 counts their bytes and runs a full
//! garbage collection of the host's whole heap every few tens of megabytes, which cost a
//! first backup seconds in a process holding a large heap. Blobs copied into one arena
//! per window, which the caller passes again once it has written them, allocate nothing
//! that V8 sees.

use crate::batch::ItemError;
use crate::window::Window;

/// Copies the blobs of `windows` into `arena`, in order, while they fit; returns, for each
/// window and chunk, where its blob now lies and its size (its `blob` is then emptied), or
/// `None` for a blob that did not fit (it keeps its own bytes).
pub fn place_blobs(
    windows: &mut [Result<Window, ItemError>],
    arena: &mut [u8],
) -> Vec<Vec<Option<(usize, usize)>>> {
    let mut at = 0usize;
    windows
        .iter_mut()
        .map(|w| match w {
            Ok(w) => w
                .chunks
                .iter_mut()
                .map(|c| {
                    let end = at + c.blob.len();
                    if end > arena.len() {
                        return None;
                    }
                    arena[at..end].copy_from_slice(&c.blob);
                    let placed = (at, c.blob.len());
                    at = end;
                    c.blob = Vec::new();
                    Some(placed)
                })
                .collect(),
            Err(_) => Vec::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::BlobChunk;
    use aios_error::AiosError;

    fn chunk(blob: &[u8]) -> BlobChunk {
        BlobChunk {
            id: String::new(),
            offset: 0,
            length: 0,
            blob: blob.to_vec(),
        }
    }

    #[test]
    fn places_blobs_in_order_while_they_fit() {
        let mut windows = vec![
            Ok(Window {
                chunks: vec![chunk(b"abc"), chunk(b"defgh")],
                end: 0,
                eof: true,
            }),
            Err(AiosError::new("IO_ERROR", "x")),
            Ok(Window {
                chunks: vec![chunk(b"ijklmnop"), chunk(b"q")],
                end: 0,
                eof: true,
            }),
        ];
        let mut arena = [0u8; 10];
        let placed = place_blobs(&mut windows, &mut arena);
        assert_eq!(
            placed,
            vec![
                vec![Some((0, 3)), Some((3, 5))],
                vec![],
                vec![None, Some((8, 1))]
            ]
        );
        assert_eq!(&arena[..9], b"abcdefghq");
        let last = windows[2].as_ref().unwrap();
        assert_eq!(last.chunks[0].blob, b"ijklmnop");
        assert!(last.chunks[1].blob.is_empty());
    }
}
