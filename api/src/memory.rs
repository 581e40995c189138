//! Transparent huge pages off for the server's process.
//!
//! mimalloc (the allocator, `main.rs`) marks its arena `MADV_HUGEPAGE`, so
//! where the kernel's THP setting is `madvise` (Debian's, Ubuntu's) or
//! `always`, a thread that touches a few KiB of a fresh 2 MiB stretch holds
//! all of it. Through the SQLite bench (`scripts/bench.sh`, 2026-12-04) that
//! was 26 MiB of huge pages and 97–101 MiB resident; with them off, 86–88
//! MiB and the same throughput within the run's noise (the target is < 100 MB).
//! `MIMALLOC_ALLOW_THP`, mimalloc's own switch, still decides when set.

/// Turns THP off for the whole process (every thread, and children) unless
/// `MIMALLOC_ALLOW_THP` is set; true when it is off afterwards. Call it
/// first thing: pages faulted in before stay as they are.
pub fn without_huge_pages() -> bool {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::prctl;
        if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
            // A refusal shows in the answer below.
            let _ = prctl::set_thp_disable(true);
        }
        prctl::get_thp_disable().unwrap_or(false)
    }
    // Elsewhere there is no THP flag to set.
    #[cfg(not(target_os = "linux"))]
    false
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_process_runs_without_huge_pages() {
        // A test process starts with THP allowed unless its parent said otherwise.
        if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
            assert!(super::without_huge_pages());
            assert_eq!(nix::sys::prctl::get_thp_disable(), Ok(true));
            // Linux 5.0 and later also say so in the process's status.
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            if let Some(line) = status.lines().find(|l| l.starts_with("THP_enabled:")) {
                assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
            }
        }
    }
}
