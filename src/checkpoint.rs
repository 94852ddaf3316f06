//! Signed checkpoints of the work log: the Merkle root of its first `size` entries, signed
//! with the home's ed25519 key.
//!
//! The text form is a small signed note an owner can keep anywhere and paste back later:
//!
//! ```text
//! shopcrew/demo
//! 42
//! <base64 root>
//! 2026-11-24T02:00:00Z
//!
//! — shopcrew <base64 of key id (4 bytes) and signature (64 bytes)>
//! ```
//!
//! The signature covers the four body lines exactly. `shopcrew log verify --against FILE`
//! checks it, then proves with a consistency proof that today's log extends it.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::merkle::Hash;

const SIGNER: &str = "shopcrew";

/// What a checkpoint states: the log of `origin` had `size` entries with this Merkle `root`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    #[serde(serialize_with = "ser_hex")]
    pub root: Hash,
    pub at: String,
}

fn ser_hex<S: serde::Serializer>(h: &Hash, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(h))
}

impl Checkpoint {
    fn body(&self) -> String {
        format!("{}\n{}\n{}\n{}\n", self.origin, self.size, STANDARD.encode(self.root), self.at)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    key_id: [u8; 4],
    signature: [u8; 64],
}

impl SignedCheckpoint {
    pub fn to_text(&self) -> String {
        let mut sig = self.key_id.to_vec();
        sig.extend_from_slice(&self.signature);
        format!("{}\n— {SIGNER} {}\n", self.checkpoint.body(), STANDARD.encode(sig))
    }

    /// Reads the text form; says what is wrong with it when it is not one.
    pub fn parse(text: &str) -> Result<SignedCheckpoint> {
        let bad = |what: &str| Error::Checkpoint(format!("not a shopcrew checkpoint: {what}"));
        let text = text.replace("\r\n", "\n");
        let (body, signature) = text.split_once("\n\n").ok_or_else(|| bad("no blank line before the signature"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        let [origin, size, root, at] = lines.as_slice() else {
            return Err(bad("the body must be four lines: origin, size, root, time"));
        };
        let size = size.parse::<u64>().map_err(|_| bad("the second line is not a size"))?;
        let root: Hash = STANDARD
            .decode(root)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("the third line is not a base64 SHA-256 root"))?;
        let sig_line = signature.trim_end_matches('\n');
        let encoded = sig_line
            .strip_prefix(&format!("— {SIGNER} "))
            .ok_or_else(|| bad("the signature line must start with `— shopcrew `"))?;
        let raw = STANDARD.decode(encoded).map_err(|_| bad("the signature is not base64"))?;
        if raw.len() != 68 {
            return Err(bad("the signature has the wrong length"));
        }
        let mut key_id = [0u8; 4];
        key_id.copy_from_slice(&raw[..4]);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&raw[4..]);
        let checkpoint = Checkpoint { origin: origin.to_string(), size, root, at: at.to_string() };
        Ok(SignedCheckpoint { checkpoint, key_id, signature })
    }

    /// Checks the signature against a public key.
    pub fn verify(&self, key: &VerifyingKey) -> Result<()> {
        if self.key_id != key_id(key) {
            return Err(Error::Checkpoint("the checkpoint was signed with another key than this home's".into()));
        }
        let signature = Signature::from_bytes(&self.signature);
        key.verify(self.checkpoint.body().as_bytes(), &signature)
            .map_err(|_| Error::Checkpoint("the checkpoint's signature does not match its content".into()))
    }
}

/// The first four bytes of SHA-256 over the signer name and the public key.
fn key_id(key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(SIGNER.as_bytes());
    h.update([0x0A, 0x01]);
    h.update(key.as_bytes());
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// The home's signing key: `keys/log.key` (secret, owner-only) and `keys/log.pub`.
pub struct LogKey {
    signing: SigningKey,
}

impl LogKey {
    /// Loads the key from `dir`, or makes one (and its public half) when there is none.
    /// Several processes may do this at once: a new key is written whole under a private
    /// name and then linked into place, which fails for all but the first; the others read it.
    pub fn load_or_create(dir: &Path) -> Result<LogKey> {
        let secret = dir.join("log.key");
        if !secret.exists() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| Error::Checkpoint(format!("no randomness for a new key: {e}")))?;
            // A name no other writer uses, in this process or another.
            let mut nonce = [0u8; 8];
            getrandom::fill(&mut nonce).map_err(|e| Error::Checkpoint(format!("no randomness for a new key: {e}")))?;
            let draft = dir.join(format!("log.key.{}.{}", std::process::id(), hex::encode(nonce)));
            write_private(&draft, &hex::encode(seed))?;
            let linked = std::fs::hard_link(&draft, &secret);
            let _ = std::fs::remove_file(&draft);
            match linked {
                Ok(()) => {
                    let public = dir.join("log.pub");
                    let key = LogKey { signing: SigningKey::from_bytes(&seed) };
                    std::fs::write(&public, key.public_hex() + "\n")
                        .map_err(|source| Error::Io { path: public, source })?;
                    return Ok(key);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(Error::Io { path: secret, source }),
            }
        }
        let text = std::fs::read_to_string(&secret).map_err(|source| Error::Io { path: secret.clone(), source })?;
        let seed: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Error::Checkpoint(format!("{} does not hold a 32-byte hex key", secret.display())))?;
        Ok(LogKey { signing: SigningKey::from_bytes(&seed) })
    }

    pub fn public(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    pub fn public_hex(&self) -> String {
        hex::encode(self.public().as_bytes())
    }

    pub fn sign(&self, checkpoint: Checkpoint) -> SignedCheckpoint {
        let signature = self.signing.sign(checkpoint.body().as_bytes()).to_bytes();
        SignedCheckpoint { key_id: key_id(&self.public()), signature, checkpoint }
    }
}

/// Reads a public key saved as hex (the content of `log.pub`).
pub fn public_key_from_hex(text: &str) -> Result<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::Checkpoint("a public key is 64 hex digits".into()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| Error::Checkpoint("that is not an ed25519 public key".into()))
}

fn write_private(path: &PathBuf, text: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|source| Error::Io { path: path.clone(), source })?;
    file.write_all(text.as_bytes()).map_err(|source| Error::Io { path: path.clone(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint { origin: "shopcrew/demo".into(), size: 42, root: [7u8; 32], at: "2026-11-24T02:00:00Z".into() }
    }

    #[test]
    fn a_checkpoint_round_trips_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let key = LogKey::load_or_create(dir.path()).unwrap();
        let signed = key.sign(sample());
        let text = signed.to_text();
        let back = SignedCheckpoint::parse(&text).unwrap();
        assert_eq!(back, signed);
        back.verify(&key.public()).unwrap();
        let from_file = std::fs::read_to_string(dir.path().join("log.pub")).unwrap();
        back.verify(&public_key_from_hex(&from_file).unwrap()).unwrap();
    }

    #[test]
    fn any_edit_or_another_key_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let key = LogKey::load_or_create(dir.path()).unwrap();
        let text = key.sign(sample()).to_text();
        for (from, to) in [("\n42\n", "\n43\n"), ("shopcrew/demo", "shopcrew/demo2"), ("02:00:00Z", "02:00:01Z")] {
            let edited = SignedCheckpoint::parse(&text.replacen(from, to, 1)).unwrap();
            assert!(edited.verify(&key.public()).is_err(), "{from} -> {to}");
        }
        let root_line = STANDARD.encode([7u8; 32]);
        let edited = text.replacen(&root_line, &STANDARD.encode([8u8; 32]), 1);
        assert!(SignedCheckpoint::parse(&edited).unwrap().verify(&key.public()).is_err());

        let other = tempfile::tempdir().unwrap();
        let other = LogKey::load_or_create(other.path()).unwrap();
        let err = SignedCheckpoint::parse(&text).unwrap().verify(&other.public()).unwrap_err();
        assert!(err.to_string().contains("another key"), "{err}");

        for broken in ["", "shopcrew/demo\n42\n", &text.replacen("— shopcrew", "-- someone", 1)] {
            assert!(SignedCheckpoint::parse(broken).is_err(), "{broken:?}");
        }
    }

    #[test]
    fn processes_making_the_key_at_once_agree_on_one() {
        let dir = tempfile::tempdir().unwrap();
        let keys: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> =
                (0..8).map(|_| s.spawn(|| LogKey::load_or_create(dir.path()).unwrap().public_hex())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "log.key and log.pub, no drafts left");
    }

    #[test]
    fn the_key_is_kept_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = LogKey::load_or_create(dir.path()).unwrap().public_hex();
        let again = LogKey::load_or_create(dir.path()).unwrap().public_hex();
        assert_eq!(first, again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("log.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
