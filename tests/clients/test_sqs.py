"""Sluice's SQS API driven by the real AWS clients: boto3 and the AWS CLI.

scripts/test runs this with the venv it makes and SLUICE_BIN naming the built `sluice` binary.
One server serves the whole class; each test makes its own queues.
"""

import hashlib
import json
import os
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

import boto3
import botocore.exceptions
from botocore.config import Config

from test_stepfunctions import AWS, Server


def md5_of_attributes(attributes):
    """SQS's digest of message attributes, computed here independently of the server."""
    digest = hashlib.md5()

    def field(data):
        digest.update(struct.pack(">I", len(data)) + data)

    for name in sorted(attributes):
        value = attributes[name]
        field(name.encode())
        field(value["DataType"].encode())
        if "StringValue" in value:
            digest.update(b"\x01")
            field(value["StringValue"].encode())
        else:
            digest.update(b"\x02")
            field(value["BinaryValue"])
    return digest.hexdigest()


class Sqs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="sluice-sqs-app-")
        with open(os.path.join(cls.folder, "sluice.toml"), "w") as manifest:
            manifest.write(
                '[app]\nname = "queues"\n\n'
                '[queues."declared-dlq.fifo"]\n\n'
                '[queues."declared.fifo"]\nContentBasedDeduplication = true\nVisibilityTimeout = 45\n'
                'RedrivePolicy = \'{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:declared-dlq.fifo", "maxReceiveCount": 3}\'\n'
            )
        cls.server = Server(apps=[cls.folder])
        cls.sqs = boto3.client(
            "sqs",
            endpoint_url=cls.server.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def queue(self, **attributes):
        fifo = attributes.get("FifoQueue") == "true"
        name = f"q-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
        return self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]

    def assert_error(self, code, call, *args, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            call(*args, **kwargs)
        self.assertEqual(raised.exception.response["Error"]["Code"], code, raised.exception.response)
        return raised.exception

    def test_queue_lifecycle(self):
        url = self.queue(VisibilityTimeout="45")
        name = url.rsplit("/", 1)[1]
        self.assertEqual(url, f"{self.server.endpoint}/123456789012/{name}")
        self.assertEqual(self.sqs.get_queue_url(QueueName=name)["QueueUrl"], url)
        # Same attributes: the same queue; other attributes: QueueAlreadyExists.
        self.assertEqual(self.sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})["QueueUrl"], url)
        error = self.assert_error("QueueAlreadyExists", self.sqs.create_queue, QueueName=name, Attributes={"VisibilityTimeout": "46"})
        self.assertIsInstance(error, self.sqs.exceptions.QueueNameExists)
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual(attributes["VisibilityTimeout"], "45")
        self.assertEqual(attributes["QueueArn"], f"arn:aws:sqs:us-east-1:123456789012:{name}")
        self.assertEqual(attributes["ApproximateNumberOfMessages"], "0")
        self.assertNotIn("FifoQueue", attributes)
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "2"})
        only = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"]
        self.assertEqual(only, {"DelaySeconds": "2"})
        self.assert_error("InvalidAttributeName", self.sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["Nope"])
        self.assert_error("InvalidAttributeValue", self.sqs.set_queue_attributes, QueueUrl=url, Attributes={"VisibilityTimeout": "99999"})
        self.sqs.tag_queue(QueueUrl=url, Tags={"team": "q"})
        self.assertEqual(self.sqs.list_queue_tags(QueueUrl=url)["Tags"], {"team": "q"})
        self.sqs.delete_queue(QueueUrl=url)
        error = self.assert_error("AWS.SimpleQueueService.NonExistentQueue", self.sqs.get_queue_url, QueueName=name)
        self.assertIsInstance(error, self.sqs.exceptions.QueueDoesNotExist)

    def test_list_queues_by_prefix_in_pages(self):
        prefix = f"list-{uuid.uuid4().hex[:8]}"
        urls = [self.sqs.create_queue(QueueName=f"{prefix}-{index}")["QueueUrl"] for index in range(3)]
        first = self.sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2)
        self.assertEqual(first["QueueUrls"], urls[:2])
        rest = self.sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, NextToken=first["NextToken"])
        self.assertEqual(rest["QueueUrls"], urls[2:])
        self.assertNotIn("NextToken", rest)
        paginated = [url for page in self.sqs.get_paginator("list_queues").paginate(QueueNamePrefix=prefix, PaginationConfig={"PageSize": 1}) for url in page.get("QueueUrls", [])]
        self.assertEqual(paginated, urls)

    def test_send_receive_delete_with_attributes_and_digests(self):
        url = self.queue()
        attributes = {
            "colour": {"DataType": "String", "StringValue": "red"},
            "count": {"DataType": "Number", "StringValue": "42"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01binary"},
        }
        sent = self.sqs.send_message(QueueUrl=url, MessageBody="hello ☃", MessageAttributes=attributes)
        self.assertEqual(sent["MD5OfMessageBody"], hashlib.md5("hello ☃".encode()).hexdigest())
        self.assertEqual(sent["MD5OfMessageAttributes"], md5_of_attributes(attributes))
        received = self.sqs.receive_message(
            QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"], MaxNumberOfMessages=10
        )["Messages"]
        self.assertEqual(len(received), 1)
        message = received[0]
        self.assertEqual(message["MessageId"], sent["MessageId"])
        self.assertEqual(message["Body"], "hello ☃")
        self.assertEqual(message["MessageAttributes"]["blob"]["BinaryValue"], b"\x00\x01binary")
        self.assertEqual(message["MD5OfMessageAttributes"], sent["MD5OfMessageAttributes"])
        self.assertEqual(message["Attributes"]["ApproximateReceiveCount"], "1")
        self.assertIn("SentTimestamp", message["Attributes"])
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        prefixed = self.queue()
        self.sqs.send_message(QueueUrl=prefixed, MessageBody="x", MessageAttributes={
            "trace.id": {"DataType": "String", "StringValue": "1"},
            "other": {"DataType": "String", "StringValue": "2"},
        })
        only = self.sqs.receive_message(QueueUrl=prefixed, MessageAttributeNames=["trace.*"])["Messages"][0]
        self.assertEqual(list(only["MessageAttributes"]), ["trace.id"])
        self.assert_error("ReceiptHandleIsInvalid", self.sqs.delete_message, QueueUrl=url, ReceiptHandle="garbage")
        self.assert_error("InvalidParameterValue", self.sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=11)
        self.assert_error("InvalidMessageContents", self.sqs.send_message, QueueUrl=url, MessageBody="bad \x01")

    def test_visibility_timeout_expiry_and_redelivery(self):
        url = self.queue(VisibilityTimeout="1")
        self.sqs.send_message(QueueUrl=url, MessageBody="again")
        first = self.sqs.receive_message(QueueUrl=url)["Messages"][0]
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        second = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
        self.assertEqual(second["Attributes"]["ApproximateReceiveCount"], "2")
        # The first handle is stale: the delete succeeds and deletes nothing.
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=0)
        third = self.sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]
        changed = self.sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
            {"Id": "ok", "ReceiptHandle": third["ReceiptHandle"], "VisibilityTimeout": 60},
            {"Id": "stale", "ReceiptHandle": first["ReceiptHandle"], "VisibilityTimeout": 60},
        ])
        self.assertEqual([entry["Id"] for entry in changed["Successful"]], ["ok"])
        self.assertEqual([entry["Id"] for entry in changed["Failed"]], ["stale"])

    def test_batches(self):
        url = self.queue()
        result = self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "one"},
            {"Id": "b", "MessageBody": "two", "DelaySeconds": 0},
            {"Id": "c", "MessageBody": "bad \x02"},
        ])
        self.assertEqual(sorted(entry["Id"] for entry in result["Successful"]), ["a", "b"])
        self.assertEqual(result["Failed"][0]["Id"], "c")
        self.assertTrue(result["Failed"][0]["SenderFault"])
        self.assert_error("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", self.sqs.send_message_batch, QueueUrl=url,
                          Entries=[{"Id": "a", "MessageBody": "1"}, {"Id": "a", "MessageBody": "2"}])
        self.assert_error("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", self.sqs.send_message_batch, QueueUrl=url,
                          Entries=[{"Id": f"e{index}", "MessageBody": "x"} for index in range(11)])
        self.assert_error("AWS.SimpleQueueService.EmptyBatchRequest", self.sqs.delete_message_batch, QueueUrl=url, Entries=[])
        self.assert_error("AWS.SimpleQueueService.InvalidBatchEntryId", self.sqs.send_message_batch, QueueUrl=url,
                          Entries=[{"Id": "no spaces", "MessageBody": "x"}])
        messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        deleted = self.sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": f"d{index}", "ReceiptHandle": message["ReceiptHandle"]} for index, message in enumerate(messages)
        ])
        self.assertEqual(len(deleted["Successful"]), 2)
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        self.assertEqual(attributes["Attributes"], {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"})

    def test_long_poll_wakes_on_send(self):
        url = self.queue()
        got = {}

        def receive():
            started = time.time()
            got["messages"] = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", [])
            got["waited"] = time.time() - started

        receiver = threading.Thread(target=receive)
        receiver.start()
        time.sleep(0.5)
        self.sqs.send_message(QueueUrl=url, MessageBody="wake up")
        receiver.join()
        self.assertEqual([message["Body"] for message in got["messages"]], ["wake up"])
        self.assertLess(got["waited"], 5)

    def test_fifo_order_and_deduplication(self):
        url = self.queue(FifoQueue="true", ContentBasedDeduplication="true")
        sent = [self.sqs.send_message(QueueUrl=url, MessageBody=f"{group}-{index}", MessageGroupId=group)
                for index in range(5) for group in ("a", "b")]
        numbers = [int(entry["SequenceNumber"]) for entry in sent]
        self.assertEqual(numbers, sorted(numbers))
        duplicate = self.sqs.send_message(QueueUrl=url, MessageBody="a-0", MessageGroupId="a")
        self.assertEqual(duplicate["MessageId"], sent[0]["MessageId"])
        first = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3, AttributeNames=["All"])["Messages"]
        group = first[0]["Attributes"]["MessageGroupId"]
        self.assertEqual([message["Body"] for message in first], [f"{group}-{index}" for index in range(3)])
        # Its group is blocked while they are in flight; the other group comes whole, in order.
        other = "b" if group == "a" else "a"
        rest = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        self.assertEqual([message["Body"] for message in rest], [f"{other}-{index}" for index in range(5)])
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10))
        self.sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]} for index, message in enumerate(first)
        ])
        after = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        self.assertEqual([message["Body"] for message in after], [f"{group}-3", f"{group}-4"])
        self.assert_error("MissingParameter", self.sqs.send_message, QueueUrl=url, MessageBody="x")
        self.assert_error("InvalidParameterValue", self.sqs.send_message, QueueUrl=url, MessageBody="x", MessageGroupId="g", DelaySeconds=5)

    def test_fifo_order_under_concurrent_consumers(self):
        url = self.queue(FifoQueue="true", ContentBasedDeduplication="true")
        groups, per_group = 5, 20
        for index in range(per_group):
            self.sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": f"g{group}", "MessageBody": f"{group}:{index}", "MessageGroupId": f"g{group}"} for group in range(groups)
            ])
        seen, lock = [], threading.Lock()

        def consume():
            client = boto3.client("sqs", endpoint_url=self.server.endpoint, region_name="us-east-1",
                                  aws_access_key_id="test", aws_secret_access_key="test")
            while True:
                messages = client.receive_message(QueueUrl=url, MaxNumberOfMessages=4, WaitTimeSeconds=1).get("Messages", [])
                if not messages:
                    return
                with lock:
                    seen.extend(message["Body"] for message in messages)
                client.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]} for index, message in enumerate(messages)
                ])

        consumers = [threading.Thread(target=consume) for _ in range(4)]
        for consumer in consumers:
            consumer.start()
        for consumer in consumers:
            consumer.join()
        self.assertEqual(len(seen), groups * per_group)
        for group in range(groups):
            order = [int(body.split(":")[1]) for body in seen if body.startswith(f"{group}:")]
            self.assertEqual(order, list(range(per_group)), f"group {group}")

    def test_redrive_to_dead_letter_queue(self):
        dead = self.queue()
        dead_arn = self.sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": 2})
        url = self.queue(VisibilityTimeout="0", RedrivePolicy=policy)
        sent = self.sqs.send_message(QueueUrl=url, MessageBody="poison")
        for _ in range(2):
            self.assertEqual(len(self.sqs.receive_message(QueueUrl=url)["Messages"]), 1)
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        moved = self.sqs.receive_message(QueueUrl=dead)["Messages"]
        self.assertEqual([message["MessageId"] for message in moved], [sent["MessageId"]])
        self.assertEqual(self.sqs.list_dead_letter_source_queues(QueueUrl=dead)["queueUrls"], [url])

    def test_purge(self):
        url = self.queue()
        self.sqs.send_message(QueueUrl=url, MessageBody="gone")
        self.sqs.purge_queue(QueueUrl=url)
        self.assertNotIn("Messages", self.sqs.receive_message(QueueUrl=url))
        self.assert_error("AWS.SimpleQueueService.PurgeQueueInProgress", self.sqs.purge_queue, QueueUrl=url)

    def test_manifest_queues_are_deployed(self):
        url = self.sqs.get_queue_url(QueueName="declared.fifo")["QueueUrl"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual(attributes["FifoQueue"], "true")
        self.assertEqual(attributes["ContentBasedDeduplication"], "true")
        self.assertEqual(attributes["VisibilityTimeout"], "45")
        self.assertEqual(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"], 3)

    def test_aws_cli(self):
        def aws(*args):
            completed = subprocess.run(
                [AWS, "--endpoint-url", self.server.endpoint, "--region", "us-east-1", "--output", "json", "sqs", *args],
                capture_output=True, text=True,
                env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
            )
            return completed

        name = f"cli-{uuid.uuid4().hex[:8]}"
        created = aws("create-queue", "--queue-name", name)
        self.assertEqual(created.returncode, 0, created.stderr)
        url = json.loads(created.stdout)["QueueUrl"]
        self.assertEqual(aws("send-message", "--queue-url", url, "--message-body", "from the cli").returncode, 0)
        received = aws("receive-message", "--queue-url", url, "--wait-time-seconds", "1")
        self.assertEqual(json.loads(received.stdout)["Messages"][0]["Body"], "from the cli")
        missing = aws("get-queue-url", "--queue-name", "no-such-queue")
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("AWS.SimpleQueueService.NonExistentQueue", missing.stderr)


if __name__ == "__main__":
    unittest.main()
