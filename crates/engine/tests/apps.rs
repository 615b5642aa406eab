//! Apps: deploying a `sluice.toml` folder, and redeploying it while executions run.

use std::sync::Arc;

use chrono::Utc;
use serde_json::json;
use sluice_engine::{Engine, ExecutionStatus, Functions, Options};
use sluice_store_sqlite::SqliteStore;

fn write(folder: &std::path::Path, name: &str, text: &str) {
    std::fs::write(folder.join(name), text).expect("a file is written");
}

fn definition(result: &str) -> String {
    json!({"StartAt": "Wait", "States": {
        "Wait": {"Type": "Wait", "SecondsPath": "$.seconds", "Next": "Echo"},
        "Echo": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo",
                 "Parameters": {"result": result}, "End": true}
    }})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeploying_keeps_running_executions_on_their_revision() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let app = directory.path().join("app");
    std::fs::create_dir(&app).expect("the app folder");
    write(
        &app,
        "sluice.toml",
        "[app]\nname = \"demo\"\n\n[functions.echo]\ncommand = [\"/bin/cat\"]\ntimeout_seconds = 5\n\n[state_machines.flow]\ndefinition = \"flow.asl.json\"\n",
    );
    write(&app, "flow.asl.json", &definition("first"));
    let store = SqliteStore::open(&directory.path().join("sluice.db")).expect("the store opens");
    let engine = Engine::new(Arc::new(store), Functions::default(), Options::default());
    engine.start().await.expect("started");

    let deployed = engine.deploy_app(&app, 0).await.expect("deployed");
    assert_eq!(deployed.functions, ["echo"]);
    assert_eq!(deployed.state_machines[0].2, 1);
    let machine = deployed.state_machines[0].1.clone();
    let slow = engine
        .start_execution(&machine, Some("slow"), Some("{\"seconds\":2}"), Utc::now())
        .await
        .expect("started");

    write(&app, "flow.asl.json", &definition("second"));
    let redeployed = engine.deploy_app(&app, 0).await.expect("redeployed");
    assert_eq!(
        redeployed.state_machines[0].2, 2,
        "a changed definition is a new revision"
    );
    let fast = engine
        .start_execution(&machine, Some("fast"), Some("{\"seconds\":0}"), Utc::now())
        .await
        .expect("started");

    let slow = engine.await_execution(&slow.arn).await.expect("ended");
    let fast = engine.await_execution(&fast.arn).await.expect("ended");
    assert_eq!(
        (slow.status, slow.output.as_deref()),
        (ExecutionStatus::Succeeded, Some("{\"result\":\"first\"}"))
    );
    assert_eq!(
        (fast.status, fast.output.as_deref()),
        (ExecutionStatus::Succeeded, Some("{\"result\":\"second\"}"))
    );

    write(&app, "flow.asl.json", "{\"StartAt\": \"Nowhere\", \"States\": {}}");
    let broken = engine
        .deploy_app(&app, 0)
        .await
        .expect_err("an invalid definition is refused");
    let message = broken.to_string();
    assert!(
        message.contains("flow.asl.json") && message.contains("/States"),
        "{message}"
    );
}

#[tokio::test]
async fn routes_name_functions_of_the_manifest_or_in_process() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let app = directory.path().join("app");
    std::fs::create_dir(&app).expect("the app folder");
    let store = SqliteStore::open(&directory.path().join("sluice.db")).expect("the store opens");
    let functions = Functions::default();
    functions.register(
        "like",
        sluice_engine::Function::in_process(|event| async move { Ok(event) }),
    );
    let engine = Engine::new(Arc::new(store), functions, Options::default());
    write(
        &app,
        "sluice.toml",
        "[app]\nname = \"demo\"\n\n[functions.echo]\ncommand = [\"/bin/cat\"]\n\n\
         [routes.\"POST /demo/likes\"]\nfunction = \"like\"\n\n[routes.\"ANY /demo/echo\"]\nfunction = \"echo\"\n",
    );
    let deployed = engine.deploy_app(&app, 0).await.expect("deployed");
    assert_eq!(
        deployed.routes,
        [
            ("ANY /demo/echo".to_owned(), "echo".to_owned()),
            ("POST /demo/likes".to_owned(), "like".to_owned())
        ]
    );
    assert_eq!(
        engine.routes().find("POST", "/demo/likes").map(|route| route.function),
        Some("like".to_owned())
    );
    assert_eq!(engine.routes().find("GET", "/demo/likes"), None);

    for (route, expected) in [
        (
            "[routes.\"POST /demo/other\"]\nfunction = \"nobody\"\n",
            "names \"nobody\"",
        ),
        (
            "[routes.\"FETCH /demo/other\"]\nfunction = \"like\"\n",
            "the method must be one of",
        ),
        ("[routes.\"POST /demo/other\"]\nfn = \"like\"\n", "unknown field"),
    ] {
        write(&app, "sluice.toml", &format!("[app]\nname = \"demo\"\n\n{route}"));
        let message = engine.deploy_app(&app, 0).await.expect_err("refused").to_string();
        assert!(message.contains(expected), "{message}");
        assert_eq!(
            engine.routes().find("POST", "/demo/other"),
            None,
            "nothing is registered"
        );
    }
}
