//! The audit chains: concurrent writers keep every chain gap-free and verifiable, the listing
//! pages through every event once with working filters, events hold ids and never personal
//! data, tampering (an edited or deleted row) is found, and only admins and auditors read it.

use crate::support::{run, shelter_body, spawn_app, TestApp, PASSWORD};
use diesel::prelude::*;
use futures_util::future::{join, join_all};
use refugio_core::audit::{AuditEvent, GENESIS_HASH, PLATFORM_CHAIN};
use refugio_db::backend_tests;
use refugio_db::schema::audit_events;
use refugio_db::test_support::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};

backend_tests!(
    concurrent_changes_make_gap_free_verifiable_chains,
    tampering_is_detected,
    only_admins_and_auditors_read_the_audit_log,
);

/// What `populate` made.
struct World {
    admin: String,
    admin_id: String,
    auditor: String,
    auditor_id: String,
    shelters: Vec<String>,
    /// (id, name) of the users created over HTTP, the staff member last.
    users: Vec<(String, String)>,
    staff: String,
    /// How many audit events all of that wrote (counted in the database).
    events: u64,
}

fn user_name(i: usize) -> String {
    format!("Xiomara Benavides {i}")
}

fn shelter_name(i: usize) -> String {
    format!("Casa Aurora {i}")
}

/// An admin and an auditor (set up directly), then `n` shelter creations and `n` user
/// creations fired at once, then a staff member of the first shelter.
async fn populate(app: &TestApp, n: usize) -> World {
    let admin = app.admin_token().await;
    let admin_id = app.get("/me", Some(&admin)).await.str("id");
    let auditor_id = app.create_user("auditor@example.org", refugio_core::Role::Auditor);
    let auditor = app
        .login("auditor@example.org", PASSWORD)
        .await
        .str("access_token");

    let shelter_posts =
        (0..n).map(|i| app.post("/shelters", Some(&admin), shelter_body(&shelter_name(i))));
    let user_posts = (0..n).map(|i| {
        let role = if i % 2 == 0 { "donor" } else { "auditor" };
        app.post(
            "/users",
            Some(&admin),
            json!({"email": format!("persona{i}@example.org"), "password": PASSWORD,
                   "name": user_name(i), "role": role}),
        )
    });
    let (shelter_replies, user_replies) = join(join_all(shelter_posts), join_all(user_posts)).await;
    let mut shelters = Vec::new();
    for r in shelter_replies {
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        shelters.push(r.str("id"));
    }
    let mut users = Vec::new();
    for (i, r) in user_replies.into_iter().enumerate() {
        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
        users.push((r.str("id"), user_name(i)));
    }

    let staff_name = "Leocadia Villaseñor";
    let r = app
        .post(
            "/users",
            Some(&admin),
            json!({"email": "leocadia@example.org", "password": PASSWORD, "name": staff_name,
                   "role": "staff", "memberships": [{"shelter_id": shelters[0], "role": "manager"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    users.push((r.str("id"), staff_name.to_owned()));
    let staff = app
        .login("leocadia@example.org", PASSWORD)
        .await
        .str("access_token");

    // At least: admin + auditor registered, n shelters, n users, the staff user and its
    // membership; the platform chain holds exactly the accounts. (A shelter's creation may
    // write more than one event, e.g. its default catalog.)
    let events = u64::try_from(chain_len(app, None)).expect("a count");
    assert!(
        events >= u64::try_from(2 + 2 * n + 2).expect("small"),
        "{events}"
    );
    assert_eq!(
        chain_len(app, Some(PLATFORM_CHAIN)),
        i64::try_from(n + 3).expect("small")
    );
    World {
        admin,
        admin_id,
        auditor,
        auditor_id,
        shelters,
        users,
        staff,
        events,
    }
}

/// Events stored in `chain` (all chains when `None`), counted straight in the database.
fn chain_len(app: &TestApp, chain: Option<&str>) -> i64 {
    let mut conn = app.db.connect();
    let mut q = audit_events::table.count().into_boxed();
    if let Some(chain) = chain {
        q = q.filter(audit_events::chain.eq(chain.to_owned()));
    }
    q.get_result(&mut conn).expect("count audit events")
}

/// Every event matching `query` (e.g. `entity=user&`), read in pages of 7.
async fn all_events(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let path = match &cursor {
            Some(c) => format!("/audit/events?{query}limit=7&cursor={c}"),
            None => format!("/audit/events?{query}limit=7"),
        };
        let page = app.get(&path, Some(token)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {page:?}");
        let batch = page.body["items"].as_array().expect("items").clone();
        assert!(batch.len() <= 7, "{path}: {} items", batch.len());
        items.extend(batch);
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => {
                assert!(page.body["next_cursor"].is_null(), "{page:?}");
                return items;
            }
        }
    }
    panic!("the audit listing never ends");
}

fn chain_of(e: &Value) -> String {
    e["shelter_id"]
        .as_str()
        .unwrap_or(PLATFORM_CHAIN)
        .to_owned()
}

fn seq_of(e: &Value) -> i64 {
    e["seq"].as_i64().expect("seq is an integer")
}

/// (chain, seq) of each event, in the order given.
fn keys(events: &[Value]) -> Vec<(String, i64)> {
    events.iter().map(|e| (chain_of(e), seq_of(e))).collect()
}

async fn verify(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app.get(&format!("/audit/verify{query}"), Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.body
}

fn assert_ok(report: &Value, checked: u64) {
    assert_eq!(report["ok"], json!(true), "{report}");
    assert_eq!(report["checked"], json!(checked), "{report}");
    assert!(
        report.get("first_bad_seq").is_none_or(Value::is_null),
        "{report}"
    );
}

fn assert_broken(report: &Value, chain: &str, seq: i64) {
    assert_eq!(report["ok"], json!(false), "{report}");
    assert_eq!(report["shelter_id"], json!(chain), "{report}");
    assert_eq!(report["first_bad_seq"], json!(seq), "{report}");
    assert!(report["checked"].is_u64(), "{report}");
}

fn concurrent_changes_make_gap_free_verifiable_chains(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = populate(&app, 10).await;

        assert_ok(&verify(&app, &w.auditor, "").await, w.events);

        let events = all_events(&app, &w.auditor, "").await;
        assert_eq!(events.len() as u64, w.events);
        let listed = keys(&events);
        let unique: HashSet<_> = listed.iter().cloned().collect();
        assert_eq!(
            unique.len(),
            listed.len(),
            "an event listed twice: {listed:?}"
        );

        // By chain then seq: each chain is one run, its seqs 1, 2, 3… and linked by hash.
        let mut seen_chains = Vec::<String>::new();
        let mut per_chain = BTreeMap::<String, Vec<&Value>>::new();
        let mut prev: Option<&Value> = None;
        let fields: HashSet<&str> = [
            "seq",
            "at",
            "actor_id",
            "shelter_id",
            "action",
            "entity",
            "entity_id",
            "data",
            "prev_hash",
            "hash",
        ]
        .into_iter()
        .collect();
        for e in &events {
            let chain = chain_of(e);
            let continues = prev.is_some_and(|p| chain_of(p) == chain);
            if !continues {
                assert!(
                    !seen_chains.contains(&chain),
                    "chain {chain} split: {listed:?}"
                );
                seen_chains.push(chain.clone());
            }
            let expected_seq = if continues {
                prev.map_or(1, seq_of) + 1
            } else {
                1
            };
            assert_eq!(seq_of(e), expected_seq, "{e}");
            let expected_prev = if continues {
                prev.and_then(|p| p["hash"].as_str()).unwrap_or_default()
            } else {
                GENESIS_HASH
            };
            assert_eq!(e["prev_hash"], json!(expected_prev), "{e}");

            let keys_of_e: HashSet<&str> = e
                .as_object()
                .expect("an event is an object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys_of_e, fields, "{e}");
            let parsed: AuditEvent = serde_json::from_value(e.clone()).expect("an audit event");
            assert_eq!(parsed.hash, parsed.expected_hash(), "{e}");
            assert_eq!(
                parsed.hash,
                refugio_core::audit::event_hash(
                    parsed.seq,
                    &parsed.at,
                    parsed.actor_id.as_deref(),
                    parsed.shelter_id.as_deref(),
                    &parsed.action,
                    &parsed.entity,
                    &parsed.entity_id,
                    &parsed.data,
                    &parsed.prev_hash,
                )
            );
            assert!(
                parsed.hash.len() == 64
                    && parsed
                        .hash
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                "{e}"
            );
            assert!(
                chrono::DateTime::parse_from_rfc3339(&parsed.at).is_ok()
                    && parsed.at.ends_with('Z'),
                "{e}"
            );

            // Ids, amounts and statuses only: no emails, no names.
            let text = e.to_string();
            assert!(!text.contains('@'), "an email in {e}");
            for (_, name) in &w.users {
                assert!(!text.contains(name.as_str()), "{name} in {e}");
            }
            for i in 0..10 {
                assert!(!text.contains(&shelter_name(i)), "a shelter name in {e}");
            }
            assert!(
                !text.contains("Ciudad de México") && !text.contains("CDMX"),
                "{e}"
            );

            per_chain.entry(chain).or_default().push(e);
            prev = Some(e);
        }

        // The chains: the platform's (both set-up accounts, 10 users, the staff member) and one
        // per shelter, which starts with its creation; the first shelter's ends with the
        // staff member's membership.
        assert_eq!(per_chain.len(), 11, "{seen_chains:?}");
        assert_eq!(per_chain[PLATFORM_CHAIN].len(), 13);
        let plain_len = per_chain[w.shelters[1].as_str()].len();
        for (i, sid) in w.shelters.iter().enumerate() {
            let chain = &per_chain[sid.as_str()];
            assert_eq!(chain[0]["action"], "shelter.created");
            assert_eq!(chain[0]["entity"], "shelter");
            assert_eq!(chain[0]["entity_id"], json!(sid));
            let want = if i == 0 { plain_len + 1 } else { plain_len };
            assert_eq!(chain.len(), want, "{sid}");
            assert_eq!(
                i64::try_from(chain.len()).expect("small"),
                chain_len(&app, Some(sid))
            );
            for e in chain.iter() {
                assert_eq!(e["actor_id"], json!(w.admin_id), "{e}");
            }
        }
        let membership = per_chain[w.shelters[0].as_str()][plain_len];
        assert_eq!(membership["action"], "membership.created");
        let staff_id = &w.users[w.users.len() - 1].0;
        assert_eq!(membership["data"]["user_id"], json!(staff_id));
        let user_ids: HashSet<&str> = per_chain[PLATFORM_CHAIN]
            .iter()
            .filter(|e| e["action"] == "user.created" && e["actor_id"] == json!(w.admin_id))
            .map(|e| e["entity_id"].as_str().expect("entity_id"))
            .collect();
        let created: HashSet<&str> = w.users.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(user_ids, created);

        // Filters: each gives exactly the matching part of the full listing, in its order.
        let expect = |pred: &dyn Fn(&Value) -> bool| -> Vec<(String, i64)> {
            keys(
                &events
                    .iter()
                    .filter(|e| pred(e))
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        };
        let sid0 = w.shelters[0].clone();
        let cases: Vec<(String, Vec<(String, i64)>)> = vec![
            (
                "shelter_id=platform&".into(),
                expect(&|e| e["shelter_id"].is_null()),
            ),
            (
                format!("shelter_id={sid0}&"),
                expect(&|e| e["shelter_id"] == json!(sid0)),
            ),
            ("entity=user&".into(), expect(&|e| e["entity"] == "user")),
            (
                format!("actor_id={}&", w.admin_id),
                expect(&|e| e["actor_id"] == json!(w.admin_id)),
            ),
            (
                format!("actor_id={}&", w.auditor_id),
                expect(&|e| e["actor_id"] == json!(w.auditor_id)),
            ),
            (
                format!("shelter_id=platform&entity=user&actor_id={}&", w.admin_id),
                expect(&|e| {
                    e["shelter_id"].is_null()
                        && e["entity"] == "user"
                        && e["actor_id"] == json!(w.admin_id)
                }),
            ),
            ("from=2999-01-01T00:00:00Z&".into(), Vec::new()),
            ("to=2000-01-01T00:00:00Z&".into(), Vec::new()),
        ];
        // Every shelter-chain event is the admin's, as are 11 platform ones (the two accounts
        // set up directly, as by `refugio admin create`, have no actor).
        let shelter_events = events.len() - 13;
        let sizes: Vec<usize> = cases.iter().map(|(_, want)| want.len()).collect();
        assert_eq!(
            sizes,
            vec![13, plain_len + 1, 13, 11 + shelter_events, 0, 11, 0, 0],
            "the expectations themselves"
        );
        for (query, want) in cases {
            let got = all_events(&app, &w.admin, &query).await;
            assert_eq!(keys(&got), want, "{query}");
        }

        // One chain at a time.
        assert_ok(&verify(&app, &w.admin, "?shelter_id=platform").await, 13);
        assert_ok(
            &verify(&app, &w.admin, &format!("?shelter_id={sid0}")).await,
            u64::try_from(plain_len + 1).expect("small"),
        );
    });
}

fn set_data(app: &TestApp, chain: &str, seq: i64, data: &str) {
    let mut conn = app.db.connect();
    let n = diesel::update(audit_events::table.find((chain, seq)))
        .set(audit_events::data.eq(data))
        .execute(&mut conn)
        .expect("edit an audit row");
    assert_eq!(n, 1);
}

fn delete_event(app: &TestApp, chain: &str, seq: i64) {
    let mut conn = app.db.connect();
    let n = diesel::delete(audit_events::table.find((chain, seq)))
        .execute(&mut conn)
        .expect("delete an audit row");
    assert_eq!(n, 1);
}

fn tampering_is_detected(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = populate(&app, 3).await;
        let platform_events = 2 + 3 + 1;
        assert_ok(&verify(&app, &w.auditor, "").await, w.events);

        // A donor's creation, rewritten to say it made an admin.
        let events = all_events(&app, &w.auditor, "shelter_id=platform&").await;
        assert_eq!(events.len(), platform_events);
        let victim = events
            .iter()
            .find(|e| e["action"] == "user.created" && e["data"] == json!({"role": "donor"}))
            .expect("a donor's creation");
        let k = seq_of(victim);
        let original = refugio_core::canonical_json::to_string(&victim["data"]);
        set_data(&app, PLATFORM_CHAIN, k, r#"{"role":"admin"}"#);

        assert_broken(&verify(&app, &w.auditor, "").await, PLATFORM_CHAIN, k);
        assert_broken(
            &verify(&app, &w.auditor, "?shelter_id=platform").await,
            PLATFORM_CHAIN,
            k,
        );
        // Other chains are still fine.
        let sid1 = w.shelters[1].clone();
        assert_ok(
            &verify(&app, &w.auditor, &format!("?shelter_id={sid1}")).await,
            u64::try_from(chain_len(&app, Some(&sid1))).expect("a count"),
        );
        // The listing shows the edited row as it is; its hash no longer matches.
        let listed = all_events(&app, &w.auditor, "shelter_id=platform&").await;
        let edited: AuditEvent =
            serde_json::from_value(listed[usize::try_from(k - 1).expect("seq")].clone())
                .expect("an audit event");
        assert_eq!(edited.data, json!({"role": "admin"}));
        assert_ne!(edited.hash, edited.expected_hash());

        // Put back, it verifies again.
        set_data(&app, PLATFORM_CHAIN, k, &original);
        assert_ok(&verify(&app, &w.auditor, "").await, w.events);

        // Cutting off the last event of a chain: the head still remembers it.
        let sid0 = w.shelters[0].clone();
        let last = chain_len(&app, Some(&sid0));
        assert!(last >= 2, "creation and membership at least");
        delete_event(&app, &sid0, last);
        assert_broken(&verify(&app, &w.auditor, "").await, &sid0, last);
        assert_broken(
            &verify(&app, &w.auditor, &format!("?shelter_id={sid0}")).await,
            &sid0,
            last,
        );
        assert_ok(
            &verify(&app, &w.auditor, "?shelter_id=platform").await,
            u64::try_from(platform_events).expect("small"),
        );

        // Cutting out an event in the middle of the platform chain.
        delete_event(&app, PLATFORM_CHAIN, 3);
        assert_broken(
            &verify(&app, &w.auditor, "?shelter_id=platform").await,
            PLATFORM_CHAIN,
            3,
        );
        let all = verify(&app, &w.auditor, "").await;
        assert_eq!(all["ok"], json!(false), "{all}");
        assert!(
            all["shelter_id"] == json!(PLATFORM_CHAIN) && all["first_bad_seq"] == json!(3)
                || all["shelter_id"] == json!(sid0) && all["first_bad_seq"] == json!(last),
            "{all}"
        );
    });
}

fn only_admins_and_auditors_read_the_audit_log(backend: Backend) {
    run(async {
        let app = spawn_app(backend).await;
        let w = populate(&app, 1).await;
        app.create_user("donante@example.org", refugio_core::Role::Donor);
        let donor = app
            .login("donante@example.org", PASSWORD)
            .await
            .str("access_token");
        let sid = &w.shelters[0];
        let paths = [
            "/audit/events".to_owned(),
            format!("/audit/events?shelter_id={sid}"),
            "/audit/verify".to_owned(),
            format!("/audit/verify?shelter_id={sid}"),
        ];
        for path in &paths {
            for (who, token) in [("donor", &donor), ("staff", &w.staff)] {
                let r = app.get(path, Some(token)).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{who} {path}: {r:?}");
                assert_eq!(r.problem_code(), "forbidden", "{who} {path}: {r:?}");
            }
            let anonymous = app.get(path, None).await;
            assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{path}");
            for (who, token) in [("admin", &w.admin), ("auditor", &w.auditor)] {
                let r = app.get(path, Some(token)).await;
                assert_eq!(r.status, StatusCode::OK, "{who} {path}: {r:?}");
            }
        }
    });
}
