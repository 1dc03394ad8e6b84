//! How much memory the process can still get, checked before allocating.
//!
//! Three limits apply on Linux, and the smallest wins: the machine's
//! available memory (`MemAvailable` plus free swap), the address space
//! left under `RLIMIT_AS` (`ulimit -v`), and the room left under the
//! memory limit of the process's cgroup (v2 `memory.max` less
//! `memory.current`, v1 `memory.limit_in_bytes` less
//! `memory.usage_in_bytes`, for its own group and every ancestor). An
//! allocation beyond the address-space limit does not fail softly: the
//! allocator aborts the process, so the runtime refuses it first.

use saddle_ir::TensorType;

use crate::Error;

/// Address space kept free under `RLIMIT_AS` for what the process maps
/// besides the planned buffers (thread stacks, allocator arenas).
const ADDRESS_SPACE_RESERVE: u128 = 256 << 20;

/// Bytes of memory this process can still allocate: the least of the
/// machine's available memory, the address space left under `RLIMIT_AS`
/// and the room left under its cgroup's memory limit (see the module
/// docs); `isize::MAX` where none of them can be read.
///
/// ```
/// assert!(saddle_runtime::available_memory() > 0);
/// ```
pub fn available_memory() -> u128 {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let machine = read("/proc/meminfo").and_then(|t| meminfo_available(&t));
    let address_space = rlimit_as().map(|limit| {
        let used = read("/proc/self/status").and_then(|t| status_vm_size(&t)).unwrap_or(0);
        address_space_left(limit, used)
    });
    let cgroup = read("/proc/self/cgroup").and_then(|t| cgroup_left(&t, &read));
    [machine, address_space, cgroup].into_iter().flatten().fold(isize::MAX as u128, u128::min)
}

/// `MemAvailable` plus `SwapFree` of a `/proc/meminfo` text, in bytes.
fn meminfo_available(text: &str) -> Option<u128> {
    let avail = kib_field(text, "MemAvailable:")?;
    Some(avail.saturating_add(kib_field(text, "SwapFree:").unwrap_or(0)))
}

/// `VmSize` of a `/proc/self/status` text (the address space in use), in bytes.
fn status_vm_size(text: &str) -> Option<u128> {
    kib_field(text, "VmSize:")
}

/// A `NAME: N kB` line of a `/proc` text, in bytes.
fn kib_field(text: &str, name: &str) -> Option<u128> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u128 = line[name.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// The soft `RLIMIT_AS` in bytes, or `None` when unlimited.
fn rlimit_as() -> Option<u128> {
    #[cfg(target_os = "linux")]
    {
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: `getrlimit` writes one `rlimit` through a valid pointer.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut r) } == 0;
        (ok && r.rlim_cur != libc::RLIM_INFINITY).then_some(r.rlim_cur as u128)
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// Address space left under a limit of `limit` bytes with `used` in use,
/// less [`ADDRESS_SPACE_RESERVE`].
fn address_space_left(limit: u128, used: u128) -> u128 {
    limit.saturating_sub(used).saturating_sub(ADDRESS_SPACE_RESERVE)
}

/// The least room left under the memory limits of the cgroups named in a
/// `/proc/self/cgroup` text (v2 and v1 memory controller), walking from
/// each group up to the root; `read` reads a file. `None` when no group
/// has a limit.
fn cgroup_left(proc_cgroup: &str, read: &dyn Fn(&str) -> Option<String>) -> Option<u128> {
    let mut least: Option<u128> = None;
    for line in proc_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (root, limit_file, usage_file) = if id == "0" && controllers.is_empty() {
            ("/sys/fs/cgroup", "memory.max", "memory.current")
        } else if controllers.split(',').any(|c| c == "memory") {
            ("/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes")
        } else {
            continue;
        };
        for dir in ancestors(path) {
            let at = |file: &str| read(&format!("{root}{dir}/{file}"));
            if let (Some(limit), Some(usage)) = (at(limit_file), at(usage_file))
                && let Some(left) = room_left(&limit, &usage)
            {
                least = Some(least.map_or(left, |l| l.min(left)));
            }
        }
    }
    least
}

/// `path` (a cgroup path such as `/a/b`) and its ancestors up to the
/// root, as directory suffixes: `/a/b`, `/a`, `` (the root).
fn ancestors(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut p = path.trim().trim_end_matches('/').to_string();
    loop {
        out.push(p.clone());
        match p.rfind('/') {
            Some(i) => p.truncate(i),
            None => break,
        }
        if p.is_empty() {
            out.push(String::new());
            break;
        }
    }
    out.dedup();
    out
}

/// Bytes left under a cgroup limit file's text given its usage file's
/// text; `None` for no limit (`max` in v2, a near-`i64::MAX` number in v1)
/// or unreadable text.
fn room_left(limit: &str, usage: &str) -> Option<u128> {
    let limit: u128 = limit.trim().parse().ok()?;
    if limit >= 1 << 62 {
        return None;
    }
    let usage: u128 = usage.trim().parse().ok()?;
    Some(limit.saturating_sub(usage))
}

/// Bytes that a tensor of type `ty` occupies (never overflows).
pub(crate) fn bytes_of(ty: &TensorType) -> u128 {
    ty.shape.iter().fold(ty.dtype.size_bytes() as u128, |acc, &d| acc.saturating_mul(d as u128))
}

/// Refuses `bytes` beyond `limit`, naming `what` needed them.
pub(crate) fn check(what: impl FnOnce() -> String, bytes: u128, limit: u128) -> Result<(), Error> {
    if bytes > limit { Err(Error::OutOfMemory { what: what(), bytes, limit }) } else { Ok(()) }
}

/// A zeroed buffer of `words` 8-byte words, or an error naming `what`
/// when the allocator cannot give it (where `vec![0; words]` would abort
/// the process). Zeroed by the allocator, so that pages the kernel hands
/// out zeroed are not touched until used.
pub(crate) fn try_zeroed(words: usize, what: impl FnOnce() -> String) -> Result<Vec<u64>, Error> {
    let refuse = |what: String| {
        let bytes = (words as u128).saturating_mul(8);
        Error::OutOfMemory { what, bytes, limit: available_memory().min(bytes.saturating_sub(1)) }
    };
    if words == 0 {
        return Ok(Vec::new());
    }
    let Ok(layout) = std::alloc::Layout::array::<u64>(words) else { return Err(refuse(what())) };
    // SAFETY: the layout has a non-zero size.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) } as *mut u64;
    if ptr.is_null() {
        return Err(refuse(what()));
    }
    // SAFETY: `ptr` comes from the global allocator with the layout of
    // `words` u64s, all of them initialised (to zero).
    Ok(unsafe { Vec::from_raw_parts(ptr, words, words) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_and_status_fields() {
        let meminfo = "MemTotal:       24683784 kB\nMemFree: 1 kB\nMemAvailable:   2000 kB\nSwapFree:  24 kB\n";
        assert_eq!(meminfo_available(meminfo), Some(2024 * 1024));
        assert_eq!(meminfo_available("MemAvailable: 3 kB\n"), Some(3072));
        assert_eq!(meminfo_available("MemTotal: 3 kB\n"), None);
        assert_eq!(meminfo_available("MemAvailable: lots kB\n"), None);
        assert_eq!(status_vm_size("Name:\tsaddle\nVmPeak:\t 9 kB\nVmSize:\t    3892 kB\n"), Some(3892 * 1024));
        assert_eq!(status_vm_size(""), None);
        assert_eq!(kib_field("X: 18446744073709551615 kB", "X:"), Some(18446744073709551615 * 1024));
    }

    #[test]
    fn address_space_left_keeps_a_reserve_and_saturates() {
        let gib = 1u128 << 30;
        assert_eq!(address_space_left(2 * gib, gib), gib - ADDRESS_SPACE_RESERVE);
        assert_eq!(address_space_left(gib, 2 * gib), 0);
        assert_eq!(address_space_left(gib, gib - 1), 0);
    }

    #[test]
    fn cgroup_limits_v1_and_v2() {
        assert_eq!(room_left("max\n", "123\n"), None);
        assert_eq!(room_left("9223372036854771712\n", "435298304\n"), None);
        assert_eq!(room_left("1073741824\n", "1000\n"), Some(1073741824 - 1000));
        assert_eq!(room_left("1000\n", "4000\n"), Some(0));
        assert_eq!(room_left("", "0"), None);
        assert_eq!(ancestors("/a/b"), vec!["/a/b".to_string(), "/a".to_string(), String::new()]);
        assert_eq!(ancestors("/"), vec![String::new()]);
        assert_eq!(ancestors("/a/"), vec!["/a".to_string(), String::new()]);

        let files = |entries: &'static [(&'static str, &'static str)]| {
            move |path: &str| entries.iter().find(|(p, _)| *p == path).map(|(_, t)| t.to_string())
        };
        // v2: the tightest of the group and its ancestors.
        let v2 = files(&[
            ("/sys/fs/cgroup/job/memory.max", "max\n"),
            ("/sys/fs/cgroup/job/memory.current", "100\n"),
            ("/sys/fs/cgroup/memory.max", "5000\n"),
            ("/sys/fs/cgroup/memory.current", "1000\n"),
        ]);
        assert_eq!(cgroup_left("0::/job\n", &v2), Some(4000));
        // v1: the memory controller's line, unlimited root.
        let v1 = files(&[
            ("/sys/fs/cgroup/memory/api/x/memory.limit_in_bytes", "2048\n"),
            ("/sys/fs/cgroup/memory/api/x/memory.usage_in_bytes", "48\n"),
            ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n"),
            ("/sys/fs/cgroup/memory/memory.usage_in_bytes", "1\n"),
        ]);
        assert_eq!(cgroup_left("5:devices:/\n4:memory:/api/x\n0::/\n", &v1), Some(2000));
        // No limit anywhere, or nothing readable.
        assert_eq!(cgroup_left("0::/\n4:memory:/\n", &files(&[])), None);
        assert_eq!(cgroup_left("garbage\n", &v2), None);
    }

    #[test]
    fn impossible_buffers_are_refused_not_aborted() {
        assert!(try_zeroed(0, String::new).unwrap().is_empty());
        assert_eq!(try_zeroed(3, String::new).unwrap(), vec![0, 0, 0]);
        let err = try_zeroed(usize::MAX / 8, || "a buffer".to_string()).unwrap_err();
        assert!(matches!(err, Error::OutOfMemory { .. }), "{err}");
        let err = try_zeroed(isize::MAX as usize / 8 - 1, || "a buffer".to_string()).unwrap_err();
        assert!(matches!(err, Error::OutOfMemory { .. }), "{err}");
    }

    #[test]
    fn available_memory_is_at_most_the_machines() {
        let all = available_memory();
        let machine = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| meminfo_available(&t));
        assert!(all > 0);
        if let Some(m) = machine {
            assert!(all <= m);
        }
    }
}
