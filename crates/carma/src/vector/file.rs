//! The index file: what `VectorIndex::save` writes and `load` reads, in both
//! implementations (packages/carma/src/engine/js/index-file.ts is the js side).
//!
//! Format version 4 (little-endian):
//! ```text
//! "CARMAVI1" | version u32 = 4 | dim u32 | metric u32 (0 cosine, 1 dot) | slots u32
//! flags u32 (1 = graph, 2 = codes)
//! labels u32[slots] | alive u8[slots] padded to 4 | data f32[slots * dim]
//! codes: i8[slots * dim] padded to 4 | bounds (scale f32, err f32, norm f32)[slots]
//! graph: m u32 | ef_construction u32 | seed u64 | entry u32 (u32::MAX = none) | entry level u32
//!        levels u8[slots] padded to 4
//!        layer 0: per node, count u32 then 2m u32 slots (ids, then zeros)
//!        per node of level 1 and up, per level 1..=level: count u32, ids u32[count]
//! "CARMAEND" | BLAKE3 of every byte before it (32 bytes)
//! ```
//! Layer 0 is laid out as searches walk it (`Hnsw::flat0`): a mapped file is searched
//! with its layer 0 where it is, nothing decoded or allocated for it on load (132 MB at 1M
//! nodes), until the graph first grows.
//! The codes (see `crate::codes`) are optional: a loaded file that has them takes them
//! instead of coding every row again; the js implementation writes none, and skips them.
//! Version 3 is the same with every node's lists one after the other (layer 0's as long as
//! they are), version 2 without codes either, version 1 without the checksum either; all are
//! still read. Whatever the version,
//! a file is only trusted when its structure holds together (links within the graph and
//! its levels, one live slot per label) and its rows are finite (and at most unit length
//! under the cosine metric, as `add` stores them): anything else is `INDEX_CORRUPT`, and
//! the caller rebuilds the index from its source of truth.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use memmap2::{Advice, Mmap};
use rayon::prelude::*;

use super::rows::{MappedCodes, MappedRows, Rows};
use super::{validate_hnsw, Metric, VectorIndex, END, MAGIC};
use crate::codes::{RowBound, RowCodes};
use crate::file_bytes::{
    checksum, put_f32s, put_u32s, seal, ByteSink, FileCheck, Reader, SealedFile,
};
pub use crate::file_bytes::{temp_path, CHECKSUM_BYTES};
use crate::fx::FxMap;
use crate::hnsw::{layer0_stride, Hnsw, HnswParams, MAX_LEVEL};
use crate::label_slots::LabelSlots;
use crate::mapped::{let_go, Mapped};
use aios_error::{AiosError, Result};

/// The version `save` writes.
pub const FORMAT_VERSION: u32 = 4;
/// Bytes of a row's bounds in the codes section.
const ROW_BOUND_BYTES: usize = 12;
/// Flags: the file holds the graph; the file holds the row codes.
const GRAPH_FLAG: u32 = 1;
const CODES_FLAG: u32 = 2;
fn corrupt(what: &str) -> AiosError {
    AiosError::new("INDEX_CORRUPT", format!("index file: {what}"))
}

/// How much longer than unit length a stored cosine row may be: the rounding of
/// normalisation in `f32`, with a wide margin.
pub fn unit_slack(dim: usize) -> f64 {
    1e-3 + dim as f64 / (1u64 << 23) as f64
}

impl VectorIndex {
    /// Serialises the index (see the module docs for the format).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_body(&mut out);
        seal(out)
    }

    /// Everything of the file before its end marker and checksum.
    fn write_body(&self, out: &mut impl ByteSink) {
        let slots = self.slots();
        out.put(MAGIC);
        out.put_u32(FORMAT_VERSION);
        out.put_u32(self.dim as u32);
        out.put_u32(if self.metric == Metric::Cosine { 0 } else { 1 });
        out.put_u32(slots as u32);
        // Codes of every slot (an index being filled in the background has fewer).
        let codes = self.codes.len() == slots;
        let graph = if self.hnsw.is_some() { GRAPH_FLAG } else { 0 };
        out.put_u32(graph | if codes { CODES_FLAG } else { 0 });
        put_u32s(out, &self.labels);
        let alive: Vec<u8> = self.alive.iter().map(|a| u8::from(*a)).collect();
        out.put(&alive);
        out.pad4(slots);
        put_f32s(out, &self.data);
        if codes {
            out.put(bytemuck::cast_slice(self.codes.codes()));
            out.pad4(slots * self.dim);
            let bounds: Vec<f32> = self
                .codes
                .bounds()
                .iter()
                .flat_map(|b| [b.scale, b.err, b.norm])
                .collect();
            put_f32s(out, &bounds);
        }
        if let Some(g) = &self.hnsw {
            out.put_u32(g.params.m as u32);
            out.put_u32(g.params.ef_construction as u32);
            out.put_u32(g.params.seed as u32);
            out.put_u32((g.params.seed >> 32) as u32);
            let (entry, level) = g.entry().map_or((u32::MAX, 0), |(e, l)| (e, l as u32));
            out.put_u32(entry);
            out.put_u32(level);
            let levels = g.levels();
            out.put(levels);
            out.pad4(slots);
            let mut buf: Vec<u8> = Vec::with_capacity(WRITE_CHUNK_BYTES + 4);
            for word in g.layer0_words() {
                buf.put_u32(word);
                if buf.len() >= WRITE_CHUNK_BYTES {
                    out.put(&buf);
                    buf.clear();
                }
            }
            for (node, _) in levels.iter().enumerate().filter(|(_, &lv)| lv > 0) {
                for list in g.upper_lists(node) {
                    buf.put_u32(list.len() as u32);
                    put_u32s(&mut buf, &list);
                }
                if buf.len() >= WRITE_CHUNK_BYTES {
                    out.put(&buf);
                    buf.clear();
                }
            }
            out.put(&buf);
        }
    }

    /// Reads a file of either version; `INDEX_CORRUPT` when it cannot be trusted.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let header = Header::parse(bytes)?;
        let body = match header.version {
            1 => bytes,
            _ => {
                if bytes.len() < HEADER_BYTES + CHECKSUM_BYTES {
                    return Err(truncated());
                }
                let (body, sum) = bytes.split_at(bytes.len() - CHECKSUM_BYTES);
                if checksum(body).as_bytes() != sum {
                    return Err(mismatch());
                }
                body
            }
        };
        let (rows_at, rows_len) = header.rows(body.len() as u64)?;
        let rows = Reader::new(body, rows_at)
            .f32s(rows_len / 4)
            .ok_or_else(truncated)?;
        // The rows are coded again rather than the file's codes copied (a rare path).
        let rows = CheckedRows::of(rows.into(), &header);
        let after = header.codes_end(rows_at + rows_len, body.len())?;
        Self::from_sections(&header, &body[..rows_at], rows, &body[after..], None)
    }

    /// The index from the bytes before its rows, the rows, and the bytes after them up to
    /// the checksum (which the caller checked).
    /// `mapped`: the mapping the tail is in and where it starts in it, for a graph whose
    /// layer 0 is searched where it is.
    fn from_sections(
        header: &Header,
        head: &[u8],
        rows: CheckedRows,
        tail: &[u8],
        mapped: Option<(&Arc<Mmap>, usize)>,
    ) -> Result<Self> {
        let Header {
            dim,
            metric,
            slots,
            flags,
            ..
        } = *header;
        let mut r = Reader::new(head, HEADER_BYTES);
        let labels: Vec<u32> = r.u32s(slots).ok_or_else(truncated)?;
        let alive: Vec<bool> = r
            .take(slots)
            .ok_or_else(truncated)?
            .iter()
            .map(|b| *b != 0)
            .collect();
        // A file checked in full has its labels checked distinct here; one checked before
        // (read for its structure) builds its label map when something first asks.
        let by_label = if rows.check {
            let mut by_label = FxMap::with_capacity_and_hasher(slots, Default::default());
            for (s, (&l, &a)) in labels.iter().zip(&alive).enumerate() {
                if !a {
                    continue;
                }
                if l == u32::MAX {
                    return Err(corrupt("label 4294967295 (reserved) is live"));
                }
                if by_label.insert(l, s as u32).is_some() {
                    return Err(corrupt(&format!("label {l} is live twice")));
                }
            }
            LabelSlots::from_map(by_label)
        } else {
            let mut live = 0;
            for (&l, _) in labels.iter().zip(&alive).filter(|&(_, &a)| a) {
                if l == u32::MAX {
                    return Err(corrupt("label 4294967295 (reserved) is live"));
                }
                live += 1;
            }
            LabelSlots::deferred(live)
        };
        let mut r = Reader::new(tail, 0);
        let hnsw = if flags & GRAPH_FLAG != 0 {
            let layout = GraphLayout {
                slots,
                version: header.version,
                mapped,
                check: rows.check,
            };
            Some(read_graph(&mut r, layout)?)
        } else {
            None
        };
        if r.take(8) != Some(END.as_slice()) {
            return Err(corrupt("missing end marker (truncated write?)"));
        }
        if !r.at_end() {
            return Err(corrupt("bytes after the end marker"));
        }
        if let Some(bad) = rows.bad {
            return Err(bad);
        }
        Ok(Self {
            dim,
            metric,
            codes: rows.codes,
            data: rows.data,
            labels,
            alive,
            by_label,
            hnsw,
            generation: 0,
        })
    }

    /// Writes the index to `path` atomically: a temporary file beside it (removed again
    /// if anything fails), fsync, rename.
    /// Writes the file as its bytes are made (never the whole file in memory at once).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let mut file = SealedFile::create(path)?;
        self.write_body(&mut file);
        file.finish()
    }

    /// Reads an index file: an unreadable file is an `IO_*` error naming the path, a
    /// damaged one `INDEX_CORRUPT`. The rows stay in the file, mapped read-only (see
    /// [`super::rows`]): they are checked (checksum, finite, unit length) and coded a chunk
    /// at a time, each chunk's pages let go of once done, so that the process never holds
    /// them all. Where the file cannot be mapped, the rows are read into memory instead.
    pub fn load(path: &Path) -> Result<Self> {
        Self::load_checked(path, FileCheck::Full)
    }

    /// `load`, checking what `check` says: with `FileCheck::Structure`, neither the
    /// checksum nor the rows are read (a file with codes then maps in no row until a
    /// search reads one).
    pub fn load_checked(path: &Path, check: FileCheck) -> Result<Self> {
        let io = |e: std::io::Error| AiosError::io(&e, path.display());
        let file = fs::File::open(path).map_err(io)?;
        // SAFETY: index files are written beside their place and renamed into it, never
        // changed after (see `save`): the mapping sees fixed bytes. (A file truncated under
        // it by another program would fault the process, as with any mapped file.)
        match unsafe { Mmap::map(&file) } {
            Ok(map) => Self::from_map(Arc::new(map), check),
            Err(_) => Self::read_into_memory(path),
        }
    }

    /// The index over a mapped file (see `load`).
    fn from_map(map: Arc<Mmap>, check: FileCheck) -> Result<Self> {
        let bytes: &[u8] = &map;
        let header = Header::parse(bytes)?;
        let body = match header.version {
            1 => bytes,
            _ => bytes
                .len()
                .checked_sub(CHECKSUM_BYTES)
                .filter(|&n| n >= HEADER_BYTES)
                .map(|n| &bytes[..n])
                .ok_or_else(truncated)?,
        };
        let (rows_at, rows_len) = header.rows(body.len() as u64)?;
        let Some(mapped) = MappedRows::new(Arc::clone(&map), rows_at, rows_len / 4) else {
            return Self::from_bytes(bytes);
        };
        let full = check == FileCheck::Full;
        let _ = map.advise(Advice::Sequential);
        let mut hasher = blake3::Hasher::new();
        let mut hash = |bytes: &[u8]| {
            if full {
                hasher.update_rayon(bytes);
            }
        };
        hash(&body[..rows_at]);
        let rows_end = rows_at + rows_len;
        let after = header.codes_end(rows_end, body.len())?;
        // The file's codes, when it has them, are taken as they are: the rows are only
        // checked.
        let file_codes = after > rows_end;
        let mut rows = if file_codes {
            CheckedRows::unencoded(&header)
        } else {
            CheckedRows::empty(&header)
        };
        rows.check = full;
        if full || !file_codes {
            let chunk = ROWS_CHUNK_BYTES.div_ceil(4 * header.dim) * 4 * header.dim;
            let mut at = rows_at;
            while at < rows_end {
                let end = (at + chunk).min(rows_end);
                hash(&body[at..end]);
                rows.extend(bytemuck::cast_slice(&body[at..end]), header.metric);
                let_go(&map, at, end);
                at = end;
            }
        }
        // The codes section, hashed the same way.
        let mut at = rows_end;
        while full && at < after {
            let end = (at + ROWS_CHUNK_BYTES).min(after);
            hash(&body[at..end]);
            at = end;
        }
        if file_codes {
            // Read where they are in the file, as the rows are: a search brings in the
            // codes it reads.
            rows.codes = mapped_row_codes(&header, &map, rows_end, &body[rows_end..after])?;
        }
        let_go(&map, rows_end, after);
        // The graph and the end marker.
        let tail = &body[after..];
        hash(tail);
        if full && header.version != 1 && hasher.finalize().as_bytes() != &bytes[body.len()..] {
            return Err(mismatch());
        }
        rows.data = Rows::Mapped(mapped);
        let index = Self::from_sections(&header, &body[..rows_at], rows, tail, Some((&map, after)));
        // The labels and the graph are copied into the index: their pages are not needed.
        let_go(&map, 0, map.len());
        // Searches read rows here and there: no read-ahead from disk for them. (Pages the
        // page cache already holds around a row may still be mapped with it: the kernel's
        // fault-around, and large folios.)
        let _ = map.advise(Advice::Random);
        index
    }

    /// `load` without a mapping: the rows (most of the file) are read straight into the
    /// index's own buffer, the checksum taken on the way, never the whole file in memory
    /// besides the index.
    fn read_into_memory(path: &Path) -> Result<Self> {
        let io = |e: std::io::Error| AiosError::io(&e, path.display());
        let mut file = fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        let mut head = vec![0u8; HEADER_BYTES.min(size as usize)];
        file.read_exact(&mut head).map_err(io)?;
        let header = Header::parse(&head)?;
        let sum_bytes = if header.version == 1 {
            0
        } else {
            CHECKSUM_BYTES as u64
        };
        let body_len = size.checked_sub(sum_bytes).ok_or_else(truncated)?;
        let (rows_at, rows_len) = header.rows(body_len)?;
        head.resize(rows_at, 0);
        file.read_exact(&mut head[HEADER_BYTES..]).map_err(io)?;
        let mut rows = vec![0f32; rows_len / 4];
        file.read_exact(bytemuck::cast_slice_mut(&mut rows))
            .map_err(io)?;
        let mut tail = Vec::with_capacity((size - (rows_at + rows_len) as u64) as usize);
        file.read_to_end(&mut tail).map_err(io)?;
        if tail.len() as u64 != size - (rows_at + rows_len) as u64 {
            return Err(corrupt("changed while it was read"));
        }
        if header.version != 1 {
            let (tail_body, sum) = tail.split_at(tail.len() - CHECKSUM_BYTES);
            let mut hasher = blake3::Hasher::new();
            hasher.update(&head);
            hasher.update_rayon(bytemuck::cast_slice(&rows));
            hasher.update(tail_body);
            if hasher.finalize().as_bytes() != sum {
                return Err(mismatch());
            }
            tail.truncate(tail_body.len());
        }
        // The file is little-endian; a no-op where the machine is too.
        for v in &mut rows {
            *v = f32::from_bits(u32::from_le(v.to_bits()));
        }
        let rows = CheckedRows::of(rows.into(), &header);
        let rows_end = rows_at + rows_len;
        let after = header.codes_end(rows_end, rows_end + tail.len())?;
        Self::from_sections(&header, &head, rows, &tail[after - rows_end..], None)
    }
}

/// The codes section (see the module docs) of a mapped file, at byte `at` of `map`: the codes stay mapped, the
/// bounds are read.
fn mapped_row_codes(
    header: &Header,
    map: &Arc<Mmap>,
    at: usize,
    section: &[u8],
) -> Result<RowCodes> {
    let n = header.slots * header.dim;
    let codes = MappedCodes::new(Arc::clone(map), at, n).ok_or_else(truncated)?;
    RowCodes::from_mapped(header.dim, codes, section_bounds(section, n)).ok_or_else(truncated)
}

/// The bounds of a codes section with `n` code bytes.
fn section_bounds(section: &[u8], n: usize) -> Vec<RowBound> {
    section[n + (4 - n % 4) % 4..]
        .chunks_exact(ROW_BOUND_BYTES)
        .map(|b| {
            let f = |i: usize| f32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
            RowBound {
                scale: f(0),
                err: f(4),
                norm: f(8),
            }
        })
        .collect()
}

/// Rows checked and coded a chunk at a time while a file loads.
const ROWS_CHUNK_BYTES: usize = 8 << 20;

/// An index's rows with their codes, and the first row that cannot be trusted (reported
/// only after the file's structure, as every path that reads a file does).
struct CheckedRows {
    data: Rows,
    codes: RowCodes,
    /// Whether `extend` codes the rows (not when the file's codes are taken).
    encode: bool,
    /// Whether `extend` checks the rows (not when the file was checked before).
    check: bool,
    slots: usize,
    dim: usize,
    bad: Option<AiosError>,
}

impl CheckedRows {
    fn empty(header: &Header) -> Self {
        let mut codes = RowCodes::new(header.dim);
        codes.reserve(header.slots);
        Self {
            data: Rows::default(),
            codes,
            encode: true,
            check: true,
            slots: 0,
            dim: header.dim,
            bad: None,
        }
    }

    /// Rows only checked: their codes come from the file.
    fn unencoded(header: &Header) -> Self {
        Self {
            codes: RowCodes::new(header.dim),
            encode: false,
            ..Self::empty(header)
        }
    }

    fn of(data: Rows, header: &Header) -> Self {
        let mut rows = Self::empty(header);
        rows.extend(&data, header.metric);
        rows.data = data;
        rows
    }

    /// Checks and codes the next rows.
    fn extend(&mut self, rows: &[f32], metric: Metric) {
        if self.check && self.bad.is_none() {
            self.bad = check_rows(rows, self.dim, metric, self.slots).err();
        }
        if self.encode {
            self.codes.extend(rows);
        }
        self.slots += rows.len() / self.dim;
    }
}

/// Bytes of the fixed header: magic, version, dim, metric, slots, flags.
const HEADER_BYTES: usize = 28;

fn truncated() -> AiosError {
    corrupt("truncated")
}

fn mismatch() -> AiosError {
    corrupt("checksum mismatch (damaged or incomplete since it was written)")
}

/// The fixed header of a file, checked.
#[derive(Clone, Copy)]
struct Header {
    version: u32,
    dim: usize,
    metric: Metric,
    slots: usize,
    flags: u32,
}

impl Header {
    fn parse(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < 12 {
            return Err(truncated());
        }
        if &bytes[..8] != MAGIC {
            return Err(corrupt("not a CARMA vector index (bad magic)"));
        }
        let mut r = Reader::new(bytes, 8);
        let mut u = || r.u32().ok_or_else(truncated);
        let version = u()?;
        if !(1..=FORMAT_VERSION).contains(&version) {
            return Err(corrupt(&format!("unsupported version {version}")));
        }
        let dim = u()? as usize;
        let metric = match u()? {
            0 => Metric::Cosine,
            1 => Metric::Dot,
            m => return Err(corrupt(&format!("unknown metric {m}"))),
        };
        let slots = u()? as usize;
        let flags = u()?;
        if dim == 0 || dim > super::MAX_DIM {
            return Err(corrupt(&format!("bad dimension {dim}")));
        }
        Ok(Self {
            version,
            dim,
            metric,
            slots,
            flags,
        })
    }

    /// Where the codes section, starting at `rows_end`, ends in a body of `body_len`
    /// bytes: `rows_end` itself when the file has none.
    fn codes_end(&self, rows_end: usize, body_len: usize) -> Result<usize> {
        if self.flags & CODES_FLAG == 0 || self.version < 3 {
            return Ok(rows_end);
        }
        let len = self
            .slots
            .checked_mul(self.dim)
            .map(|n| n + (4 - n % 4) % 4)
            .and_then(|n| n.checked_add(self.slots.checked_mul(ROW_BOUND_BYTES)?))
            .ok_or_else(truncated)?;
        match rows_end.checked_add(len) {
            Some(end) if end <= body_len => Ok(end),
            _ => Err(truncated()),
        }
    }

    /// Where the rows start and how many bytes they take, in a body (the file without
    /// its checksum) of `body_len` bytes: labels and alive flags (padded to 4) come first.
    fn rows(&self, body_len: u64) -> Result<(usize, usize)> {
        let rows_at = self
            .slots
            .checked_mul(5)
            .and_then(|n| n.checked_add(HEADER_BYTES + (4 - self.slots % 4) % 4))
            .ok_or_else(truncated)?;
        let rows_len = self
            .slots
            .checked_mul(self.dim)
            .and_then(|n| n.checked_mul(4))
            .ok_or_else(truncated)?;
        match (rows_at as u64).checked_add(rows_len as u64) {
            Some(end) if end <= body_len => Ok((rows_at, rows_len)),
            _ => Err(truncated()),
        }
    }
}

/// How a graph section is laid out and read.
struct GraphLayout<'a> {
    slots: usize,
    version: u32,
    /// The mapping the section is in, and where the reader's bytes start in it.
    mapped: Option<(&'a Arc<Mmap>, usize)>,
    /// Check every link (not for a mapped file read for its structure: see `read_layer0`).
    check: bool,
}

/// The graph section; every link read into the graph stays within the graph and its
/// levels, so searches never index out of bounds.
fn read_graph(r: &mut Reader<'_>, layout: GraphLayout<'_>) -> Result<Hnsw> {
    let slots = layout.slots;
    let truncated = || corrupt("truncated");
    let m = r.u32().ok_or_else(truncated)? as usize;
    let ef_construction = r.u32().ok_or_else(truncated)? as usize;
    let lo = u64::from(r.u32().ok_or_else(truncated)?);
    let hi = u64::from(r.u32().ok_or_else(truncated)?);
    let entry = r.u32().ok_or_else(truncated)?;
    let entry_level = r.u32().ok_or_else(truncated)? as usize;
    let params = HnswParams {
        m,
        ef_construction,
        seed: lo | (hi << 32),
    };
    validate_hnsw(params).map_err(|_| corrupt("bad graph parameters"))?;
    let levels: Vec<u8> = r.take(slots).ok_or_else(truncated)?.to_vec();
    r.take((4 - slots % 4) % 4).ok_or_else(truncated)?;
    if levels.iter().any(|&lv| usize::from(lv) > MAX_LEVEL) {
        return Err(corrupt("bad node level"));
    }
    let entry = match entry {
        u32::MAX => None,
        e if (e as usize) < slots => {
            if usize::from(levels[e as usize]) != entry_level {
                return Err(corrupt("entry level differs from its node's level"));
            }
            Some((e, entry_level))
        }
        _ => return Err(corrupt("entry out of range")),
    };
    if layout.version >= 4 {
        return read_layer0(r, &layout, params, levels, entry);
    }
    // Layer 0 straight into the layout searches walk; lists only for the levels above.
    // Nodes' lists have varying lengths: a first pass finds where each chunk of nodes
    // starts (reading counts only), then the chunks are decoded and checked in parallel.
    let stride = layer0_stride(params);
    let mut layer0 = vec![0u32; slots * stride];
    let mut starts = Vec::with_capacity(slots.div_ceil(GRAPH_CHUNK_NODES) + 1);
    for (node, &lv) in levels.iter().enumerate() {
        if node % GRAPH_CHUNK_NODES == 0 {
            starts.push(r.pos);
        }
        for level in 0..=usize::from(lv) {
            let n = r.u32().ok_or_else(truncated)? as usize;
            if n > params.max_links(level) {
                return Err(corrupt("a neighbour list longer than the graph allows"));
            }
            r.take(4 * n).ok_or_else(truncated)?;
        }
    }
    let bytes = r.bytes;
    let chunks: Vec<Result<Vec<Vec<Vec<u32>>>>> = layer0
        .par_chunks_mut(GRAPH_CHUNK_NODES * stride)
        .zip(starts.par_iter())
        .enumerate()
        .map(|(chunk, (flat, &at))| {
            let first = chunk * GRAPH_CHUNK_NODES;
            let mut r = Reader::new(bytes, at);
            let nodes = &levels[first..first + flat.len() / stride];
            let mut upper = Vec::with_capacity(nodes.len());
            for (i, &lv) in nodes.iter().enumerate() {
                upper.push(read_node_lists(
                    &mut r,
                    params,
                    &levels,
                    lv,
                    &mut flat[i * stride..(i + 1) * stride],
                )?);
            }
            Ok(upper)
        })
        .collect();
    let mut upper = Vec::with_capacity(slots);
    for chunk in chunks {
        upper.extend(chunk?);
    }
    Ok(Hnsw::from_parts(params, levels, layer0, upper, entry))
}

/// The graph section from layer 0 on, format 4: layer 0 where it is in a mapped file
/// (its links checked unless the file is read for its structure: a walk never follows a
/// link outside the graph, see `Hnsw::from_mapped_parts`), else copied and checked; the
/// lists of the levels above decoded and checked.
fn read_layer0(
    r: &mut Reader<'_>,
    layout: &GraphLayout<'_>,
    params: HnswParams,
    levels: Vec<u8>,
    entry: Option<(u32, usize)>,
) -> Result<Hnsw> {
    let stride = layer0_stride(params);
    let words = layout.slots.checked_mul(stride).ok_or_else(truncated)?;
    let at = r.pos;
    let bytes = r
        .take(words.checked_mul(4).ok_or_else(truncated)?)
        .ok_or_else(truncated)?;
    let mapped = layout
        .mapped
        .and_then(|(map, base)| Mapped::<u32>::new(Arc::clone(map), base + at, words));
    if layout.check || mapped.is_none() {
        check_layer0(bytes, stride, layout.slots)?;
    }
    let mut upper = vec![Vec::new(); layout.slots];
    for (node, &lv) in levels.iter().enumerate().filter(|(_, &lv)| lv > 0) {
        upper[node] = read_upper_lists(r, params, &levels, lv)?;
    }
    Ok(match mapped {
        Some(layer0) => Hnsw::from_mapped_parts(params, levels, layer0, upper, entry),
        None => {
            let layer0 = bytes
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            Hnsw::from_parts(params, levels, layer0, upper, entry)
        }
    })
}

/// Every layer-0 list of a format 4 file holds: at most `2m` links, each to a node.
fn check_layer0(bytes: &[u8], stride: usize, slots: usize) -> Result<()> {
    let word = |b: &[u8], i: usize| {
        u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
    };
    bytes
        .par_chunks(GRAPH_CHUNK_NODES * stride * 4)
        .try_for_each(|chunk| {
            for node in chunk.chunks_exact(stride * 4) {
                let count = word(node, 0) as usize;
                if count > stride - 1 {
                    return Err(corrupt("a neighbour list longer than the graph allows"));
                }
                if (1..=count).any(|i| word(node, i) as usize >= slots) {
                    return Err(corrupt("link out of range"));
                }
            }
            Ok(())
        })
}

/// Bytes of the graph gathered before each write of a file (1 MiB).
const WRITE_CHUNK_BYTES: usize = 1 << 20;

/// Nodes decoded together when a graph loads (on rayon's threads).
const GRAPH_CHUNK_NODES: usize = 16_384;

/// One node's lists: layer 0 into `flat` (its count, then its ids), the levels above
/// returned; every link checked to stay within the graph and its levels.
fn read_node_lists(
    r: &mut Reader<'_>,
    params: HnswParams,
    levels: &[u8],
    lv: u8,
    flat: &mut [u32],
) -> Result<Vec<Vec<u32>>> {
    let n = r.u32().ok_or_else(truncated)? as usize;
    if n > params.max_links(0) {
        return Err(corrupt("a neighbour list longer than the graph allows"));
    }
    let bytes = r.take(4 * n).ok_or_else(truncated)?;
    flat[0] = n as u32;
    for (to, b) in flat[1..1 + n].iter_mut().zip(bytes.chunks_exact(4)) {
        *to = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    if flat[1..1 + n].iter().any(|&id| id as usize >= levels.len()) {
        return Err(corrupt("link out of range"));
    }
    read_upper_lists(r, params, levels, lv)
}

/// A node's lists of levels 1 to `lv`, every link checked to stay within the graph and
/// its levels.
fn read_upper_lists(
    r: &mut Reader<'_>,
    params: HnswParams,
    levels: &[u8],
    lv: u8,
) -> Result<Vec<Vec<u32>>> {
    let mut lists = Vec::with_capacity(usize::from(lv));
    for level in 1..=lv {
        let n = r.u32().ok_or_else(truncated)? as usize;
        if n > params.max_links(usize::from(level)) {
            return Err(corrupt("a neighbour list longer than the graph allows"));
        }
        let ids = r.u32s(n).ok_or_else(truncated)?;
        for &id in &ids {
            match levels.get(id as usize) {
                None => return Err(corrupt("link out of range")),
                Some(&to) if to < level => {
                    return Err(corrupt("link to a node below its level"));
                }
                Some(_) => {}
            }
        }
        lists.push(ids);
    }
    Ok(lists)
}

/// `Σ v²` in `f64`, summed in eight lanes (vector registers, not one running sum).
fn squared_norm(row: &[f32]) -> f64 {
    let mut lanes = [0f64; 8];
    let mut chunks = row.chunks_exact(8);
    for chunk in &mut chunks {
        for (sum, &v) in lanes.iter_mut().zip(chunk) {
            *sum += f64::from(v) * f64::from(v);
        }
    }
    let rest: f64 = chunks
        .remainder()
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum();
    lanes.iter().sum::<f64>() + rest
}

/// Rows as `add` stores them: finite, and at most unit length under the cosine metric
/// (rows of `dim`, the first of them at slot `first`, as errors name it).
fn check_rows(data: &[f32], dim: usize, metric: Metric, first: usize) -> Result<()> {
    let limit = 1.0 + unit_slack(dim);
    for (slot, row) in (first..).zip(data.chunks_exact(dim)) {
        // Finite rows only have a finite sum of squares in `f64` (no square of an `f32`
        // comes near its range): one pass answers both questions.
        let sq = squared_norm(row);
        if !sq.is_finite() {
            return Err(corrupt(&format!("row {slot} holds a non-finite number")));
        }
        if metric == Metric::Cosine && sq > limit {
            return Err(corrupt(&format!(
                "row {slot} is longer than unit length under the cosine metric"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hnsw::splitmix64;
    use crate::vector::SearchOptions;
    use std::ffi::OsString;

    fn index(n: usize, dim: usize, graph: bool) -> VectorIndex {
        let mut s = 5u64;
        let v: Vec<f32> = (0..n * dim)
            .map(|_| {
                s = splitmix64(s);
                (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        let params = graph.then(HnswParams::default);
        let mut idx = VectorIndex::new(dim, Metric::Cosine, params).unwrap();
        let labels: Vec<u32> = (0..n as u32).collect();
        idx.add(&labels, &v).unwrap();
        idx
    }

    /// Why `bytes` are refused, by `from_bytes` and alike by `load` of a file holding them.
    fn code(bytes: &[u8]) -> String {
        let err = VectorIndex::from_bytes(bytes).err().expect("refused");
        assert_eq!(err.code, "INDEX_CORRUPT");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index-1.bin");
        fs::write(&path, bytes).unwrap();
        let loaded = VectorIndex::load(&path).err().expect("refused by load");
        assert_eq!(loaded.code, "INDEX_CORRUPT");
        assert_eq!(loaded.message, err.message);
        err.message
    }

    /// `from_bytes(bytes)` and `load` of a file holding them give the same index.
    fn both(bytes: &[u8]) -> VectorIndex {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index-1.bin");
        fs::write(&path, bytes).unwrap();
        let loaded = VectorIndex::load(&path).unwrap();
        let parsed = VectorIndex::from_bytes(bytes).unwrap();
        assert_eq!(loaded.to_bytes(), parsed.to_bytes());
        loaded
    }

    /// The same file in format version 3: each node's lists one after the other, layer
    /// 0's as long as it is.
    fn version3(bytes: &[u8]) -> Vec<u8> {
        let header = Header::parse(bytes).unwrap();
        assert_eq!(header.version, 4);
        let body = &bytes[..bytes.len() - CHECKSUM_BYTES - END.len()];
        let (rows_at, rows_len) = header.rows(body.len() as u64).unwrap();
        let after = header.codes_end(rows_at + rows_len, body.len()).unwrap();
        let mut old = body[..after].to_vec();
        old[8..12].copy_from_slice(&3u32.to_le_bytes());
        if header.flags & GRAPH_FLAG != 0 {
            let mut r = Reader::new(body, after);
            let head = r.take(24).unwrap();
            let m = u32::from_le_bytes(head[..4].try_into().unwrap()) as usize;
            let slots = header.slots;
            let levels = r.take(slots).unwrap().to_vec();
            let pad = r.take((4 - slots % 4) % 4).unwrap();
            let layer0 = r.u32s(slots * (2 * m + 1)).unwrap();
            old.extend_from_slice(head);
            old.extend_from_slice(&levels);
            old.extend_from_slice(pad);
            for (node, &lv) in levels.iter().enumerate() {
                let list = &layer0[node * (2 * m + 1)..(node + 1) * (2 * m + 1)];
                put_u32s(&mut old, &list[..=list[0] as usize]);
                for _ in 0..lv {
                    let n = r.u32().unwrap();
                    old.put_u32(n);
                    put_u32s(&mut old, &r.u32s(n as usize).unwrap());
                }
            }
            assert!(r.at_end());
        }
        seal(old)
    }

    /// The same file in format version 2: no codes, lists as version 3 has them.
    fn version2(bytes: &[u8]) -> Vec<u8> {
        let bytes = &version3(bytes);
        let header = Header::parse(bytes).unwrap();
        let body = &bytes[..bytes.len() - CHECKSUM_BYTES];
        let (rows_at, rows_len) = header.rows(body.len() as u64).unwrap();
        let after = header.codes_end(rows_at + rows_len, body.len()).unwrap();
        let mut old = body[..rows_at + rows_len].to_vec();
        old.extend_from_slice(&body[after..body.len() - END.len()]);
        old[8..12].copy_from_slice(&2u32.to_le_bytes());
        old[24..28].copy_from_slice(&(header.flags & !CODES_FLAG).to_le_bytes());
        seal(old)
    }

    /// The same file in format version 1: no codes, no checksum.
    fn version1(bytes: &[u8]) -> Vec<u8> {
        let v2 = version2(bytes);
        let mut old = v2[..v2.len() - CHECKSUM_BYTES].to_vec();
        old[8..12].copy_from_slice(&1u32.to_le_bytes());
        old
    }

    /// Offset of the first float of row `slot`.
    fn row_at(idx: &VectorIndex, slot: usize) -> usize {
        let slots = idx.slots();
        28 + 4 * slots + slots + (4 - slots % 4) % 4 + 4 * slot * idx.dim
    }

    #[test]
    fn round_trips_and_reads_version_1() {
        let idx = index(300, 16, true);
        let bytes = idx.to_bytes();
        let back = both(&bytes);
        assert_eq!(back.to_bytes(), bytes);
        let old = both(&version1(&bytes));
        assert_eq!(old.to_bytes(), bytes);
        let v2 = both(&version2(&bytes));
        assert_eq!(v2.to_bytes(), bytes);
        let v3 = both(&version3(&bytes));
        assert_eq!(v3.to_bytes(), bytes);
        assert_eq!(both(&index(7, 3, false).to_bytes()).len(), 7);
    }

    #[test]
    fn a_loaded_index_takes_its_codes_from_the_file_and_searches_as_one_that_coded_its_rows() {
        let (idx, dir, path, mut loaded) = saved_and_loaded(3000, 96);
        // The same rows from a file without codes: coded on load.
        let old = dir.path().join("index-2.bin");
        fs::write(&old, version2(&fs::read(&path).unwrap())).unwrap();
        let coded = VectorIndex::load(&old).unwrap();
        assert_eq!(loaded.codes.codes(), coded.codes.codes());
        assert_eq!(loaded.codes.bounds(), coded.codes.bounds());
        let exact = SearchOptions {
            exact: true,
            ..SearchOptions::default()
        };
        for l in [0u32, 1234, 2999] {
            let q = idx.get(l).unwrap().to_vec();
            let want = idx.search(&q, 7, None, exact).unwrap();
            assert_eq!(loaded.search(&q, 7, None, exact).unwrap(), want);
            assert_eq!(coded.search(&q, 7, None, exact).unwrap(), want);
        }
        // A write codes the new row beside those taken from the file.
        let q = idx.get(17).unwrap().to_vec();
        loaded.add(&[5000], &q).unwrap();
        assert_eq!(loaded.codes.len(), 3001);
        let hits = loaded.search(&q, 2, None, exact).unwrap();
        assert_eq!(hits.labels.len(), 2);
        assert!(hits.labels.contains(&5000) && hits.labels.contains(&17));
        // Saved again, the file holds the codes of every row.
        let again = dir.path().join("index-3.bin");
        loaded.save(&again).unwrap();
        let back = VectorIndex::load(&again).unwrap();
        assert_eq!(back.codes.codes(), loaded.codes.codes());
        assert_eq!(back.codes.bounds(), loaded.codes.bounds());
    }

    /// An index of `n` rows, saved in a temporary directory (kept alive by the returned
    /// handle) and loaded back from there.
    fn saved_and_loaded(
        n: usize,
        dim: usize,
    ) -> (
        VectorIndex,
        tempfile::TempDir,
        std::path::PathBuf,
        VectorIndex,
    ) {
        let idx = index(n, dim, false);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index-1.bin");
        idx.save(&path).unwrap();
        let loaded = VectorIndex::load(&path).unwrap();
        (idx, dir, path, loaded)
    }

    #[test]
    fn a_loaded_index_reads_its_rows_from_the_file_until_its_first_write() {
        // More rows than one chunk of a load (8 MiB).
        let (idx, _dir, path, mut loaded) = saved_and_loaded(6000, 384);
        assert!(loaded.rows_mapped());
        assert!(loaded.mapped_codes().is_some());
        assert_eq!(loaded.to_bytes(), idx.to_bytes());
        // Another index saved in its place (as a checkpoint writes) changes nothing it reads.
        index(10, 384, false).save(&path).unwrap();
        let q: Vec<f32> = [4321, 17, 5999]
            .iter()
            .flat_map(|&l| idx.get(l).unwrap().to_vec())
            .collect();
        let exact = SearchOptions {
            exact: true,
            ..SearchOptions::default()
        };
        let want = idx.search(&q, 5, None, exact).unwrap();
        assert_eq!(loaded.search(&q, 5, None, exact).unwrap(), want);
        assert_eq!(want.labels[0], 4321);
        // The first write copies the rows and codes into memory of its own.
        loaded.add(&[6000], &q[..384]).unwrap();
        assert!(!loaded.rows_mapped());
        assert!(loaded.mapped_codes().is_none());
        assert_eq!(&loaded.codes.codes()[..6000 * 384], idx.codes.codes());
        assert_eq!(loaded.search(&q, 5, None, exact).unwrap().labels[0], 4321);
        assert_eq!(loaded.get(6000), idx.get(4321));
        assert_eq!(loaded.get(5999), idx.get(5999));
    }

    #[test]
    fn rows_copied_outside_the_lock_are_taken_only_while_still_current() {
        let (idx, _dir, path, mut loaded) = saved_and_loaded(6000, 384);
        // A copy of the mapping the index still reads becomes its rows.
        let from = loaded.mapped_rows().unwrap();
        let copy = from.copy();
        loaded.adopt_rows(&from, copy);
        assert!(!loaded.rows_mapped());
        assert!(loaded.mapped_rows().is_none());
        assert_eq!(loaded.to_bytes(), idx.to_bytes());
        // The same for the codes.
        let from = loaded.mapped_codes().unwrap();
        let copy = from.copy();
        loaded.adopt_codes(&from, copy);
        assert!(loaded.mapped_codes().is_none());
        assert_eq!(loaded.codes.codes(), idx.codes.codes());
        // A copy made before the index changed its rows is dropped, whatever it holds.
        let mut other = VectorIndex::load(&path).unwrap();
        let stale_rows = other.mapped_rows().unwrap();
        let stale = stale_rows.copy();
        let stale_from = other.mapped_codes().unwrap();
        let stale_codes = stale_from.copy();
        let row = idx.get(17).unwrap().to_vec();
        other.add(&[6000], &row).unwrap();
        other.adopt_rows(&stale_rows, stale);
        other.adopt_codes(&stale_from, stale_codes);
        assert_eq!(other.len(), 6001);
        assert_eq!(other.codes.codes().len(), 6001 * 384);
        assert_eq!(other.get(6000), idx.get(17));
        // And one from another load of the file is not this index's mapping.
        let mut third = VectorIndex::load(&path).unwrap();
        let foreign = VectorIndex::load(&path).unwrap().mapped_rows().unwrap();
        let copy = foreign.copy();
        third.adopt_rows(&foreign, copy);
        assert!(third.rows_mapped());
    }

    #[test]
    fn a_bad_row_past_the_first_chunk_of_a_load_is_named() {
        let idx = index(6000, 384, false);
        let mut bytes = version1(&idx.to_bytes());
        let at = row_at(&idx, 5800);
        bytes[at..at + 4].copy_from_slice(&f32::INFINITY.to_le_bytes());
        assert!(code(&bytes).contains("row 5800 holds a non-finite number"));
    }

    #[test]
    fn damage_anywhere_fails_the_checksum() {
        let idx = index(200, 16, true);
        let bytes = idx.to_bytes();
        for at in [
            20,
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len() - 40,
            bytes.len() - 1,
        ] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x01;
            assert!(code(&bad).contains("checksum mismatch"), "byte {at}");
        }
        assert!(code(&bytes[..bytes.len() - 1]).contains("checksum"));
        assert_eq!(code(&bytes[..10]), "index file: truncated");
        let mut other = bytes.clone();
        other[8] = 5;
        assert!(code(&other).contains("unsupported version 5"));
    }

    #[test]
    fn a_file_read_for_its_structure_maps_labels_to_slots_when_first_asked() {
        let mut idx = index(300, 16, true);
        idx.remove(&[5, 6]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index-1.bin");
        idx.save(&path).unwrap();
        let mut loaded = VectorIndex::load_checked(&path, FileCheck::Structure).unwrap();
        assert!(!loaded.label_slots_built());
        assert_eq!(loaded.len(), 298);
        let q = idx.get(10).unwrap().to_vec();
        let options = SearchOptions::default();
        let plain = loaded.search(&q, 5, None, options).unwrap();
        assert_eq!(
            plain.labels,
            idx.search(&q, 5, None, options).unwrap().labels
        );
        assert!(
            !loaded.label_slots_built(),
            "a search without a filter needs no map"
        );
        let allowed = [5, 10, 11, 12];
        let filtered = loaded.search(&q, 3, Some(&allowed), options).unwrap();
        assert!(loaded.label_slots_built());
        let expected = idx.search(&q, 3, Some(&allowed), options).unwrap();
        assert_eq!(filtered.labels, expected.labels);
        assert!(!filtered.labels.contains(&5));
        assert!(!loaded.contains(5) && loaded.contains(10));
        // Writes after the map was built late, as after one built at load.
        let mut full = VectorIndex::load(&path).unwrap();
        for index in [&mut loaded, &mut full] {
            index
                .add(&[10, 400], &[q.clone(), q.clone()].concat())
                .unwrap();
            assert_eq!(index.remove(&[11, 6]), 1);
        }
        assert_eq!(loaded.len(), 298);
        assert_eq!(loaded.to_bytes(), full.to_bytes());
        // Writes that come first build it too.
        let mut loaded = VectorIndex::load_checked(&path, FileCheck::Structure).unwrap();
        assert_eq!(loaded.remove(&[12]), 1);
        assert!(loaded.label_slots_built());
        assert_eq!(loaded.len(), 297);
    }

    /// Offset of node `node`'s layer-0 record (its count) in a format 4 file.
    fn layer0_at(bytes: &[u8], node: usize) -> usize {
        let header = Header::parse(bytes).unwrap();
        let body = bytes.len() - CHECKSUM_BYTES;
        let (rows_at, rows_len) = header.rows(body as u64).unwrap();
        let graph = header.codes_end(rows_at + rows_len, body).unwrap();
        let slots = header.slots;
        graph + 24 + slots + (4 - slots % 4) % 4 + node * 4 * (2 * HnswParams::default().m + 1)
    }

    #[test]
    fn a_mapped_file_is_searched_with_its_layer_0_where_it_is_until_the_graph_grows() {
        let idx = index(2000, 32, true);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index-1.bin");
        idx.save(&path).unwrap();
        let loaded = VectorIndex::load(&path).unwrap();
        let graph = |i: &VectorIndex| i.hnsw.as_ref().unwrap().layer0_mapped();
        assert!(graph(&loaded), "a mapped file's layer 0 is not copied");
        let vouched = VectorIndex::load_checked(&path, FileCheck::Structure).unwrap();
        assert!(graph(&vouched));
        let options = SearchOptions::default();
        for l in [0u32, 777, 1999] {
            let q = idx.get(l).unwrap().to_vec();
            let want = idx.search(&q, 10, None, options).unwrap();
            assert_eq!(loaded.search(&q, 10, None, options).unwrap(), want);
            assert_eq!(vouched.search(&q, 10, None, options).unwrap(), want);
        }
        // A writer copies it with no lock held, and installs the copy.
        let mut adopted = VectorIndex::load(&path).unwrap();
        let from = adopted.mapped_layer0().unwrap();
        let copy = Hnsw::copy_layer0(&from);
        adopted.adopt_layer0(&from, copy);
        assert!(!graph(&adopted));
        assert_eq!(adopted.to_bytes(), idx.to_bytes());
        let q = idx.get(3).unwrap().to_vec();
        assert_eq!(
            adopted.search(&q, 10, None, options).unwrap(),
            idx.search(&q, 10, None, options).unwrap()
        );
        // Growing copies it; the index then writes the file an index built in memory does.
        let mut built = VectorIndex::from_bytes(&idx.to_bytes()).unwrap();
        assert!(!graph(&built));
        let q = idx.get(5).unwrap().to_vec();
        for index in [&mut built, &mut { loaded }] {
            index
                .add(&[9000, 9001], &[q.clone(), q.clone()].concat())
                .unwrap();
            assert!(!graph(index));
            assert_eq!(index.search(&q, 3, None, options).unwrap().labels.len(), 3);
            assert_eq!(index.to_bytes(), built_bytes(&idx, &q));
        }

        /// What `idx` writes after the same two adds.
        fn built_bytes(idx: &VectorIndex, q: &[f32]) -> Vec<u8> {
            let mut copy = VectorIndex::from_bytes(&idx.to_bytes()).unwrap();
            copy.add(&[9000, 9001], &[q, q].concat()).unwrap();
            copy.to_bytes()
        }
    }

    #[test]
    fn a_layer_0_link_outside_the_graph_is_refused_by_a_full_check_and_never_followed() {
        let idx = index(300, 16, true);
        let mut bytes = idx.to_bytes();
        let at = layer0_at(&bytes, 17) + 4;
        bytes[at..at + 4].copy_from_slice(&10_000u32.to_le_bytes());
        let body = bytes.len() - CHECKSUM_BYTES;
        let sum = checksum(&bytes[..body]);
        bytes[body..].copy_from_slice(sum.as_bytes());
        assert!(code(&bytes).contains("link out of range"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index-1.bin");
        fs::write(&path, &bytes).unwrap();
        // Read for its structure (the caller vouched for the file), the graph is walked
        // without the link: every search answers, nothing is read out of bounds. (A node
        // only that link led to may go unfound: the graph is built in parallel, so which
        // one varies from run to run.)
        let vouched = VectorIndex::load_checked(&path, FileCheck::Structure).unwrap();
        let ef = SearchOptions {
            ef: 300,
            ..SearchOptions::default()
        };
        let mut found_itself = 0;
        for l in (0..300).step_by(7) {
            let q = idx.get(l).unwrap().to_vec();
            let hits = vouched.search(&q, 5, None, ef).unwrap();
            assert_eq!(hits.labels.len(), 5);
            assert!(hits.labels.iter().all(|&h| h < 300));
            found_itself += usize::from(hits.labels[0] == l);
        }
        assert!(
            found_itself >= 40,
            "{found_itself} of 43 searches found their own row"
        );
    }

    #[test]
    fn a_file_checked_before_is_read_for_its_structure_only() {
        let idx = index(300, 16, true);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index-1.bin");
        idx.save(&path).unwrap();
        let loaded = VectorIndex::load_checked(&path, FileCheck::Structure).unwrap();
        assert_eq!(loaded.to_bytes(), idx.to_bytes());
        // A changed row passes unseen (the caller vouched for the bytes)...
        let mut bytes = fs::read(&path).unwrap();
        let at = row_at(&idx, 7);
        bytes[at..at + 4].copy_from_slice(&1e30f32.to_le_bytes());
        fs::write(&path, &bytes).unwrap();
        assert!(VectorIndex::load_checked(&path, FileCheck::Structure).is_ok());
        assert_eq!(
            VectorIndex::load(&path).err().unwrap().code,
            "INDEX_CORRUPT"
        );
        // ...but never a structure that would send a search out of bounds.
        let mut bytes = idx.to_bytes();
        let graph = bytes.len() - CHECKSUM_BYTES - END.len() - 1;
        bytes[graph - 3..=graph].copy_from_slice(&10_000u32.to_le_bytes());
        fs::write(&path, &bytes).unwrap();
        let err = VectorIndex::load_checked(&path, FileCheck::Structure).err();
        assert_eq!(err.unwrap().code, "INDEX_CORRUPT");
    }

    #[test]
    fn version_1_files_with_bad_rows_are_refused() {
        let idx = index(200, 16, true);
        let good = version1(&idx.to_bytes());
        let mut huge = good.clone();
        let at = row_at(&idx, 5);
        for i in 0..16 {
            huge[at + 4 * i..at + 4 * i + 4].copy_from_slice(&1e30f32.to_le_bytes());
        }
        assert!(code(&huge).contains("row 5 is longer than unit length"));
        let mut nan = good.clone();
        nan[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(code(&nan).contains("row 5 holds a non-finite number"));
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(code(&trailing).contains("bytes after the end marker"));
        // Under the dot metric rows keep their length; only non-finite ones are refused.
        let mut dot = VectorIndex::new(4, Metric::Dot, None).unwrap();
        dot.add(&[1], &[1e30, 2.0, 3.0, 4.0]).unwrap();
        let bytes = dot.to_bytes();
        assert!(VectorIndex::from_bytes(&bytes).is_ok());
    }

    #[test]
    fn version_1_graphs_that_would_send_a_search_out_of_bounds_are_refused() {
        let idx = index(40, 8, true);
        let good = version1(&idx.to_bytes());
        let graph = row_at(&idx, idx.slots());
        let u32_at =
            |b: &[u8], at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let level = u32_at(&good, graph + 20);
        let mut wrong_level = good.clone();
        wrong_level[graph + 20..graph + 24].copy_from_slice(&(level + 1).to_le_bytes());
        assert!(code(&wrong_level).contains("entry level differs"));
        let mut wrong_entry = good.clone();
        wrong_entry[graph + 16..graph + 20].copy_from_slice(&40u32.to_le_bytes());
        assert!(code(&wrong_entry).contains("entry out of range"));
        // The first link of node 0 (after the levels, padded to 4, and node 0's count).
        let lists = graph + 24 + 40;
        assert!(u32_at(&good, lists) > 0, "node 0 has links");
        let mut far = good.clone();
        far[lists + 4..lists + 8].copy_from_slice(&1000u32.to_le_bytes());
        assert!(code(&far).contains("link out of range"));
        let mut long = good.clone();
        long[lists..lists + 4].copy_from_slice(&1000u32.to_le_bytes());
        assert!(code(&long).contains("a neighbour list longer than the graph allows"));
    }

    #[test]
    fn a_failed_save_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index-1.bin");
        fs::create_dir_all(path.join("occupied")).unwrap();
        let idx = index(10, 8, false);
        assert!(idx.save(&path).is_err());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("index-1.bin")]);
        let ok = dir.path().join("index-2.bin");
        idx.save(&ok).unwrap();
        assert!(VectorIndex::load(&ok).is_ok());
        assert!(!temp_path(&ok).exists());
    }

    #[test]
    fn a_saved_file_is_the_bytes_of_the_index_written_as_they_are_made() {
        let dir = tempfile::tempdir().unwrap();
        // Rows, codes and a graph over several write chunks.
        for (n, dim, graph) in [(0, 4, false), (3, 5, true), (3000, 96, true)] {
            let idx = index(n, dim, graph);
            let path = dir.path().join(format!("index-{n}.bin"));
            idx.save(&path).unwrap();
            assert_eq!(fs::read(&path).unwrap(), idx.to_bytes());
            let back = VectorIndex::load(&path).unwrap();
            assert_eq!(back.to_bytes(), idx.to_bytes());
        }
    }

    #[test]
    fn load_failures_carry_their_codes_and_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("index-9.bin");
        let err = VectorIndex::load(&missing).err().unwrap();
        assert_eq!(err.code, "IO_NOT_FOUND");
        assert!(err.message.starts_with(&format!("{}: ", missing.display())));
        // EISDIR, as fromNodeIoError reads it on the js side.
        assert_eq!(
            VectorIndex::load(dir.path()).err().unwrap().code,
            "IO_NOT_A_FILE"
        );
        let garbage = dir.path().join("index-3.bin");
        fs::write(&garbage, b"not an index").unwrap();
        assert_eq!(
            VectorIndex::load(&garbage).err().unwrap().code,
            "INDEX_CORRUPT"
        );
    }
}
