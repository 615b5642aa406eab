"""Sluice's SNS API (the query protocol) driven by the real AWS clients: boto3 and the AWS CLI.

scripts/test runs this with the venv it makes and SLUICE_BIN naming the built `sluice` binary.
One server serves the whole class; each test makes its own topics and queues. Messages reach
queues through the server's delivery loop, so tests poll the queue until they arrive.
"""

import http.server
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request
import uuid

import boto3
import botocore.exceptions
from botocore.config import Config

from test_stepfunctions import AWS, Server

ACCOUNT = "123456789012"


class Hook(http.server.BaseHTTPRequestHandler):
    """An HTTP endpoint that records what SNS posts to it."""

    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        Hook.received.append({"headers": {key.lower(): value for key, value in self.headers.items()}, "body": body})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class Sns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="sluice-sns-app-")
        with open(os.path.join(cls.folder, "sluice.toml"), "w") as manifest:
            manifest.write(
                '[app]\nname = "topics"\n\n'
                '[state_machines.echo]\ndefinition = "echo.asl.json"\n\n'
                '[queues.declared-inbox]\n\n'
                '[topics.declared]\nattributes = { DisplayName = "Declared" }\n\n'
                '[[topics.declared.subscriptions]]\nprotocol = "sqs"\n'
                f'endpoint = "arn:aws:sqs:us-east-1:{ACCOUNT}:declared-inbox"\n'
                'attributes = { RawMessageDelivery = true, FilterPolicy = { kind = ["wanted"] } }\n\n'
                '[[topics.declared.subscriptions]]\nprotocol = "sluice-states"\n'
                f'endpoint = "arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:echo"\n'
            )
        with open(os.path.join(cls.folder, "echo.asl.json"), "w") as definition:
            json.dump({"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}, definition)
        cls.server = Server(apps=[cls.folder])
        config = Config(retries={"max_attempts": 1})
        client = lambda service: boto3.client(
            service,
            endpoint_url=cls.server.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=config,
        )
        cls.sns = client("sns")
        cls.sqs = client("sqs")
        cls.sfn = client("stepfunctions")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def topic(self, fifo=False, **attributes):
        name = f"t-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
        if fifo:
            attributes["FifoTopic"] = "true"
        return self.sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]

    def queue(self, fifo=False):
        name = f"q-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
        attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return url, f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"

    def receive(self, url, count, timeout=10):
        """Receives (and deletes) until `count` messages came, or the time is up."""
        messages = []
        deadline = time.time() + timeout
        while len(messages) < count and time.time() < deadline:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                           MessageAttributeNames=["All"]).get("Messages", [])
            for message in got:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            messages.extend(got)
        return messages

    def assert_error(self, code, call, *args, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            call(*args, **kwargs)
        self.assertEqual(raised.exception.response["Error"]["Code"], code, raised.exception.response)
        return raised.exception.response["Error"]["Message"]

    def test_topics_are_created_listed_changed_and_deleted(self):
        arn = self.topic(DisplayName="Orders")
        name = arn.rsplit(":", 1)[1]
        self.assertEqual(arn, f"arn:aws:sns:us-east-1:{ACCOUNT}:{name}")
        self.assertEqual(self.sns.create_topic(Name=name)["TopicArn"], arn)
        message = self.assert_error("InvalidParameter", self.sns.create_topic, Name=name,
                                    Attributes={"DisplayName": "Other"})
        self.assertIn("already exists with different attributes", message)
        self.assert_error("InvalidParameter", self.sns.create_topic, Name="no spaces")
        attributes = self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        self.assertEqual(attributes["DisplayName"], "Orders")
        self.assertEqual(attributes["Owner"], ACCOUNT)
        self.assertEqual(attributes["SubscriptionsConfirmed"], "0")
        self.sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Renamed")
        self.assertEqual(self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"], "Renamed")
        self.assert_error("InvalidParameter", self.sns.set_topic_attributes, TopicArn=arn,
                          AttributeName="Colour", AttributeValue="red")
        listed = [topic["TopicArn"] for page in self.sns.get_paginator("list_topics").paginate() for topic in page["Topics"]]
        self.assertIn(arn, listed)
        self.sns.delete_topic(TopicArn=arn)
        self.assertEqual(self.assert_error("NotFound", self.sns.get_topic_attributes, TopicArn=arn),
                         "Topic does not exist")
        self.assert_error("NotFound", self.sns.publish, TopicArn=arn, Message="x")

    def test_a_queue_gets_the_envelope_or_the_raw_message(self):
        arn = self.topic()
        wrapped_url, wrapped = self.queue()
        raw_url, raw = self.queue()
        subscription = self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=wrapped)["SubscriptionArn"]
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=raw, Attributes={"RawMessageDelivery": "true"})
        published = self.sns.publish(TopicArn=arn, Message="hello", Subject="Greeting", MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "book"},
            "count": {"DataType": "Number", "StringValue": "3"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        })
        [message] = self.receive(wrapped_url, 1)
        envelope = json.loads(message["Body"])
        self.assertEqual(envelope["Type"], "Notification")
        self.assertEqual(envelope["MessageId"], published["MessageId"])
        self.assertEqual((envelope["TopicArn"], envelope["Subject"], envelope["Message"]), (arn, "Greeting", "hello"))
        self.assertEqual(envelope["SignatureVersion"], "1")
        for field in ("Timestamp", "Signature", "SigningCertURL", "UnsubscribeURL"):
            self.assertTrue(envelope[field], field)
        self.assertRegex(envelope["Timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(envelope["MessageAttributes"]["kind"], {"Type": "String", "Value": "book"})
        self.assertEqual(envelope["MessageAttributes"]["count"], {"Type": "Number", "Value": "3"})
        self.assertEqual(envelope["MessageAttributes"]["blob"], {"Type": "Binary", "Value": "AAE="})
        [raw_message] = self.receive(raw_url, 1)
        self.assertEqual(raw_message["Body"], "hello")
        self.assertEqual(raw_message["MessageAttributes"]["kind"], {"DataType": "String", "StringValue": "book"})
        self.assertEqual(raw_message["MessageAttributes"]["blob"], {"DataType": "Binary", "BinaryValue": b"\x00\x01"})
        attributes = self.sns.get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]
        self.assertEqual((attributes["Protocol"], attributes["Endpoint"], attributes["TopicArn"]), ("sqs", wrapped, arn))
        self.assertEqual((attributes["RawMessageDelivery"], attributes["PendingConfirmation"]), ("false", "false"))
        self.sns.set_subscription_attributes(SubscriptionArn=subscription, AttributeName="RawMessageDelivery",
                                             AttributeValue="true")
        self.sns.publish(TopicArn=arn, Message="now raw")
        self.assertEqual([m["Body"] for m in self.receive(wrapped_url, 1)], ["now raw"])

    def test_subscriptions_are_listed_and_removed(self):
        arn = self.topic()
        _, queue = self.queue()
        subscription = self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue)["SubscriptionArn"]
        self.assertTrue(subscription.startswith(arn + ":"))
        again = self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue)["SubscriptionArn"]
        self.assertEqual(again, subscription, "Subscribe is idempotent")
        by_topic = self.sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        self.assertEqual(by_topic, [{"SubscriptionArn": subscription, "Owner": ACCOUNT, "Protocol": "sqs",
                                     "Endpoint": queue, "TopicArn": arn}])
        everything = [s["SubscriptionArn"] for page in self.sns.get_paginator("list_subscriptions").paginate()
                      for s in page["Subscriptions"]]
        self.assertIn(subscription, everything)
        self.assertEqual(self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsConfirmed"], "1")
        self.assert_error("InvalidParameter", self.sns.subscribe, TopicArn=arn, Protocol="sqs", Endpoint="not-an-arn")
        self.assert_error("InvalidParameter", self.sns.subscribe, TopicArn=arn, Protocol="smoke-signal", Endpoint="x")
        self.assert_error("InvalidParameter", self.sns.set_subscription_attributes, SubscriptionArn=subscription,
                          AttributeName="RawMessageDelivery", AttributeValue="maybe")
        self.sns.unsubscribe(SubscriptionArn=subscription)
        self.assertEqual(self.sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"], [])
        self.assert_error("NotFound", self.sns.get_subscription_attributes, SubscriptionArn=subscription)

    def test_filter_policies_on_attributes_and_on_the_body(self):
        arn = self.topic()
        books_url, books = self.queue()
        big_url, big = self.queue()
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=books, Attributes={
            "RawMessageDelivery": "true",
            "FilterPolicy": json.dumps({"kind": ["book", {"prefix": "comic"}], "price": [{"numeric": ["<", 20]}],
                                        "tags": ["sale"]}),
        })
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=big, Attributes={
            "RawMessageDelivery": "true", "FilterPolicyScope": "MessageBody",
            "FilterPolicy": json.dumps({"order": {"total": [{"numeric": [">=", 100]}], "country": [{"anything-but": "XX"}]}}),
        })

        def publish(body, kind, price):
            self.sns.publish(TopicArn=arn, Message=json.dumps(body), MessageAttributes={
                "kind": {"DataType": "String", "StringValue": kind},
                "price": {"DataType": "Number", "StringValue": str(price)},
                "tags": {"DataType": "String.Array", "StringValue": json.dumps(["new", "sale"])},
            })

        publish({"order": {"total": 5, "country": "FR"}}, "book", 10)
        publish({"order": {"total": 500, "country": "FR"}}, "comic-strip", 30)
        publish({"order": {"total": 500, "country": "XX"}}, "film", 5)
        self.assertEqual([json.loads(m["Body"])["order"]["total"] for m in self.receive(books_url, 1)], [5])
        self.assertEqual([json.loads(m["Body"])["order"]["country"] for m in self.receive(big_url, 1)], ["FR"])
        self.assertEqual(self.receive(books_url, 1, timeout=2) + self.receive(big_url, 1, timeout=1), [])
        message = self.assert_error("InvalidParameter", self.sns.subscribe, TopicArn=arn, Protocol="sqs",
                                    Endpoint=books, Attributes={"FilterPolicy": '{"kind": [{"prefix": 5}]}'})
        self.assertTrue(message.startswith("Invalid parameter: FilterPolicy: "), message)
        message = self.assert_error("InvalidParameter", self.sns.subscribe, TopicArn=arn, Protocol="sqs",
                                    Endpoint=books, Attributes={"FilterPolicy": '{"a": {"b": ["c"]}}'})
        self.assertIn("FilterPolicy", message)

    def test_publish_batch(self):
        arn = self.topic()
        url, queue = self.queue()
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"})
        answer = self.sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
            {"Id": "one", "Message": "first"},
            {"Id": "two", "Message": "second", "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
            {"Id": "bad", "Message": "x", "Subject": ""},
        ])
        self.assertEqual(sorted(entry["Id"] for entry in answer["Successful"]), ["one", "two"])
        self.assertEqual([(f["Id"], f["Code"], f["SenderFault"]) for f in answer["Failed"]],
                         [("bad", "InvalidParameter", True)])
        self.assertEqual(sorted(m["Body"] for m in self.receive(url, 2)), ["first", "second"])
        self.assert_error("BatchEntryIdsNotDistinct", self.sns.publish_batch, TopicArn=arn,
                          PublishBatchRequestEntries=[{"Id": "a", "Message": "x"}, {"Id": "a", "Message": "y"}])
        self.assert_error("TooManyEntriesInBatchRequest", self.sns.publish_batch, TopicArn=arn,
                          PublishBatchRequestEntries=[{"Id": f"e{i}", "Message": "x"} for i in range(11)])

    def test_what_cannot_be_delivered_goes_to_the_dead_letter_queue(self):
        arn = self.topic()
        dead_url, dead = self.queue()
        missing = f"arn:aws:sqs:us-east-1:{ACCOUNT}:never-created-{uuid.uuid4().hex[:8]}"
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=missing, Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead})})
        self.assert_error("InvalidParameter", self.sns.subscribe, TopicArn=arn, Protocol="sqs", Endpoint=dead,
                          Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": "nope"})})
        published = self.sns.publish(TopicArn=arn, Message="undeliverable")
        [message] = self.receive(dead_url, 1)
        envelope = json.loads(message["Body"])
        self.assertEqual((envelope["MessageId"], envelope["Message"]), (published["MessageId"], "undeliverable"))

    def test_fifo_topics_keep_each_group_in_order_and_deduplicate(self):
        arn = self.topic(fifo=True, ContentBasedDeduplication="true")
        url, queue = self.queue(fifo=True)
        _, standard = self.queue()
        self.assert_error("InvalidParameter", self.sns.subscribe, TopicArn=arn, Protocol="sqs", Endpoint=standard)
        self.sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"})
        self.assert_error("InvalidParameter", self.sns.publish, TopicArn=arn, Message="no group")
        numbers = []
        for index in range(20):
            answer = self.sns.publish(TopicArn=arn, Message=f"{index % 3}:{index}", MessageGroupId=f"g{index % 3}")
            numbers.append(int(answer["SequenceNumber"]))
        self.assertEqual(numbers, sorted(numbers))
        duplicate = self.sns.publish(TopicArn=arn, Message="0:0", MessageGroupId="g0")
        self.assertEqual(int(duplicate["SequenceNumber"]), numbers[0])
        bodies = [m["Body"] for m in self.receive(url, 20)]
        self.assertEqual(len(bodies), 20, "the duplicate is not delivered")
        for group in range(3):
            order = [int(body.split(":")[1]) for body in bodies if body.startswith(f"{group}:")]
            self.assertEqual(order, sorted(order), f"group {group} in order")
        self.assert_error("InvalidParameter", self.sns.publish, TopicArn=self.topic(), Message="x",
                          MessageDeduplicationId="d")

    def test_http_endpoints_confirm_then_receive(self):
        Hook.received = []
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            arn = self.topic()
            endpoint = f"http://127.0.0.1:{server.server_address[1]}/hook"
            answer = self.sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=endpoint)
            self.assertEqual(answer["SubscriptionArn"], "pending confirmation")
            deadline = time.time() + 10
            while not Hook.received and time.time() < deadline:
                time.sleep(0.1)
            confirmation = Hook.received[0]
            self.assertEqual(confirmation["headers"]["x-amz-sns-message-type"], "SubscriptionConfirmation")
            request = json.loads(confirmation["body"])
            self.assertEqual((request["Type"], request["TopicArn"]), ("SubscriptionConfirmation", arn))
            listed = self.sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
            self.assertEqual(listed[0]["SubscriptionArn"], "PendingConfirmation")
            self.sns.publish(TopicArn=arn, Message="before confirmation")
            with urllib.request.urlopen(request["SubscribeURL"]) as response:
                self.assertIn(b"<SubscriptionArn>", response.read())
            self.sns.publish(TopicArn=arn, Message="after confirmation")
            deadline = time.time() + 10
            while len(Hook.received) < 2 and time.time() < deadline:
                time.sleep(0.1)
            self.assertEqual(len(Hook.received), 2, "only messages published after confirmation are delivered")
            notification = Hook.received[1]
            self.assertEqual(notification["headers"]["x-amz-sns-message-type"], "Notification")
            self.assertEqual(json.loads(notification["body"])["Message"], "after confirmation")
            confirmed = self.sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"][0]["SubscriptionArn"]
            self.assertEqual(notification["headers"]["x-amz-sns-subscription-arn"], confirmed)
        finally:
            server.shutdown()

    def test_the_manifest_declares_topics_with_queue_and_state_machine_subscriptions(self):
        arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:declared"
        self.assertEqual(self.sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"], "Declared")
        url = self.sqs.get_queue_url(QueueName="declared-inbox")["QueueUrl"]
        self.sns.publish(TopicArn=arn, Message="skipped", MessageAttributes={"kind": {"DataType": "String", "StringValue": "other"}})
        self.sns.publish(TopicArn=arn, Message="kept", MessageAttributes={"kind": {"DataType": "String", "StringValue": "wanted"}})
        self.assertEqual([m["Body"] for m in self.receive(url, 1)], ["kept"])
        machine = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:echo"
        deadline = time.time() + 10
        outputs = []
        while len(outputs) < 2 and time.time() < deadline:
            executions = self.sfn.list_executions(stateMachineArn=machine, statusFilter="SUCCEEDED")["executions"]
            outputs = [json.loads(self.sfn.describe_execution(executionArn=e["executionArn"])["output"]) for e in executions]
            time.sleep(0.2)
        self.assertEqual(sorted(output["Message"] for output in outputs), ["kept", "skipped"])
        self.assertTrue(all(output["Type"] == "Notification" and output["TopicArn"] == arn for output in outputs))

    def test_the_cli_creates_publishes_and_lists(self):
        def aws(*args):
            completed = subprocess.run(
                [AWS, "--endpoint-url", self.server.endpoint, "--region", "us-east-1", "--output", "json", "sns", *args],
                capture_output=True, text=True,
                env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                     "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"},
            )
            self.assertEqual(completed.returncode, 0, completed.stderr)
            return json.loads(completed.stdout) if completed.stdout.strip() else None

        name = f"cli-{uuid.uuid4().hex[:8]}"
        arn = aws("create-topic", "--name", name)["TopicArn"]
        url, queue = self.queue()
        aws("subscribe", "--topic-arn", arn, "--protocol", "sqs", "--notification-endpoint", queue,
            "--attributes", "RawMessageDelivery=true")
        published = aws("publish", "--topic-arn", arn, "--message", "from the cli")
        self.assertIn("MessageId", published)
        self.assertEqual([m["Body"] for m in self.receive(url, 1)], ["from the cli"])
        self.assertIn(arn, [topic["TopicArn"] for topic in aws("list-topics")["Topics"]])
        self.assertEqual(aws("get-topic-attributes", "--topic-arn", arn)["Attributes"]["TopicArn"], arn)
        aws("delete-topic", "--topic-arn", arn)
        self.assertNotIn(arn, [topic["TopicArn"] for topic in aws("list-topics")["Topics"]])


if __name__ == "__main__":
    unittest.main()
