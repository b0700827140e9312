//! The napi binding: the only module that knows about Node. It converts arguments,
//! delegates to `tokens`, and maps errors through `aios_error` to `[AIOS:<CODE>] message`
//! strings that the TypeScript bridge turns into `AiosError`s with the same code.

use aios_error::AiosError;
use napi::bindgen_prelude::{AsyncTask, Uint32Array};
use napi::{Env, Result, Task};
use napi_derive::napi;

use crate::tokens::{self, Encoding};

fn parse_encoding(name: &str) -> Result<Encoding> {
    let encoding = name.parse::<Encoding>().map_err(AiosError::from)?;
    if !encoding.is_loaded() {
        return Err(AiosError::new(
            "TOKENIZER_NOT_LOADED",
            format!("{encoding}: loadVocabulary was not called"),
        )
        .into());
    }
    Ok(encoding)
}

/// Loads an encoding's vocabulary from its gzip'd tiktoken file (`vocab/<name>.tiktoken.gz`
/// of the npm package); later calls for the same encoding do nothing, and a call while
/// `loadVocabularyAsync` is under way waits for it.
#[napi(catch_unwind)]
pub fn load_vocabulary(encoding: String, data: &[u8]) -> Result<()> {
    let encoding = encoding.parse::<Encoding>().map_err(AiosError::from)?;
    Ok(encoding.load(data).map_err(AiosError::from)?)
}

pub struct LoadVocabularyTask {
    encoding: Encoding,
    data: Vec<u8>,
}

impl Task for LoadVocabularyTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        Ok(self.encoding.load(&self.data).map_err(AiosError::from)?)
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

/// `loadVocabulary` on the libuv thread pool: started ahead of need, it parses the file
/// while the JS thread does something else.
#[napi(catch_unwind, ts_return_type = "Promise<void>")]
pub fn load_vocabulary_async(
    encoding: String,
    data: &[u8],
) -> Result<AsyncTask<LoadVocabularyTask>> {
    let encoding = encoding.parse::<Encoding>().map_err(AiosError::from)?;
    Ok(AsyncTask::new(LoadVocabularyTask {
        encoding,
        data: data.to_vec(),
    }))
}

/// Token ids of `text` (ordinary text: special tokens are never produced).
#[napi(catch_unwind)]
pub fn encode(encoding: String, text: String) -> Result<Uint32Array> {
    let encoding = parse_encoding(&encoding)?;
    Ok(Uint32Array::new(tokens::encode(encoding, &text)))
}

/// Number of tokens of `text`.
#[napi(catch_unwind)]
pub fn count(encoding: String, text: String) -> Result<u32> {
    let encoding = parse_encoding(&encoding)?;
    Ok(u32::try_from(tokens::count(encoding, &text)).unwrap_or(u32::MAX))
}

/// Token counts of many texts in one call.
#[napi(catch_unwind)]
pub fn count_batch(encoding: String, texts: Vec<String>) -> Result<Uint32Array> {
    let encoding = parse_encoding(&encoding)?;
    Ok(Uint32Array::new(tokens::count_batch(encoding, &texts)))
}

/// Token ids of many texts, flattened; `offsets` has one more entry than `texts`.
#[napi(object)]
pub struct EncodedBatch {
    pub ids: Uint32Array,
    pub offsets: Uint32Array,
}

/// Token ids of many texts in one call.
#[napi(catch_unwind)]
pub fn encode_batch(encoding: String, texts: Vec<String>) -> Result<EncodedBatch> {
    let encoding = parse_encoding(&encoding)?;
    let (ids, offsets) = tokens::encode_batch(encoding, &texts);
    Ok(EncodedBatch {
        ids: Uint32Array::new(ids),
        offsets: Uint32Array::new(offsets),
    })
}

/// Text of token ids; a cut inside a character decodes to U+FFFD.
#[napi(catch_unwind)]
pub fn decode(encoding: String, ids: Uint32Array) -> Result<String> {
    let encoding = parse_encoding(&encoding)?;
    Ok(tokens::decode(encoding, &ids).map_err(AiosError::from)?)
}

/// Number of ordinary tokens in the vocabulary.
#[napi(catch_unwind)]
pub fn vocabulary_size(encoding: String) -> Result<u32> {
    let encoding = encoding.parse::<Encoding>().map_err(AiosError::from)?;
    Ok(u32::try_from(encoding.vocabulary_size()).unwrap_or(u32::MAX))
}

pub struct EncodeTask {
    encoding: Encoding,
    text: String,
}

impl Task for EncodeTask {
    type Output = Vec<u32>;
    type JsValue = Uint32Array;

    fn compute(&mut self) -> Result<Vec<u32>> {
        Ok(tokens::encode(self.encoding, &self.text))
    }

    fn resolve(&mut self, _env: Env, output: Vec<u32>) -> Result<Uint32Array> {
        Ok(Uint32Array::new(output))
    }
}

/// Token ids of `text`, computed on the libuv thread pool (and rayon for large texts).
#[napi(catch_unwind, ts_return_type = "Promise<Uint32Array>")]
pub fn encode_async(encoding: String, text: String) -> Result<AsyncTask<EncodeTask>> {
    let encoding = parse_encoding(&encoding)?;
    Ok(AsyncTask::new(EncodeTask { encoding, text }))
}

pub struct CountBatchTask {
    encoding: Encoding,
    texts: Vec<String>,
}

impl Task for CountBatchTask {
    type Output = Vec<u32>;
    type JsValue = Uint32Array;

    fn compute(&mut self) -> Result<Vec<u32>> {
        Ok(tokens::count_batch(self.encoding, &self.texts))
    }

    fn resolve(&mut self, _env: Env, output: Vec<u32>) -> Result<Uint32Array> {
        Ok(Uint32Array::new(output))
    }
}

/// Token counts of many texts, computed off the JS thread.
#[napi(catch_unwind, ts_return_type = "Promise<Uint32Array>")]
pub fn count_batch_async(
    encoding: String,
    texts: Vec<String>,
) -> Result<AsyncTask<CountBatchTask>> {
    let encoding = parse_encoding(&encoding)?;
    Ok(AsyncTask::new(CountBatchTask { encoding, texts }))
}
