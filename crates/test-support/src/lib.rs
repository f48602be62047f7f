//! Test helpers shared by the crates' integration tests: where the MCP servers used as
//! upstreams live, free ports, and what processes exist.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// `target/<profile>`, found from the running test executable (`target/<profile>/deps/<test>`).
fn target_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent().and_then(|deps| deps.parent()).expect("target dir").to_path_buf()
}

/// Our rmcp fixture server (`crates/fixture-server`), built on first use if needed.
pub fn fixture_bin() -> PathBuf {
    let path = target_profile_dir().join("toolhub-fixture-mcp");
    if !path.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "toolhub-fixture-server"])
            .status()
            .expect("cargo builds the fixture server");
        assert!(status.success(), "building the fixture server failed");
    }
    path
}

/// Where `scripts/test.sh` installs the third-party servers (`TOOLHUB_TEST_DEPS`).
fn deps_dir() -> PathBuf {
    std::env::var_os("TOOLHUB_TEST_DEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_profile_dir().parent().expect("target").join("test-deps"))
}

fn required(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is not installed at {}: run the tests with scripts/test.sh, which installs it",
        path.display()
    );
    path
}

/// How many tools the fixture lists (without `FIXTURE_PROBE` or added tools).
pub const FIXTURE_TOOLS: usize = 12;

/// npm `@modelcontextprotocol/server-everything`.
pub fn everything_bin() -> PathBuf {
    required(deps_dir().join("node_modules/.bin/mcp-server-everything"), "@modelcontextprotocol/server-everything")
}

/// A Python with PyPI `mcp-server-time` installed (run `-m mcp_server_time`).
pub fn time_server_python() -> PathBuf {
    required(deps_dir().join("venv/bin/python"), "mcp-server-time")
}

/// npm `@modelcontextprotocol/inspector` (its `--cli` mode).
pub fn inspector_bin() -> PathBuf {
    required(deps_dir().join("node_modules/.bin/mcp-inspector"), "@modelcontextprotocol/inspector")
}

/// npm `@stoplight/prism-cli` (an OpenAPI mock server).
pub fn prism_bin() -> PathBuf {
    required(deps_dir().join("node_modules/.bin/prism"), "@stoplight/prism-cli")
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// A child process killed (with its process group) when dropped.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        kill_group(self.0.id() as i32);
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// SIGKILL to a whole process group. (Never through the `kill` command: util-linux `kill`
/// reads `-1234` as options and can end up signalling pid -1, every process.)
pub fn kill_group(group: i32) {
    if group > 1 {
        // SAFETY: kill(2) on a negative pid signals one process group; no memory is touched.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
}

/// SIGKILL to one process.
pub fn kill_process(pid: i32) {
    if pid > 1 {
        // SAFETY: as above, for one process.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Starts `program args` in its own process group with extra environment.
pub fn spawn(program: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> ChildGuard {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null()).process_group(0);
    for (k, v) in env {
        command.env(k, v);
    }
    ChildGuard(command.spawn().expect("spawn"))
}

/// Starts the fixture in Streamable HTTP mode and returns its URL.
pub fn fixture_http() -> (ChildGuard, String) {
    use std::io::{BufRead, BufReader};
    let mut child = spawn(&fixture_bin(), &["--http", "127.0.0.1:0"], &[]);
    let stdout = child.0.stdout.take().expect("stdout");
    let line = BufReader::new(stdout).lines().next().expect("address line").expect("read");
    let url = line.strip_prefix("listening on ").expect("listening line").to_owned();
    (child, url)
}

/// Waits until a TCP port accepts connections.
pub async fn wait_for_port(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// One process as /proc describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: i32,
    pub parent: i32,
    pub group: i32,
    /// `Z` for a zombie.
    pub state: char,
}

/// Every process on the machine.
pub fn processes() -> Vec<ProcessInfo> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name is in parentheses and may contain spaces; fields follow it.
            let rest = &stat[stat.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            Some(ProcessInfo {
                pid,
                state: fields.first()?.chars().next()?,
                parent: fields.get(1)?.parse().ok()?,
                group: fields.get(2)?.parse().ok()?,
            })
        })
        .collect()
}

/// Processes in a group that are alive (not zombies).
pub fn live_in_group(group: i32) -> Vec<ProcessInfo> {
    processes().into_iter().filter(|p| p.group == group && p.state != 'Z').collect()
}

/// This process's zombie children.
pub fn own_zombies() -> Vec<ProcessInfo> {
    let me = std::process::id() as i32;
    processes().into_iter().filter(|p| p.parent == me && p.state == 'Z').collect()
}

/// Polls `condition` until it holds or `within` passes; returns whether it held.
pub async fn eventually(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    eventually_async(within, || std::future::ready(condition())).await
}

/// Polls an asynchronous `condition` (a request, a query) until it holds or `within` passes;
/// returns whether it held.
pub async fn eventually_async<F, Fut>(within: Duration, mut condition: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_some(within, || {
        let holds = condition();
        async move { holds.await.then_some(()) }
    })
    .await
    .is_some()
}

/// Polls `probe` until it yields a value or `within` passes; returns the value (the polled
/// state once it is as wanted), or None.
pub async fn eventually_some<T, F, Fut>(within: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = probe().await {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Where a test keeps its data: the in-memory store of the domain's `testing` feature, a SQLite
/// file, or a database on the throwaway PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Sqlite,
    Postgres,
}

/// Declares each listed `async fn(Backend)` as one test per database (`<name>::sqlite`,
/// `<name>::postgres`).
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $crate::per_backend!([sqlite => Sqlite, postgres => Postgres] $($name),*);
    };
}

/// Declares each listed `async fn(Backend)` as one test per store: the in-memory one and both
/// databases (`<name>::memory`, `<name>::sqlite`, `<name>::postgres`): a contract every
/// implementation of the ports keeps.
#[macro_export]
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        $crate::per_backend!([memory => Memory, sqlite => Sqlite, postgres => Postgres] $($name),*);
    };
}

/// A module of one test per backend for each name (the two macros above).
#[doc(hidden)]
#[macro_export]
macro_rules! per_backend {
    ($backends:tt) => {};
    ($backends:tt $name:ident $(, $rest:ident)*) => {
        $crate::tests_of!($name $backends);
        $crate::per_backend!($backends $($rest),*);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! tests_of {
    ($name:ident [$($test:ident => $backend:ident),+]) => {
        mod $name {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$name($crate::Backend::$backend).await
                }
            )+
        }
    };
}

/// Live processes whose command line contains `needle`, children of this process.
pub fn own_children_running(needle: &str) -> Vec<ProcessInfo> {
    let me = std::process::id() as i32;
    processes()
        .into_iter()
        .filter(|p| p.parent == me && p.state != 'Z')
        .filter(|p| {
            std::fs::read(format!("/proc/{}/cmdline", p.pid))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

pub fn pid_alive(pid: i32) -> bool {
    processes().iter().any(|p| p.pid == pid && p.state != 'Z')
}
