//! Services and requirements: long-lived commands, their ports and health checks
//! (`sh`/`run`, `http`, `tcp`), and `requires` entries (program names or commands).

use std::time::Duration;

use toml::Spanned;

use super::super::error::LoadError;
use super::super::model::{
    Action, Command, Healthcheck, HttpCheck, Location, Probe, Requirement, Service,
};
use super::super::raw::{RawDuration, RawHealthcheck, RawHttp, RawRequirement, RawRun, RawService};
use super::{DEFAULT_HEALTH_INTERVAL, DEFAULT_HEALTH_RETRIES, DEFAULT_HEALTH_TIMEOUT, Validator};

impl Validator<'_> {
    pub(super) fn service(&self, raw: Spanned<RawService>) -> Result<Service, LoadError> {
        let header = raw.span();
        let raw = raw.into_inner();
        let name = self.name(raw.name, "service")?;
        let command = match self.command(raw.run, raw.sh)? {
            Some(command) => command,
            None => {
                return Err(self.invalid(
                    header,
                    format!("service `{name}` has neither `run` nor `sh`"),
                    "add `sh = \"…\"` (a bash line) or `run = [\"program\", \"arg\"]`",
                ));
            }
        };
        let auto_port = match raw.port {
            None => false,
            Some(port) if port.get_ref() == "auto" => true,
            Some(port) => {
                return Err(self.invalid(
                    port.span(),
                    format!("invalid port {:?}", port.get_ref()),
                    "write `port = \"auto\"` for a free loopback port in `${PORT}`",
                ));
            }
        };
        let port_variable = format!(
            "{}_PORT",
            name.chars()
                .map(|c| if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                })
                .collect::<String>()
        );
        let healthcheck = raw
            .healthcheck
            .map(|check| self.healthcheck(check, &name))
            .transpose()?;
        let (line, column) = self.lines.line_column(header.start);
        Ok(Service {
            command,
            auto_port,
            port_variable,
            env: self.env(raw.env)?,
            healthcheck,
            location: Some(Location {
                file: self.path.to_owned(),
                line,
                column,
            }),
            name,
        })
    }

    /// A program's name, or a check command (`{ sh = "…" }`).
    pub(super) fn requirement(
        &self,
        raw: Spanned<RawRequirement>,
    ) -> Result<Requirement, LoadError> {
        let span = raw.span();
        match raw.into_inner() {
            RawRequirement::Program(program) => Ok(Requirement::Program(program)),
            RawRequirement::Check(check) => match self.command(check.run, check.sh)? {
                Some(command) => Ok(Requirement::Check(command)),
                None => Err(self.invalid(
                    span,
                    "a `requires` check needs `sh` or `run`".to_owned(),
                    "for example `{ sh = \"id postgres\" }`: the suite is skipped unless it exits 0",
                )),
            },
        }
    }

    /// `run` (a whole command here) or `sh`; `None` when neither is given.
    pub(super) fn command(
        &self,
        run: Option<Spanned<RawRun>>,
        sh: Option<Spanned<String>>,
    ) -> Result<Option<Command>, LoadError> {
        match (run, sh) {
            (Some(_), Some(sh)) => Err(self.invalid(
                sh.span(),
                "both `run` and `sh`".to_owned(),
                "keep one: `run` is a program and its arguments, `sh` is a bash line",
            )),
            (Some(run), None) => match self.run(run)? {
                Action::Run(argv) => Ok(Some(Command::Argv(argv))),
                _ => unreachable!("`run` gives arguments"),
            },
            (None, Some(sh)) => Ok(Some(Command::Shell(self.shell_line(&sh)?))),
            (None, None) => Ok(None),
        }
    }

    pub(super) fn healthcheck(
        &self,
        raw: Spanned<RawHealthcheck>,
        service: &str,
    ) -> Result<Healthcheck, LoadError> {
        let span = raw.span();
        let raw = raw.into_inner();
        let kinds = usize::from(raw.run.is_some())
            + usize::from(raw.sh.is_some())
            + usize::from(raw.http.is_some())
            + usize::from(raw.tcp.is_some());
        if kinds != 1 {
            return Err(self.invalid(
                span,
                format!("the health check of service `{service}` needs exactly one of `sh`, `run`, `http`, `tcp`"),
                "for example `healthcheck = { tcp = \"127.0.0.1:${PORT}\" }`",
            ));
        }
        let probe = if let Some(http) = raw.http {
            Probe::Http(self.http(http)?)
        } else if let Some(tcp) = raw.tcp {
            Probe::Tcp(self.template(&tcp)?)
        } else {
            Probe::Command(
                self.command(raw.run, raw.sh)?
                    .expect("one of the four keys is set"),
            )
        };
        let retries = match raw.retries {
            None => DEFAULT_HEALTH_RETRIES,
            Some(retries) => u32::try_from(*retries.get_ref()).map_err(|_| {
                self.invalid(
                    retries.span(),
                    format!("invalid retries {}", retries.get_ref()),
                    "`retries` is a count from 0: how many intervals failing checks are accepted",
                )
            })?,
        };
        let duration = |value: Option<Spanned<RawDuration>>, default| match value {
            Some(value) => self.duration(value),
            None => Ok(default),
        };
        let interval = duration(raw.interval, DEFAULT_HEALTH_INTERVAL)?;
        let paced = raw.backoff.is_some() || raw.max_interval.is_some() || raw.jitter.is_some();
        let pacing = paced
            .then(|| self.pacing(interval, raw.backoff, raw.max_interval, raw.jitter))
            .transpose()?;
        Ok(Healthcheck {
            probe,
            interval,
            timeout: duration(raw.timeout, DEFAULT_HEALTH_TIMEOUT)?,
            retries,
            start_period: duration(raw.start_period, Duration::ZERO)?,
            pacing,
        })
    }

    pub(super) fn http(&self, raw: Spanned<RawHttp>) -> Result<HttpCheck, LoadError> {
        let raw = raw.into_inner();
        let method = match raw.method {
            None => "GET".to_owned(),
            Some(method) => {
                let valid = !method.get_ref().is_empty()
                    && method.get_ref().bytes().all(|b| b.is_ascii_alphabetic());
                if !valid {
                    return Err(self.invalid(
                        method.span(),
                        format!("invalid HTTP method {:?}", method.get_ref()),
                        "write a method like \"GET\", \"POST\", \"PUT\", \"DELETE\"",
                    ));
                }
                method.into_inner().to_ascii_uppercase()
            }
        };
        let status = raw
            .status
            .map(|status| {
                u16::try_from(*status.get_ref())
                    .ok()
                    .filter(|code| (100..=599).contains(code))
                    .ok_or_else(|| {
                        self.invalid(
                            status.span(),
                            format!("invalid HTTP status {}", status.get_ref()),
                            "write a status code from 100 to 599; without one, any 2xx passes",
                        )
                    })
            })
            .transpose()?;
        Ok(HttpCheck {
            url: self.template(&raw.url)?,
            method,
            status,
            headers: raw
                .headers
                .0
                .into_iter()
                .map(|(name, value)| Ok((name.into_inner(), self.template(&value)?)))
                .collect::<Result<_, LoadError>>()?,
            body: raw.body.map(|body| self.template(&body)).transpose()?,
        })
    }
}
