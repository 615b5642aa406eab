"""Services wired to each other, driven by boto3: an event source mapping feeding a function from
a queue, one PutEvents fanned out by rules to a queue, a FIFO queue, a function and a state machine,
and (later in this file) bucket notifications to queues and the event bus.

scripts/test runs this with SLUICE_BIN and SLUICE_TESTBED_BIN naming the built binaries; the
function targets are the testbed's `append` command function, which appends each event it is
handed to a file the test reads.
"""

import json
import os
import tempfile
import time
import unittest

import boto3
import botocore.exceptions
from botocore.config import Config

from test_stepfunctions import TESTBED, Server

ACCOUNT = "123456789012"
PREFIX = f"arn:aws:sqs:us-east-1:{ACCOUNT}"
MACHINE_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:record"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:append"


def write_app(folder, record_file):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "sluice.toml"), "w") as manifest:
        manifest.write(
            '[app]\nname = "wiring"\n\n'
            f'[functions.append]\ncommand = [{json.dumps(TESTBED)}, "function", "append"]\n'
            f'env = {{ SLUICE_TESTBED_RECORD = {json.dumps(record_file)} }}\n\n'
            '[state_machines.record]\ndefinition = "record.asl.json"\n\n'
            '[queues.fanout]\n\n'
            '[queues.fanout-objects]\n\n'
            '[queues."fanout.fifo"]\n\n'
            '[queues.jobs]\nVisibilityTimeout = 5\n\n'
            '[event_source_mappings.jobs]\nqueue = "jobs"\nfunction = "append"\n'
            'batch_size = 50\nmaximum_batching_window_seconds = 5\n'
        )
    with open(os.path.join(folder, "record.asl.json"), "w") as definition:
        json.dump({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}, definition)


class WiringTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.app = tempfile.mkdtemp(prefix="sluice-wiring-app-")
        cls.record_file = os.path.join(cls.app, "records.jsonl")
        write_app(cls.app, cls.record_file)
        cls.server = Server(apps=[cls.app])
        session = dict(
            endpoint_url=cls.server.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )
        cls.events = boto3.client("events", **session)
        cls.sqs = boto3.client("sqs", **session)
        cls.sfn = boto3.client("stepfunctions", **session)
        cls.s3 = boto3.client("s3", **session)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def recorded(self, predicate, timeout=15):
        """The events the `append` function was handed that satisfy `predicate`, waiting for one."""
        deadline = time.time() + timeout
        while True:
            found = []
            if os.path.exists(self.record_file):
                with open(self.record_file) as lines:
                    for line in lines:
                        try:
                            event = json.loads(line)
                        except ValueError:
                            continue
                        if predicate(event):
                            found.append(event)
            if found or time.time() > deadline:
                return found
            time.sleep(0.1)

    def receive(self, url, count=1, timeout=15):
        deadline = time.time() + timeout
        messages = []
        while len(messages) < count and time.time() < deadline:
            answer = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
            )
            messages += answer.get("Messages", [])
        return messages

    def test_a_mapping_feeds_queue_messages_to_a_function_in_lambdas_shape(self):
        url = self.sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
        for start in range(0, 30, 10):
            entries = [{"Id": f"m{index}", "MessageBody": f"job {index}"} for index in range(start, start + 10)]
            self.assertEqual(self.sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed", []), [])
        wanted = {f"job {index}" for index in range(30)}

        def seen():
            events = self.recorded(lambda event: "Records" in event and event["Records"][0]["eventSource"] == "aws:sqs")
            return events, {record["body"] for event in events for record in event["Records"]}

        deadline = time.time() + 20
        events, bodies = seen()
        while not wanted <= bodies and time.time() < deadline:
            time.sleep(0.2)
            events, bodies = seen()
        self.assertLessEqual(wanted, bodies)
        record = events[0]["Records"][0]
        self.assertEqual(record["eventSourceARN"], f"{PREFIX}:jobs")
        self.assertEqual(record["awsRegion"], "us-east-1")
        self.assertEqual(record["attributes"]["ApproximateReceiveCount"], "1")
        self.assertIn("SentTimestamp", record["attributes"])
        self.assertIn("receiptHandle", record)
        self.assertIn("md5OfBody", record)
        # The batching window gathered more than one receive's ten messages into one event (the
        # window is 5 s so that the three sends land in it even on a loaded machine; with 1 s a
        # slow send left each event at ten).
        self.assertGreater(max(len(event["Records"]) for event in events), 10)
        # Processed messages are deleted.
        deadline = time.time() + 10
        while time.time() < deadline:
            attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            if attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] == "0":
                break
            time.sleep(0.2)
        self.assertEqual(attributes["ApproximateNumberOfMessagesNotVisible"], "0")

    def test_a_fifo_queue_target_needs_a_message_group(self):
        self.events.put_rule(Name="fifo-check", EventPattern=json.dumps({"source": ["nobody"]}))
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            self.events.put_targets(Rule="fifo-check", Targets=[{"Id": "q", "Arn": f"{PREFIX}:fanout.fifo"}])
        error = raised.exception.response["Error"]
        self.assertEqual(error["Code"], "ValidationException")
        self.assertEqual(error["Message"], "Parameter(s) SqsParameters must be specified for target: q.")
        self.assertEqual(self.events.list_targets_by_rule(Rule="fifo-check")["Targets"], [])

    def test_one_event_fans_out_to_a_queue_a_function_and_a_state_machine(self):
        self.events.put_rule(Name="fan", EventPattern=json.dumps({"source": ["fan"]}))
        answer = self.events.put_targets(
            Rule="fan",
            Targets=[
                {"Id": "queue", "Arn": f"{PREFIX}:fanout"},
                {"Id": "fifo", "Arn": f"{PREFIX}:fanout.fifo", "SqsParameters": {"MessageGroupId": "orders"}},
                {"Id": "function", "Arn": FUNCTION_ARN},
                {"Id": "machine", "Arn": MACHINE_ARN},
            ],
        )
        self.assertEqual(answer["FailedEntryCount"], 0, answer)
        targets = self.events.list_targets_by_rule(Rule="fan")["Targets"]
        fifo = next(target for target in targets if target["Id"] == "fifo")
        self.assertEqual(fifo["SqsParameters"], {"MessageGroupId": "orders"})
        put = self.events.put_events(
            Entries=[{"Source": "fan", "DetailType": "order placed", "Detail": json.dumps({"order": 7})}]
        )
        self.assertEqual(put["FailedEntryCount"], 0, put)
        event_id = put["Entries"][0]["EventId"]

        standard = self.receive(self.sqs.get_queue_url(QueueName="fanout")["QueueUrl"])
        self.assertEqual(len(standard), 1)
        event = json.loads(standard[0]["Body"])
        self.assertEqual((event["id"], event["source"], event["detail-type"]), (event_id, "fan", "order placed"))
        self.assertEqual(event["detail"], {"order": 7})

        ordered = self.receive(self.sqs.get_queue_url(QueueName="fanout.fifo")["QueueUrl"])
        self.assertEqual(len(ordered), 1)
        self.assertEqual(json.loads(ordered[0]["Body"])["id"], event_id)
        self.assertEqual(ordered[0]["Attributes"]["MessageGroupId"], "orders")
        self.assertIn("MessageDeduplicationId", ordered[0]["Attributes"])

        handed = self.recorded(lambda event: event.get("id") == event_id)
        self.assertEqual(len(handed), 1)
        self.assertEqual(handed[0]["detail"], {"order": 7})

        deadline = time.time() + 15
        inputs = []
        while not inputs and time.time() < deadline:
            for summary in self.sfn.list_executions(stateMachineArn=MACHINE_ARN)["executions"]:
                described = self.sfn.describe_execution(executionArn=summary["executionArn"])
                if json.loads(described["input"]).get("id") == event_id:
                    inputs.append(described)
            time.sleep(0.1)
        self.assertEqual(len(inputs), 1)

    def test_object_events_go_to_a_queue_in_s3s_shape(self):
        self.s3.create_bucket(Bucket="wired")
        self.s3.put_bucket_notification_configuration(
            Bucket="wired",
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "Id": "to-queue",
                        "QueueArn": f"{PREFIX}:fanout-objects",
                        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}},
                    }
                ]
            },
        )
        configuration = self.s3.get_bucket_notification_configuration(Bucket="wired")
        self.assertEqual(configuration["QueueConfigurations"][0]["QueueArn"], f"{PREFIX}:fanout-objects")
        self.s3.put_object(Bucket="wired", Key="in/a.txt", Body=b"hello")
        self.s3.put_object(Bucket="wired", Key="out/b.txt", Body=b"ignored")
        self.s3.delete_object(Bucket="wired", Key="in/a.txt")
        url = self.sqs.get_queue_url(QueueName="fanout-objects")["QueueUrl"]
        messages = self.receive(url, count=2)
        records = [json.loads(message["Body"])["Records"][0] for message in messages]
        names = sorted(record["eventName"] for record in records)
        self.assertEqual(names, ["ObjectCreated:Put", "ObjectRemoved:Delete"])
        for record in records:
            self.assertEqual(record["eventSource"], "aws:s3")
            self.assertEqual(record["s3"]["bucket"]["name"], "wired")
            self.assertEqual(record["s3"]["object"]["key"], "in/a.txt")
            self.assertEqual(record["s3"]["configurationId"], "to-queue")

    def test_a_fifo_queue_is_no_destination_for_object_events(self):
        self.s3.create_bucket(Bucket="wired-fifo")
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            self.s3.put_bucket_notification_configuration(
                Bucket="wired-fifo",
                NotificationConfiguration={
                    "QueueConfigurations": [{"QueueArn": f"{PREFIX}:fanout.fifo", "Events": ["s3:ObjectCreated:*"]}]
                },
            )
        self.assertEqual(raised.exception.response["Error"]["Code"], "InvalidArgument")
        self.assertIn("FIFO", raised.exception.response["Error"]["Message"])


if __name__ == "__main__":
    unittest.main()
