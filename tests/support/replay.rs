//! Replay in pywb (pinned in the test venv by scripts/test.sh): a throw-away pywb directory
//! with one collection, a `wayback` server on 127.0.0.1, and the replay checks of
//! tests/tools/replay_check.py. A missing pywb is a test failure, never a skip.

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use super::warc_tools::test_python;

/// The collection every test replays from.
pub const COLLECTION: &str = "crawl";

/// How long wayback may take to answer its first request (it imports gevent, jinja and the
/// rewriters first: about 2 s on an idle machine, more when cargo builds beside it).
const STARTUP_LIMIT: Duration = Duration::from_secs(40);

/// A running `wayback` over one collection. Dropping it stops the server (and on a test
/// failure too); the launcher also stops it by itself when this process dies, since it
/// watches the stdin pipe held here.
pub struct Pywb {
    root: tempfile::TempDir,
    port: u16,
    launcher: Child,
    /// Closing it tells the launcher to stop wayback.
    stdin: Option<ChildStdin>,
    pub startup: Duration,
}

impl Pywb {
    /// Sets up a collection holding `archives` (WARC files, or WACZ files, whose WARCs and
    /// index pywb unpacks) and starts wayback on a free loopback port.
    pub fn start(archives: &[PathBuf]) -> Pywb {
        assert!(!archives.is_empty(), "nothing to replay");
        let mut root = tempfile::tempdir().expect("temp dir");
        manager(root.path(), &["init", COLLECTION]);
        let mut add = vec!["add".to_owned()];
        if archives.iter().any(|a| is_wacz(a)) {
            add.push("--unpack-wacz".to_owned());
        }
        add.push(COLLECTION.to_owned());
        add.extend(archives.iter().map(|a| a.display().to_string()));
        manager(
            root.path(),
            &add.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        // wb-manager exits 0 even when it skips a WACZ (2.10 takes only indexes/*.cdx or
        // *.cdx.gz from one): an empty collection must fail here, not as 404s later.
        let indexes = root
            .path()
            .join("collections")
            .join(COLLECTION)
            .join("indexes");
        let indexed = std::fs::read_dir(indexes)
            .map(|d| {
                d.filter_map(Result::ok)
                    .any(|e| e.metadata().is_ok_and(|m| m.len() > 0))
            })
            .unwrap_or(false);
        assert!(
            indexed,
            "wb-manager indexed nothing from {archives:?} (a WACZ needs indexes/*.cdx.gz)"
        );
        // Unframed replay: /coll/TS/URL serves the rewritten page itself, not a frame around it.
        std::fs::write(root.path().join("config.yaml"), "framed_replay: false\n")
            .expect("write config.yaml");

        let began = Instant::now();
        // Another process may take the free port before wayback binds it: try a few.
        for _ in 0..3 {
            let port = free_port();
            let mut launcher = launch(root.path(), port);
            let stdin = launcher.stdin.take();
            let mut pywb = Pywb {
                root,
                port,
                launcher,
                stdin,
                startup: Duration::ZERO,
            };
            match pywb.wait_ready(began) {
                Ok(()) => {
                    pywb.startup = began.elapsed();
                    return pywb;
                }
                Err(log) if began.elapsed() < STARTUP_LIMIT => {
                    eprintln!("wayback on port {port} exited early, retrying:\n{log}");
                    root = pywb.take_root();
                }
                Err(log) => panic!("wayback did not start:\n{log}"),
            }
        }
        panic!("wayback did not start on any of 3 ports");
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls until wayback answers `/` (bounded by [`STARTUP_LIMIT`]); `Err` with its log
    /// when it exited or never answered.
    fn wait_ready(&mut self, began: Instant) -> Result<(), String> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut delay = Duration::from_millis(20);
        while began.elapsed() < STARTUP_LIMIT {
            if let Ok(Some(status)) = self.launcher.try_wait() {
                return Err(format!("exited with {status}\n{}", self.log()));
            }
            if answers(addr) {
                return Ok(());
            }
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_millis(250));
        }
        Err(format!("no answer after {STARTUP_LIMIT:?}\n{}", self.log()))
    }

    /// wayback's output so far (stdout and stderr go to one file in the pywb directory).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("wayback.log")).unwrap_or_default()
    }

    /// Stops this server and hands back its directory, for a retry on another port.
    fn take_root(mut self) -> tempfile::TempDir {
        self.stop();
        let placeholder = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.root, placeholder)
    }

    fn stop(&mut self) {
        // EOF on its stdin: the launcher terminates wayback and exits.
        drop(self.stdin.take());
        for _ in 0..50 {
            if !matches!(self.launcher.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Still there after 5 s: kill the launcher's whole process group (wayback is in it).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.launcher.id())])
            .status();
        let _ = self.launcher.kill();
        let _ = self.launcher.wait();
    }
}

impl Drop for Pywb {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The archives of a crawl folder to replay: its `*.wacz` if it has one (the package is what
/// users replay), else its WARC files.
pub fn crawl_archives(crawl_dir: &Path) -> Vec<PathBuf> {
    let list = |dir: &Path, suffix: &str| -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.to_string_lossy().ends_with(suffix))
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    };
    let wacz = list(crawl_dir, ".wacz");
    if wacz.is_empty() {
        list(&crawl_dir.join("warc"), ".warc.gz")
    } else {
        wacz
    }
}

/// Runs tests/tools/replay_check.py against a running pywb; returns its JSON summary.
pub fn check_replay(pywb: &Pywb, crawl_dir: &Path) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/replay_check.py");
    let out = Command::new(test_python())
        .arg(script)
        .args(["check", &pywb.base_url(), COLLECTION])
        .arg(crawl_dir)
        .output()
        .expect("cannot run the replay checker");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "replay check could not run:\n{stdout}\n{}\nwayback log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        pywb.log()
    );
    serde_json::from_str(stdout.lines().last().unwrap_or("{}")).expect("summary is JSON")
}

fn is_wacz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "wacz")
}

fn manager(root: &Path, args: &[&str]) {
    let out = Command::new(test_python().with_file_name("wb-manager"))
        .args(args)
        .current_dir(root)
        .output()
        .expect("cannot run wb-manager: is pywb installed (scripts/test.sh)?");
    assert!(
        out.status.success(),
        "wb-manager {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn launch(root: &Path, port: u16) -> Child {
    use std::os::unix::process::CommandExt;
    let log = std::fs::File::create(root.join("wayback.log")).expect("create wayback.log");
    let log2 = log.try_clone().expect("clone log handle");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/replay_check.py");
    Command::new(test_python())
        .arg(script)
        .arg("serve")
        .arg(root)
        .arg(port.to_string())
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(log)
        .stderr(log2)
        // Its own group, so the last-resort kill in `stop` reaches wayback too.
        .process_group(0)
        .spawn()
        .expect("cannot start the wayback launcher")
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Whether an HTTP server at `addr` sends a status line back for `GET /`.
fn answers(addr: SocketAddr) -> bool {
    use std::io::Write;
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream
        .write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}
