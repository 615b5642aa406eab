"""Sluice's tables driven by the real AWS clients: boto3 (client and resource APIs) and the AWS CLI.

scripts/test runs this with the venv it makes and with SLUICE_BIN naming the built `sluice`
binary. Each test class starts its own server on a free loopback port, in a temporary data
directory, and stops it.
"""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from decimal import Decimal

import boto3
import botocore.exceptions
from boto3.dynamodb.conditions import Attr, Key
from botocore.config import Config

SLUICE = os.environ["SLUICE_BIN"]
AWS = os.path.join(os.path.dirname(sys.executable), "aws")


class Server:
    """`sluice serve` on 127.0.0.1:0 with the app folders given, until stopped."""

    def __init__(self, apps=()):
        self.folder = tempfile.mkdtemp(prefix="sluice-dynamodb-")
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
                with open(self.log_path) as log:
                    message = "the server did not start:\n" + log.read()
                self.stop()
                raise RuntimeError(message)
            time.sleep(0.02)

    def arguments(self):
        return dict(
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}, max_pool_connections=64),
        )

    def client(self):
        return boto3.client("dynamodb", **self.arguments())

    def resource(self):
        return boto3.resource("dynamodb", **self.arguments())

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def error_of(context):
    return context.exception.response["Error"]["Code"], context.exception.response["Error"]["Message"]


class Boto3(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.client = cls.server.client()
        cls.dynamodb = cls.server.resource()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def table(self, name, sort=None):
        keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
        definitions = [{"AttributeName": "pk", "AttributeType": "S"}]
        if sort:
            keys.append({"AttributeName": sort[0], "KeyType": "RANGE"})
            definitions.append({"AttributeName": sort[0], "AttributeType": sort[1]})
        table = self.dynamodb.create_table(TableName=name, KeySchema=keys, AttributeDefinitions=definitions,
                                           BillingMode="PAY_PER_REQUEST")
        table.wait_until_exists()
        return table

    def test_tables_are_created_described_listed_and_deleted(self):
        self.table("listed-a")
        self.table("listed-b", ("sk", "N"))
        described = self.client.describe_table(TableName="listed-b")["Table"]
        self.assertEqual(described["TableStatus"], "ACTIVE")
        self.assertEqual(described["KeySchema"][1], {"AttributeName": "sk", "KeyType": "RANGE"})
        names = [name for page in self.client.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 1})
                 for name in page["TableNames"]]
        self.assertIn("listed-a", names)
        self.assertIn("listed-b", names)
        with self.assertRaises(self.client.exceptions.ResourceInUseException):
            self.client.create_table(TableName="listed-a", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                     BillingMode="PAY_PER_REQUEST")
        self.client.delete_table(TableName="listed-a")
        with self.assertRaises(self.client.exceptions.ResourceNotFoundException):
            self.client.describe_table(TableName="listed-a")

    def test_the_resource_api_puts_gets_updates_and_deletes(self):
        table = self.table("people")
        table.put_item(Item={"pk": "ada", "age": 36, "langs": {"en", "fr"}, "meta": {"born": Decimal("1815")}})
        item = table.get_item(Key={"pk": "ada"}, ConsistentRead=True)["Item"]
        self.assertEqual(item["age"], 36)
        self.assertEqual(item["langs"], {"en", "fr"})
        updated = table.update_item(Key={"pk": "ada"}, UpdateExpression="SET age = age + :one REMOVE meta",
                                    ConditionExpression=Attr("age").eq(36), ExpressionAttributeValues={":one": 1},
                                    ReturnValues="ALL_NEW")["Attributes"]
        self.assertEqual(updated["age"], 37)
        self.assertNotIn("meta", updated)
        with self.assertRaises(self.client.exceptions.ConditionalCheckFailedException) as failed:
            table.put_item(Item={"pk": "ada"}, ConditionExpression=Attr("pk").not_exists(),
                           ReturnValuesOnConditionCheckFailure="ALL_OLD")
        self.assertEqual(failed.exception.response["Item"]["age"], {"N": "37"})
        old = table.delete_item(Key={"pk": "ada"}, ReturnValues="ALL_OLD")["Attributes"]
        self.assertEqual(old["pk"], "ada")
        self.assertNotIn("Item", table.get_item(Key={"pk": "ada"}))

    def test_queries_and_scans_paginate(self):
        table = self.table("readings", ("at", "N"))
        with table.batch_writer() as batch:
            for at in range(60):
                batch.put_item(Item={"pk": "sensor", "at": at, "value": at * 2, "even": at % 2 == 0})
            batch.put_item(Item={"pk": "other", "at": 1})
        found = table.query(KeyConditionExpression=Key("pk").eq("sensor") & Key("at").between(10, 19),
                            ScanIndexForward=False)["Items"]
        self.assertEqual([item["at"] for item in found], list(range(19, 9, -1)))
        pages = list(self.client.get_paginator("query").paginate(
            TableName="readings", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "sensor"}, ":t": {"BOOL": True}},
            FilterExpression="even = :t", ProjectionExpression="#at", ExpressionAttributeNames={"#at": "at"},
            PaginationConfig={"PageSize": 7}))
        self.assertGreater(len(pages), 5)
        evens = [int(item["at"]["N"]) for page in pages for item in page["Items"]]
        self.assertEqual(evens, list(range(0, 60, 2)))
        counted = table.query(KeyConditionExpression=Key("pk").eq("sensor") & Key("at").gte(50), Select="COUNT")
        self.assertEqual(counted["Count"], 10)
        scanned = [item for page in self.client.get_paginator("scan").paginate(
            TableName="readings", PaginationConfig={"PageSize": 9}) for item in page["Items"]]
        self.assertEqual(len(scanned), 61)
        segments = sum(table.scan(Segment=segment, TotalSegments=3)["Count"] for segment in range(3))
        self.assertEqual(segments, 61)
        filtered = table.scan(FilterExpression=Attr("value").gt(100))["Items"]
        self.assertEqual(sorted(int(item["at"]) for item in filtered), list(range(51, 60)))

    def test_batches_and_transactions(self):
        table = self.table("accounts")
        self.client.batch_write_item(RequestItems={"accounts": [
            {"PutRequest": {"Item": {"pk": {"S": "alice"}, "balance": {"N": "100"}}}},
            {"PutRequest": {"Item": {"pk": {"S": "bob"}, "balance": {"N": "0"}}}},
        ]})
        got = self.dynamodb.batch_get_item(RequestItems={"accounts": {"Keys": [{"pk": "alice"}, {"pk": "bob"}, {"pk": "carol"}]}})
        self.assertEqual(sorted(item["pk"] for item in got["Responses"]["accounts"]), ["alice", "bob"])
        self.assertEqual(got["UnprocessedKeys"], {})

        def transfer(amount):
            return self.client.transact_write_items(TransactItems=[
                {"Update": {"TableName": "accounts", "Key": {"pk": {"S": "alice"}},
                            "UpdateExpression": "SET balance = balance - :a", "ConditionExpression": "balance >= :a",
                            "ExpressionAttributeValues": {":a": {"N": str(amount)}}}},
                {"Update": {"TableName": "accounts", "Key": {"pk": {"S": "bob"}},
                            "UpdateExpression": "SET balance = balance + :a", "ExpressionAttributeValues": {":a": {"N": str(amount)}}}},
            ])

        transfer(60)
        with self.assertRaises(self.client.exceptions.TransactionCanceledException) as cancelled:
            transfer(60)
        self.assertIn("[ConditionalCheckFailed, None]", error_of(cancelled)[1])
        self.assertEqual([reason["Code"] for reason in cancelled.exception.response["CancellationReasons"]],
                         ["ConditionalCheckFailed", "None"])
        balances = self.client.transact_get_items(TransactItems=[
            {"Get": {"TableName": "accounts", "Key": {"pk": {"S": "alice"}}}},
            {"Get": {"TableName": "accounts", "Key": {"pk": {"S": "bob"}}}},
        ])["Responses"]
        self.assertEqual([response["Item"]["balance"]["N"] for response in balances], ["40", "60"])
        self.assertEqual(table.get_item(Key={"pk": "bob"})["Item"]["balance"], 60)

    def test_concurrent_writers_lose_nothing_and_one_lock_holder_wins(self):
        table = self.table("race")

        def append(writer):
            table.update_item(Key={"pk": "run-1"},
                              UpdateExpression="SET #l = list_append(if_not_exists(#l, :empty), :r) ADD ready :one, regions :set",
                              ExpressionAttributeNames={"#l": "ready-regions"},
                              ExpressionAttributeValues={":empty": [], ":r": [f"region-{writer}"], ":one": 1, ":set": {f"region-{writer}"}})

        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            list(pool.map(append, range(32)))
        item = table.get_item(Key={"pk": "run-1"})["Item"]
        self.assertEqual(len(item["ready-regions"]), 32)
        self.assertEqual(item["ready"], 32)
        self.assertEqual(len(item["regions"]), 32)

        def take(writer):
            try:
                table.put_item(Item={"pk": "lock", "owner": writer}, ConditionExpression=Attr("pk").not_exists())
                return True
            except self.client.exceptions.ConditionalCheckFailedException:
                return False

        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            self.assertEqual(sum(pool.map(take, range(32))), 1)

    def test_bad_input_gets_dynamodb_errors(self):
        self.table("strict")
        cases = [
            (lambda: self.client.put_item(TableName="strict", Item={"other": {"S": "x"}}),
             ("ValidationException", "One or more parameter values were invalid: Missing the key pk in the item")),
            (lambda: self.client.put_item(TableName="missing", Item={"pk": {"S": "x"}}),
             ("ResourceNotFoundException", "Requested resource not found")),
            (lambda: self.client.update_item(TableName="strict", Key={"pk": {"S": "x"}}, UpdateExpression="SET a = :v"),
             ("ValidationException", "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :v")),
            (lambda: self.client.put_item(TableName="strict", Item={"pk": {"S": "x"}, "big": {"S": "x" * 410000}}),
             ("ValidationException", "Item size has exceeded the maximum allowed size")),
            (lambda: self.client.get_item(TableName="strict", Key={"nope": {"S": "x"}}),
             ("ValidationException", "The provided key element does not match the schema")),
        ]
        for call, expected in cases:
            with self.assertRaises(botocore.exceptions.ClientError) as context:
                call()
            self.assertEqual(error_of(context), expected)
        self.assertEqual(self.client.scan(TableName="strict")["Count"], 0)

    def test_time_to_live(self):
        table = self.table("sessions")
        self.client.update_time_to_live(TableName="sessions",
                                        TimeToLiveSpecification={"AttributeName": "expires", "Enabled": True})
        self.assertEqual(self.client.describe_time_to_live(TableName="sessions")["TimeToLiveDescription"],
                         {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"})
        table.put_item(Item={"pk": "gone", "expires": int(time.time()) - 5})
        table.put_item(Item={"pk": "kept", "expires": int(time.time()) + 3600})
        self.assertNotIn("Item", table.get_item(Key={"pk": "gone"}))
        self.assertEqual([item["pk"] for item in table.scan()["Items"]], ["kept"])


class ManifestTables(unittest.TestCase):
    def test_an_apps_tables_are_created_with_their_keys_and_time_to_live(self):
        folder = tempfile.mkdtemp(prefix="sluice-dynamodb-app-")
        with open(os.path.join(folder, "sluice.toml"), "w") as manifest:
            manifest.write('[app]\nname = "stateful"\n\n'
                           '[tables.test-state]\npartition_key = { name = "id", type = "S" }\n'
                           'sort_key = { name = "at", type = "N" }\nttl_attribute = "expires"\n')
        server = Server(apps=[folder])
        try:
            client = server.client()
            table = client.describe_table(TableName="test-state")["Table"]
            self.assertEqual(table["KeySchema"], [{"AttributeName": "id", "KeyType": "HASH"},
                                                  {"AttributeName": "at", "KeyType": "RANGE"}])
            self.assertEqual(table["AttributeDefinitions"][1], {"AttributeName": "at", "AttributeType": "N"})
            self.assertEqual(client.describe_time_to_live(TableName="test-state")["TimeToLiveDescription"]["AttributeName"],
                             "expires")
            client.put_item(TableName="test-state", Item={"id": {"S": "a"}, "at": {"N": "1"}})
        finally:
            server.stop()
            shutil.rmtree(folder, ignore_errors=True)

    def test_a_bad_table_entry_stops_the_deployment(self):
        folder = tempfile.mkdtemp(prefix="sluice-dynamodb-app-")
        with open(os.path.join(folder, "sluice.toml"), "w") as manifest:
            manifest.write('[app]\nname = "broken"\n\n[tables.x]\npartition_key = { name = "id", type = "Q" }\n')
        try:
            with self.assertRaises(RuntimeError) as failed:
                Server(apps=[folder])
            self.assertIn("tables.x.partition_key.type must be S, N or B", str(failed.exception))
        finally:
            shutil.rmtree(folder, ignore_errors=True)


class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def aws(self, *arguments, check=True):
        environment = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
        run = subprocess.run([AWS, "--endpoint-url", self.server.endpoint, "--output", "json", "dynamodb", *arguments],
                             capture_output=True, text=True, env=environment, timeout=60)
        if check and run.returncode != 0:
            raise AssertionError(f"aws {' '.join(arguments)} failed ({run.returncode}):\n{run.stderr}")
        return run

    def test_the_cli_creates_writes_and_reads(self):
        self.aws("create-table", "--table-name", "cli-table", "--billing-mode", "PAY_PER_REQUEST",
                 "--attribute-definitions", "AttributeName=id,AttributeType=S", "--key-schema", "AttributeName=id,KeyType=HASH")
        self.aws("put-item", "--table-name", "cli-table", "--item", json.dumps({"id": {"S": "a"}, "n": {"N": "1"}}))
        updated = json.loads(self.aws("update-item", "--table-name", "cli-table", "--key", '{"id": {"S": "a"}}',
                                      "--update-expression", "ADD n :one", "--expression-attribute-values",
                                      '{":one": {"N": "2"}}', "--return-values", "UPDATED_NEW").stdout)
        self.assertEqual(updated["Attributes"], {"n": {"N": "3"}})
        got = json.loads(self.aws("get-item", "--table-name", "cli-table", "--key", '{"id": {"S": "a"}}').stdout)
        self.assertEqual(got["Item"]["n"], {"N": "3"})
        scanned = json.loads(self.aws("scan", "--table-name", "cli-table").stdout)
        self.assertEqual(scanned["Count"], 1)
        failed = self.aws("put-item", "--table-name", "cli-table", "--item", '{"id": {"S": "a"}}',
                          "--condition-expression", "attribute_not_exists(id)", check=False)
        self.assertNotEqual(failed.returncode, 0)
        self.assertIn("ConditionalCheckFailedException", failed.stderr)
        listed = json.loads(self.aws("list-tables").stdout)
        # The server's own lease table is listed too: leases can be inspected through the API.
        self.assertEqual(listed["TableNames"], ["cli-table", "sluice-leases"])


if __name__ == "__main__":
    unittest.main()
