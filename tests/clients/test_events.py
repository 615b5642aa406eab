"""Sluice's EventBridge API driven by boto3: buses, rules, targets, PutEvents delivered to a state
machine, input transformers, TestEventPattern, and the errors AWS answers with; EventBridge
Scheduler's schedules firing, log group targets read with the CloudWatch Logs API, the AWS CLI and
`sluice logs tail`, and a bus as the target of another bus's rule.

scripts/test runs this with SLUICE_BIN naming the built `sluice` binary; the server runs on a free
loopback port in a temporary data directory.
"""

import json
import os
import subprocess
import sys
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
            {"Id": "nowhere", "Arn": "arn:aws:kinesis:us-east-1:123456789012:stream/nowhere"},
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


SLUICE = os.environ["SLUICE_BIN"]
AWS = os.path.join(os.path.dirname(sys.executable), "aws")
LOG_GROUP_ARN = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/sluice/audit"


def write_scheduling_app(folder):
    """An app with a bus `orders` whose rule posts to a log group, a rule on the default bus
    forwarding `relay` events to the bus `orders`, and a one-time schedule (long past, so it fires
    at once) posting to the log group."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "sluice.toml"), "w") as manifest:
        manifest.write(
            '[app]\nname = "scheduling"\n\n'
            '[buses.orders]\n\n'
            '[rules.audit]\nbus = "orders"\npattern = { source = ["relay", "scheduler"] }\n'
            'targets = [{ log_group = "/sluice/audit" }]\n\n'
            '[rules.relay]\npattern = { source = ["relay"] }\n'
            'targets = [{ arn = "arn:aws:events:us-east-1:123456789012:event-bus/orders" }]\n\n'
            '[schedules.launch]\nexpression = "at(2020-01-01T09:00:00)"\ntimezone = "Europe/Berlin"\n'
            'target = { bus = "orders", detail_type = "Launch", source = "scheduler" }\n'
            'input = \'{"at": "<aws.scheduler.scheduled-time>"}\'\n'
        )


class SchedulesLogsAndBusTargetsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import tempfile

        cls.app = tempfile.mkdtemp(prefix="sluice-scheduling-app-")
        write_scheduling_app(cls.app)
        cls.server = Server(apps=[cls.app])
        session = dict(
            endpoint_url=cls.server.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )
        cls.events = boto3.client("events", **session)
        cls.scheduler = boto3.client("scheduler", **session)
        cls.logs = boto3.client("logs", **session)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def audit_messages(self, predicate, count=1, timeout=15):
        """Waits for `count` events of the log group `/sluice/audit` whose message (JSON)
        satisfies `predicate`."""
        deadline = time.time() + timeout
        while True:
            try:
                events = self.logs.filter_log_events(logGroupName="/sluice/audit")["events"]
            except botocore.exceptions.ClientError:
                events = []
            found = [json.loads(event["message"]) for event in events]
            found = [message for message in found if predicate(message)]
            if len(found) >= count or time.time() > deadline:
                return found
            time.sleep(0.1)

    def test_a_one_time_schedule_from_the_manifest_fires_once_through_a_bus_to_a_log_group(self):
        found = self.audit_messages(lambda message: message.get("source") == "scheduler")
        self.assertEqual(len(found), 1, found)
        event = found[0]
        self.assertEqual(event["detail-type"], "Launch")
        self.assertEqual(event["detail"], {"at": "2020-01-01T08:00:00Z"}, "09:00 in Berlin, in winter")
        self.assertEqual(event["resources"], [f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/launch"])
        schedule = self.scheduler.get_schedule(Name="launch")
        self.assertEqual(schedule["ScheduleExpressionTimezone"], "Europe/Berlin")
        self.assertEqual(schedule["ActionAfterCompletion"], "NONE")

    def test_archive_and_replay(self):
        bus_arn = f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"
        archive_arn = self.events.create_archive(
            ArchiveName="kept", EventSourceArn=bus_arn, EventPattern=json.dumps({"source": ["archived"]}),
            RetentionDays=7,
        )["ArchiveArn"]
        self.assertEqual(archive_arn, f"arn:aws:events:us-east-1:{ACCOUNT}:archive/kept")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.events.create_archive(ArchiveName="kept", EventSourceArn=bus_arn)
        self.assertEqual(caught.exception.response["Error"]["Code"], "ResourceAlreadyExistsException")
        self.events.put_rule(Name="replayed", EventPattern=json.dumps({"source": ["archived"]}))
        self.events.put_targets(Rule="replayed", Targets=[
            {"Id": "log", "Arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/sluice/replays"}])
        begin = time.time() - 5
        self.events.put_events(Entries=[
            {"Source": "archived", "DetailType": "x", "Detail": json.dumps({"n": n})} for n in (1, 2)
        ] + [{"Source": "not-archived", "DetailType": "x", "Detail": "{}"}])

        def logged(count):
            deadline = time.time() + 15
            while True:
                try:
                    events = self.logs.filter_log_events(logGroupName="/sluice/replays")["events"]
                except botocore.exceptions.ClientError:
                    events = []
                if len(events) >= count or time.time() > deadline:
                    return [json.loads(event["message"]) for event in events]
                time.sleep(0.1)

        self.assertEqual(len(logged(2)), 2)
        described = self.events.describe_archive(ArchiveName="kept")
        self.assertEqual((described["EventCount"], described["RetentionDays"], described["State"]), (2, 7, "ENABLED"))
        self.assertEqual([archive["ArchiveName"] for archive in self.events.list_archives()["Archives"]], ["kept"])

        started = self.events.start_replay(
            ReplayName="again", EventSourceArn=archive_arn, EventStartTime=begin, EventEndTime=time.time() + 5,
            Destination={"Arn": bus_arn, "FilterArns": [self.events.describe_rule(Name="replayed")["Arn"]]},
        )
        self.assertEqual(started["State"], "STARTING")
        deadline = time.time() + 15
        while self.events.describe_replay(ReplayName="again")["State"] != "COMPLETED" and time.time() < deadline:
            time.sleep(0.1)
        replay = self.events.describe_replay(ReplayName="again")
        self.assertEqual(replay["State"], "COMPLETED")
        self.assertEqual(replay["Destination"]["Arn"], bus_arn)
        messages = logged(4)
        replayed = sorted(message["detail"]["n"] for message in messages if message.get("replay-name") == "again")
        self.assertEqual(replayed, [1, 2])
        self.assertEqual(self.events.describe_archive(ArchiveName="kept")["EventCount"], 2,
                         "replayed events are not archived again")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.events.cancel_replay(ReplayName="again")
        self.assertEqual(caught.exception.response["Error"]["Code"], "IllegalStatusException")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.events.start_replay(
                ReplayName="cross", EventSourceArn=archive_arn, EventStartTime=begin, EventEndTime=time.time(),
                Destination={"Arn": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/orders"})
        self.assertEqual(caught.exception.response["Error"]["Code"], "ValidationException")
        self.assertEqual([item["ReplayName"] for item in self.events.list_replays(State="COMPLETED")["Replays"]], ["again"])
        self.events.delete_archive(ArchiveName="kept")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.events.describe_archive(ArchiveName="kept")
        self.assertEqual(caught.exception.response["Error"]["Code"], "ResourceNotFoundException")

    def test_schedules_through_the_scheduler_api(self):
        target = {"Arn": LOG_GROUP_ARN, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/scheduler",
                  "Input": '{"kind": "api", "at": "<aws.scheduler.scheduled-time>"}'}
        arn = self.scheduler.create_schedule(
            Name="soon", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"}, Target=target,
            Description="every minute",
        )["ScheduleArn"]
        self.assertEqual(arn, f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/soon")
        # A rate without a start date fires at once.
        found = self.audit_messages(lambda message: message.get("kind") == "api")
        self.assertEqual(len(found), 1, found)
        got = self.scheduler.get_schedule(Name="soon")
        self.assertEqual(got["ScheduleExpression"], "rate(1 minute)")
        self.assertEqual(got["State"], "ENABLED")
        self.assertEqual(got["Description"], "every minute")
        self.assertEqual(got["Target"]["Arn"], LOG_GROUP_ARN)
        self.assertEqual(got["GroupName"], "default")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.scheduler.create_schedule(
                Name="soon", ScheduleExpression="rate(1 minute)", FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
        self.assertEqual(caught.exception.response["Error"]["Code"], "ConflictException")
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 409)

        self.scheduler.update_schedule(
            Name="soon", ScheduleExpression="cron(0 9 ? * MON-FRI *)", ScheduleExpressionTimezone="America/New_York",
            FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}, Target=target, State="DISABLED",
        )
        got = self.scheduler.get_schedule(Name="soon")
        self.assertEqual(got["State"], "DISABLED")
        self.assertEqual(got["ScheduleExpressionTimezone"], "America/New_York")
        self.assertEqual(got["FlexibleTimeWindow"], {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15})
        self.assertNotIn("Description", got, "an update replaces the whole schedule")
        listed = self.scheduler.list_schedules(NamePrefix="soo")["Schedules"]
        self.assertEqual([(item["Name"], item["State"]) for item in listed], [("soon", "DISABLED")])
        self.assertEqual(self.scheduler.list_schedules(State="ENABLED", NamePrefix="soo")["Schedules"], [])
        self.scheduler.delete_schedule(Name="soon")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.scheduler.get_schedule(Name="soon")
        self.assertEqual(caught.exception.response["Error"]["Code"], "ResourceNotFoundException")

    def test_scheduler_errors(self):
        target = {"Arn": LOG_GROUP_ARN, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/scheduler"}
        cases = [
            (dict(ScheduleExpression="at(2026-12-01 10:00)"), "ValidationException", "at(yyyy-mm-ddThh:mm:ss)"),
            (dict(ScheduleExpression="rate(1 hour)", ScheduleExpressionTimezone="Mars/Base"), "ValidationException",
             "ScheduleExpressionTimezone"),
            (dict(ScheduleExpression="rate(1 hour)", GroupName="elsewhere"), "ResourceNotFoundException",
             "elsewhere"),
            (dict(ScheduleExpression="rate(1 hour)", ActionAfterCompletion="KEEP"), "ValidationException",
             "ActionAfterCompletion"),
        ]
        for extra, code, fragment in cases:
            with self.subTest(extra=extra):
                with self.assertRaises(botocore.exceptions.ClientError) as caught:
                    self.scheduler.create_schedule(Name="bad", FlexibleTimeWindow={"Mode": "OFF"}, Target=target, **extra)
                self.assertEqual(caught.exception.response["Error"]["Code"], code)
                self.assertIn(fragment, caught.exception.response["Error"]["Message"])
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.scheduler.delete_schedule(Name="never-created")
        self.assertEqual(caught.exception.response["Error"]["Code"], "ResourceNotFoundException")
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)

    def test_a_bus_forwards_to_another_bus_whose_rule_logs(self):
        answer = self.events.put_events(Entries=[{"Source": "relay", "DetailType": "Hop", "Detail": '{"hop": 1}'}])
        event_id = answer["Entries"][0]["EventId"]
        found = self.audit_messages(lambda message: message.get("source") == "relay")
        self.assertEqual(len(found), 1, found)
        self.assertEqual(found[0]["id"], event_id, "the event keeps its id on the other bus")
        self.assertEqual(found[0]["detail"], {"hop": 1})

    def test_the_logs_api_the_aws_cli_and_sluice_logs_tail(self):
        self.logs.create_log_group(logGroupName="/app/manual")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.logs.create_log_group(logGroupName="/app/manual")
        self.assertEqual(caught.exception.response["Error"]["Code"], "ResourceAlreadyExistsException")
        self.logs.create_log_stream(logGroupName="/app/manual", logStreamName="web")
        now = int(time.time() * 1000)
        put = self.logs.put_log_events(logGroupName="/app/manual", logStreamName="web", logEvents=[
            {"timestamp": now - 20 * 86_400_000, "message": "too old"},
            {"timestamp": now, "message": "ERROR disk full"},
            {"timestamp": now + 1, "message": "INFO recovered"},
        ])
        self.assertEqual(put["rejectedLogEventsInfo"], {"tooOldLogEventEndIndex": 0})
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.logs.put_log_events(logGroupName="/app/manual", logStreamName="web", logEvents=[
                {"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}])
        self.assertEqual(caught.exception.response["Error"]["Code"], "InvalidParameterException")
        got = self.logs.get_log_events(logGroupName="/app/manual", logStreamName="web", startFromHead=True)
        self.assertEqual([event["message"] for event in got["events"]], ["ERROR disk full", "INFO recovered"])
        again = self.logs.get_log_events(logGroupName="/app/manual", logStreamName="web",
                                         nextToken=got["nextForwardToken"])
        self.assertEqual(again["events"], [])
        self.assertEqual(again["nextForwardToken"], got["nextForwardToken"], "the end of the stream")
        filtered = self.logs.filter_log_events(logGroupName="/app/manual", filterPattern="ERROR")["events"]
        self.assertEqual([(event["logStreamName"], event["message"]) for event in filtered], [("web", "ERROR disk full")])
        groups = [group["logGroupName"] for group in self.logs.describe_log_groups(logGroupNamePrefix="/app/")["logGroups"]]
        self.assertEqual(groups, ["/app/manual"])
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.logs.get_log_events(logGroupName="/app/missing", logStreamName="web")
        self.assertEqual(caught.exception.response["Error"]["Code"], "ResourceNotFoundException")

        environment = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
        completed = subprocess.run(
            [AWS, "--endpoint-url", self.server.endpoint, "--region", "us-east-1", "--output", "json",
             "logs", "filter-log-events", "--log-group-name", "/app/manual", "--filter-pattern", "INFO"],
            capture_output=True, text=True, env=environment,
        )
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertEqual([event["message"] for event in json.loads(completed.stdout)["events"]], ["INFO recovered"])
        completed = subprocess.run(
            [SLUICE, "logs", "tail", "/app/manual", "--endpoint", self.server.endpoint],
            capture_output=True, text=True, env=environment,
        )
        self.assertEqual(completed.returncode, 0, completed.stderr)
        lines = completed.stdout.splitlines()
        self.assertEqual(len(lines), 2, lines)
        self.assertTrue(lines[0].endswith(" web ERROR disk full"), lines)
        self.assertTrue(lines[1].endswith(" web INFO recovered"), lines)


if __name__ == "__main__":
    unittest.main()
