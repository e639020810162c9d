//! Classic pcap files, the format DPDK's `net_pcap` PMD reads (`rx_pcap=`) and writes
//! (`tx_pcap=`, nanosecond timestamps): enough to feed a DPDK app known frames and collect what
//! it sent, without a crate or libpcap.

use std::path::Path;

/// Microsecond-resolution magic; `net_pcap` writes the nanosecond one.
const MAGIC_USEC: u32 = 0xa1b2_c3d4;
const MAGIC_NSEC: u32 = 0xa1b2_3c4d;
const LINKTYPE_ETHERNET: u32 = 1;

/// Writes `frames` as a little-endian classic pcap file of Ethernet frames.
pub fn write(path: &Path, frames: &[Vec<u8>]) {
    let mut out = Vec::new();
    for word in [MAGIC_USEC.to_le_bytes(), [2, 0, 4, 0]] {
        out.extend_from_slice(&word); // magic, version 2.4
    }
    out.extend_from_slice(&0i32.to_le_bytes()); // timezone
    out.extend_from_slice(&0u32.to_le_bytes()); // timestamp accuracy
    out.extend_from_slice(&65535u32.to_le_bytes()); // snapshot length
    out.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        out.extend_from_slice(&(i as u32).to_le_bytes()); // seconds
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes()); // captured
        out.extend_from_slice(&(f.len() as u32).to_le_bytes()); // on the wire
        out.extend_from_slice(f);
    }
    std::fs::write(path, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Reads the frames of a little-endian classic pcap file (either timestamp resolution). A
/// record cut short at the end (a writer killed mid-write) ends the list.
pub fn read(path: &Path) -> Vec<Vec<u8>> {
    let data =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(data.len() >= 24, "{}: no pcap header", path.display());
    let magic = u32::from_le_bytes(data[0..4].try_into().unwrap());
    assert!(
        magic == MAGIC_USEC || magic == MAGIC_NSEC,
        "{}: not a little-endian classic pcap (magic {magic:#x})",
        path.display()
    );
    let mut frames = Vec::new();
    let mut off = 24;
    while off + 16 <= data.len() {
        let captured = u32::from_le_bytes(data[off + 8..off + 12].try_into().unwrap()) as usize;
        off += 16;
        let Some(frame) = data.get(off..off + captured) else {
            break;
        };
        frames.push(frame.to_vec());
        off += captured;
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = std::env::temp_dir().join(format!("testkit-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.pcap");
        let frames = vec![vec![1u8; 60], vec![], (0..=255).collect()];
        write(&path, &frames);
        assert_eq!(read(&path), frames);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 1);
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(read(&path), frames[..2]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
