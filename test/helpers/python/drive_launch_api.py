"""Drives the wandb SDK's own launch calls (wandb.sdk.launch.api.LaunchApi) against
WANDB_BASE_URL and prints one JSON line per step: {"step": ..., "result": ...} or
{"step": ..., "error": "..."}. Used by test/integration/wandb_sdk.test.ts."""
import json
import sys


def step(name, fn):
    try:
        result = fn()
        print(json.dumps({"step": name, "result": result}, default=str), flush=True)
        return result
    except Exception as e:  # noqa: BLE001 - the test reads the error text
        print(json.dumps({"step": name, "error": f"{type(e).__name__}: {e}"}), flush=True)
        return None


def main():
    from wandb.sdk.launch.api import LaunchApi

    scenario = sys.argv[1]
    api = step("api", lambda: LaunchApi() and "ok")
    if api is None:
        return
    api = LaunchApi()
    if scenario == "bad-key":
        step("queues", lambda: api.get_project_run_queues("acme", "model-registry"))
        return
    spec = {
        "entity": "acme",
        "project": "vision",
        "job": "acme/vision/train:v1",
        "docker": {},
        "overrides": {"args": ["--lr", "0.1"], "run_config": {"lr": 0.1}},
    }
    step("push", lambda: api.push_to_run_queue("vertex-q", spec, {"gpus": 2}, "model-registry", priority=1))
    step("queues", lambda: api.get_project_run_queues("acme", "model-registry"))
    agent = step("agent", lambda: api.create_launch_agent("acme", "model-registry", ["vertex-q"], {"max_jobs": 1}, "wandb@0.30.0"))
    agent_id = (agent or {}).get("launchAgentId")
    step("heartbeat", lambda: api.update_launch_agent_status(agent_id, "POLLING"))
    step("get_agent", lambda: api.get_launch_agent(agent_id))
    step("is_team", lambda: api.entity_is_team("acme"))
    popped = step("pop", lambda: api.pop_from_run_queue("vertex-q", entity="acme", project="model-registry", agent_id=agent_id))
    item_id = (popped or {}).get("runQueueItemId")
    step("ack", lambda: api.ack_run_queue_item(item_id, "abc12345"))
    step("ack_again", lambda: api.ack_run_queue_item(item_id, "abc12345"))
    step("warn", lambda: api.update_run_queue_item_warning(item_id, "image is not in Artifact Registry", "agent", None))
    step("fail", lambda: api.fail_run_queue_item(item_id, "queue config rejected", "agent", ["error.log"]))
    step("pop_empty", lambda: api.pop_from_run_queue("vertex-q", entity="acme", project="model-registry", agent_id=agent_id))
    step("pop_missing_queue", lambda: api.pop_from_run_queue("nope", entity="acme", project="model-registry", agent_id=agent_id))


main()
