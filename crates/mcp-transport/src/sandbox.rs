//! Confinement of stdio children (Linux Landlock): a child runs in a directory of its own, may
//! read and run what the system has, but cannot reach the paths the operator hides (Toolhub's
//! data directory: its secret key and SQLite database), and, being in a Landlock domain of its
//! own, cannot read Toolhub's or another child's `/proc/<pid>/environ` or memory.
//!
//! Landlock only allows; to hide a path, every sibling of the path and of each of its ancestors
//! is allowed instead, down from `/`. Where the kernel has no Landlock, children run unconfined
//! and the log says so once.

use std::{
    ffi::CString,
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
    path::{Path, PathBuf},
    sync::Once,
};

/// Where children live and what they must not reach.
#[derive(Debug, Clone, Default)]
pub struct SandboxSettings {
    /// Each child gets `<children_dir>/<server id>` as working directory, `HOME` and `TMPDIR`;
    /// None: children inherit Toolhub's working directory and are not confined.
    pub children_dir: Option<PathBuf>,
    /// Paths no child may read or write (Toolhub's data directory, key and database files).
    pub hidden: Vec<PathBuf>,
}

// Landlock's filesystem rights (linux/landlock.h).
const EXECUTE: u64 = 1 << 0;
const WRITE_FILE: u64 = 1 << 1;
const READ_FILE: u64 = 1 << 2;
const READ_DIR: u64 = 1 << 3;
const REMOVE_DIR: u64 = 1 << 4;
const REMOVE_FILE: u64 = 1 << 5;
const MAKE_CHAR: u64 = 1 << 6;
const MAKE_DIR: u64 = 1 << 7;
const MAKE_REG: u64 = 1 << 8;
const MAKE_SOCK: u64 = 1 << 9;
const MAKE_FIFO: u64 = 1 << 10;
const MAKE_BLOCK: u64 = 1 << 11;
const MAKE_SYM: u64 = 1 << 12;
const REFER: u64 = 1 << 13;
const TRUNCATE: u64 = 1 << 14;
const IOCTL_DEV: u64 = 1 << 15;

const READ: u64 = EXECUTE | READ_FILE | READ_DIR;
const WRITE: u64 = WRITE_FILE
    | REMOVE_DIR
    | REMOVE_FILE
    | MAKE_CHAR
    | MAKE_DIR
    | MAKE_REG
    | MAKE_SOCK
    | MAKE_FIFO
    | MAKE_BLOCK
    | MAKE_SYM
    | REFER
    | TRUNCATE;
/// The rights that make sense on a file (not a directory).
const FILE_RIGHTS: u64 = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV;

const SYS_CREATE_RULESET: libc::c_long = 444;
const SYS_ADD_RULE: libc::c_long = 445;
const SYS_RESTRICT_SELF: libc::c_long = 446;
const CREATE_RULESET_VERSION: u32 = 1;
const RULE_PATH_BENEATH: libc::c_int = 1;

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// The Landlock ABI version of the running kernel (0: none).
fn abi() -> i64 {
    // SAFETY: the version query takes no attribute and no size.
    let version =
        unsafe { libc::syscall(SYS_CREATE_RULESET, std::ptr::null::<RulesetAttr>(), 0usize, CREATE_RULESET_VERSION) };
    version.max(0)
}

/// Whether this kernel can confine children.
pub fn available() -> bool {
    abi() >= 1
}

/// The rights this kernel's Landlock handles.
fn handled(abi: i64) -> u64 {
    let mut rights = READ | (WRITE & !(REFER | TRUNCATE));
    if abi >= 2 {
        rights |= REFER;
    }
    if abi >= 3 {
        rights |= TRUNCATE;
    }
    if abi >= 5 {
        rights |= IOCTL_DEV;
    }
    rights
}

/// A ruleset to confine one child, built in Toolhub before the child starts; the child applies
/// it to itself between fork and exec ([`Ruleset::restrict_self`]).
pub struct Ruleset {
    fd: OwnedFd,
}

impl Ruleset {
    /// The rules for a child working in `private`: read and run everything but `hidden`, write
    /// only in `private` and to devices. None where the kernel has no Landlock.
    pub fn confine(private: &Path, hidden: &[PathBuf]) -> std::io::Result<Option<Self>> {
        let abi = abi();
        if abi < 1 {
            static WARNED: Once = Once::new();
            WARNED.call_once(|| {
                tracing::warn!(
                    "this kernel has no Landlock: stdio servers are not confined and can read what Toolhub's user can"
                )
            });
            return Ok(None);
        }
        let handled = handled(abi);
        let attr = RulesetAttr { handled_access_fs: handled, handled_access_net: 0, scoped: 0 };
        // SAFETY: the attribute is a valid, initialised struct of the size passed.
        let fd = unsafe { libc::syscall(SYS_CREATE_RULESET, &attr, std::mem::size_of::<RulesetAttr>(), 0u32) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: the kernel returned a new file descriptor that nothing else owns.
        let ruleset = Self { fd: unsafe { OwnedFd::from_raw_fd(fd as i32) } };
        let mut hidden: Vec<PathBuf> = hidden.iter().map(|h| h.canonicalize().unwrap_or_else(|_| h.clone())).collect();
        // Other processes' /proc/<pid> (environment, memory, files) are hidden too: /proc is
        // allowed entry by entry but for process directories; the child adds its own
        // (`restrict_self`), and processes started later are not covered by any rule.
        hidden.push(PathBuf::from("/proc"));
        for path in around(Path::new("/"), &hidden) {
            ruleset.allow(&path, READ | IOCTL_DEV, handled)?;
        }
        for entry in std::fs::read_dir("/proc")?.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let per_process = name.bytes().all(|b| b.is_ascii_digit()) || name == "self" || name == "thread-self";
            if !per_process {
                ruleset.allow(&entry.path(), READ, handled)?;
            }
        }
        ruleset.allow(Path::new("/dev"), READ | WRITE_FILE | IOCTL_DEV, handled)?;
        ruleset.allow(private, READ | WRITE, handled)?;
        Ok(Some(ruleset))
    }

    fn allow(&self, path: &Path, rights: u64, handled: u64) -> std::io::Result<()> {
        let Ok(name) = CString::new(path.as_os_str().as_encoded_bytes()) else { return Ok(()) };
        // SAFETY: a NUL-terminated path; O_PATH opens without reading.
        let fd = unsafe { libc::open(name.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
        if fd < 0 {
            return Ok(()); // Gone since it was listed: nothing to allow.
        }
        // SAFETY: `fd` was just opened and is owned here.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let is_dir = std::fs::metadata(path).map(|m| m.is_dir()).unwrap_or(false);
        let allowed = if is_dir { rights } else { rights & FILE_RIGHTS } & handled;
        let attr = PathBeneathAttr { allowed_access: allowed, parent_fd: fd.as_raw_fd() };
        // SAFETY: a valid ruleset descriptor and rule attribute.
        let added = unsafe { libc::syscall(SYS_ADD_RULE, self.fd.as_raw_fd(), RULE_PATH_BENEATH, &attr, 0u32) };
        if added < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
    }

    /// The descriptor the child applies ([`restrict_self`]); valid while `self` lives.
    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }
}

/// Confines the calling process with the ruleset, after allowing it its own `/proc/<pid>`: for
/// use between fork and exec, so it allocates nothing and calls only async-signal-safe system
/// calls.
pub fn restrict_self(ruleset_fd: i32) -> std::io::Result<()> {
    let mut path = [0u8; 32];
    path[..6].copy_from_slice(b"/proc/");
    // SAFETY: getpid has no preconditions.
    let mut pid = unsafe { libc::getpid() } as u32;
    let mut digits = [0u8; 10];
    let mut count = 0;
    loop {
        digits[count] = b'0' + (pid % 10) as u8;
        count += 1;
        pid /= 10;
        if pid == 0 {
            break;
        }
    }
    for i in 0..count {
        path[6 + i] = digits[count - 1 - i];
    }
    // SAFETY: `path` is NUL-terminated (zeroed past the digits); the rule attribute is valid.
    unsafe {
        let own = libc::open(path.as_ptr().cast(), libc::O_PATH | libc::O_CLOEXEC);
        if own >= 0 {
            let attr = PathBeneathAttr { allowed_access: READ_FILE | READ_DIR, parent_fd: own };
            libc::syscall(SYS_ADD_RULE, ruleset_fd, RULE_PATH_BENEATH, &attr, 0u32);
            libc::close(own);
        }
    }
    // SAFETY: prctl and the Landlock syscall take plain integers.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::syscall(SYS_RESTRICT_SELF, ruleset_fd, 0u32) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// What to allow under `dir` so that everything but `hidden` is reachable: each entry that
/// neither is hidden nor leads to a hidden path, and, in the entries that lead to one, the same
/// again. Paths are compared canonically, so a symbolic link cannot lead around the rule.
fn around(dir: &Path, hidden: &[PathBuf]) -> Vec<PathBuf> {
    let mut allowed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return allowed };
    for entry in entries.flatten() {
        let path = entry.path();
        let real = path.canonicalize().unwrap_or_else(|_| path.clone());
        if hidden.iter().any(|h| real.starts_with(h)) {
            continue;
        }
        if hidden.iter().any(|h| h.starts_with(&real)) {
            allowed.extend(around(&real, hidden));
        } else {
            allowed.push(path);
        }
    }
    allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_but_the_hidden_paths_is_allowed() {
        let root = tempfile::tempdir().unwrap();
        let base = root.path().canonicalize().unwrap();
        for dir in ["data/keys", "data/db", "app/bin", "other"] {
            std::fs::create_dir_all(base.join(dir)).unwrap();
        }
        std::os::unix::fs::symlink(base.join("data"), base.join("link")).unwrap();
        let mut allowed = around(&base, &[base.join("data/keys")]);
        allowed.sort();
        allowed.dedup();
        assert_eq!(allowed, [base.join("app"), base.join("data/db"), base.join("other")], "the link to data is not");
    }
}
