//! Lock files of a job: `JOBDIR/.lock-<group>` (one run of a group at a time, whoever starts
//! it: `warcrow schedule`, a cron line, a person), `.lock-job` (the job-level files, held
//! briefly while a run adds itself to runs.jsonl and index.cdxj) and `.lock-schedule` (one
//! scheduler per job).
//!
//! They are advisory OS locks (`flock`, through `std::fs::File::lock`), not "the file exists"
//! markers: the kernel releases them when the holder exits, however it exits, so a crash or
//! `kill -9` never leaves a stale lock and no PID check is needed. The files stay; deleting a
//! lock file on release would let two processes lock two different files of one name. The
//! holder's PID is written into the file for the "already running" message only. (`flock` may
//! not lock across machines on some network file systems: keep JOBDIR on a local disk.)

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A held lock; released when dropped (the file is closed).
#[derive(Debug)]
pub struct JobLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process (or another open of the file in this one) holds it.
    #[error("{} is held by {}", .path.display(), holder(*.pid))]
    Busy { path: PathBuf, pid: Option<u32> },
    #[error("cannot lock {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn holder(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!("process {pid}"),
        None => "another process".into(),
    }
}

/// The lock file of a group's runs.
pub fn group_lock_path(job_dir: &Path, group: &str) -> PathBuf {
    job_dir.join(format!(".lock-{group}"))
}

fn open(path: &Path) -> Result<File, LockError> {
    // Not truncated on open: the file may hold the current holder's PID.
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|source| LockError::Io {
            path: path.to_path_buf(),
            source,
        })
}

fn write_pid(file: &mut File) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(format!("{}\n", std::process::id()).as_bytes())
}

impl JobLock {
    /// Take the lock now, or say who holds it.
    pub fn try_acquire(path: &Path) -> Result<JobLock, LockError> {
        let mut file = open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(LockError::Busy {
                    path: path.to_path_buf(),
                    pid: text.trim().parse().ok(),
                });
            }
            Err(TryLockError::Error(source)) => {
                return Err(LockError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
        // The PID is only informative: failing to write it does not matter.
        let _ = write_pid(&mut file);
        Ok(JobLock { _file: file })
    }

    /// Wait for the lock (blocking the thread: call it from blocking code).
    pub fn acquire(path: &Path) -> Result<JobLock, LockError> {
        let mut file = open(path)?;
        file.lock().map_err(|source| LockError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let _ = write_pid(&mut file);
        Ok(JobLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_busy_with_the_holders_pid_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = group_lock_path(dir.path(), "front");
        let held = JobLock::try_acquire(&path).unwrap();
        match JobLock::try_acquire(&path) {
            Err(LockError::Busy { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{other:?}"),
        }
        // Another group is another lock.
        let _other = JobLock::try_acquire(&group_lock_path(dir.path(), "articles")).unwrap();
        drop(held);
        let _again = JobLock::try_acquire(&path).unwrap();
        assert!(path.exists(), "lock files stay");
    }

    #[test]
    fn acquire_waits_for_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".lock-job");
        let held = JobLock::acquire(&path).unwrap();
        let p = path.clone();
        let waiter = std::thread::spawn(move || JobLock::acquire(&p).map(|_| ()));
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!waiter.is_finished());
        drop(held);
        waiter.join().unwrap().unwrap();
    }
}
