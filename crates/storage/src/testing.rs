//! Test support shared by every crate's database tests: fresh databases on the PostgreSQL
//! server that `scripts/test.sh` starts (its URL in `TOOLHUB_TEST_PG_URL`).

use sea_orm::ConnectionTrait;

/// The PostgreSQL server the suites run against.
pub fn postgres_server_url() -> String {
    std::env::var("TOOLHUB_TEST_PG_URL").expect(
        "TOOLHUB_TEST_PG_URL is not set: run the tests with scripts/test.sh, which starts a throwaway \
         PostgreSQL on loopback, or point it at a server (postgres://user@127.0.0.1:port)",
    )
}

/// Creates an empty database with a unique name on the test server and returns its URL.
pub async fn create_postgres_database() -> String {
    let server = postgres_server_url();
    let name = format!("th_{}", toolhub_domain::new_id().to_lowercase());
    let admin = crate::connect(&format!("{server}/postgres")).await.expect("connect to PostgreSQL");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
    admin.close().await.ok();
    format!("{server}/{name}")
}
