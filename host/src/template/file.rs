//! A template on disk: what it needs of the sandbox that loads it, and the
//! guest memory it captured.
//!
//! ```text
//! 0       "PBXTMPL\n"                       signature
//! 8       u32 LE format                     FORMAT
//! 12      u32 LE header length              h
//! 16      SHA-256 of bytes 48..             the file's own digest
//! 48      header, JSON                      Header
//! 48+h    zeros to the next 4 KiB boundary
//! ...     guest memory, image_len bytes     all-zero pages left as holes
//! ```
//!
//! Loading checks, in order: the signature, the format, the length the
//! header promises (a truncated file), the digest (a corrupted one), then
//! that the loading sandbox is what the capture needs ([`Needs`]), and
//! says what differs. The guest memory is copied into a sealed memfd rather
//! than mapped from the file: a mapped file that someone truncates later
//! kills the process with `SIGBUS` on the next page fault, and a sealed
//! memfd cannot change. Writes go to a temporary file renamed into place,
//! so a reader never sees half a template.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backend::{GuestImage, guest_sha256, image_bytes, image_from_bytes};
use crate::error::{Error, Result};
use crate::sandbox::ProtoJSSandbox;

const SIGNATURE: &[u8; 8] = b"PBXTMPL\n";
/// The layout this Polybox writes and reads.
pub(crate) const FORMAT: u32 = 1;
const PREFIX: usize = 48;
const ALIGN: usize = 4096;

/// What a capture needs of the sandbox it starts: the same guest, and the
/// settings and host modules it was captured with. (Not the heap size: a
/// sandbox with a heap too small for the captured memory refuses it when
/// it maps it.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Needs {
    /// The guest's language (files written before Python guests existed
    /// have none: they are JavaScript).
    #[serde(default = "javascript")]
    language: String,
    guest_sha256: String,
    backend: String,
    stack_size: usize,
    fuel_metering: bool,
    programs: bool,
    host_modules: Vec<(String, Vec<String>)>,
    /// Host components by module, with their SHA-256s (hex).
    host_components: Vec<(String, String)>,
}

impl Needs {
    /// What `proto`'s sandboxes offer a capture.
    pub fn of(proto: &ProtoJSSandbox) -> Self {
        let config = proto.config();
        let (host_modules, components) = proto.shapes();
        Self {
            language: config.language.name().to_owned(),
            guest_sha256: guest_sha256(config.language).to_owned(),
            backend: config.backend.name().to_owned(),
            stack_size: config.stack_size,
            fuel_metering: config.fuel_metering,
            programs: config.programs,
            host_modules,
            host_components: components
                .into_iter()
                .map(|(name, digest)| (name.to_owned(), hex::encode(digest)))
                .collect(),
        }
    }

    /// Each way `offered` differs from what this capture needs, in words
    /// (`stackSize: 1048576 in the template, 2097152 here`); empty when
    /// it fits.
    pub fn differences(&self, offered: &Self) -> Vec<String> {
        let (needed, given) = (json(self), json(offered));
        needed
            .iter()
            .filter(|(key, value)| given.get(*key) != Some(*value))
            .map(|(key, value)| {
                let here = given.get(key).unwrap_or(&serde_json::Value::Null);
                format!("{key}: {value} in the template, {here} here")
            })
            .collect()
    }
}

fn javascript() -> String {
    crate::config::Language::JavaScript.name().to_owned()
}

/// `needs` as a JSON object.
fn json(needs: &Needs) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(needs) {
        Ok(serde_json::Value::Object(fields)) => fields,
        _ => unreachable!("Needs serialises as an object"),
    }
}

/// The JSON header.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    /// The Polybox version that wrote the file (for people; not checked:
    /// the guest's digest is what images depend on).
    written_by: String,
    needs: Needs,
    handlers: Vec<String>,
    image_len: usize,
}

/// A template as read from a file, checked.
pub(crate) struct Loaded {
    pub needs: Needs,
    pub handlers: Vec<String>,
    pub image: GuestImage,
}

/// Writes a template to `path` atomically (a temporary file in the same
/// directory, renamed over `path`).
pub(crate) fn write(
    path: &Path,
    needs: &Needs,
    handlers: Vec<String>,
    image: &GuestImage,
) -> Result<()> {
    let memory = image_bytes(image)?;
    let header = serde_json::to_vec(&Header {
        written_by: env!("CARGO_PKG_VERSION").to_owned(),
        needs: needs.clone(),
        handlers,
        image_len: memory.len(),
    })
    .map_err(|e| Error::Internal(format!("cannot encode a template header: {e}")))?;
    let image_at = (PREFIX + header.len()).next_multiple_of(ALIGN);
    let padding = vec![0; image_at - PREFIX - header.len()];
    let digest: [u8; 32] = Sha256::new()
        .chain_update(&header)
        .chain_update(&padding)
        .chain_update(memory)
        .finalize()
        .into();
    let header_len = u32::try_from(header.len())
        .map_err(|_| Error::invalid_arg("the template's header is larger than 4 GiB"))?;

    let failed = |e: std::io::Error| {
        Error::invalid_arg(format!("cannot write the template {}: {e}", path.display()))
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    // Readable as any file the user writes is (the umask applies), not
    // only by its owner as temporary files are.
    let mut file = tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o644))
        .tempfile_in(dir)
        .map_err(failed)?;
    let out = file.as_file_mut();
    out.write_all(SIGNATURE).map_err(failed)?;
    out.write_all(&FORMAT.to_le_bytes()).map_err(failed)?;
    out.write_all(&header_len.to_le_bytes()).map_err(failed)?;
    out.write_all(&digest).map_err(failed)?;
    out.write_all(&header).map_err(failed)?;
    out.write_all(&padding).map_err(failed)?;
    write_sparse(out, memory).map_err(failed)?;
    out.set_len((image_at + memory.len()) as u64)
        .map_err(failed)?;
    out.sync_all().map_err(failed)?;
    file.persist(path).map_err(|e| failed(e.error))?;
    Ok(())
}

/// Writes `memory` from the file's position, skipping all-zero pages (the
/// file reads them back as zeros).
fn write_sparse(out: &mut File, memory: &[u8]) -> std::io::Result<()> {
    for page in memory.chunks(ALIGN) {
        if page.iter().all(|&b| b == 0) {
            out.seek(SeekFrom::Current(page.len() as i64))?;
        } else {
            out.write_all(page)?;
        }
    }
    Ok(())
}

/// Reads and checks the template at `path`.
fn read(path: &Path) -> Result<Loaded> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::invalid_arg(format!("cannot read the template {}: {e}", path.display()))
    })?;
    parse(&bytes)
        .map_err(|why| Error::invalid_arg(format!("the template {} {why}", path.display())))
}

/// Reads the template at `path` for sandboxes offering `offered`, refusing
/// it, saying what differs, when they are not what it needs.
pub(crate) fn read_for(path: &Path, offered: &Needs) -> Result<Loaded> {
    let loaded = read(path)?;
    let differences = loaded.needs.differences(offered);
    if !differences.is_empty() {
        return Err(Error::invalid_arg(format!(
            "the template {} was built for other sandboxes than these: {}",
            path.display(),
            differences.join("; ")
        )));
    }
    Ok(loaded)
}

/// Checks a template file's bytes; the error completes "the template X ...".
fn parse(bytes: &[u8]) -> std::result::Result<Loaded, String> {
    if bytes.len() < PREFIX || &bytes[..8] != SIGNATURE {
        return Err("is not a Polybox template (its signature is missing)".into());
    }
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let format = word(8);
    if format != FORMAT {
        return Err(format!(
            "has format {format}, and this Polybox reads format {FORMAT}: build it again with this version"
        ));
    }
    let header_end = PREFIX + word(12) as usize;
    let header: Header = bytes
        .get(PREFIX..header_end)
        .and_then(|header| serde_json::from_slice(header).ok())
        .ok_or("is corrupted or truncated: its header cannot be read")?;
    let image_at = header_end.next_multiple_of(ALIGN);
    let expected = image_at.checked_add(header.image_len);
    if expected != Some(bytes.len()) {
        let expected = expected.map_or("more".to_owned(), |n| n.to_string());
        return Err(format!(
            "is truncated or has trailing bytes: {} bytes, where its header promises {expected}",
            bytes.len()
        ));
    }
    let digest: [u8; 32] = Sha256::digest(&bytes[PREFIX..]).into();
    if digest[..] != bytes[16..PREFIX] {
        return Err("is corrupted: its contents do not match the SHA-256 it records".into());
    }
    let image = image_from_bytes(&bytes[image_at..]).map_err(|e| e.to_string())?;
    Ok(Loaded {
        needs: header.needs,
        handlers: header.handlers,
        image,
    })
}
