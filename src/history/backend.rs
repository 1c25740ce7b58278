//! The history's two databases behind one interface: the embedded SQLite file and a shared
//! PostgreSQL server.
//!
//! The queries (`queries.rs`, `gate_baseline.rs`, `prune.rs`) are written once, against
//! [`Backend`]: a statement is a [`Sql`] (one text for both dialects, or one each where they
//! differ), its parameters are [`Param`]s, and its rows are read through [`DbRow`]'s typed
//! getters. What only one database has (SQLite's pragmas and WAL files, PostgreSQL's
//! connection and schema table) stays in `store.rs` and `postgres.rs`.

use std::cell::RefCell;
use std::ops::ControlFlow;

use super::error::HistoryError;
use super::location::HistoryTarget;

/// An open connection to one of the history's databases.
pub(super) enum Backend {
    /// The embedded file.
    Sqlite(rusqlite::Connection),
    /// A PostgreSQL server. The client needs `&mut` for every call; the store's reading
    /// methods take `&self`, and a store is used by one thread at a time.
    Postgres(RefCell<postgres::Client>),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sqlite(_) => "Backend::Sqlite",
            Self::Postgres(_) => "Backend::Postgres",
        })
    }
}

/// A statement in both dialects. Parameters are written `?1`, `?2`…; PostgreSQL's text gets
/// them as `$1`, `$2`….
#[derive(Debug, Clone, Copy)]
pub(super) struct Sql {
    sqlite: &'static str,
    postgres: Option<&'static str>,
}

impl Sql {
    /// A statement both databases read alike.
    pub(super) const fn both(text: &'static str) -> Self {
        Self {
            sqlite: text,
            postgres: None,
        }
    }

    /// A statement whose dialects differ.
    pub(super) const fn each(sqlite: &'static str, postgres: &'static str) -> Self {
        Self {
            sqlite,
            postgres: Some(postgres),
        }
    }

    /// SQLite's text (for looking at its query plan in tests).
    #[cfg(test)]
    pub(super) fn sqlite_text(&self) -> &'static str {
        self.sqlite
    }

    fn postgres_text(&self) -> String {
        dollar_params(self.postgres.unwrap_or(self.sqlite))
    }
}

/// `?N` ──► `$N` (statements never hold a `?` elsewhere: strings are parameters).
fn dollar_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '?' if chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            c => out.push(c),
        }
    }
    out
}

/// A statement's parameter.
#[derive(Debug, Clone, Copy)]
pub(super) enum Param<'a> {
    /// An integer (PostgreSQL: whatever integer type the statement wants).
    Int(i64),
    /// Text, or NULL.
    Text(Option<&'a str>),
    /// A flag.
    Bool(bool),
}

impl From<i64> for Param<'_> {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<u32> for Param<'_> {
    fn from(value: u32) -> Self {
        Self::Int(i64::from(value))
    }
}

impl From<i32> for Param<'_> {
    fn from(value: i32) -> Self {
        Self::Int(i64::from(value))
    }
}

impl From<bool> for Param<'_> {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(value: &'a str) -> Self {
        Self::Text(Some(value))
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(value: &'a String) -> Self {
        Self::Text(Some(value))
    }
}

impl<'a> From<&'a Option<String>> for Param<'a> {
    fn from(value: &'a Option<String>) -> Self {
        Self::Text(value.as_deref())
    }
}

impl<'a> From<Option<u32>> for Param<'a> {
    fn from(value: Option<u32>) -> Self {
        value.map_or(Self::Text(None), Self::from)
    }
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Self::Int(value) => value.to_sql(),
            Self::Text(value) => value.to_sql(),
            Self::Bool(value) => value.to_sql(),
        }
    }
}

impl postgres::types::ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        match *self {
            Self::Int(value) if *ty == Type::INT4 => i32::try_from(value)?.to_sql(ty, out),
            Self::Int(value) if *ty == Type::INT2 => i16::try_from(value)?.to_sql(ty, out),
            Self::Int(value) => value.to_sql(ty, out),
            Self::Text(value) => value.to_sql(ty, out),
            Self::Bool(value) => value.to_sql(ty, out),
        }
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        use postgres::types::Type;
        [
            Type::INT2,
            Type::INT4,
            Type::INT8,
            Type::TEXT,
            Type::VARCHAR,
            Type::BOOL,
        ]
        .contains(ty)
    }

    postgres::types::to_sql_checked!();
}

/// A failure of either database, before it is tied to the history's location.
#[derive(Debug)]
pub(super) enum DbError {
    Sqlite(rusqlite::Error),
    Postgres(postgres::Error),
    /// A value of a type the reader did not expect.
    Value(String),
}

impl From<rusqlite::Error> for DbError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(error)
    }
}

impl From<postgres::Error> for DbError {
    fn from(error: postgres::Error) -> Self {
        Self::Postgres(error)
    }
}

impl DbError {
    /// The error as the history reports it for `target`.
    pub(super) fn at(self, target: &HistoryTarget) -> HistoryError {
        match (self, target) {
            (Self::Sqlite(error), HistoryTarget::File(path)) => {
                HistoryError::from_sqlite(path, error)
            }
            (Self::Postgres(error), target) => super::postgres::statement_error(target, &error),
            (Self::Sqlite(error), target) => HistoryError::Postgres {
                location: target.to_string(),
                reason: error.to_string(),
            },
            (Self::Value(reason), target) => HistoryError::Postgres {
                location: target.to_string(),
                reason,
            },
        }
    }
}

/// One row of a result, read by column index.
pub(super) enum DbRow<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

impl DbRow<'_> {
    /// An integer column (PostgreSQL: any integer type).
    pub(super) fn int(&self, index: usize) -> Result<i64, DbError> {
        self.opt_int(index)?
            .ok_or_else(|| DbError::Value(format!("column {index} is NULL")))
    }

    /// An integer column that may be NULL.
    pub(super) fn opt_int(&self, index: usize) -> Result<Option<i64>, DbError> {
        match self {
            Self::Sqlite(row) => Ok(row.get(index)?),
            Self::Postgres(row) => {
                use postgres::types::Type;
                let ty = row.columns()[index].type_().clone();
                Ok(match ty {
                    Type::INT2 => row.try_get::<_, Option<i16>>(index)?.map(i64::from),
                    Type::INT4 => row.try_get::<_, Option<i32>>(index)?.map(i64::from),
                    Type::BOOL => row.try_get::<_, Option<bool>>(index)?.map(i64::from),
                    _ => row.try_get::<_, Option<i64>>(index)?,
                })
            }
        }
    }

    /// A non-negative integer column that fits in 32 bits (counts, lines, attempts).
    pub(super) fn u32(&self, index: usize) -> Result<u32, DbError> {
        let value = self.int(index)?;
        u32::try_from(value).map_err(|_| DbError::Value(format!("{value} is out of range")))
    }

    /// A 32-bit integer column that may be NULL.
    pub(super) fn opt_u32(&self, index: usize) -> Result<Option<u32>, DbError> {
        match self.opt_int(index)? {
            None => Ok(None),
            Some(value) => u32::try_from(value)
                .map(Some)
                .map_err(|_| DbError::Value(format!("{value} is out of range"))),
        }
    }

    /// A 32-bit signed integer column (exit statuses).
    pub(super) fn i32(&self, index: usize) -> Result<i32, DbError> {
        let value = self.int(index)?;
        i32::try_from(value).map_err(|_| DbError::Value(format!("{value} is out of range")))
    }

    /// A flag (stored as 0/1 in SQLite, a boolean in PostgreSQL).
    pub(super) fn bool(&self, index: usize) -> Result<bool, DbError> {
        Ok(self.int(index)? != 0)
    }

    /// A text column.
    pub(super) fn text(&self, index: usize) -> Result<String, DbError> {
        self.opt_text(index)?
            .ok_or_else(|| DbError::Value(format!("column {index} is NULL")))
    }

    /// A text column that may be NULL.
    pub(super) fn opt_text(&self, index: usize) -> Result<Option<String>, DbError> {
        match self {
            Self::Sqlite(row) => Ok(row.get(index)?),
            Self::Postgres(row) => Ok(row.try_get(index)?),
        }
    }

    /// A text column borrowed, when it is text; without copying it on SQLite's hot paths.
    pub(super) fn with_str<T>(
        &self,
        index: usize,
        read: impl FnOnce(Option<&str>) -> T,
    ) -> Result<T, DbError> {
        match self {
            Self::Sqlite(row) => Ok(read(row.get_ref(index)?.as_str().ok())),
            Self::Postgres(row) => Ok(read(row.try_get::<_, Option<&str>>(index)?)),
        }
    }
}

/// How many rows PostgreSQL sends at a time to a reader that may stop early.
const BATCH_ROWS: i32 = 2000;

impl Backend {
    /// Every row of `sql`, each read by `read`.
    pub(super) fn query<T>(
        &self,
        sql: &Sql,
        params: &[Param<'_>],
        mut read: impl FnMut(&DbRow<'_>) -> Result<T, DbError>,
    ) -> Result<Vec<T>, DbError> {
        match self {
            Self::Sqlite(_) => {
                let mut out = Vec::new();
                self.for_each(sql, params, |row| {
                    out.push(read(row)?);
                    Ok(ControlFlow::Continue(()))
                })?;
                Ok(out)
            }
            Self::Postgres(client) => {
                let params = postgres_params(params);
                let rows = client
                    .borrow_mut()
                    .query(sql.postgres_text().as_str(), &params)?;
                rows.iter().map(|row| read(&DbRow::Postgres(row))).collect()
            }
        }
    }

    /// The first row of `sql`, if any.
    pub(super) fn query_opt<T>(
        &self,
        sql: &Sql,
        params: &[Param<'_>],
        read: impl FnOnce(&DbRow<'_>) -> Result<T, DbError>,
    ) -> Result<Option<T>, DbError> {
        let mut read = Some(read);
        let mut found = None;
        let mut take = |row: &DbRow<'_>| -> Result<(), DbError> {
            if let Some(read) = read.take() {
                found = Some(read(row)?);
            }
            Ok(())
        };
        match self {
            Self::Sqlite(_) => self.for_each(sql, params, |row| {
                take(row)?;
                Ok(ControlFlow::Break(()))
            })?,
            Self::Postgres(client) => {
                let params = postgres_params(params);
                let rows = client
                    .borrow_mut()
                    .query(sql.postgres_text().as_str(), &params)?;
                if let Some(row) = rows.first() {
                    take(&DbRow::Postgres(row))?;
                }
            }
        }
        Ok(found)
    }

    /// The rows of `sql` in order, handed to `visit` until it breaks. PostgreSQL sends them
    /// [`BATCH_ROWS`] at a time, so a reader that stops early leaves the rest unsent.
    pub(super) fn for_each(
        &self,
        sql: &Sql,
        params: &[Param<'_>],
        mut visit: impl FnMut(&DbRow<'_>) -> Result<ControlFlow<()>, DbError>,
    ) -> Result<(), DbError> {
        match self {
            Self::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql.sqlite)?;
                let mut rows = statement.query(rusqlite::params_from_iter(params))?;
                while let Some(row) = rows.next()? {
                    if visit(&DbRow::Sqlite(row))?.is_break() {
                        break;
                    }
                }
                Ok(())
            }
            Self::Postgres(client) => {
                let mut client = client.borrow_mut();
                let params = postgres_params(params);
                // A portal lives in a transaction; this one only reads, and is rolled back.
                let mut tx = client.transaction()?;
                let portal = tx.bind(sql.postgres_text().as_str(), &params)?;
                loop {
                    let rows = tx.query_portal(&portal, BATCH_ROWS)?;
                    for row in &rows {
                        if visit(&DbRow::Postgres(row))?.is_break() {
                            return Ok(());
                        }
                    }
                    if rows.len() < BATCH_ROWS as usize {
                        return Ok(());
                    }
                }
            }
        }
    }
}

/// The parameters as the PostgreSQL client takes them.
fn postgres_params<'p>(params: &'p [Param<'_>]) -> Vec<&'p (dyn postgres::types::ToSql + Sync)> {
    params.iter().map(|p| p as _).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters_become_dollars_and_nothing_else_changes() {
        assert_eq!(
            dollar_params("SELECT a FROM t WHERE b = ?1 AND c IN (?2, ?10) LIMIT ?3"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $10) LIMIT $3"
        );
        assert_eq!(dollar_params("SELECT '?' || x"), "SELECT '?' || x");
    }
}
