//! A tool list of 10,000 tools (ten servers of 1,000) answering list queries in the database:
//! `q` + `sort` + a page, as `GET /api/v1/toolservers/tools/all` asks the store for an
//! administrator. Prints p50 and p99 over 200 runs of each query, on a SQLite file and, when
//! `TOOLHUB_TEST_PG_URL` names a server, on PostgreSQL (`scripts/pg-throwaway.sh` starts one).
//! Run: `cargo bench -p toolhub-storage --bench list_queries`.

use std::{sync::Arc, time::Instant};

use toolhub_domain::{
    new_id,
    ports::{ServerRepository, ToolRepository},
    query::{ListQuery, QueryText},
    server::{NewToolServer, ToolServer},
    testing::PlainCipher,
    tool::{TOOL_FIELDS, Tool, ToolStatus},
};
use toolhub_storage::Store;

const SERVERS: usize = 10;
const TOOLS_PER_SERVER: usize = 1000;
const RUNS: usize = 200;

const QUERIES: [(&str, &str, &str); 4] = [
    ("equality + sort + page", "status:enabled", "name"),
    ("regex + sort desc + page", "name:~^tool_0[0-4]", "total_calls:desc"),
    ("range + two keys + page", "total_calls:(>=100 AND <500)", "category,name:desc"),
    ("no filter, default order, page", "", ""),
];

fn tool(server: &ToolServer, index: usize) -> Tool {
    let now = chrono::Utc::now();
    Tool {
        id: new_id(),
        tenant: server.tenant.clone(),
        server_id: server.id.clone(),
        name: format!("tool_{index:04}"),
        display_name: format!("Tool {index}"),
        description: Some(format!("Does thing number {index}")),
        args_schema: Some(serde_json::json!({"type": "object"})),
        output_schema: None,
        annotations: None,
        status: if index.is_multiple_of(10) { ToolStatus::Disabled } else { ToolStatus::Enabled },
        is_available: true,
        bypass_when_unavailable: false,
        category: (!index.is_multiple_of(3)).then(|| format!("cat-{}", index % 7)),
        sort_order: index as i32,
        discovered_at: Some(now),
        discovered_by: Some("bench".into()),
        total_calls: (index * 7 % 1000) as i64,
        total_errors: 0,
        last_called: None,
        last_error: None,
        avg_response_time_ms: None,
        created_at: now,
        updated_at: now,
    }
}

async fn measure(label: &str, url: &str) {
    let db = toolhub_storage::connect(url).await.expect("the database opens");
    toolhub_storage::migrate(&db).await.expect("migrations apply");
    let store = Store::new(db, Arc::new(PlainCipher));
    for s in 0..SERVERS {
        let input = NewToolServer {
            name: format!("server-{s}"),
            display_name: format!("Server {s}"),
            base_url: Some(format!("https://s{s}.example/mcp")),
            ..Default::default()
        };
        let server = ToolServer::register(input, new_id(), "default".into(), None, chrono::Utc::now()).unwrap();
        ServerRepository::insert(&store, &server).await.unwrap();
        for index in 0..TOOLS_PER_SERVER {
            ToolRepository::insert(&store, &tool(&server, index)).await.unwrap();
        }
    }
    println!("{label}: {} tools", SERVERS * TOOLS_PER_SERVER);
    for (name, q, sort) in QUERIES {
        let text = QueryText { q: Some(q), sort: Some(sort), page_size: Some(50), page_number: Some(3) };
        let query = ListQuery::parse(&text, TOOL_FIELDS).unwrap();
        let mut times = Vec::with_capacity(RUNS);
        let mut total = 0;
        for _ in 0..RUNS {
            let started = Instant::now();
            let (page, matched) = ToolRepository::query(&store, "default", &query).await.unwrap();
            times.push(started.elapsed());
            assert!(page.len() <= 50);
            total = matched;
        }
        times.sort();
        let p = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)].as_secs_f64() * 1000.0;
        println!("  {name:32} q={q:32} sort={sort:20} matched {total:5}: p50 {:.2} ms, p99 {:.2} ms", p(0.5), p(0.99));
    }
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bench.db");
    measure("SQLite file", &format!("sqlite://{}?mode=rwc", file.display())).await;
    if std::env::var("TOOLHUB_TEST_PG_URL").is_ok() {
        let url = toolhub_storage::testing::create_postgres_database().await;
        measure("PostgreSQL", &url).await;
    }
}
