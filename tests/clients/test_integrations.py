"""Task integrations on Sluice's own services, driven through the Step Functions API with boto3:
`dynamodb:*` and `aws-sdk:dynamodb:*` on the tables, `s3:*` and `aws-sdk:s3:*` on the buckets,
`sqs:sendMessage`, `events:putEvents`, and Sluice's leases (`sluice:lease.*`). Each test runs a
state machine whose Catch matches AWS's error names, and checks what the services hold after.
"""

import json
import os
import sys
import unittest
import uuid

import boto3
from botocore.config import Config

sys.path.insert(0, os.path.dirname(__file__))
from test_stepfunctions import ROLE, Server, wait_for_end  # noqa: E402


class IntegrationsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.sfn = cls.server.client()

        def client(service):
            return boto3.client(service, endpoint_url=cls.server.endpoint, region_name="us-east-1",
                                aws_access_key_id="test", aws_secret_access_key="test",
                                config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))

        cls.dynamodb = client("dynamodb")
        cls.s3 = client("s3")
        cls.sqs = client("sqs")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def run_machine(self, definition, input=None):
        """Creates a state machine, runs it once to its end, and answers (status, output or error)."""
        arn = self.sfn.create_state_machine(name="m-" + uuid.uuid4().hex[:12], definition=json.dumps(definition),
                                            roleArn=ROLE)["stateMachineArn"]
        started = self.sfn.start_execution(stateMachineArn=arn, input=json.dumps(input or {}))
        ended = wait_for_end(self.sfn, started["executionArn"])
        if ended["status"] == "SUCCEEDED":
            return ended["status"], json.loads(ended["output"])
        history = self.sfn.get_execution_history(executionArn=started["executionArn"])["events"]
        return ended["status"], [event for event in history if event["type"] == "ExecutionFailed"]

    def test_dynamodb_conditional_writes_are_caught_by_aws_error_names(self):
        self.dynamodb.create_table(TableName="locks", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                   BillingMode="PAY_PER_REQUEST")
        take = {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": "locks", "Item": {"pk": {"S": "lock"}, "owner": {"S.$": "$.owner"}},
                               "ConditionExpression": "attribute_not_exists(pk)"},
                "ResultPath": None,
                "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.error",
                           "Next": "Taken"}],
                "Next": "Count"}
        definition = {"StartAt": "Take", "States": {
            "Take": take,
            "Taken": {"Type": "Pass", "Result": "taken", "End": True},
            "Count": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem",
                      "Parameters": {"TableName": "locks", "Key": {"pk": {"S": "lock"}},
                                     "UpdateExpression": "ADD runs :one",
                                     "ExpressionAttributeValues": {":one": {"N": "1"}}, "ReturnValues": "ALL_NEW"},
                      "ResultSelector": {"runs.$": "$.Attributes.runs.N"}, "ResultPath": "$.count", "Next": "Read"},
            "Read": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
                     "Parameters": {"TableName": "locks", "Key": {"pk": {"S": "lock"}}},
                     "ResultSelector": {"owner.$": "$.Item.owner.S"}, "ResultPath": "$.read", "End": True},
        }}
        status, output = self.run_machine(definition, {"owner": "first"})
        self.assertEqual(status, "SUCCEEDED", output)
        self.assertEqual(output["read"], {"owner": "first"})
        self.assertEqual(output["count"], {"runs": "1"})
        status, output = self.run_machine(definition, {"owner": "second"})
        self.assertEqual((status, output), ("SUCCEEDED", "taken"))
        item = self.dynamodb.get_item(TableName="locks", Key={"pk": {"S": "lock"}})["Item"]
        self.assertEqual(item["owner"], {"S": "first"})

        sdk = {"StartAt": "Write", "States": {
            "Write": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:transactWriteItems",
                      "Parameters": {"TransactItems": [
                          {"Put": {"TableName": "locks", "Item": {"pk": {"S": "a"}}}},
                          {"ConditionCheck": {"TableName": "locks", "Key": {"pk": {"S": "lock"}},
                                              "ConditionExpression": "attribute_not_exists(pk)"}}]},
                      "Catch": [{"ErrorEquals": ["DynamoDb.TransactionCanceledException"], "ResultPath": "$.error",
                                 "Next": "Scan"}],
                      "Next": "Scan"},
            "Scan": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:scan",
                     "Parameters": {"TableName": "locks", "Select": "COUNT"}, "ResultPath": "$.scan", "End": True},
        }}
        status, output = self.run_machine(sdk)
        self.assertEqual(status, "SUCCEEDED", output)
        self.assertEqual(output["error"]["Error"], "DynamoDb.TransactionCanceledException")
        self.assertEqual(output["scan"]["Count"], 1, "the cancelled transaction wrote nothing")

        failing = {"StartAt": "Get", "States": {"Get": {
            "Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
            "Parameters": {"TableName": "missing", "Key": {"pk": {"S": "x"}}}, "End": True}}}
        status, events = self.run_machine(failing)
        self.assertEqual(status, "FAILED")
        self.assertEqual(events[0]["executionFailedEventDetails"]["error"], "DynamoDB.ResourceNotFoundException")

    def test_s3_objects_are_written_read_listed_and_errors_caught(self):
        self.s3.create_bucket(Bucket="reports")
        definition = {"StartAt": "Put", "States": {
            "Put": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
                    "Parameters": {"Bucket": "reports", "Key": "lock", "Body.$": "$.body", "IfNoneMatch": "*",
                                   "ContentType": "application/json"},
                    "ResultPath": "$.put",
                    "Catch": [{"ErrorEquals": ["S3.S3Exception"], "ResultPath": "$.error", "Next": "Get"}],
                    "Next": "Get"},
            "Get": {"Type": "Task", "Resource": "arn:aws:states:::s3:getObject",
                    "Parameters": {"Bucket": "reports", "Key": "lock"},
                    "ResultSelector": {"body.$": "States.StringToJson($.Body)", "etag.$": "$.ETag"},
                    "ResultPath": "$.get", "Next": "Copy"},
            "Copy": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:copyObject",
                     "Parameters": {"Bucket": "reports", "Key": "archive/lock", "CopySource": "reports/lock"},
                     "ResultPath": None, "Next": "List"},
            "List": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listObjectsV2",
                     "Parameters": {"Bucket": "reports", "Delimiter": "/"},
                     "ResultSelector": {"keys.$": "$.Contents[*].Key", "prefixes.$": "$.CommonPrefixes[*].Prefix"},
                     "ResultPath": "$.list", "Next": "Missing"},
            "Missing": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:headObject",
                        "Parameters": {"Bucket": "reports", "Key": "nothing"},
                        "Catch": [{"ErrorEquals": ["S3.NoSuchKeyException"], "ResultPath": "$.missing",
                                   "Next": "Done"}],
                        "Next": "Done"},
            "Done": {"Type": "Pass", "End": True},
        }}
        status, output = self.run_machine(definition, {"body": {"holder": "first"}})
        self.assertEqual(status, "SUCCEEDED", output)
        self.assertNotIn("error", output)
        self.assertEqual(output["get"]["body"], {"holder": "first"})
        self.assertEqual(output["get"]["etag"], output["put"]["ETag"])
        self.assertEqual(output["list"], {"keys": ["lock"], "prefixes": ["archive/"]})
        self.assertEqual(output["missing"]["Error"], "S3.NoSuchKeyException")
        status, output = self.run_machine(definition, {"body": {"holder": "second"}})
        self.assertEqual(status, "SUCCEEDED", output)
        self.assertEqual(output["error"]["Error"], "S3.S3Exception")
        self.assertIn("PreconditionFailed", output["error"]["Cause"])
        self.assertEqual(output["get"]["body"], {"holder": "first"}, "the conditional put did not replace it")
        stored = self.s3.get_object(Bucket="reports", Key="archive/lock")
        self.assertEqual(json.loads(stored["Body"].read()), {"holder": "first"})
        self.assertEqual(stored["ContentType"], "application/json")

    def test_sqs_send_message_and_events_put_events(self):
        url = self.sqs.create_queue(QueueName="work")["QueueUrl"]
        definition = {"StartAt": "Send", "States": {
            "Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                     "Parameters": {"QueueUrl": url, "MessageBody.$": "$.job"},
                     "ResultPath": "$.sent", "Next": "Publish"},
            "Publish": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
                        "Parameters": {"Entries": [{"Source": "app.jobs", "DetailType": "queued",
                                                    "Detail.$": "$.job"}]},
                        "ResultPath": "$.published", "Next": "Missing"},
            "Missing": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage",
                        "Parameters": {"QueueUrl": url + "-missing", "MessageBody": "x"},
                        "Catch": [{"ErrorEquals": ["SQS.QueueDoesNotExistException"], "ResultPath": "$.missing",
                                   "Next": "Done"}],
                        "Next": "Done"},
            "Done": {"Type": "Pass", "End": True},
        }}
        status, output = self.run_machine(definition, {"job": {"id": 7}})
        self.assertEqual(status, "SUCCEEDED", output)
        self.assertIn("MessageId", output["sent"])
        self.assertEqual(output["published"]["FailedEntryCount"], 0)
        self.assertEqual(len(output["published"]["Entries"][0]["EventId"]), 36)
        self.assertEqual(output["missing"]["Error"], "SQS.QueueDoesNotExistException")
        received = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
        self.assertEqual(json.loads(received[0]["Body"]), {"id": 7})
        self.assertEqual(received[0]["MessageId"], output["sent"]["MessageId"])

    def test_leases_are_taken_refused_and_released_by_state_machines(self):
        definition = {"StartAt": "Acquire", "States": {
            "Acquire": {"Type": "Task", "Resource": "arn:aws:states:::sluice:lease.acquire",
                        "Parameters": {"Name": "rotation", "Owner.$": "$.owner", "TtlSeconds": 60},
                        "ResultPath": "$.lease",
                        "Catch": [{"ErrorEquals": ["Sluice.LeaseHeld"], "ResultPath": "$.held", "Next": "Held"}],
                        "Next": "Release"},
            "Held": {"Type": "Pass", "End": True},
            "Release": {"Type": "Task", "Resource": "arn:aws:states:::sluice:lease.release",
                        "Parameters": {"Name": "rotation", "Owner.$": "$.owner", "Token.$": "$.lease.Token"},
                        "ResultPath": "$.released", "Next": "ReleaseAgain"},
            "ReleaseAgain": {"Type": "Task", "Resource": "arn:aws:states:::sluice:lease.release",
                             "Parameters": {"Name": "rotation", "Owner.$": "$.owner"},
                             "Catch": [{"ErrorEquals": ["Sluice.NotLeaseOwner"], "ResultPath": "$.again",
                                        "Next": "Done"}],
                             "Next": "Done"},
            "Done": {"Type": "Pass", "End": True},
        }}
        hold = {"StartAt": "Acquire", "States": {"Acquire": {
            "Type": "Task", "Resource": "arn:aws:states:::sluice:lease.acquire",
            "Parameters": {"Name": "rotation", "TtlSeconds": 60}, "End": True}}}
        status, holder = self.run_machine(hold)
        self.assertEqual(status, "SUCCEEDED", holder)
        self.assertEqual(holder["Token"], 1)
        self.assertIn(":execution:", holder["Owner"], "the owner defaults to the execution")
        status, output = self.run_machine(definition, {"owner": "worker-2"})
        self.assertEqual(status, "SUCCEEDED", output)
        self.assertEqual(output["held"]["Error"], "Sluice.LeaseHeld")
        self.assertIn(holder["Owner"], output["held"]["Cause"])
        # The holder's execution ended without releasing; its owner releases by name.
        release = {"StartAt": "Release", "States": {"Release": {
            "Type": "Task", "Resource": "arn:aws:states:::sluice:lease.release",
            "Parameters": {"Name": "rotation", "Owner": holder["Owner"]}, "End": True}}}
        status, _ = self.run_machine(release)
        self.assertEqual(status, "SUCCEEDED")
        status, output = self.run_machine(definition, {"owner": "worker-2"})
        self.assertEqual(status, "SUCCEEDED", output)
        self.assertEqual(output["lease"]["Token"], 2, "the token grows with each grant")
        self.assertEqual(output["released"]["Released"], True)
        self.assertEqual(output["again"]["Error"], "Sluice.NotLeaseOwner")

    def test_test_state_runs_an_integration(self):
        self.dynamodb.create_table(TableName="probe", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                   BillingMode="PAY_PER_REQUEST")
        self.dynamodb.put_item(TableName="probe", Item={"pk": {"S": "a"}, "n": {"N": "5"}})
        state = {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
                 "Parameters": {"TableName": "probe", "Key": {"pk": {"S.$": "$.id"}}},
                 "ResultSelector": {"n.$": "$.Item.n.N"}, "End": True}
        answer = self.sfn.test_state(definition=json.dumps(state), roleArn=ROLE, input='{"id": "a"}')
        self.assertEqual(answer["status"], "SUCCEEDED", answer)
        self.assertEqual(json.loads(answer["output"]), {"n": "5"})


if __name__ == "__main__":
    unittest.main()
