//! A fresh PostgreSQL database per test, on the server `ATELIER_TEST_DB`
//! names (tests that need one are skipped, by name, without it).
#![allow(clippy::unwrap_used, dead_code)]

/// The PostgreSQL URL of `ATELIER_TEST_DB`, or `None` after printing that
/// `test` is skipped (no variable, or not PostgreSQL).
pub fn test_url(test: &str) -> Option<String> {
    match std::env::var("ATELIER_TEST_DB") {
        Ok(url) if url.starts_with("postgres") => Some(url),
        Ok(_) => {
            println!("SKIPPED: {test} (ATELIER_TEST_DB is not PostgreSQL)");
            None
        }
        Err(_) => {
            println!("SKIPPED: {test} (no ATELIER_TEST_DB)");
            None
        }
    }
}

/// Connects to `url` as an administrator (the connection is driven by a
/// task of its own).
pub async fn admin(url: &str) -> tokio_postgres::Client {
    let (admin, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    admin
}

/// Drops and creates database `name` through `admin`; returns its URL
/// (`url` with the database replaced).
pub async fn fresh_database(admin: &tokio_postgres::Client, url: &str, name: &str) -> String {
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    match url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => panic!("cannot derive a database URL from {url}"),
    }
}
