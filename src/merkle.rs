//! RFC 6962 / RFC 9162 Merkle tree hashing, with inclusion and consistency proofs.
//!
//! Leaves are hashed as `SHA-256(0x00 || data)` and interior nodes as
//! `SHA-256(0x01 || left || right)`; a tree of `n` leaves splits at the largest power of two
//! below `n`. The work log keeps each entry's leaf hash, so the functions here work on leaf
//! hashes. Everything is pure: no I/O, no panics on any input.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// Why a proof does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("index {index} is outside a tree of {size} entries")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("a tree of {old} entries cannot be a prefix of a tree of {new}")]
    SizesOutOfOrder { old: u64, new: u64 },
    #[error("the proof has {got} hashes where {want} are needed")]
    WrongLength { got: usize, want: usize },
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
    #[error("an empty tree is a prefix of any tree; there is nothing to prove")]
    EmptyTree,
}

pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of an empty tree: the hash of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two strictly below `n` (for `n >= 2`).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The Merkle tree hash of a list of leaf hashes.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// Builds a tree leaf by leaf and gives the root of every prefix in O(log n): the tree of
/// `n` leaves is its perfect subtrees, one per bit of `n`, largest first, folded from the right.
#[derive(Debug, Clone, Default)]
pub struct Builder {
    peaks: Vec<(u64, Hash)>,
    size: u64,
}

impl Builder {
    pub fn push(&mut self, leaf: Hash) {
        self.peaks.push((1, leaf));
        self.size += 1;
        while let [.., (a, left), (b, right)] = self.peaks.as_slice()
            && a == b
        {
            let merged = (a + b, node_hash(left, right));
            self.peaks.truncate(self.peaks.len() - 2);
            self.peaks.push(merged);
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root of the leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        let Some((_, last)) = peaks.next() else { return empty_root() };
        peaks.fold(*last, |acc, (_, peak)| node_hash(peak, &acc))
    }
}

/// The audit path of leaf `index`, from the leaf upwards.
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>, ProofError> {
    let size = leaves.len() as u64;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut proof = Vec::new();
    path(leaves, index as usize, &mut proof);
    Ok(proof)
}

fn path(leaves: &[Hash], m: usize, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(&leaves[..k], m, out);
        out.push(root(&leaves[k..]));
    } else {
        path(&leaves[k..], m - k, out);
        out.push(root(&leaves[..k]));
    }
}

/// Checks that `leaf` sits at `index` of the tree of `size` leaves with the given `root`.
/// Roots are taken as bytes, as a saved checkpoint holds them; one that is not a 32-byte hash
/// matches nothing.
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &[u8]) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(ProofError::WrongLength { got: proof.len(), want: inclusion_len(index, size) });
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength { got: proof.len(), want: inclusion_len(index, size) });
    }
    if r.as_slice() != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// How many hashes an inclusion proof for `index` in a tree of `size` has.
fn inclusion_len(index: u64, size: u64) -> usize {
    let (mut f, mut s, mut n) = (index, size.saturating_sub(1), 0);
    while s != 0 {
        if f & 1 == 1 || f == s {
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        }
        f >>= 1;
        s >>= 1;
        n += 1;
    }
    n
}

/// The proof that the first `old_size` leaves are a prefix of all of `leaves`.
pub fn consistency_proof(leaves: &[Hash], old_size: u64) -> Result<Vec<Hash>, ProofError> {
    let new = leaves.len() as u64;
    if old_size > new {
        return Err(ProofError::SizesOutOfOrder { old: old_size, new });
    }
    let mut proof = Vec::new();
    if old_size > 0 && old_size < new {
        subproof(old_size as usize, leaves, true, &mut proof);
    }
    Ok(proof)
}

fn subproof(m: usize, leaves: &[Hash], whole: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !whole {
            out.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &leaves[..k], whole, out);
        out.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, out);
        out.push(root(&leaves[..k]));
    }
}

/// Checks that the tree of `old_size` leaves with `old_root` is a prefix of the tree of
/// `new_size` leaves with `new_root`. Equal sizes need equal roots and an empty proof. An
/// empty old tree proves nothing and is refused, as RFC 9162 verifiers do: a caller holding an
/// empty checkpoint has nothing to check.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &[u8],
    new_root: &[u8],
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder { old: old_size, new: new_size });
    }
    if old_size == 0 {
        return Err(ProofError::EmptyTree);
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength { got: proof.len(), want: 0 });
        }
        return if old_root == new_root { Ok(()) } else { Err(ProofError::RootMismatch) };
    }
    let (Ok(old_root), Ok(new_root)) = (Hash::try_from(old_root), Hash::try_from(new_root)) else {
        return Err(ProofError::RootMismatch);
    };
    let wrong = || ProofError::WrongLength { got: proof.len(), want: consistency_len(old_size, new_size) };
    if proof.is_empty() {
        return Err(wrong());
    }
    // When the old tree is a complete subtree, its root starts the path.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(old_root);
    }
    path.extend_from_slice(proof);
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return Err(wrong());
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(wrong());
    }
    if fr != old_root || sr != new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// How many hashes a consistency proof between the two sizes has (for error messages).
fn consistency_len(old: u64, new: u64) -> usize {
    let (mut m, mut n, mut whole, mut len) = (old, new, true, 0usize);
    while m != n {
        let mut k = 1u64;
        while k << 1 < n {
            k <<= 1;
        }
        if m <= k {
            n = k;
        } else {
            m -= k;
            n -= k;
            whole = false;
        }
        len += 1;
    }
    len + usize::from(!whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(format!("entry {i}").as_bytes())).collect()
    }

    #[test]
    fn known_roots() {
        // The empty tree and the one-leaf tree of the empty string, as in RFC 6962 examples.
        assert_eq!(hex::encode(empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(hex::encode(leaf_hash(b"")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    }

    #[test]
    fn the_builder_gives_the_root_of_every_prefix() {
        let all = leaves(70);
        let mut b = Builder::default();
        assert_eq!(b.root(), empty_root());
        for (i, leaf) in all.iter().enumerate() {
            b.push(*leaf);
            assert_eq!(b.root(), root(&all[..=i]), "prefix of {}", i + 1);
        }
        assert_eq!(b.size(), 70);
    }

    #[test]
    fn every_inclusion_proof_up_to_forty_leaves_verifies_and_a_tampered_one_does_not() {
        for n in 1..=40usize {
            let all = leaves(n);
            let r = root(&all);
            for i in 0..n {
                let proof = inclusion_proof(&all, i as u64).unwrap();
                assert_eq!(proof.len(), inclusion_len(i as u64, n as u64));
                verify_inclusion(i as u64, n as u64, &all[i], &proof, &r).unwrap();
                for j in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[j][0] ^= 1;
                    assert!(verify_inclusion(i as u64, n as u64, &all[i], &bad, &r).is_err());
                }
                if n > 1 {
                    assert!(verify_inclusion(i as u64, n as u64, &all[(i + 1) % n], &proof, &r).is_err());
                }
            }
        }
    }

    #[test]
    fn every_consistency_proof_up_to_forty_leaves_verifies_and_a_tampered_one_does_not() {
        for n in 1..=40usize {
            let all = leaves(n);
            let new_root = root(&all);
            for m in 0..=n {
                let old_root = root(&all[..m]);
                let proof = consistency_proof(&all, m as u64).unwrap();
                if m > 0 && m < n {
                    assert_eq!(proof.len(), consistency_len(m as u64, n as u64), "{m} of {n}");
                }
                if m == 0 {
                    assert_eq!(
                        verify_consistency(0, n as u64, &old_root, &new_root, &proof),
                        Err(ProofError::EmptyTree)
                    );
                    continue;
                }
                verify_consistency(m as u64, n as u64, &old_root, &new_root, &proof).unwrap();
                for j in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[j][31] ^= 0x80;
                    assert!(verify_consistency(m as u64, n as u64, &old_root, &new_root, &bad).is_err());
                }
                if m > 0 && m < n {
                    let rewritten = root(&leaves(m).iter().map(|h| node_hash(h, h)).collect::<Vec<_>>());
                    assert!(verify_consistency(m as u64, n as u64, &rewritten, &new_root, &proof).is_err());
                }
            }
        }
        assert!(consistency_proof(&leaves(3), 4).is_err());
    }
}
