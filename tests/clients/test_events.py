"""Sluice's EventBridge API driven by boto3: buses, rules, targets, PutEvents delivered to a state
machine, input transformers, TestEventPattern, and the errors AWS answers with.

scripts/test runs this with SLUICE_BIN naming the built `sluice` binary; the server runs on a free
loopback port in a temporary data directory.
"""

import json
import os
import time
import unittest

import boto3
import botocore.exceptions
from botocore.config import Config

from test_stepfunctions import Server

ACCOUNT = "123456789012"
MACHINE_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:record"


def write_app(folder):
    """An app with a state machine `record` that ends with its input, and a rule routing
    `shop` orders to it from the manifest."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "sluice.toml"), "w") as manifest:
        manifest.write(
            '[app]\nname = "events"\n\n'
            '[state_machines.record]\ndefinition = "record.asl.json"\n\n'
            '[buses.shop]\n\n'
            '[rules.from-manifest]\nbus = "shop"\npattern = { source = ["shop"] }\n'
            'targets = [{ state_machine = "record", input_path = "$.detail" }]\n'
        )
    with open(os.path.join(folder, "record.asl.json"), "w") as definition:
        json.dump({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}, definition)


class EventsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import tempfile

        cls.app = tempfile.mkdtemp(prefix="sluice-events-app-")
        write_app(cls.app)
        cls.server = Server(apps=[cls.app])
        session = dict(
            endpoint_url=cls.server.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )
        cls.events = boto3.client("events", **session)
        cls.sfn = boto3.client("stepfunctions", **session)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def executions_with(self, predicate, timeout=15):
        """Waits for the executions of `record` whose input satisfies `predicate`."""
        deadline = time.time() + timeout
        while True:
            found = []
            for summary in self.sfn.list_executions(stateMachineArn=MACHINE_ARN)["executions"]:
                described = self.sfn.describe_execution(executionArn=summary["executionArn"])
                document = json.loads(described["input"])
                if predicate(document):
                    found.append(document)
            if found or time.time() > deadline:
                return found
            time.sleep(0.1)

    def test_an_event_matching_a_rule_starts_the_target_state_machine(self):
        arn = self.events.put_rule(
            Name="orders", EventPattern=json.dumps({"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}})
        )["RuleArn"]
        self.assertEqual(arn, f"arn:aws:events:us-east-1:{ACCOUNT}:rule/orders")
        answer = self.events.put_targets(Rule="orders", Targets=[{"Id": "record", "Arn": MACHINE_ARN}])
        self.assertEqual(answer["FailedEntryCount"], 0)
        answer = self.events.put_events(
            Entries=[
                {"Source": "shop", "DetailType": "OrderPlaced", "Detail": json.dumps({"order": "big", "total": 250}),
                 "Resources": ["arn:aws:shop:order/1"]},
                {"Source": "shop", "DetailType": "OrderPlaced", "Detail": json.dumps({"order": "small", "total": 5})},
            ]
        )
        self.assertEqual(answer["FailedEntryCount"], 0)
        event_id = answer["Entries"][0]["EventId"]
        found = self.executions_with(lambda document: document.get("detail", {}).get("order") in ("big", "small"))
        self.assertEqual(len(found), 1, found)
        event = found[0]
        self.assertEqual(event["id"], event_id)
        self.assertEqual(event["source"], "shop")
        self.assertEqual(event["detail-type"], "OrderPlaced")
        self.assertEqual(event["account"], ACCOUNT)
        self.assertEqual(event["region"], "us-east-1")
        self.assertEqual(event["version"], "0")
        self.assertEqual(event["resources"], ["arn:aws:shop:order/1"])
        self.assertEqual(event["detail"], {"order": "big", "total": 250})
        self.assertRegex(event["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.events.remove_targets(Rule="orders", Ids=["record"])
        self.events.delete_rule(Name="orders")

    def test_input_transformer_and_disabled_rules(self):
        self.events.put_rule(Name="transformed", EventPattern=json.dumps({"source": ["transform-test"]}))
        self.events.put_targets(
            Rule="transformed",
            Targets=[{
                "Id": "t",
                "Arn": MACHINE_ARN,
                "InputTransformer": {
                    "InputPathsMap": {"who": "$.detail.who"},
                    "InputTemplate": '{"greeting": "hello <who>", "rule": <aws.events.rule-name>, "kind": "transformed"}',
                },
            }],
        )
        self.events.disable_rule(Name="transformed")
        self.assertEqual(self.events.describe_rule(Name="transformed")["State"], "DISABLED")
        self.events.put_events(Entries=[{"Source": "transform-test", "DetailType": "x", "Detail": '{"who": "disabled"}'}])
        self.events.enable_rule(Name="transformed")
        self.events.put_events(Entries=[{"Source": "transform-test", "DetailType": "x", "Detail": '{"who": "world"}'}])
        found = self.executions_with(lambda document: document.get("kind") == "transformed")
        self.assertEqual(found, [{"greeting": "hello world", "rule": "transformed", "kind": "transformed"}])

    def test_rules_from_the_manifest_on_a_custom_bus(self):
        buses = [bus["Name"] for bus in self.events.list_event_buses()["EventBuses"]]
        self.assertEqual(buses, ["default", "shop"])
        targets = self.events.list_targets_by_rule(Rule="from-manifest", EventBusName="shop")["Targets"]
        self.assertEqual(targets, [{"Id": "record", "Arn": MACHINE_ARN, "InputPath": "$.detail"}])
        self.events.put_events(Entries=[{"Source": "shop", "DetailType": "x", "Detail": '{"via": "manifest"}', "EventBusName": "shop"}])
        found = self.executions_with(lambda document: document.get("via") == "manifest")
        self.assertEqual(found, [{"via": "manifest"}])

    def test_buses_and_rule_listing(self):
        arn = self.events.create_event_bus(Name="billing")["EventBusArn"]
        self.assertEqual(arn, f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/billing")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.events.create_event_bus(Name="billing")
        self.assertEqual(caught.exception.response["Error"]["Code"], "ResourceAlreadyExistsException")
        self.assertEqual(self.events.describe_event_bus(Name="billing")["Arn"], arn)
        for index in range(5):
            self.events.put_rule(Name=f"page-{index}", EventBusName="billing", EventPattern='{"source": ["b"]}')
        first = self.events.list_rules(EventBusName="billing", NamePrefix="page-", Limit=3)
        self.assertEqual([rule["Name"] for rule in first["Rules"]], ["page-0", "page-1", "page-2"])
        second = self.events.list_rules(EventBusName="billing", NamePrefix="page-", Limit=3, NextToken=first["NextToken"])
        self.assertEqual([rule["Name"] for rule in second["Rules"]], ["page-3", "page-4"])
        self.assertNotIn("NextToken", second)
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.events.delete_event_bus(Name="billing")
        self.assertEqual(caught.exception.response["Error"]["Code"], "ValidationException")
        for index in range(5):
            self.events.delete_rule(Name=f"page-{index}", EventBusName="billing")
        self.events.delete_event_bus(Name="billing")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.events.describe_event_bus(Name="billing")
        self.assertEqual(caught.exception.response["Error"]["Code"], "ResourceNotFoundException")

    def test_test_event_pattern(self):
        event = {"id": "1", "account": ACCOUNT, "source": "aws.ec2", "time": "2026-01-01T00:00:00Z",
                 "region": "us-east-1", "detail-type": "x", "resources": [], "detail": {"state": "running"}}
        matches = self.events.test_event_pattern(
            EventPattern=json.dumps({"detail": {"state": [{"prefix": "run"}]}}), Event=json.dumps(event))
        self.assertTrue(matches["Result"])
        matches = self.events.test_event_pattern(EventPattern='{"source": ["aws.s3"]}', Event=json.dumps(event))
        self.assertFalse(matches["Result"])

    def test_errors(self):
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.events.put_rule(Name="bad", EventPattern='{"detail": {"state": [{"prefix": 5}]}}')
        error = caught.exception.response["Error"]
        self.assertEqual(error["Code"], "InvalidEventPatternException")
        self.assertIn("/detail/state/0/prefix", error["Message"])
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.events.put_rule(Name="bad", ScheduleExpression="rate(1 minutes)")
        self.assertEqual(caught.exception.response["Error"]["Code"], "ValidationException")
        self.assertIn("ScheduleExpression", caught.exception.response["Error"]["Message"])
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.events.describe_rule(Name="missing")
        self.assertEqual(caught.exception.response["Error"]["Code"], "ResourceNotFoundException")
        answer = self.events.put_events(Entries=[
            {"Source": "s", "DetailType": "x", "Detail": "[1]"},
            {"DetailType": "x", "Detail": "{}"},
            {"Source": "s", "DetailType": "x", "Detail": "{}"},
        ])
        self.assertEqual(answer["FailedEntryCount"], 2)
        self.assertEqual(answer["Entries"][0]["ErrorCode"], "MalformedDetail")
        self.assertEqual(answer["Entries"][1]["ErrorCode"], "InvalidArgument")
        self.assertIn("EventId", answer["Entries"][2])
        self.events.put_rule(Name="guarded", ScheduleExpression="cron(0 12 * * ? *)")
        answer = self.events.put_targets(Rule="guarded", Targets=[
            {"Id": "ok", "Arn": MACHINE_ARN},
            {"Id": "nowhere", "Arn": "arn:aws:sns:us-east-1:123456789012:topic"},
        ])
        self.assertEqual(answer["FailedEntryCount"], 1)
        self.assertEqual(answer["FailedEntries"][0]["TargetId"], "nowhere")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.events.delete_rule(Name="guarded")
        self.assertEqual(caught.exception.response["Error"]["Code"], "ValidationException")
        answer = self.events.remove_targets(Rule="guarded", Ids=["ok", "never"])
        self.assertEqual(answer["FailedEntryCount"], 1)
        self.events.delete_rule(Name="guarded")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.events.put_events(Entries=[{"Source": "s", "DetailType": "x", "Detail": "{}"}] * 11)
        self.assertEqual(caught.exception.response["Error"]["Code"], "ValidationException")


if __name__ == "__main__":
    unittest.main()
