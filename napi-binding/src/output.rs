//! A program's output for the `onStdout`/`onStderr` callbacks of
//! `NodeRuntime.exec`.
//!
//! The program writes on a worker thread; the callbacks are JavaScript and run
//! on the main thread. Chunks are kept here, in order, and the first chunk
//! after a drain pings `lib.js` (a weak threadsafe function), which drains
//! them into the callbacks. `lib.js` drains once more when the run settles,
//! before the caller sees the result, so every chunk has been heard by then.
//! A program that writes faster than the event loop drains cannot use up
//! memory: a chunk of standard output or error written right after one
//! of the same stream joins it, each kept chunk is charged [`CHUNK_COST`] besides its bytes
//! (its vector here, its `Buffer` and object in JavaScript), and past
//! [`MAX_BYTES`] pending, chunks are dropped, and counted. (One-byte writes
//! kept one entry each once took a host to 4.3 GB.)

use std::sync::{Arc, Mutex, MutexGuard};

use napi::Status;
use napi::bindgen_prelude::{Buffer, Function};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use polybox::program::OutputCallback;

use crate::error::{Result, invalid_arg};

/// The most output kept between two drains, chunk costs included.
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

/// What one kept chunk costs besides its bytes.
pub const CHUNK_COST: usize = 128;

/// One chunk of a program's output.
#[napi(object)]
pub struct OutputChunk {
    /// 1 for standard output, 2 for standard error.
    pub fd: u32,
    pub chunk: Buffer,
}

#[derive(Default)]
struct Pending {
    chunks: Vec<(u32, Vec<u8>)>,
    bytes: usize,
    dropped: usize,
}

/// `lib.js`'s drain, callable from any thread.
type Ping = ThreadsafeFunction<(), (), (), Status, false, true>;

/// The output a running program wrote since it was last taken.
#[napi]
pub struct NativeOutput {
    pending: Arc<Mutex<Pending>>,
    ping: Arc<Ping>,
}

fn lock(pending: &Mutex<Pending>) -> MutexGuard<'_, Pending> {
    pending.lock().unwrap_or_else(|p| p.into_inner())
}

#[napi]
impl NativeOutput {
    /// Output that calls `ping()` on the main thread when chunks arrive.
    #[napi(constructor, ts_args_type = "ping: () => void")]
    pub fn new(ping: Function<(), ()>) -> Result<Self> {
        let ping = ping
            .build_threadsafe_function()
            .callee_handled::<false>()
            .weak::<true>()
            .build()
            .map_err(|e| invalid_arg(e.reason))?;
        Ok(Self {
            pending: Arc::default(),
            ping: Arc::new(ping),
        })
    }

    /// The chunks written since the last call, oldest first. Chunks dropped
    /// for want of room are reported in `dropped()`.
    #[napi]
    pub fn take(&self) -> Vec<OutputChunk> {
        let taken = std::mem::take(&mut *lock(&self.pending));
        let mut chunks: Vec<OutputChunk> = taken
            .chunks
            .into_iter()
            .map(|(fd, chunk)| OutputChunk {
                fd,
                chunk: chunk.into(),
            })
            .collect();
        if taken.dropped > 0 {
            let note = format!(
                "\n[polybox: {} chunks of output dropped: more than {MAX_BYTES} bytes waited for the event loop]\n",
                taken.dropped
            );
            chunks.push(OutputChunk {
                fd: 2,
                chunk: note.into_bytes().into(),
            });
        }
        chunks
    }
}

impl NativeOutput {
    /// The callback that keeps what the program writes to `fd` here.
    pub fn callback(&self, fd: u32) -> OutputCallback {
        let (pending, ping) = (self.pending.clone(), self.ping.clone());
        Box::new(move |chunk: &[u8]| {
            let first = {
                let mut pending = lock(&pending);
                // Standard output and error are byte streams; any other
                // descriptor carries one message per chunk (a yielded
                // value's JSON), which must stay whole.
                let joins = matches!(fd, 1 | 2)
                    && pending.chunks.last().is_some_and(|(last, _)| *last == fd);
                let cost = chunk.len() + if joins { 0 } else { CHUNK_COST };
                if pending.bytes + cost > MAX_BYTES {
                    pending.dropped += 1;
                    return;
                }
                pending.bytes += cost;
                match pending.chunks.last_mut() {
                    Some((_, last)) if joins => last.extend_from_slice(chunk),
                    _ => pending.chunks.push((fd, chunk.to_vec())),
                }
                pending.chunks.len() == 1 && !joins
            };
            if first {
                ping.call((), ThreadsafeFunctionCallMode::NonBlocking);
            }
        })
    }
}
