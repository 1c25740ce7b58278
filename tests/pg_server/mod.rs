//! A real PostgreSQL server of the test's own on loopback: `initdb` into a temp folder, started
//! with `pg_ctl` on a free port (its socket in the temp folder), stopped when dropped.
//!
//! PostgreSQL refuses to run as root: then its programs run as the `postgres` system user
//! (`runuser -u postgres --`), which is given the folders. A database `history` owned by a
//! role `smoke` with a password is created for the tests; they connect over TCP with that
//! password (scram-sha-256), as a shared history is reached from other machines.
//!
//! Shared by the integration tests (`tests/cli/postgres_history.rs`) and `benches/gate.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The password of the `smoke` role: long enough to be masked, distinctive enough to grep.
pub const PASSWORD: &str = "pg-Secret-Pw-4711";

/// The server's programs, when PostgreSQL is installed (Debian's layout, newest first).
pub fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    found.sort_by_key(|bin| {
        let version = bin.parent().and_then(Path::file_name);
        version.and_then(|v| v.to_str()?.parse::<u32>().ok())
    });
    found.pop()
}

/// `None` (with a note printed) when PostgreSQL is not installed; a panic instead when
/// `SMOKE_REQUIRE_POSTGRES` is set, as `.ci/run` does.
pub fn start_or_skip(test: &str) -> Option<PgServer> {
    match postgres_bin() {
        Some(bin) => Some(PgServer::start(&bin)),
        None => {
            assert!(
                std::env::var_os("SMOKE_REQUIRE_POSTGRES").is_none(),
                "SMOKE_REQUIRE_POSTGRES is set but no PostgreSQL server programs were found in \
                 /usr/lib/postgresql/*/bin (install Debian's postgresql package)"
            );
            eprintln!(
                "note: {test} skipped: PostgreSQL is not installed (/usr/lib/postgresql/*/bin)"
            );
            None
        }
    }
}

/// A running server; stopped (immediately) when dropped.
pub struct PgServer {
    bin: PathBuf,
    dir: tempfile::TempDir,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    as_postgres: bool,
}

impl PgServer {
    /// initdb, start on a free port, create the `smoke` role and the `history` database.
    pub fn start(bin: &Path) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let as_postgres = rustix::process::geteuid().is_root();
        let mut server = Self {
            bin: bin.to_owned(),
            dir,
            port: 0,
            as_postgres,
        };
        std::fs::create_dir_all(server.data()).unwrap();
        std::fs::create_dir_all(server.socket_dir()).unwrap();
        if as_postgres {
            // The postgres user must enter the temp folder and own the server's folders.
            use std::os::unix::fs::PermissionsExt;
            let open = std::fs::Permissions::from_mode(0o711);
            std::fs::set_permissions(server.dir.path(), open).unwrap();
            let chown = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(server.data())
                .arg(server.socket_dir())
                .output()
                .expect("chown");
            assert!(chown.status.success(), "chown: {}", text(&chown));
        }
        let pwfile = server.dir.path().join("admin-pw");
        std::fs::write(&pwfile, "admin-pw-not-used\n").unwrap();
        if as_postgres {
            let _ = Command::new("chown").arg("postgres:").arg(&pwfile).status();
        }
        let initdb = server
            .program("initdb")
            .args([
                "--no-sync",
                "-A",
                "scram-sha-256",
                "--auth-local=trust",
                "-U",
                "admin",
            ])
            .arg("--pwfile")
            .arg(&pwfile)
            .arg("-D")
            .arg(server.data())
            .output()
            .expect("run initdb");
        assert!(initdb.status.success(), "initdb failed: {}", text(&initdb));
        server.start_on_a_free_port();
        server.admin_sql(
            "postgres",
            &format!("CREATE ROLE smoke LOGIN PASSWORD '{PASSWORD}'"),
        );
        server.admin_sql("postgres", "CREATE DATABASE history OWNER smoke");
        server
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn socket_dir(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    /// One of the server's programs, as the user it runs as.
    fn program(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    /// `pg_ctl start -w` (it waits until the server accepts connections), on another free
    /// port if the one picked was taken meanwhile.
    fn start_on_a_free_port(&mut self) {
        let log = self.dir.path().join("sock/server.log");
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let options = format!(
                "-h 127.0.0.1 -p {port} -k {} -c fsync=off -c max_connections=60",
                self.socket_dir().display()
            );
            let started = self
                .program("pg_ctl")
                .args(["-w", "-t", "120", "-D"])
                .arg(self.data())
                .arg("-l")
                .arg(&log)
                .args(["-o", &options, "start"])
                .output()
                .expect("run pg_ctl");
            if started.status.success() {
                self.port = port;
                return;
            }
            last = format!(
                "{}\n{}",
                text(&started),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        panic!("PostgreSQL did not start: {last}");
    }

    /// Runs `sql` as the superuser in database `db`, over the socket; its output (`-tA`).
    pub fn admin_sql(&self, db: &str, sql: &str) -> String {
        let output = self
            .program("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA", "-h"])
            .arg(self.socket_dir())
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "admin",
                "-d",
                db,
                "-c",
                sql,
            ])
            .output()
            .expect("run psql");
        assert!(output.status.success(), "psql `{sql}`: {}", text(&output));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The history database's URL, with the `smoke` role's password.
    pub fn url(&self) -> String {
        format!(
            "postgres://smoke:{PASSWORD}@127.0.0.1:{}/history",
            self.port
        )
    }

    /// The same server with a wrong password.
    pub fn url_with_password(&self, password: &str) -> String {
        format!(
            "postgres://smoke:{password}@127.0.0.1:{}/history",
            self.port
        )
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = self
            .program("pg_ctl")
            .args(["-m", "immediate", "-D"])
            .arg(self.data())
            .arg("stop")
            .output();
    }
}

/// A port nobody listens on at this moment.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().unwrap().port()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
