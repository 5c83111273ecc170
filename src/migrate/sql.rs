//! Writing to a database table, created if missing: `(namespace text, key bytes, value bytes,
//! expires_at, primary key (namespace, key))`. SQLite (rusqlite) keeps `expires_at` as Unix
//! epoch ms (INTEGER, NULL for none) and writes each batch in one transaction; PostgreSQL
//! (`postgres`) keeps it as `timestamptz` and bulk-loads each batch with binary COPY straight
//! into the table, as `\copy` does; a batch holding a key the table has already goes into a
//! temporary table instead, and one `INSERT ... ON CONFLICT` moves it into place. Either way a
//! batch is one transaction: all or nothing.

use super::{Entry, OnConflict, Outcome, Stored, Target};

/// A table name we can put in SQL unquoted: letters, digits and `_`, not starting with a digit.
pub fn check_table_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--table {name:?}: use letters, digits and _ (not first), at most 63 characters"
        ))
    }
}

/// A SQLite database file.
pub struct Sqlite {
    /// The open database.
    db: rusqlite::Connection,
    /// The table.
    table: String,
    /// For messages.
    label: String,
}

impl Sqlite {
    /// Opens (creating) the database at `path` and the table in it.
    pub fn open(path: &str, table: &str) -> Result<Sqlite, String> {
        check_table_name(table)?;
        let label = format!("sqlite:{path}");
        let db = rusqlite::Connection::open(path)
            .map_err(|e| format!("target {label}: cannot open: {e}"))?;
        db.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS {table} (
               namespace TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
               expires_at INTEGER, PRIMARY KEY (namespace, key))"
        ))
        .map_err(|e| format!("target {label}: cannot create table {table}: {e}"))?;
        Ok(Sqlite {
            db,
            table: table.to_string(),
            label,
        })
    }
}

impl Target for Sqlite {
    fn describe(&self) -> String {
        self.label.clone()
    }

    fn existing(&mut self, batch: &[Entry]) -> Result<Vec<bool>, String> {
        let sql = format!(
            "SELECT 1 FROM {} WHERE namespace = ?1 AND key = ?2",
            self.table
        );
        let mut stmt = self.db.prepare_cached(&sql).map_err(|e| e.to_string())?;
        batch
            .iter()
            .map(|e| stmt.exists((&e.ns, &e.key)).map_err(|e| e.to_string()))
            .collect()
    }

    fn write(&mut self, batch: &[Entry], policy: OnConflict) -> Result<Vec<Outcome>, String> {
        let verb = match policy {
            OnConflict::Overwrite => "INSERT OR REPLACE",
            OnConflict::Skip | OnConflict::Fail => "INSERT OR IGNORE",
        };
        let sql = format!(
            "{verb} INTO {} (namespace, key, value, expires_at) VALUES (?1, ?2, ?3, ?4)",
            self.table
        );
        let tx = self.db.transaction().map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(batch.len());
        {
            let mut stmt = tx.prepare_cached(&sql).map_err(|e| e.to_string())?;
            for e in batch {
                let at = e.expires_at_ms.map(|a| a as i64);
                out.push(match stmt.execute((&e.ns, &e.key, &e.value, at)) {
                    Ok(0) => Outcome::Conflict,
                    Ok(_) => Outcome::Written,
                    Err(err) => Outcome::Failed(err.to_string()),
                });
            }
        }
        tx.commit()
            .map_err(|e| format!("target {}: commit failed: {e}", self.label))?;
        Ok(out)
    }

    fn read_back(&mut self, entries: &[Entry]) -> Result<Vec<Option<Stored>>, String> {
        let sql = format!(
            "SELECT value, expires_at FROM {} WHERE namespace = ?1 AND key = ?2",
            self.table
        );
        let mut stmt = self.db.prepare_cached(&sql).map_err(|e| e.to_string())?;
        entries
            .iter()
            .map(|e| {
                let mut rows = stmt.query((&e.ns, &e.key)).map_err(|e| e.to_string())?;
                match rows.next().map_err(|e| e.to_string())? {
                    None => Ok(None),
                    Some(r) => {
                        let v: Vec<u8> = r.get(0).map_err(|e| e.to_string())?;
                        let at: Option<i64> = r.get(1).map_err(|e| e.to_string())?;
                        Ok(Some((v, at.map(|a| a as u64))))
                    }
                }
            })
            .collect()
    }
}

/// A PostgreSQL database.
pub struct Postgres {
    /// The session.
    client: postgres::Client,
    /// The table.
    table: String,
    /// For messages, without the password.
    label: String,
}

impl Postgres {
    /// Connects to `url` (a `postgres://` URL or a key=value string), creates the table if
    /// missing and checks that this user may insert into it, before anything is read.
    pub fn connect(url: &str, password: Option<&str>, table: &str) -> Result<Postgres, String> {
        check_table_name(table)?;
        let label = super::redis_target::without_password(url);
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| format!("target {label}: bad URL: {e}"))?;
        if let Some(p) = password {
            config.password(p);
        }
        config.connect_timeout(std::time::Duration::from_secs(5));
        let mut client = config
            .connect(postgres::NoTls)
            .map_err(|e| format!("target {label}: cannot connect: {}", pg_error(&e)))?;
        // CREATE TABLE IF NOT EXISTS needs the right to create even when the table exists, so
        // create only a missing one; the privilege check below then speaks of the table.
        let exists: bool = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
            .and_then(|r| r.try_get(0))
            .map_err(|e| format!("target {label}: {}", pg_error(&e)))?;
        if !exists {
            client
                .batch_execute(&format!(
                    "CREATE TABLE IF NOT EXISTS {table} (
                   namespace text NOT NULL, key bytea NOT NULL, value bytea NOT NULL,
                   expires_at timestamptz, PRIMARY KEY (namespace, key))"
                ))
                .map_err(|e| {
                    format!(
                        "target {label}: cannot create table {table}: {}",
                        pg_error(&e)
                    )
                })?;
        }
        let may: bool = client
            .query_one(
                "SELECT has_table_privilege($1, 'INSERT') AND has_table_privilege($1, 'UPDATE')",
                &[&table],
            )
            .and_then(|r| r.try_get(0))
            .map_err(|e| format!("target {label}: {}", pg_error(&e)))?;
        if !may {
            return Err(format!(
                "target {label}: this user may not insert into or update table {table} \
                 (GRANT INSERT, UPDATE, SELECT ON {table} TO ...)"
            ));
        }
        Ok(Postgres {
            client,
            table: table.to_string(),
            label,
        })
    }
}

/// A PostgreSQL error with the server's message when there is one.
fn pg_error(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}

/// The last millisecond PostgreSQL's timestamptz holds (294276-12-31 23:59:59.999 UTC).
const PG_MAX_MS: u64 = 9_224_318_015_999_999;

/// Runs `sql` (a `COPY ... FROM STDIN (FORMAT binary)`) with `batch[i]` for each of `rows` as
/// its rows: namespace, key, value, expires_at. Binary COPY sends keys and values as they are
/// (no hex text for the server to parse back) and expiries as timestamptz.
fn copy_in(
    tx: &mut postgres::Transaction<'_>,
    sql: &str,
    batch: &[Entry],
    rows: &[usize],
) -> Result<(), postgres::Error> {
    use postgres::binary_copy::BinaryCopyInWriter;
    use postgres::types::Type;
    let types = [Type::TEXT, Type::BYTEA, Type::BYTEA, Type::TIMESTAMPTZ];
    let mut w = BinaryCopyInWriter::new(tx.copy_in(sql)?, &types);
    for &i in rows {
        let e = &batch[i];
        // `write` left out every expiry `system_time` cannot hold.
        let at = e.expires_at_ms.and_then(system_time);
        w.write(&[&e.ns, &e.key.as_slice(), &e.value.as_slice(), &at])?;
    }
    w.finish().map(|_| ())
}

/// Unix epoch `ms` as a `SystemTime` (the postgres crate's timestamptz); `None` past the
/// platform's range (Windows's ends in the year 30828, before PostgreSQL's).
fn system_time(ms: u64) -> Option<std::time::SystemTime> {
    std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_millis(ms))
}

impl Target for Postgres {
    fn describe(&self) -> String {
        self.label.clone()
    }

    fn existing(&mut self, batch: &[Entry]) -> Result<Vec<bool>, String> {
        let sql = format!(
            "SELECT 1 FROM {} WHERE namespace = $1 AND key = $2",
            self.table
        );
        let stmt = self.client.prepare(&sql).map_err(|e| pg_error(&e))?;
        batch
            .iter()
            .map(|e| {
                self.client
                    .query_opt(&stmt, &[&e.ns, &e.key])
                    .map(|r| r.is_some())
                    .map_err(|e| pg_error(&e))
            })
            .collect()
    }

    fn write(&mut self, batch: &[Entry], policy: OnConflict) -> Result<Vec<Outcome>, String> {
        let mut out = vec![Outcome::Written; batch.len()];
        let mut rows: Vec<usize> = Vec::with_capacity(batch.len());
        for (i, e) in batch.iter().enumerate() {
            if e.expires_at_ms.is_some_and(|at| at > PG_MAX_MS) {
                out[i] = Outcome::Failed("expiry past PostgreSQL's timestamptz range".into());
            } else if e.expires_at_ms.is_some_and(|at| system_time(at).is_none()) {
                out[i] = Outcome::Failed("expiry past this platform's time range".into());
            } else {
                rows.push(i);
            }
        }
        let table = self.table.clone();
        let label = self.label.clone();
        let commit_failed =
            |e: postgres::Error| format!("target {label}: commit failed: {}", pg_error(&e));
        let mut tx = self.client.transaction().map_err(|e| pg_error(&e))?;
        // The fast path, as `\copy` loads: COPY straight into the table. A key the table (or
        // the batch) already holds makes it fail; then the batch goes through a staging table
        // and ON CONFLICT.
        tx.batch_execute("SAVEPOINT direct")
            .map_err(|e| pg_error(&e))?;
        let direct =
            format!("COPY {table} (namespace, key, value, expires_at) FROM STDIN (FORMAT binary)");
        match copy_in(&mut tx, &direct, batch, &rows) {
            Ok(()) => {
                tx.commit().map_err(commit_failed)?;
                return Ok(out);
            }
            Err(e) if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) => {
                tx.batch_execute("ROLLBACK TO SAVEPOINT direct")
                    .map_err(|e| pg_error(&e))?;
            }
            Err(e) => {
                return Err(format!(
                    "target {}: COPY failed: {}",
                    self.label,
                    pg_error(&e)
                ))
            }
        }
        // A key twice in one batch (a SCAN may repeat one): the last copy wins.
        let mut last = std::collections::HashMap::with_capacity(rows.len());
        for &i in &rows {
            last.insert((&batch[i].ns, &batch[i].key), i);
        }
        let mut unique: Vec<usize> = last.into_values().collect();
        unique.sort_unstable();
        tx.batch_execute(&format!(
            "CREATE TEMP TABLE IF NOT EXISTS tinykv_migrate_batch
               (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        ))
        .map_err(|e| pg_error(&e))?;
        copy_in(
            &mut tx,
            "COPY tinykv_migrate_batch (namespace, key, value, expires_at) FROM STDIN \
             (FORMAT binary)",
            batch,
            &unique,
        )
        .map_err(|e| pg_error(&e))?;
        let on_conflict = match policy {
            OnConflict::Overwrite => {
                "DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"
            }
            OnConflict::Skip | OnConflict::Fail => "DO NOTHING",
        };
        let insert = format!(
            "INSERT INTO {table} (namespace, key, value, expires_at)
             SELECT namespace, key, value, expires_at FROM tinykv_migrate_batch
             ON CONFLICT (namespace, key) {on_conflict}"
        );
        if policy == OnConflict::Overwrite {
            // Every row is written (inserted or updated): no need to hear which.
            tx.execute(&insert, &[]).map_err(|e| pg_error(&e))?;
            tx.commit().map_err(commit_failed)?;
            return Ok(out);
        }
        let written = tx
            .query(&format!("{insert} RETURNING namespace, key"), &[])
            .map_err(|e| pg_error(&e))?;
        tx.commit().map_err(commit_failed)?;
        let written: std::collections::HashSet<(String, Vec<u8>)> = written
            .iter()
            .filter_map(|r| Some((r.try_get(0).ok()?, r.try_get(1).ok()?)))
            .collect();
        for &i in &rows {
            let e = &batch[i];
            if !written.contains(&(e.ns.clone(), e.key.clone())) {
                out[i] = Outcome::Conflict;
            }
        }
        Ok(out)
    }

    fn read_back(&mut self, entries: &[Entry]) -> Result<Vec<Option<Stored>>, String> {
        let sql = format!(
            "SELECT value, (extract(epoch from expires_at) * 1000)::bigint
             FROM {} WHERE namespace = $1 AND key = $2",
            self.table
        );
        let stmt = self.client.prepare(&sql).map_err(|e| pg_error(&e))?;
        entries
            .iter()
            .map(|e| {
                let row = self
                    .client
                    .query_opt(&stmt, &[&e.ns, &e.key])
                    .map_err(|e| pg_error(&e))?;
                Ok(row.map(|r| {
                    let v: Vec<u8> = r.get(0);
                    let at: Option<i64> = r.get(1);
                    (v, at.map(|a| a as u64))
                }))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_identifiers() {
        for ok in ["tinykv_entries", "t", "_x9"] {
            assert!(check_table_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "9t", "a-b", "t; DROP TABLE x", "a b", &"x".repeat(64)] {
            assert!(check_table_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn expiries_become_system_times_to_the_millisecond() {
        let back = |ms| {
            system_time(ms).map(|t| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis())
        };
        for ms in [0, 951_782_400_123, 1_796_396_524_601] {
            assert_eq!(back(ms), Some(u128::from(ms)), "{ms}");
        }
        // PostgreSQL's last millisecond is past Windows's SystemTime: there it is no time (the
        // entry fails), never a panic; elsewhere it round-trips.
        let want = (!cfg!(windows)).then_some(u128::from(PG_MAX_MS));
        assert_eq!(back(PG_MAX_MS), want);
    }
}
