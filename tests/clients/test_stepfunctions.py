"""Sluice's Step Functions API driven by the real AWS clients: boto3 and the AWS CLI.

scripts/test runs this with the venv it makes, and with SLUICE_BIN and SLUICE_TESTBED_BIN naming
the built `sluice` and `sluice-testbed` binaries. Each test class starts its own server on a free
loopback port, in a temporary data directory, and stops it.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

import boto3
import botocore.exceptions
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

SLUICE = os.environ["SLUICE_BIN"]
TESTBED = os.environ["SLUICE_TESTBED_BIN"]
AWS = os.path.join(os.path.dirname(sys.executable), "aws")
ROLE = "arn:aws:iam::123456789012:role/test"


class Server:
    """`sluice serve` on 127.0.0.1:0 with the app folders given, until stopped."""

    def __init__(self, apps=()):
        self.folder = tempfile.mkdtemp(prefix="sluice-clients-")
        self.log_path = os.path.join(self.folder, "server.log")
        command = [SLUICE, "serve", "--data", os.path.join(self.folder, "data"), "--listen", "127.0.0.1:0"]
        for app in apps:
            command += ["--app", app]
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.log, env={**os.environ, "SLUICE_LOG": "info"})
        deadline = time.time() + 30
        while True:
            with open(self.log_path) as log:
                match = re.search(r"address=(127\.0\.0\.1:\d+)", log.read())
            if match:
                self.endpoint = "http://" + match.group(1)
                return
            if self.process.poll() is not None or time.time() > deadline:
                self.process.kill()
                self.process.wait()
                raise RuntimeError("the server did not start:\n" + open(self.log_path).read())
            time.sleep(0.02)

    def client(self):
        return boto3.client(
            "stepfunctions",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            # StartSyncExecution and TestState carry the host prefix `sync-`, which 127.0.0.1 can't take.
            config=Config(inject_host_prefix=False, retries={"max_attempts": 1}),
        )

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def write_app(folder):
    """An app with a command function `triple` and two state machines."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "sluice.toml"), "w") as manifest:
        manifest.write(
            '[app]\nname = "clients"\n\n'
            f'[functions.triple]\ncommand = [{json.dumps(TESTBED)}, "function", "triple"]\n\n'
            '[state_machines.triple]\ndefinition = "triple.asl.json"\n\n'
            '[state_machines.callback]\ndefinition = "callback.asl.json"\n'
        )
    with open(os.path.join(folder, "triple.asl.json"), "w") as definition:
        json.dump(
            {
                "StartAt": "Triple",
                "States": {
                    "Triple": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                               "Parameters": {"FunctionName": "triple", "Payload.$": "$"},
                               "OutputPath": "$.Payload", "End": True},
                },
            },
            definition,
        )
    with open(os.path.join(folder, "callback.asl.json"), "w") as definition:
        json.dump(
            {
                "StartAt": "Ask",
                "States": {
                    "Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                            "Parameters": {"FunctionName": "triple", "Payload": {"n": 1, "token.$": "$$.Task.Token"}},
                            "End": True},
                },
            },
            definition,
        )


def wait_for_end(client, arn, timeout=30):
    deadline = time.time() + timeout
    while True:
        described = client.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        if time.time() > deadline:
            raise AssertionError(f"{arn} still running after {timeout} s")
        time.sleep(0.05)


PASS_WAIT = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": 1}, "ResultPath": "$.p", "Next": "W"},
                                        "W": {"Type": "Wait", "Seconds": 0, "End": True}}}


class Boto3(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = tempfile.mkdtemp(prefix="sluice-app-")
        write_app(cls.app)
        cls.server = Server(apps=[cls.app])
        cls.sfn = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.app, ignore_errors=True)

    def create(self, definition=PASS_WAIT, kind="STANDARD"):
        name = "m-" + uuid.uuid4().hex[:12]
        return self.sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE, type=kind)["stateMachineArn"]

    def test_state_machines_are_created_described_listed_updated_and_deleted(self):
        arn = self.create()
        described = self.sfn.describe_state_machine(stateMachineArn=arn)
        self.assertEqual(json.loads(described["definition"]), PASS_WAIT)
        self.assertEqual(described["type"], "STANDARD")
        self.assertIn(arn, [machine["stateMachineArn"] for machine in self.sfn.list_state_machines()["stateMachines"]])
        changed = {**PASS_WAIT, "Comment": "changed"}
        self.sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(changed))
        self.assertEqual(json.loads(self.sfn.describe_state_machine(stateMachineArn=arn)["definition"]), changed)
        self.sfn.delete_state_machine(stateMachineArn=arn)
        with self.assertRaises(self.sfn.exceptions.StateMachineDoesNotExist):
            self.sfn.describe_state_machine(stateMachineArn=arn)

    def test_an_invalid_definition_names_the_problem(self):
        broken = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}
        with self.assertRaises(self.sfn.exceptions.InvalidDefinition) as raised:
            self.sfn.create_state_machine(name="broken", definition=json.dumps(broken), roleArn=ROLE)
        self.assertIn("Nowhere", str(raised.exception))
        validated = self.sfn.validate_state_machine_definition(definition=json.dumps(broken))
        self.assertEqual(validated["result"], "FAIL")

    def test_an_execution_runs_and_its_history_pages_both_ways(self):
        arn = self.create()
        started = self.sfn.start_execution(stateMachineArn=arn, name="one", input='{"x": 1}')
        ended = wait_for_end(self.sfn, started["executionArn"])
        self.assertEqual(ended["status"], "SUCCEEDED")
        self.assertEqual(json.loads(ended["output"]), {"x": 1, "p": {"a": 1}})
        events = self.sfn.get_execution_history(executionArn=started["executionArn"])["events"]
        self.assertEqual([event["type"] for event in events], [
            "ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"])
        self.assertEqual([event["id"] for event in events], [1, 2, 3, 4, 5, 6])
        pages, token = [], None
        while True:
            arguments = {"executionArn": started["executionArn"], "maxResults": 2, "reverseOrder": True}
            if token:
                arguments["nextToken"] = token
            page = self.sfn.get_execution_history(**arguments)
            pages.append([event["id"] for event in page["events"]])
            token = page.get("nextToken")
            if not token:
                break
        self.assertEqual(pages, [[6, 5], [4, 3], [2, 1]])
        paginator = self.sfn.get_paginator("get_execution_history")
        self.assertEqual(sum(len(page["events"]) for page in paginator.paginate(executionArn=started["executionArn"], maxResults=4)), 6)

    def test_starting_is_idempotent_by_name_while_running(self):
        arn = self.create({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}})
        first = self.sfn.start_execution(stateMachineArn=arn, name="same", input="{}")
        again = self.sfn.start_execution(stateMachineArn=arn, name="same", input="{}")
        self.assertEqual(first, {**again, "ResponseMetadata": first["ResponseMetadata"]})
        with self.assertRaises(self.sfn.exceptions.ExecutionAlreadyExists):
            self.sfn.start_execution(stateMachineArn=arn, name="same", input='{"other": true}')
        # Once the execution has ended, its name is taken even with the same input (as on AWS).
        self.sfn.stop_execution(executionArn=first["executionArn"])
        with self.assertRaises(self.sfn.exceptions.ExecutionAlreadyExists):
            self.sfn.start_execution(stateMachineArn=arn, name="same", input="{}")

    def test_executions_are_listed_newest_first_with_a_filter_and_pages(self):
        arn = self.create()
        for index in range(5):
            wait_for_end(self.sfn, self.sfn.start_execution(stateMachineArn=arn, name=f"e{index}")["executionArn"])
        paginator = self.sfn.get_paginator("list_executions")
        names = [execution["name"] for page in paginator.paginate(stateMachineArn=arn, statusFilter="SUCCEEDED", maxResults=2) for execution in page["executions"]]
        self.assertEqual(names, ["e4", "e3", "e2", "e1", "e0"])
        self.assertEqual(self.sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"], [])

    def test_a_lambda_invoke_task_calls_the_command_function(self):
        arn = self.server.client().describe_state_machine(
            stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:triple")["stateMachineArn"]
        started = self.sfn.start_execution(stateMachineArn=arn, input='{"n": 7}')
        ended = wait_for_end(self.sfn, started["executionArn"])
        self.assertEqual(json.loads(ended["output"]), {"n": 21})
        failed = wait_for_end(self.sfn, self.sfn.start_execution(stateMachineArn=arn, input='{"n": "x"}')["executionArn"])
        self.assertEqual(failed["status"], "FAILED")
        self.assertEqual(failed["error"], "InvalidInput")

    def test_a_task_token_resumes_the_execution(self):
        arn = "arn:aws:states:us-east-1:123456789012:stateMachine:callback"
        started = self.sfn.start_execution(stateMachineArn=arn, input="{}")
        token, deadline = None, time.time() + 30
        while token is None and time.time() < deadline:
            for event in self.sfn.get_execution_history(executionArn=started["executionArn"])["events"]:
                if event["type"] == "TaskScheduled":
                    token = json.loads(event["taskScheduledEventDetails"]["parameters"])["Payload"]["token"]
            time.sleep(0.05)
        self.assertIsNotNone(token)
        self.sfn.send_task_heartbeat(taskToken=token)
        self.sfn.send_task_success(taskToken=token, output='{"answer": 42}')
        ended = wait_for_end(self.sfn, started["executionArn"])
        self.assertEqual(json.loads(ended["output"]), {"answer": 42})
        # A used token: AWS answers TaskTimedOut, "Provided task does not exist anymore".
        with self.assertRaises(self.sfn.exceptions.TaskTimedOut):
            self.sfn.send_task_success(taskToken=token, output="{}")
        with self.assertRaises(self.sfn.exceptions.InvalidToken):
            self.sfn.send_task_failure(taskToken="not-a-token", error="E")

    def test_stop_aborts_a_running_execution(self):
        arn = self.create({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}})
        started = self.sfn.start_execution(stateMachineArn=arn)
        self.sfn.stop_execution(executionArn=started["executionArn"], error="Stopped.ByTest", cause="because")
        ended = self.sfn.describe_execution(executionArn=started["executionArn"])
        self.assertEqual((ended["status"], ended["error"], ended["cause"]), ("ABORTED", "Stopped.ByTest", "because"))
        self.assertEqual(self.sfn.get_execution_history(executionArn=started["executionArn"], reverseOrder=True)["events"][0]["type"], "ExecutionAborted")

    def test_express_executions_run_synchronously(self):
        arn = self.create(PASS_WAIT, kind="EXPRESS")
        answer = self.sfn.start_sync_execution(stateMachineArn=arn, input='{"y": 2}')
        self.assertEqual(answer["status"], "SUCCEEDED")
        self.assertEqual(json.loads(answer["output"]), {"y": 2, "p": {"a": 1}})

    def test_test_state_runs_one_state(self):
        answer = self.sfn.test_state(definition=json.dumps({"Type": "Pass", "Parameters": {"b.$": "$.a"}, "End": True}), roleArn=ROLE, input='{"a": 3}')
        self.assertEqual(answer["status"], "SUCCEEDED")
        self.assertEqual(json.loads(answer["output"]), {"b": 3})

    def test_errors_carry_aws_codes(self):
        missing = "arn:aws:states:us-east-1:123456789012:stateMachine:missing"
        with self.assertRaises(self.sfn.exceptions.StateMachineDoesNotExist):
            self.sfn.start_execution(stateMachineArn=missing)
        with self.assertRaises(self.sfn.exceptions.ExecutionDoesNotExist):
            self.sfn.describe_execution(executionArn="arn:aws:states:us-east-1:123456789012:execution:missing:x")
        with self.assertRaises(self.sfn.exceptions.InvalidArn):
            self.sfn.describe_execution(executionArn="not-an-arn")
        arn = self.create()
        with self.assertRaises(self.sfn.exceptions.InvalidExecutionInput):
            self.sfn.start_execution(stateMachineArn=arn, input="{not json")
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            self.sfn.start_execution(stateMachineArn=arn, name="big", input=json.dumps({"x": "a" * 300_000}))
        self.assertEqual(raised.exception.response["Error"]["Code"], "ValidationException")
        self.assertEqual(self.sfn.list_executions(stateMachineArn=arn)["executions"], [])

    def test_a_malformed_request_is_refused_and_changes_nothing(self):
        arn = self.create()
        for body, code in [(b'{"stateMachineArn": ', "SerializationException"),
                           (b'["not", "an", "object"]', "SerializationException"),
                           (json.dumps({"stateMachineArn": arn, "input": 5}).encode(), "SerializationException"),
                           (json.dumps({"input": "{}"}).encode(), "ValidationException")]:
            request = AWSRequest(method="POST", url=self.server.endpoint + "/", data=body, headers={
                "X-Amz-Target": "AWSStepFunctions.StartExecution", "Content-Type": "application/x-amz-json-1.0"})
            SigV4Auth(Credentials("test", "test"), "states", "us-east-1").add_auth(request)
            prepared = request.prepare()
            with self.assertRaises(urllib.error.HTTPError) as raised:
                urllib.request.urlopen(urllib.request.Request(prepared.url, data=body, headers=dict(prepared.headers), method="POST"))
            answer = json.loads(raised.exception.read())
            self.assertEqual((raised.exception.code, answer["__type"].split("#")[-1]), (400, code), answer)
            self.assertTrue(answer["message"], answer)
        self.assertEqual(self.sfn.list_executions(stateMachineArn=arn)["executions"], [])

    def test_a_wrong_secret_is_refused(self):
        wrong = boto3.client("stepfunctions", endpoint_url=self.server.endpoint, region_name="us-east-1",
                             aws_access_key_id="test", aws_secret_access_key="wrong",
                             config=Config(retries={"max_attempts": 1}))
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            wrong.list_state_machines()
        self.assertEqual(raised.exception.response["Error"]["Code"], "InvalidSignatureException")
        unknown = boto3.client("stepfunctions", endpoint_url=self.server.endpoint, region_name="us-east-1",
                               aws_access_key_id="nobody", aws_secret_access_key="test",
                               config=Config(retries={"max_attempts": 1}))
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            unknown.list_state_machines()
        self.assertEqual(raised.exception.response["Error"]["Code"], "UnrecognizedClientException")


class AwsCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def aws(self, *arguments, check=True):
        environment = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
        run = subprocess.run([AWS, "--endpoint-url", self.server.endpoint, "--output", "json", "stepfunctions", *arguments],
                             capture_output=True, text=True, env=environment, timeout=60)
        if check and run.returncode != 0:
            raise AssertionError(f"aws {' '.join(arguments)} failed ({run.returncode}):\n{run.stderr}")
        return run

    def test_the_cli_creates_runs_and_reads_an_execution(self):
        created = json.loads(self.aws("create-state-machine", "--name", "cli", "--role-arn", ROLE,
                                      "--definition", json.dumps(PASS_WAIT)).stdout)
        started = json.loads(self.aws("start-execution", "--state-machine-arn", created["stateMachineArn"],
                                      "--name", "first", "--input", '{"z": 0}').stdout)
        deadline = time.time() + 30
        while True:
            described = json.loads(self.aws("describe-execution", "--execution-arn", started["executionArn"]).stdout)
            if described["status"] != "RUNNING" or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(described["status"], "SUCCEEDED")
        self.assertEqual(json.loads(described["output"]), {"z": 0, "p": {"a": 1}})
        history = json.loads(self.aws("get-execution-history", "--execution-arn", started["executionArn"]).stdout)
        self.assertEqual(history["events"][-1]["type"], "ExecutionSucceeded")
        listed = json.loads(self.aws("list-executions", "--state-machine-arn", created["stateMachineArn"]).stdout)
        self.assertEqual([execution["name"] for execution in listed["executions"]], ["first"])

    def test_the_cli_shows_aws_error_codes(self):
        run = self.aws("describe-state-machine", "--state-machine-arn",
                       "arn:aws:states:us-east-1:123456789012:stateMachine:nothing", check=False)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("StateMachineDoesNotExist", run.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
